"""Cut a shell command line into simple commands, redirections and subshells, without running it.

The risk classifier needs the structure (pipes, `&&` chains, `$(...)`, `> file`), not just words;
quoting mistakes common in prose runbooks must degrade gracefully, never raise.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

_HEREDOC_RE = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


@dataclass
class Segment:
    """One simple command: its words, where its output goes, and what feeds it."""

    text: str
    words: list[str]
    redirects: list[tuple[str, str]] = field(default_factory=list)  # (operator, target)
    piped_into: bool = False  # receives another command's output on stdin
    heredoc: bool = False


@dataclass
class Parsed:
    segments: list[Segment]
    subshells: list[str]  # inner text of $(...), `...`, <(...)


def tokenize(text: str) -> list[str]:
    """Words of one simple command: shlex, then a forgiving fallback for unbalanced quotes."""
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        pass
    for closer in ("'", '"', "\"'", "'\""):
        try:
            return shlex.split(text + closer, comments=False, posix=True)
        except ValueError:
            continue
    return [w.strip("'\"") for w in text.split() if w.strip("'\"")]


def _read_group(text: str, start: int, opener: str, closer: str) -> int:
    """Index just past the `closer` that balances the `opener` before `start` (quote-aware)."""
    depth = 1
    i = start
    quote: str | None = None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch == "\\":
            i += 2
            continue
        elif ch in "'\"":
            quote = ch
        elif ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def _skip_heredocs(text: str, i: int, pending: list[str]) -> int:
    """From the newline at `i`, skip heredoc bodies whose delimiters are pending."""
    pos = i + 1
    while pending:
        delim = pending.pop(0)
        while pos <= len(text):
            end = text.find("\n", pos)
            line = text[pos:] if end == -1 else text[pos:end]
            pos = len(text) if end == -1 else end + 1
            if line.strip() == delim or end == -1:
                break
    return pos - 1


def parse(text: str) -> Parsed:
    """Split `text` at `&&`, `||`, `;`, `|`, `&`, newlines and groups; pull out subshells."""
    segments: list[Segment] = []
    subshells: list[str] = []
    buf: list[str] = []
    redirects: list[tuple[str, str]] = []
    heredoc_pending: list[str] = []
    state = {"piped": False, "heredoc": False}

    def flush(next_piped: bool) -> None:
        raw = "".join(buf).strip()
        words = tokenize(raw) if raw else []
        if words or redirects:
            segments.append(Segment(raw, words, list(redirects), state["piped"], state["heredoc"]))
        buf.clear()
        redirects.clear()
        state["piped"] = next_piped
        state["heredoc"] = False

    i = 0
    n = len(text)
    quote: str | None = None
    while i < n:
        ch = text[i]
        if quote == "'":
            buf.append(ch)
            if ch == "'":
                quote = None
            i += 1
            continue
        if ch == "\\" and i + 1 < n:
            if text[i + 1] == "\n":  # line continuation
                i += 2
                continue
            buf.append(text[i : i + 2])
            i += 2
            continue
        if ch == "$" and text.startswith("$((", i):
            end = _read_group(text, i + 3, "(", ")")
            buf.append("0")
            i = min(n, end + 1)
            continue
        if (ch == "$" and text.startswith("$(", i)) or (
            ch in "<>" and text.startswith("(", i + 1) and quote is None
        ):
            end = _read_group(text, i + 2, "(", ")")
            subshells.append(text[i + 2 : end - 1])
            buf.append("__SUBSHELL__")
            i = end
            continue
        if ch == "`":
            end = text.find("`", i + 1)
            end = n if end == -1 else end
            subshells.append(text[i + 1 : end])
            buf.append("__SUBSHELL__")
            i = end + 1
            continue
        if quote == '"':
            buf.append(ch)
            if ch == '"':
                quote = None
            i += 1
            continue
        if ch in "'\"":
            quote = ch
            buf.append(ch)
            i += 1
            continue
        if ch == "#" and (not buf or buf[-1][-1:].isspace()):
            end = text.find("\n", i)
            i = n if end == -1 else end
            continue
        if ch == "<" and text.startswith("<<", i) and not text.startswith("<<<", i):
            m = _HEREDOC_RE.match(text, i)
            if m:
                heredoc_pending.append(m.group(2))
                state["heredoc"] = True
                i = m.end()
                continue
        if (
            ch == ">"
            or (ch == "&" and text.startswith("&>", i))
            or (
                ch.isdigit() and text.startswith(">", i + 1) and (not buf or buf[-1][-1:].isspace())
            )
        ):
            m = re.compile(r"(\d?&?>>?\|?)(&\d|&-)?\s*").match(text, i)
            if m:
                op = m.group(1)
                j = m.end()
                if m.group(2):  # 2>&1: duplicating a descriptor writes nothing
                    i = j
                    continue
                target_m = re.compile(r"(\"[^\"]*\"|'[^']*'|[^\s;&|<>()]+)").match(text, j)
                target = target_m.group(1).strip("'\"") if target_m else ""
                redirects.append((op, target))
                i = target_m.end() if target_m else j
                continue
        if ch == "\n":
            flush(False)
            if heredoc_pending:
                i = _skip_heredocs(text, i, heredoc_pending)
            i += 1
            continue
        if ch in ";()":
            flush(False)
            i += 1
            continue
        if ch == "|":
            if text.startswith("||", i):
                flush(False)
                i += 2
            else:
                flush(True)
                i += 2 if text.startswith("|&", i) else 1
            continue
        if ch == "&":
            flush(False)
            i += 2 if text.startswith("&&", i) else 1
            continue
        buf.append(ch)
        i += 1
    flush(False)
    return Parsed(segments, subshells)
