"""Finding commands inside running text: backticks, after a colon or an arrow, after
"run"/"with", in parentheses; and telling a plain-text page from Markdown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.runbooks import cmdline, commands
from domain.runbooks.prose.patterns import (
    _ARROW_RE,
    _ATX_RE,
    _COND_COMMA_RE,
    _FENCE_RE,
    _FILLER_RE,
    _PAGE_HANDLE_RE,
    _PROMPT_RE,
    _QUOTED_RE,
    _SPEAKER_RE,
    _SPLIT_RE,
    _STEP_PREFIX_RE,
    _TRAIL_COMMENT_RE,
    _TRAIL_COND_PAREN_RE,
    _TRAIL_PAREN_RE,
    _TRIGGER_RE,
)


def is_plain_text(body: str) -> bool:
    """True when the text has no Markdown structure (fences or # headings) to rely on.

    A page with `#` headings but commands on bare lines (a wiki paste) is read as plain text too:
    Markdown would fold those lines into paragraphs. A chat thread (speaker lines) is plain text
    even with fences in its messages.
    """
    speakers = sum(1 for line in body.split("\n") if _SPEAKER_RE.match(line.strip()))
    if speakers >= 2 and not _ATX_RE.search(body):
        return True  # a chat thread: its fences are code pasted inside messages
    if _FENCE_RE.search(body):
        return False
    if not _ATX_RE.search(body):
        return True
    return any(
        "`" not in line and cmdline.is_command(_PROMPT_RE.sub("", line.strip()))
        for line in body.split("\n")
        if line.strip() and not line.startswith("    ")
    )


_PREPOSITIONS = frozenset(
    ["with", "to", "from", "into", "onto", "for", "at", "by", "of", "off", "than"]
)
_CONTRACTION_RE = re.compile(r"(?<=[A-Za-z])'(?=(?:s|re|ve|ll|d|m|t)\b)", re.I)


def _scan_end(text: str, start: int, closer: str | None) -> int:
    """Where a command that starts at `start` inside a sentence ends (quote-aware)."""
    quote: str | None = None
    depth = 0
    i = start
    n = len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = None
            i += 1
            continue
        if ch in "'\"`":
            quote = ch if ch != "`" else None
            if ch == "`":
                return i
            i += 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return i
            depth -= 1
        elif ch in ",;" and i + 1 < n and text[i + 1] == " " and depth == 0:
            return i
        elif ch == "." and (i + 1 == n or text[i + 1] == " ") and depth == 0:
            if i > start and text[i - 1] != " ":
                return i
        elif ch == " " and depth == 0:
            m = re.match(r"\s+([A-Za-z\u2013\u2014-]+)\b", text[i:])
            if m and m.group(1).lower() in cmdline.STOP_WORDS and closer is None:
                nxt = text[i + m.end() :].lstrip()[:1]
                if nxt and not nxt.startswith("-"):
                    return i
            if text[i : i + 3] == "  (":
                return i
        i += 1
    return n


@dataclass
class Found:
    """A command inside a line, where it sits, and how it was written."""

    command: str
    start: int
    end: int
    how: str  # line | split | span | bare


def _clean_command(command: str) -> tuple[str, str | None]:
    """Trim what follows a command on its line: a `# comment`, a prose parenthesis, a period."""
    comment: str | None = None
    cmd = command.strip().strip("`").strip()
    match = _TRAIL_COMMENT_RE.search(cmd)
    if match and not commands._unbalanced(cmd[: match.start()]):
        comment = match.group(1).strip()
        cmd = cmd[: match.start()].rstrip()
    cond_paren = _TRAIL_COND_PAREN_RE.search(cmd)
    if cond_paren and not commands._unbalanced(cmd[: cond_paren.start()]):
        comment = comment or cond_paren.group(1).strip()
        cmd = cmd[: cond_paren.start()].rstrip()
    paren = _TRAIL_PAREN_RE.search(cmd)
    if paren and not commands._unbalanced(cmd[: paren.start()]):
        comment = comment or paren.group(0).strip(" ().")
        cmd = cmd[: paren.start()].rstrip()
    if (
        cmd.endswith(".")
        and not cmd.endswith((" .", ".."))
        and re.search(r"\w\.$", cmd)
        and not re.search(r"\s\S*\.\w+\.$|\*\.$", cmd)
    ):
        cmd = cmd[:-1]
    cmd = cmdline.trim_prose_tail(cmd.rstrip(",;"))
    return cmd, comment


def find_commands(text: str) -> list[Found]:
    """Commands written in one line of prose, in order ("ping @oncall" is a person, not one)."""
    return [f for f in _find_commands(text) if not _PAGE_HANDLE_RE.match(f.command)]


def _find_commands(text: str) -> list[Found]:
    found: list[Found] = []
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    bare = _PROMPT_RE.sub("", stripped)
    body = _FILLER_RE.sub("", bare)
    unquoted = _QUOTED_RE.sub("", _CONTRACTION_RE.sub("", body))  # "you're" holds no quote
    quoted_ticks_only = "`" in body and "`" not in unquoted
    arrow = _ARROW_RE.search(_QUOTED_RE.sub(lambda m: "_" * len(m.group(0)), body))
    if arrow and ("`" not in body or quoted_ticks_only):
        left = body[: arrow.start()].rstrip()
        right = body[arrow.end() :].strip()
        if cmdline.is_command(left) and not cmdline.is_command(_FILLER_RE.sub("", right)):
            start = lead + (len(stripped) - len(body))
            return [Found(left, start, start + len(left), "line")]
    label = re.match(r"^[A-Za-z][\w ,.?!'-]{0,80}:\s+(?=\S)", body)
    labelled = label is not None and cmdline.is_command(body[label.end() :])
    if (
        (cmdline.is_command(body) or (cmdline.flagged_unknown(body) and not labelled))
        and ("`" not in body or quoted_ticks_only)
        and not arrow
        and not cmdline.reads_as_prose(body)
        and not _STEP_PREFIX_RE.match(body)
    ):
        start = lead + (len(stripped) - len(body))
        return [Found(body, start, len(text), "line")]
    taken: list[tuple[int, int]] = []
    for match in commands._SPAN_RE.finditer(text):
        span = match.group(2).strip()
        if "\n" in span or not span:
            continue
        if cmdline.is_command(span) or cmdline.flagged_unknown(span):
            found.append(Found(span, match.start(), match.end(), "span"))
        taken.append((match.start(), match.end()))
    blanked = commands._SPAN_RE.sub(lambda m: " " * len(m.group(0)), text)
    for match in _SPLIT_RE.finditer(blanked):
        rest = blanked[match.end() :]
        candidate = _FILLER_RE.sub("", rest.strip())
        if (
            candidate
            and not _PAGE_HANDLE_RE.match(candidate)
            and cmdline.is_command(candidate)
            and "`" not in text[match.end() :]
        ):
            offset = (
                match.end()
                + (len(rest) - len(rest.lstrip()))
                + (len(rest.strip()) - len(candidate))
            )
            if not any(a <= offset < b for a, b in taken):
                found.append(Found(candidate, offset, len(text), "split"))
                return sorted(found, key=lambda f: f.start)
    for match in re.finditer(r"(?<![\w./-])((?:\.{1,2}/|[./~])?[A-Za-z][\w./-]*)", blanked):
        start = match.start()
        if any(f.start <= start < f.end for f in found):
            continue
        word = match.group(1)
        if not cmdline.head_ok(word):
            continue
        before = blanked[:start]
        closer = ")" if before.rstrip().endswith("(") else None
        if not (
            _TRIGGER_RE.search(before)
            or before.strip() == ""
            or closer
            or _COND_COMMA_RE.match(before)
        ):
            continue
        end = _scan_end(blanked, start, closer)
        candidate = blanked[start:end].strip()
        cmd, _ = _clean_command(candidate)
        if len(cmd.split()) >= 2 and cmd.split()[1].lower() in _PREPOSITIONS:
            continue  # "reboot with failover to the standby": a verb in a sentence
        if re.search(r"(?:^|\s)so\s*$", before, re.I) and not re.search(
            r"\s-|[/=|<>$\"'{]|&&", cmd
        ):
            continue  # "..., so mysql picks them up": "so" leads to a command only with arguments
        if len(cmd.split()) >= 2 and cmdline.is_command(cmd, bare=True):
            found.append(Found(cmd, start, end, "bare"))
    return sorted(found, key=lambda f: f.start)


def _split_chained(found: Found) -> list[Found]:
    """ "kubectl get csr | grep Pending then kubectl certificate approve X": two commands."""
    parts: list[Found] = []
    rest, offset = found.command, found.start
    while True:
        bare = _QUOTED_RE.sub(lambda m: "_" * len(m.group(0)), rest)
        match = next(
            (
                m
                for m in re.finditer(r"\s+(?:and then|then|and)\s+(?=\S)", bare)
                if cmdline.is_command(rest[m.end() :].split(" then ")[0])
            ),
            None,
        )
        if match is None:
            parts.append(Found(rest, offset, offset + len(rest), found.how))
            return parts
        parts.append(Found(rest[: match.start()], offset, offset + match.start(), found.how))
        offset += match.end()
        rest = rest[match.end() :]


def _collapse(command: str) -> str:
    """Multi-line SQL or quoted text in one command: newline and indentation become one space."""
    if "\n" not in command:
        return command
    if re.search(r"<<-?\s*['\"]?[A-Za-z_]", command):
        return command
    return re.sub(r"\s*\n\s*", " ", command)
