"""Plain-text runbooks (wiki pages, Slack messages, numbered lists, terse notes, Confluence
exports) read line by line the way an engineer reads them.

A command can sit on its own line between sentences, after a colon or an arrow, in backticks,
in parentheses, or after "run"/"with"; it may continue over several lines (backslashes, pipes,
an SQL string left open). The prose around it gives the step its title, its condition ("if you
see more than 50 timeouts"), whether it needs someone's approval, and whether the command is
in fact the undo of the step before ("if this makes things worse, undo it with ..."). Lines
that only describe, warn or forbid ("do not restart nginx") are never steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.runbooks import branches, cmdline, commands, phrases
from domain.runbooks.drafts import (
    Draft,
    Walk,
    attach_rollback,
    category_of,
    is_imperative,
    make_title,
)

_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)", re.M)
_ATX_RE = re.compile(r"^#{1,6}\s+[A-Z0-9`*\[]", re.M)  # "# check disk" is a shell comment
_MARKER_RE = re.compile(
    r"^(?P<m>(?:step|schritt)\s*\d+[a-z]?\s*(?:[:.)]|[-\u2013\u2014])\s*|\d{1,2}[.)]\s+|[a-h][.)]\s+|"
    r"[-*\u2022\u25e6\u25aa\u2023o]\s+)",
    re.I,
)
_SPEAKER_RE = re.compile(
    r"^(?!(?:at|until|by|before|after|around|otherwise|wait|then|next|run|runs)\b)"
    r"[\w.@'-]+(?:\s+[\w.@'-]+){0,2}\s+(?:\d{1,2}:\d{2}(?:\s*[AP]M)?|\[\d{1,2}:\d{2}[^\]]*\])\s*$",
    re.I,
)
_PROMPT_RE = re.compile(r"^(?:\$|[\w.@-]+[$#]|>)\s+(?=\S)")
_FILLER_RE = re.compile(
    r"^(?:(?:then|and|first thing|first|next|finally|also|just|now|so|after that|afterwards|"
    r"1st thing|2nd|last|lastly|optionally|or)\b[,:]?\s+)+",
    re.I,
)
_NOTE_RE = re.compile(
    r"^(?:note|info|tip|fyi|ps|nb|owner|owners|team|contact|contacts|escalation contact|"
    r"links?|see also|reference|references|last reviewed|reviewed|updated|author|purpose|"
    r"applies to|symptoms?|impact|background|context|summary|why|cause|description|"
    r"page owner|owned by|maintainers?|last (?:updated|edited|modified)|created by|version|"
    r"dashboard|runbook|alert|severity|expected(?: result| output)?|result|output)\s*:",
    re.I,
)
_WARNING_RE = re.compile(r"^(?:warning|caution|important|attention|danger|careful)\s*[:!]", re.I)
_STATEMENT_RE = re.compile(
    r"^[\w-]+\s+(?:is|are|was|were|isn'?t|aren'?t|usually|rarely|normally|often|should|will|"
    r"can|may|might|has|have|takes?|means?|happens?|only)\b",
    re.I,
)
_TRAILING_IF_RE = re.compile(
    r"[\s,]+\b(if|unless|in case|when|once)\s+(?P<cond>[^,;]+?)\s*[.!]?$", re.I
)
_ARROW_RE = re.compile(r"\s*(?:->|\u2192|=>)\s*")
_SPLIT_RE = re.compile(r":\s+|\?\s+|\s+[-\u2013\u2014]\s+|\s*(?:->|\u2192|=>)\s*")
_TRIGGER_RE = re.compile(
    r"(?:^|(?<=[\s(:]))(?:run|running|with|using|via|execute|executing|exec|try|type|just|then|"
    r"and|do|call|e\.g\.|i\.e\.|like|such as|->|\u2192|:|\()\s*$",
    re.I,
)
_TRAIL_PAREN_RE = re.compile(r"\s+\((?=[^()]*\b[A-Za-z]{3,}\b)[^()$|=;&<>`]*\)\s*\.?$")
_TRAIL_COND_PAREN_RE = re.compile(  # "cmd (only when lag > 10k)": a condition, not arguments
    r"\s+\(\s*((?:only\s+)?(?:if|when|unless|once|in case)\b[^()`]*)\)\s*\.?$", re.I
)
_ACK_RE = re.compile(
    r"^(?:on it|ok(?:ay)?|sure|done|ack|yep|yes|will do|doing it|trying)\W*$", re.I
)
_EMOJI_RE = re.compile(r"(?<!\S):[a-z0-9_+-]+:(?!\S)\s*")  # Slack's :+1: / :tada:
_PANEL_RE = re.compile(r"^(?:note|info|tip|hint|nb|fyi)\s*:\s*", re.I)
_COND_COMMA_RE = re.compile(  # "If not, cmd" / "Otherwise, cmd": the command follows the comma
    r"^\s*(?:if|when|once|otherwise|else|unless|in case|should|failing that)\b[^,]{0,80},\s*$",
    re.I,
)
_QUESTION_RE = re.compile(
    r"^(?!(?:what|why|how|who|which|where|when)\b)([^?.!:]{3,80})\?\s+\S", re.I
)
_TRAIL_COMMENT_RE = re.compile(r"\s+#\s+(.*)$")
_CONTEXT_HEADING_RE = re.compile(
    r"^(?:overview|background|about|purpose|symptoms?|impact|summary|description|context|"
    r"applies to|scope|owners?|contacts?|escalation contacts?|references?|links|see also|"
    r"related|history|change log|changelog|faq|alert details?|meaning|why)\b",
    re.I,
)
_STEP_HEADING_RE = re.compile(
    r"^(?:procedure|steps(?: to follow)?|what to do|actions?|diagnos[ie]s|investigation|"
    r"troubleshooting|mitigation|remediation|resolution|recovery|fix|verification|validation|"
    r"(?:quick )?checks?|triage|immediate actions?|runbook|how to fix|next steps|escalation|"
    r"rollback|roll ?back|undo|cleanup|follow[- ]up)"
    r"(?:\s+(?:steps?|procedure|and\s+\w+))?\s*(?:\([^()]*\))?\s*:?$",
    re.I,
)
_MACRO_RE = re.compile(  # Confluence macro labels left in an export: not prose, not steps
    r"^(?:code(?:\s+block)?|expand\s+source|collapse\s+source|source|bash|shell|sh|sql|console|"
    r"(?:\u26a0\ufe0f?|\u2139\ufe0f?|\u2757)?\s*(?:info|note|tip|warning|caution|important))$",
    re.I,
)
_STEP_REF_RE = re.compile(r"\bsteps?\s*#?(\d{1,2})\b", re.I)
_APPROVAL_LINE_RE = re.compile(  # a sentence that only says who must approve
    r"^\W*(?:this\s+|it\s+|you\s+|we\s+)?(?:needs?|requires?|requiring|must\s+be|"
    r"only\s+(?:with|after|(?:do|run|proceed|continue)\b)|"
    r"approval|sign[- ]?off|get(?:ting)?\s+(?:[\w']+\s+){0,2}(?:\+1|ok|okay|"
    r"(?:explicit\s+|written\s+)?approval|sign[- ]?off|go-ahead|green light|blessing)|"
    r"(?:check|confirm)\s+with|clear\s+it\s+with|talk\s+to|consult|run\s+it\s+(?:past|by)|"
    r"ask\s+(?:the\s+)?[#@]?[\w'.-]+(?:\s+[\w'.-]+){0,2}\s+(?:first|before)|"
    r"(?:do\s+not|don'?t|never)\s+\w+\s+(?:this\s+|it\s+)?without|two[- ]person|four[- ]eyes)\b",
    re.I,
)
_STEP_PREFIX_RE = re.compile(r"(?:steps?|schritt)\s*#?\d{1,2}\s*[:.)\-\u2013\u2014]", re.I)
_PAGE_HANDLE_RE = re.compile(r"^(?:ping|page|call)\s+[@#]")  # "ping @oncall" is a person
_INLINE_SPEAKER_RE = re.compile(  # "[10:03] jane: msg", "jane [10:03]: msg", "[10:03] <jane> msg"
    r"^(?:\[\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?\]\s*(?:<[\w.@'-]+>|[\w.@'-]+:)|"
    r"[\w.@'-]+\s+\[\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?\]:|@[\w.'-]+:)\s+(?=\S)",
    re.I,
)
_PIPE_ROW_RE = re.compile(r"^\|.*\|$")
_FILTER_HEADS = frozenset(
    [
        "grep",
        "egrep",
        "head",
        "tail",
        "sort",
        "uniq",
        "wc",
        "awk",
        "sed",
        "cut",
        "jq",
        "xargs",
        "tr",
        "column",
        "less",
        "tee",
        "yq",
        "base64",
    ]
)
_GAP_RE = re.compile(r"(?<=\S)\s{3,}(?=\S)")  # a flattened table cell: "Check pods    kubectl ..."
_ESCAPED_NBSP = str.maketrans({"\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u200b": ""})
_CURLY = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_PROSE_VAR_RE = re.compile(
    r"\bthe\s+(?P<mod>(?:affected|alerting|failing|broken|unhealthy|offending|crashing|"
    r"stuck|lagging|full|sealed|down|bad|slow|noisy|reported|flapping)\s+)?"
    r"(?P<adj>[a-z][a-z0-9-]{1,20}\s+)?"
    r"(?P<noun>instance|host|hostname|node|pod|namespace|service|cluster|server|broker|replica|"
    r"database|queue|topic|bucket|volume|disk|deployment|container|member|agent|vm|machine|"
    r"consumer group|group|index|table|job|mount ?point|device|region|zone)\b"
    r"(?P<tail>\s+(?:(?:named|given|listed|mentioned|reported|shown|referenced|that fired)\s+)?"
    r"(?:from|in|on|of|by)\s+the\s+(?:alert|page|incident|notification))?",
    re.I,
)
_GENERIC_ADJ = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "same",
        "one",
        "other",
        "each",
        "every",
        "its",
        "their",
        "new",
        "old",
        "main",
        "primary",
        "current",
        "right",
        "correct",
        "whole",
    ]
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
    quoted_ticks_only = "`" in body and "`" not in _QUOTED_RE.sub("", body)
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
    for match in re.finditer(r"(?<![\w./-])([./~]?[A-Za-z][\w./-]*)", blanked):
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
        if len(cmd.split()) >= 2 and cmdline.is_command(cmd, bare=True):
            found.append(Found(cmd, start, end, "bare"))
    return sorted(found, key=lambda f: f.start)


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
    last_cond: str | None = None
    item_indent: int = -1
    numbered_item: bool = False  # the current item is "1." or "Step 1:" (bullets under it are its)
    context: bool = False
    section: str = "steps"
    item: str | None = None  # the number of the list item being read
    item_cond: str | None = None  # "2. If X:" over sub-items a) b): X guards each of them


@dataclass
class _Reader:
    lines: list[str]
    out: Walk = field(default_factory=Walk)
    state: _State = field(default_factory=_State)
    prose_vars: dict[str, str] = field(default_factory=dict)

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


_QUOTED_RE = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")


def _needs_more(command: str) -> bool:
    """Whether a command line goes on: a trailing backslash/pipe/&&, an open quote or loop."""
    stripped = command.rstrip()
    if stripped.endswith(("\\", "|", "&&", "||")):
        return True
    if commands._unbalanced(command):
        return True
    bare = _QUOTED_RE.sub("''", command)
    heredoc = re.search(r"<<-?\s*['\"]?([A-Za-z_]\w*)['\"]?", bare)
    if heredoc:
        rest = command[command.find("<<") :].split("\n")[1:]
        return not any(line.strip() == heredoc.group(1) for line in rest)
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


_ACTION_WORDS = frozenset(
    """restart reload bump raise lower increase decrease run check scale delete drain kill
    cordon use set add page ping escalate call open tell just then remove stop start roll
    revert undo rerun retry clear flush purge failover promote resize expand apply ssh""".split()  # noqa: SIM905
)


def _cut_action(cond: str) -> str:
    """ "cl_waiting is high reload it with" -> "cl_waiting is high" (no comma between them)."""
    words = cond.split()
    for k in range(2, len(words)):
        if words[k].lower() in _ACTION_WORDS and words[k - 1].lower() not in {
            "to",
            "the",
            "a",
            "is",
            "was",
            "does",
            "did",
            "not",
            "no",
            "and",
            "or",
            "of",
        }:
            return " ".join(words[:k]).rstrip(",;")
    return cond


def _condition_of(prose: str, previous: str | None) -> str | None:
    cond, separated = _condition_text(prose, previous)
    if cond and not separated and not cond.startswith("not ("):
        return _cut_action(cond)  # "if cl_waiting is high reload it": no comma to cut at
    return cond


def _condition_text(prose: str, previous: str | None) -> tuple[str | None, bool]:
    """The condition and whether the text separated it from the action (comma, colon...)."""
    text = branches.clean(_FILLER_RE.sub("", _EMOJI_RE.sub("", prose).strip()))
    if not text:
        return None, True
    arrow = _ARROW_RE.split(text, maxsplit=1)
    if len(arrow) == 2 and arrow[0] and not is_imperative(arrow[0]) and not _ACK_RE.match(arrow[0]):
        return re.sub(r"^(?:if|when|once)\s+", "", arrow[0].strip(" :"), flags=re.I), True
    for sentence in branches.sentences(text) or [text]:
        cond, rest = branches.split_condition(_FILLER_RE.sub("", sentence), previous)
        if cond:
            separated = bool(rest) or bool(re.search(r"[,;:]\s*$", sentence))
            return cond, separated
    if text.rstrip().endswith("?") and len(text.split()) <= 6:
        return text.strip(), True
    question = _QUESTION_RE.match(text)
    if question and len(question.group(1).split()) <= 8:
        return question.group(1).strip(), True
    match = _TRAILING_IF_RE.search(text)
    if (
        match
        and not phrases.APPROVAL_RE.search(match.group("cond"))
        and len(match.group("cond").split()) >= 2
        and match.group("cond").strip().lower() not in branches._TRIVIAL
    ):
        return match.group("cond").strip(), True
    return None, True


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


_SPACED_UNITS = frozenset(
    [
        "gb",
        "mb",
        "kb",
        "gi",
        "mi",
        "ki",
        "g",
        "m",
        "k",
        "s",
        "ms",
        "%",
        "replicas",
        "replica",
        "nodes",
        "pods",
        "instances",
        "seconds",
        "minutes",
    ]
)


def _derive_rollback(previous: str, prose: str) -> str | None:
    """The undo written out when the text says it in words ("set it back to 4gb")."""
    same = re.search(r"\bsame\s+(?:cmd|command)\s+(?:with|but)\s+(--?[\w-]+)[ =](\S+)", prose, re.I)
    if same:
        flag, value = same.group(1), same.group(2).rstrip(".,)")
        pattern = re.compile(rf"({re.escape(flag)}[ =])(\S+)")
        if pattern.search(previous):
            return pattern.sub(lambda m: m.group(1) + value, previous, count=1)
        return None
    back = re.search(r"\bback\s+to\s+(\d+(?:\.\d+)?)(\s*)([A-Za-z%]*)", prose, re.I)
    if not back:
        return None
    number, unit = back.group(1), back.group(3)
    if back.group(2) and unit.lower() not in _SPACED_UNITS:
        unit = ""  # "back to 3 once lag is low": the word after the number is not a unit
    if unit.lower() in {"replicas", "replica", "nodes", "pods", "instances"}:
        unit = ""
    value_re = re.compile(
        rf"(?<=[\s=])(\d+(?:\.\d+)?){re.escape(unit)}(?=$|[\s'\"}},])", re.I if unit else 0
    )
    matches = list(value_re.finditer(previous))
    if len(matches) != 1:
        return None
    match = matches[0]
    return previous[: match.start()] + number + unit + previous[match.end() :]


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
            and not find_commands(prev.text)
            and not cmdline.is_command(_FILLER_RE.sub("", line.text))
            and not cmdline.flagged_unknown(line.text)
        ):
            prev.text = f"{prev.text} {line.text}"
            prev.end_no = line.no
            continue
        out.append(line)
    return out


def read(text: str) -> Walk:
    """Draft steps from a plain-text runbook (no Markdown structure)."""
    raw_lines = text.split("\n")
    lines: list[_Line] = []
    for no, raw in enumerate(raw_lines, start=1):
        norm = _normalise(raw)
        said = _INLINE_SPEAKER_RE.match(norm.strip())
        if said:  # a chat line with its speaker in front: a new message, then its text
            lines.append(_Line(no, "", "", 0, False, True))
            norm = norm.strip()[said.end() :]
        elif _PIPE_ROW_RE.match(norm.strip()) and norm.count("|") >= 3:
            norm = _pipe_cells(norm)
        stripped = norm.strip()
        indent = len(norm) - len(norm.lstrip())
        marker = _MARKER_RE.match(stripped)
        body = stripped[marker.end() :] if marker else stripped
        body = re.sub(r"^#+\s+", "", body)  # a comment or heading line: its words are prose
        if marker and marker.group("m").strip() == "o" and not body:
            marker = None
        if marker and _GAP_RE.search(body):
            head, tail = _GAP_RE.split(body, maxsplit=1)
            if cmdline.is_command(tail) and not cmdline.is_command(head):
                body = f"{head.rstrip(':')}: {tail}"
        line = _Line(no, norm, body, indent, bool(marker), not stripped)
        if marker:
            line.bullet = not re.match(r"\d|step|schritt", marker.group("m"), re.I)
            number = re.search(r"\d+", marker.group("m"))
            line.item = number.group(0) if number and not line.bullet else None
        lines.append(line)
    lines = _unwrap(lines)
    reader = _Reader(raw_lines)
    first_content = next((ln.no for ln in lines if not ln.blank), 0)
    _read_lines(reader, lines, first_content)
    for name in _prose_variables(text):
        reader.prose_vars.setdefault(name, name)
    reader.out.prose_variables = list(reader.prose_vars)
    return reader.out


def _new_block(state: _State) -> None:
    state.cond = None
    state.item_cond = None
    state.approval = ""
    state.lead = None
    state.lead_used = False


def _flush_lead(reader: _Reader) -> None:
    """A lead-in that no command followed is a manual step (or a wait) of its own."""
    state = reader.state
    if state.lead and not state.lead_used and not state.lead.rstrip().endswith(":"):
        _manual(reader, state.lead, state.lead_no, state.cond, bool(state.approval))
    state.lead = None
    state.lead_used = False


def _manual(
    reader: _Reader, text: str, no: int, cond: str | None, approval: bool, *, force: bool = False
) -> None:
    prose = _FILLER_RE.sub("", _prose_only(text).strip())
    own_cond = cond or _condition_of(prose, reader.state.last_cond)
    body = prose
    if own_cond:
        _, rest = branches.split_condition(prose, reader.state.last_cond)
        body = rest or prose
        reader.state.last_cond = own_cond
    body = _FILLER_RE.sub("", _ARROW_RE.split(body, maxsplit=1)[-1].strip())
    wait = bool(phrases.WAIT_RE.match(body))
    if not (force or wait or _actionable(body)):
        for clause in re.split(r"[,;:]\s+", body)[1:]:
            clause = _FILLER_RE.sub("", clause.strip())
            if _actionable(clause):
                body = clause
                break
    if not (force or wait or _actionable(body)):
        reader.out.description.append(" ".join(text.split()))
        return
    title = make_title(body, None, "Manual step")
    if wait and not title.lower().startswith("wait"):
        title = "Wait: " + title
    draft = Draft(
        reader.state.section,
        title,
        None,
        [" ".join(text.split())],
        own_cond or cond,
        source_text=text,
    )
    draft.lines = (no, no)
    draft.approval = approval or phrases.needs_approval(text)
    reader.out.drafts.append(draft)


_EXTRA_VERBS = frozenset(
    [
        "tell",
        "post",
        "ping",
        "page",
        "ask",
        "notify",
        "inform",
        "announce",
        "call",
        "open",
        "file",
        "raise",
        "escalate",
        "compare",
        "look",
        "check",
        "verify",
        "confirm",
        "wait",
        "repeat",
        "update",
        "write",
        "let",
        "hand",
        "message",
        "email",
    ]
)


def _actionable(text: str) -> bool:
    body = _FILLER_RE.sub("", text.strip())
    if not body or _STATEMENT_RE.match(body) or phrases.PROHIBIT_RE.match(body):
        return False
    first = re.match(r"[A-Za-z-]+", body)
    if first and first.group(0).lower() in _EXTRA_VERBS:
        return True
    return is_imperative(body)


def _read_lines(reader: _Reader, lines: list[_Line], first_content: int) -> None:
    state = reader.state
    i = 0
    while i < len(lines):
        line = lines[i]
        text = line.text
        if line.blank:
            _flush_lead(reader)
            _new_block(state)
            i += 1
            continue
        if _SPEAKER_RE.match(text):
            _flush_lead(reader)
            _new_block(state)
            i += 1
            continue
        if "\t" in text:
            _table_row(reader, text, line.no)
            i += 1
            continue
        if re.fullmatch(r"[\W_]+", text):
            i += 1
            continue
        sub_bullet = line.bullet and state.numbered_item and line.indent <= state.item_indent
        if (
            line.marker
            and not sub_bullet
            and (state.item_indent < 0 or line.indent <= state.item_indent)
        ):
            _flush_lead(reader)
            _new_block(state)
            state.item_indent = line.indent
            state.numbered_item = not line.bullet
            state.item = line.item
            state.item_cond = None
        elif line.marker:
            if state.lead is not None and not state.lead_used and state.cond:
                state.item_cond = state.cond
            state.lead_used = True  # a lead-in with sub-steps heads them, it is not one itself
            _flush_lead(reader)
        found = [] if state.context else find_commands(text)
        if (
            line.no == first_content
            and not line.marker
            and len(text.split()) <= 15
            and not cmdline.is_title_command(text)
            and not any(f.how == "span" for f in found)
        ):
            reader.out.h1 = branches.clean(text)
            i += 1
            continue
        if not found and _MACRO_RE.match(text.strip()):
            i += 1
            continue
        if not found and not line.item and _is_heading(text, line.no, first_content):
            _flush_lead(reader)
            _new_block(state)
            state.item_indent = -1
            state.item = None
            if line.no == first_content and not (
                _CONTEXT_HEADING_RE.match(text) or _STEP_HEADING_RE.match(text)
            ):
                reader.out.h1 = branches.clean(text)
            else:
                state.context = bool(_CONTEXT_HEADING_RE.match(text))
                state.section = category_of(text, None) if not state.context else "steps"
                if state.section in {"context", "intro", "prerequisites"}:
                    state.section = "steps"
            i += 1
            continue
        if state.context:
            if line.marker or phrases.PROHIBIT_RE.match(text):
                pass
            reader.out.description.append(" ".join(text.split()))
            i += 1
            continue
        panel = _PANEL_RE.match(text)
        if panel and found and not phrases.PROHIBIT_RE.match(text[panel.end() :].strip()):
            rest = text[panel.end() :].strip()  # "Note: if X, also check Y with cmd": keep cmd
            if inner := find_commands(rest):
                line.text = rest
                before = len(reader.out.drafts)
                i = _command_line(reader, lines, i, inner)
                for draft in reader.out.drafts[before:]:
                    draft.notes.append("written in a note: check that it is meant as a step")
                continue
        if phrases.PROHIBIT_RE.match(_FILLER_RE.sub("", text)) or _NOTE_RE.match(text):
            if not found and phrases.needs_approval(text):  # "Do not run without the DBA's OK"
                _approval_statement(reader, lines, i, _prose_only(text))
            i += 1
            continue
        if _WARNING_RE.match(text):
            if phrases.needs_approval(text):
                state.approval = text
            i += 1
            continue
        if not found:
            i = _prose_line(reader, lines, i)
            continue
        i = _command_line(reader, lines, i, found)
    _flush_lead(reader)


def _prose_line(reader: _Reader, lines: list[_Line], i: int) -> int:
    state = reader.state
    line = lines[i]
    text = line.text
    prose = _prose_only(text)
    previous = reader.last_command_draft()
    if state.lead is not None and state.lead_used and not phrases.needs_approval(prose):
        state.approval = ""  # the approval asked for the command that used the last lead-in
    if previous is not None and phrases.ROLLBACK_RE.search(prose):
        derived = _derive_rollback(previous.command or "", prose)
        if derived and not previous.rollback:
            previous.rollback = derived
            return i + 1
    if _approval_statement(reader, lines, i, prose):
        return i + 1
    _flush_lead(reader)
    cond = _condition_of(prose, state.last_cond)
    if cond:
        state.last_cond = cond
    if state.lead is None or not state.lead_used:
        state.cond = cond if cond else (state.cond if line.marker is False and state.cond else None)
    if phrases.needs_approval(prose):
        state.approval = prose
    nxt = lines[i + 1] if i + 1 < len(lines) else None
    state.lead = text
    state.lead_no = line.no
    state.lead_used = False
    if cond is not None:
        state.cond = cond
    waits = phrases.WAIT_RE.match(_FILLER_RE.sub("", prose.strip()))
    if nxt is None or nxt.blank or (waits and not prose.rstrip().endswith(":")):
        _flush_lead(reader)  # a wait is a step of its own, not the title of the next command
    return i + 1


def _approval_statement(reader: _Reader, lines: list[_Line], i: int, prose: str) -> bool:
    """A line that only says who must approve ("Needs sign-off from the team lead", "check with
    the DBA before you cancel anything"): it guards the step it stands beside, it is not one.

    With an item's lead-in still waiting for its command, it applies to that command; otherwise
    to the command just above it, when no command follows on the next line.
    """
    text = _FILLER_RE.sub("", prose.strip())
    if (
        not _APPROVAL_LINE_RE.match(text)
        or not phrases.needs_approval(text)
        or text.rstrip().endswith(":")
    ):
        return False
    state = reader.state
    if state.lead is not None and not state.lead_used:
        state.approval = text
        return True
    previous = reader.last_command_draft()
    line = lines[i]
    if previous is None or previous.lines is None or line.no - previous.lines[1] > 3:
        return False
    nxt = next((ln for ln in lines[i + 1 :] if not ln.blank), None)
    follows = nxt is not None and not _SPEAKER_RE.match(nxt.text) and find_commands(nxt.text)
    if nxt is not None and follows and (not nxt.marker or (nxt.bullet and state.numbered_item)):
        return False  # the command on the next line is the one it guards
    previous.approval = True
    return True


def _step_rollback(reader: _Reader, before: str, command: str) -> bool:
    """ "step 5: cmd" / "If step 3 fails: cmd" / "Rollback of step 3: cmd": the undo of the
    step written under that number."""
    ref = _STEP_REF_RE.search(before)
    if ref is None:
        return False
    if not (
        reader.state.section == "rollback"
        or phrases.ROLLBACK_RE.search(before)
        or re.search(r"\bfail", before, re.I)
        or re.match(r"^\W*(?:for\s+)?steps?\s*#?\d{1,2}\s*[:\-\u2013\u2014]", before, re.I)
    ):
        return False
    target = next(
        (d for d in reversed(reader.out.drafts) if d.item == ref.group(1) and d.command), None
    )
    if target is None or target.rollback:
        return False
    target.rollback = command
    return True


def _undo_target(reader: _Reader, previous: Draft, command: str) -> Draft:
    """The step an undo in prose belongs to: the one just above, unless it shares nothing with
    the undo and a recent step clearly does (a chat reply undoing an earlier message's change)."""

    def likeness(draft: Draft) -> float:
        a, b = set(command.split()), set((draft.command or "").split())
        return len(a & b) / len(a | b) if a | b else 0.0

    def tool(text: str) -> str:
        words = [w for w in text.split() if w != "sudo"]
        return words[0] if words else ""

    if tool(previous.command or "") == tool(command):
        return previous
    recent = [
        d
        for d in reader.out.drafts[-5:]
        if d.command and not d.rollback and tool(d.command) == tool(command)
    ]
    best = max(recent, key=likeness, default=previous)
    return best if likeness(best) >= 0.5 else previous


def _command_line(reader: _Reader, lines: list[_Line], i: int, found: list[Found]) -> int:
    state = reader.state
    line = lines[i]
    text = line.text
    end_index = i
    last = found[-1]
    tail = ""
    if last.how in {"line", "split"}:
        joined, end_index = _join_continuations(lines, i, last.command)
        last.command, tail = _cut_clause(joined)
        if "\n" not in last.command:
            found = [*found[:-1], *_split_chained(last)]
            last = found[-1]
    prose_parts: list[str] = []
    cursor = 0
    for f in found:
        prose_parts.append(text[cursor : f.start])
        cursor = f.end
    before = _prose_only(text[: found[0].start])
    after = _prose_only(text[found[-1].end :]) if last.how not in {"line", "split"} else ""
    tail = tail or after
    whole_prose = " ".join(p for p in prose_parts if p.strip()) + " " + after
    previous = reader.last_command_draft()
    own_undo = None  # "`cmd` - and scale back to 3 once ...": this step's undo, said after it
    if (
        len(found) == 1
        and after.strip()
        and not phrases.ROLLBACK_RE.search(before)
        and phrases.ROLLBACK_RE.search(after)
    ):
        own_undo = _derive_rollback(_clean_command(found[0].command)[0], after)
    is_rollback = (
        own_undo is None
        and previous is not None
        and bool(phrases.ROLLBACK_RE.search(whole_prose))
        and not re.match(r"^\s*(?:if\s+[^,]+,\s*)?roll\s*back\s+the\b", before, re.I)
    ) or (
        previous is not None and before.strip().startswith("(") and phrases.ROLLBACK_RE.search(text)
    )
    if _step_rollback(reader, before, _collapse(_clean_command(found[0].command)[0])):
        return end_index + 1
    if is_rollback and previous is not None:
        cmd, _ = _clean_command(found[0].command)
        if cmd.endswith(")") and cmd.count(")") > cmd.count("("):
            cmd = cmd[:-1].rstrip()
        previous = _undo_target(reader, previous, cmd)
        if not previous.rollback:
            previous.rollback = cmd
            if previous.lines:
                previous.lines = (previous.lines[0], _last_no(lines[end_index]))
        return end_index + 1
    if state.section == "rollback":
        for f in found:
            cmd, _ = _clean_command(f.command)
            if not attach_rollback(reader.out.drafts, _collapse(cmd)):
                break
        else:
            return end_index + 1
    own_prose = before.strip()
    lead_applies = not own_prose or (last.how == "line" and not own_prose)
    cond = _condition_of(before, state.last_cond) if before.strip() else None
    if cond is None and whole_prose.strip():
        cond = _condition_of(whole_prose, state.last_cond)
    if cond:
        state.last_cond = cond
    scope_cond = state.cond if (state.lead is not None or state.cond) and not own_prose else None
    if own_prose and state.lead is not None and not state.lead_used:
        _flush_lead(reader)
    inherited = state.approval if (lead_applies or not own_prose) else ""
    title_source = own_prose if own_prose else (state.lead or "")
    first_no = state.lead_no if (not own_prose and state.lead) else line.no
    for index, f in enumerate(found):
        cmd, comment = _clean_command(f.command)
        if not cmd:
            continue
        if comment and own_undo is None and len(found) == 1 and phrases.ROLLBACK_RE.search(comment):
            own_undo = _derive_rollback(cmd, comment)  # "cmd (back to 4 after the incident)"
        if comment and not cond:
            said = re.match(
                r"^(?:only\s+)?(?:if|when|once|in case)\s+(.{3,})$", comment.strip(), re.I
            )
            cond = said.group(1).strip(" .") if said else None
        cmd = _collapse(cmd)
        fallback = f"Run {cmd.splitlines()[0][:70]}"
        title = _title(comment or title_source, cmd, fallback)
        draft = Draft(
            state.section,
            title,
            cmd,
            [" ".join(p for p in (state.lead if not own_prose else None, text) if p)],
            cond or scope_cond or state.item_cond,
            source_text=text,
        )
        draft.lines = (first_no if index == 0 else line.no, _last_no(lines[end_index]))
        draft.item = state.item
        draft.rollback = own_undo
        draft.approval = phrases.needs_approval(text, cmd) or (
            bool(inherited) and phrases.needs_approval(inherited, cmd)
        )
        if f.how in {"span", "bare"} and (doubt := cmdline.common_word_doubt(cmd)):
            draft.notes.append(doubt)
        reader.out.drafts.append(draft)
    if state.lead is not None and not own_prose:
        state.lead_used = True
    if tail.strip() and own_undo is None:
        _after_clause(reader, tail, cond, line.no)
    return end_index + 1


def _table_row(reader: _Reader, text: str, no: int) -> None:
    """A flattened table row ("Overall health<TAB>ceph health detail<TAB>HEALTH_OK")."""
    cells = [c.strip() for c in text.split("\t") if c.strip()]
    for cell in cells:
        command = cell.strip("`")
        if cmdline.is_command(command) and len(command.split()) >= 2:
            label = next(
                (c for c in cells if c is not cell and not re.fullmatch(r"\d{1,2}\.?", c)), ""
            )
            draft = Draft(
                reader.state.section,
                make_title(label, None, f"Run {command[:70]}"),
                command,
                [" | ".join(cells)],
                reader.state.cond,
                source_text=text,
            )
            draft.lines = (no, no)
            draft.approval = phrases.needs_approval(text, command)
            if re.fullmatch(r"\d{1,2}\.?", cells[0]):
                draft.item = cells[0].rstrip(".")
            reader.out.drafts.append(draft)
            return
    for cell in cells:
        inner = find_commands(cell)
        if inner and not phrases.PROHIBIT_RE.match(cell):
            command, _ = _clean_command(inner[0].command)
            draft = Draft(
                reader.state.section,
                _title(cell[: inner[0].start], command, f"Run {command[:70]}"),
                command,
                [" | ".join(cells)],
                reader.state.cond or _condition_of(cell[: inner[0].start], None),
                source_text=text,
            )
            draft.lines = (no, no)
            draft.approval = phrases.needs_approval(text, command)
            if re.fullmatch(r"\d{1,2}\.?", cells[0]):
                draft.item = cells[0].rstrip(".")
            reader.out.drafts.append(draft)
            return
    if len(cells) >= 2 and re.fullmatch(r"\d{1,2}\.?", cells[0]):
        before = len(reader.out.drafts)
        _manual(reader, cells[1], no, reader.state.cond, False)
        if len(reader.out.drafts) > before:
            reader.out.drafts[-1].item = cells[0].rstrip(".")
        return
    reader.out.description.append(" | ".join(cells))


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


def _after_clause(reader: _Reader, tail: str, cond: str | None, no: int) -> None:
    """What a line says after its command: a lead-in for the next one, or another action."""
    rest = tail.strip(" ,;.)").strip()
    if not rest:
        return
    tell = re.search(
        r"(?:^|\s)(?:and|then)\s+(?:then\s+)?((?:tell|ping|page|post|notify|inform|escalate|ask)"
        r"\b.*)$",
        rest,
        re.I,
    )
    if tell:
        rest = tell.group(1)
    if re.match(r"^and\b", rest, re.I):
        if rest.endswith(":"):
            reader.state.lead = re.sub(r"^and\s+", "", rest)
            reader.state.lead_no = no
            reader.state.lead_used = False
        return
    rest = re.sub(r"^(?:then|or)\s+", "", rest)
    if phrases.PROHIBIT_RE.match(rest):
        return
    if _actionable(_condition_rest(rest)) or phrases.WAIT_RE.match(rest):
        own = _condition_of(rest, cond or reader.state.last_cond)
        _manual(reader, rest, no, own or cond, False, force=True)


def _cut_clause(command: str) -> tuple[str, str]:
    """Split "cmd, tell #team" into the command and the prose clause after it."""
    quote: str | None = None
    depth = 0
    for i, ch in enumerate(command):
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        elif ch in ",;" and depth == 0 and command[i + 1 : i + 2] == " ":
            rest = command[i + 1 :].strip()
            if (
                re.match(r"^[A-Za-z]", rest)
                and not cmdline.TECHNICAL_RE.search(rest)
                and len(rest.split()) >= 2
                and rest.split()[0] not in {"do", "done", "then", "fi", "else", "esac"}
            ):
                return command[:i].rstrip(), rest
    return command, ""


def _condition_rest(text: str) -> str:
    _, rest = branches.split_condition(text)
    return rest or text


def _collapse(command: str) -> str:
    """Multi-line SQL or quoted text in one command: newline and indentation become one space."""
    if "\n" not in command:
        return command
    if re.search(r"<<-?\s*['\"]?[A-Za-z_]", command):
        return command
    return re.sub(r"\s*\n\s*", " ", command)


_TARGET_RE = re.compile(
    r"\b(?:on|to|into|onto|from|of|in)\s+the\s+(instance|host|node|server|broker|replica|vm)\b"
    r"(?!\s+[\w.-]*\d)(?!\s*(?:pool|group|list|count|name|type|level|side|itself)\b)",
    re.I,
)


def _prose_variables(text: str) -> list[str]:
    """Things the reader fills in that the text names in words: "the host from the alert"."""
    names: list[str] = []
    for match in _TARGET_RE.finditer(text):
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
