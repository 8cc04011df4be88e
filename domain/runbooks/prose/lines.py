"""The reader's line model and state, plus the per-line clean-up it needs: normalised text,
table cells, soft-wrapped lines joined back, continuations, headings and titles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.runbooks import cmdline, commands
from domain.runbooks.drafts import Draft, Walk, make_title
from domain.runbooks.prose.command_spans import find_commands
from domain.runbooks.prose.patterns import (
    _ARROW_RE,
    _CONTEXT_HEADING_RE,
    _CURLY,
    _ESCAPED_NBSP,
    _FILLER_RE,
    _FILTER_HEADS,
    _GENERIC_ADJ,
    _NAMED_VAR_RES,
    _PROSE_VAR_RE,
    _QUOTED_RE,
    _STEP_HEADING_RE,
    _TARGET_RE,
)


@dataclass
class _Line:
    no: int
    raw: str  # NBSP normalised, markers kept
    text: str  # markers stripped, NBSP normalised
    indent: int
    marker: bool
    blank: bool
    end_no: int = 0  # last line when wrapped prose was joined into this one
    bullet: bool = False  # a bullet (-, *, o) rather than a number or "Step N"
    item: str | None = None  # "3" for "3." or "Step 3:"


@dataclass
class _State:
    cond: str | None = None  # from the lead-in of the current block or item
    approval: str = ""  # the lead-in or warning that asks for approval
    lead: str | None = None
    lead_no: int = 0
    lead_used: bool = False
    lead_undo: bool = False  # the lead-in ("Put them back afterwards:") introduces an undo
    last_cond: str | None = None
    item_indent: int = -1
    numbered_item: bool = False  # the current item is "1." or "Step 1:" (bullets under it are its)
    context: bool = False
    section: str = "steps"
    item: str | None = None  # the number of the list item being read
    item_cond: str | None = None  # "2. If X:" over sub-items a) b): X guards each of them
    item_approval: str = ""  # "7. ... Everything in 7 needs sign-off": each sub-item needs it


@dataclass
class _Reader:
    lines: list[str]
    out: Walk = field(default_factory=Walk)
    state: _State = field(default_factory=_State)
    prose_vars: dict[str, str] = field(default_factory=dict)
    page_approval: str = ""  # "Warning: a failover ... Only do this after approval from the IC."

    def last_command_draft(self) -> Draft | None:
        for draft in reversed(self.out.drafts):
            if draft.command:
                return draft
        return None


def _pipe_cells(row: str) -> str:
    """A wiki-markup or pasted pipe table row ("| 2 | kubectl get pods | grep -v Running | ok |")
    as tab-separated cells; a cell that starts with a filter (grep, head, jq...) continues the
    command cell before it, since a command's own pipes look like cell borders."""
    cells = [c.strip() for c in re.split(r"\|\|?", row.strip().strip("|"))]
    merged: list[str] = []
    for cell in cells:
        head = cell.split()[0] if cell.split() else ""
        if merged and head in _FILTER_HEADS and cmdline.is_command(merged[-1]):
            merged[-1] = f"{merged[-1]} | {cell}"
        else:
            merged.append(cell)
    return "\t".join(merged) + "\t"


def _normalise(raw: str) -> str:
    return raw.translate(_ESCAPED_NBSP).rstrip()


def _prose_only(text: str) -> str:
    return text.translate(_CURLY)


def _prose_paren_free(command: str) -> str:
    """A command without the apostrophes of prose around it ("... 4gb (4gb is what's in
    redis.conf)", "... until it's under 80%"): a contraction opens no quote."""
    aside = re.search(r"\s\((?=[^()]*\b[A-Za-z]{3,}\b)[^()]*\)\s*\.?$", command)
    if aside is not None:
        command = command[: aside.start()] + re.sub(
            r"(?<=[A-Za-z])'(?=[A-Za-z])", "", aside.group(0)
        )
    return _CONTRACTION_RE.sub("", command)  # "watch ... until it's under 80%"


_CONTRACTION_RE = re.compile(r"(?<=[A-Za-z])'(?=(?:s|re|ve|ll|d|m|t)\b)", re.I)


def _needs_more(command: str) -> bool:
    """Whether a command line goes on: a trailing backslash/pipe/&&, an open quote or loop."""
    stripped = command.rstrip()
    if stripped.endswith(("\\", "|", "&&", "||")):
        return True
    if commands._unbalanced(command) and commands._unbalanced(_prose_paren_free(command)):
        return True
    bare = _QUOTED_RE.sub("''", command)
    heredoc = re.search(r"<<-?\s*['\"]?([A-Za-z_]\w*)['\"]?", bare) or re.search(
        r"<<-?\s*(?:'([A-Za-z_]\w*)'|\"([A-Za-z_]\w*)\")\s*$", command.split("\n")[0]
    )  # "<<'SQL'" at the end of the line: its quotes were blanked in `bare`
    if heredoc:
        word = next(g for g in heredoc.groups() if g)
        rest = command[command.find("<<") :].split("\n")[1:]
        return not any(line.strip() == word for line in rest)
    depth = 0
    opened = set(re.findall(r"(?:^|[;&|]\s*)(if|for|while|until|case)\b", bare))
    for word in re.findall(r"(?<![\w-])(do|done|then|fi|case|esac)(?![\w-])", bare):
        if word in {"then", "fi"} and "if" not in opened:
            continue  # "... | grep Pending then kubectl ...": prose, not shell
        if word in {"do", "done"} and not opened & {"for", "while", "until"}:
            continue
        depth += 1 if word in {"do", "then", "case"} else -1
    return depth > 0 or bare.count("$(") > bare.count(")")


def _join_continuations(lines: list[_Line], index: int, first: str) -> tuple[str, int]:
    """A command that goes on over the next lines: backslashes, pipes, an open quote or loop."""
    command = first
    i = index
    while _needs_more(command) and i + 1 < len(lines):
        nxt = lines[i + 1]
        if nxt.blank and not commands._unbalanced(command):
            break
        i += 1
        if re.search(r"<<-?\s*['\"]?[A-Za-z_]", command):
            command = command + "\n" + nxt.raw.rstrip()
        elif command.rstrip().endswith("\\"):
            command = command.rstrip()[:-1].rstrip() + " " + nxt.raw.strip()
        else:
            command = command.rstrip() + " " + nxt.raw.strip()
    return command, i


def _title(prose: str, command: str | None, fallback: str = "") -> str:
    text = _FILLER_RE.sub("", _prose_only(prose).strip(" -\u2013\u2014:>"))
    text = _ARROW_RE.split(text, maxsplit=1)[-1] if "->" in text or "\u2192" in text else text
    if command:
        text = text.replace(f"`{command}`", " ").replace(command, " ")
    text = re.sub(r"\(\s*\)", "", text)
    return make_title(text, None, fallback)


def _is_heading(text: str, no: int, first_content: int) -> bool:
    words = text.split()
    if not words or len(words) > 7 or text.endswith((".", ",", ";", "?", "!")):
        return False
    if _CONTEXT_HEADING_RE.match(text) or _STEP_HEADING_RE.match(text):
        return len(words) <= 5 and ":" not in text.rstrip(":")
    return no == first_content


def _unwrap(lines: list[_Line]) -> list[_Line]:
    """Join prose a wiki or mail client wrapped mid-sentence ("... the database is" +
    "usually the culprit. Check ... with"); commands and list items stay on their own line."""
    out: list[_Line] = []
    for line in lines:
        prev = out[-1] if out else None
        if (
            prev is not None
            and not prev.blank
            and not line.blank
            and not line.marker
            and len(prev.text) >= 60  # wrapped lines are long; chat and notes lines are not
            and re.match(r"[a-z(]", line.text)
            and not re.match(r"(?:if|otherwise|else|then|still|when|but|also|or)\b", line.text)
            and not _ARROW_RE.search(prev.text)
            and not re.search(r"[.:;!?)`\\|]$|&&$", prev.text)
            and "\t" not in prev.text
            and prev.text.count('"') % 2 == 0  # an odd quote: a piece of a quoted SQL/JSON
            and line.text.count('"') % 2 == 0  # argument going on over lines, not prose
            and not find_commands(prev.text)
            and not cmdline.is_command(_FILLER_RE.sub("", line.text))
            and not cmdline.flagged_unknown(line.text)
        ):
            prev.text = f"{prev.text} {line.text}"
            prev.end_no = line.no
            continue
        out.append(line)
    return out


def _prose_variables(text: str) -> list[str]:
    """Things the reader fills in that the text names in words: "the host from the alert"."""
    names: list[str] = []
    for match in _TARGET_RE.finditer(text):
        name = {"box": "host"}.get(match.group(1).lower(), match.group(1).lower())
        if name not in names:
            names.append(name)
    for pattern in _NAMED_VAR_RES:
        for match in pattern.finditer(text):
            name = match.group(1).lower()
            if name not in names:
                names.append(name)
    for match in _PROSE_VAR_RE.finditer(text.translate(_ESCAPED_NBSP)):
        noun = re.sub(r"\s+", "_", match.group("noun").lower())
        mod = (match.group("mod") or "").strip().lower()
        adj = (match.group("adj") or "").strip().lower()
        tail = match.group("tail")
        if not (tail or mod):
            continue
        if adj in _GENERIC_ADJ or adj in {"instance", "host", "node"} or not adj:
            adj = ""
        if adj and not re.fullmatch(r"[a-z][a-z0-9-]+", adj):
            adj = ""
        name = f"{adj.replace('-', '_')}_{noun}" if adj else noun
        name = {"hostname": "host", "mount_point": "mountpoint", "machine": "vm"}.get(name, name)
        if name not in names:
            names.append(name)
    return names


def _last_no(line: _Line) -> int:
    return max(line.no, line.end_no)
