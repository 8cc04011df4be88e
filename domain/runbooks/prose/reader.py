"""The line-by-line walk over a plain-text runbook that turns it into draft steps."""

from __future__ import annotations

import re

from domain.runbooks import branches, cmdline, phrases
from domain.runbooks.drafts import Walk, category_of
from domain.runbooks.prose.blocks import (
    _actionable,
    _flush_lead,
    _handoff_after_prohibition,
    _manual,
    _new_block,
    _table_row,
)
from domain.runbooks.prose.command_lines import _command_line
from domain.runbooks.prose.command_spans import find_commands
from domain.runbooks.prose.conditions import (
    _approval_for_named_command,
    _approval_sentence,
    _approval_statement,
    _condition_of,
    _condition_rest,
)
from domain.runbooks.prose.lines import (
    _is_heading,
    _Line,
    _normalise,
    _pipe_cells,
    _prose_only,
    _prose_variables,
    _Reader,
    _unwrap,
)
from domain.runbooks.prose.patterns import (
    _ARROW_RE,
    _CONTEXT_HEADING_RE,
    _FILLER_RE,
    _GAP_RE,
    _INLINE_SPEAKER_RE,
    _MACRO_RE,
    _MARKER_RE,
    _NOTE_RE,
    _PANEL_RE,
    _PIPE_ROW_RE,
    _SPEAKER_RE,
    _STEP_HEADING_RE,
    _WARNING_RE,
)
from domain.runbooks.risk import classify
from domain.runbooks.undo_words import derive_rollback as _derive_rollback
from schemas.runbook import StepRisk

_UNDO_LEAD_RE = re.compile(  # "Put them back afterwards (same call with 1):" over a command
    r"^\W*(?:(?:undo|revert)\b|(?:put|set|scale|turn|switch|change|bring|move)\s+"
    r"(?:it|them|this|that|these|those)\s+back\b)",
    re.I,
)
_STEP_ITEM_RE = re.compile(r"(?:step|schritt)\s*\d", re.I)


_NAME_COLON_RE = re.compile(r"^([a-z][\w.-]{1,20}):\s+(?=\S)", re.I)
_NOT_SPEAKERS = frozenset(
    {"note", "info", "tip", "warning", "caution", "important", "owner", "owners", "team",
     "step", "rb", "undo", "rollback", "revert", "fix", "cause", "check", "state", "start",
     "stop", "status", "symptom", "symptoms", "impact", "summary", "context", "why", "what",
     "how", "when", "if", "then", "else", "verify", "action", "result", "example", "ps",
     "nb", "fyi", "todo", "update", "edit", "tl;dr", "tldr", "q", "a"}
)  # fmt: skip


def _chat_speakers(raw_lines: list[str]) -> frozenset[str]:
    """The names of a chat transcript whose lines start "name: ": at least two names that
    each start two lines or more (not labels such as "Note:" or "rb:")."""
    counts: dict[str, int] = {}
    for raw in raw_lines:
        match = _NAME_COLON_RE.match(raw.strip())
        if match and match.group(1).lower() not in _NOT_SPEAKERS:
            name = match.group(1).lower()
            counts[name] = counts.get(name, 0) + 1
    names = frozenset(n for n, c in counts.items() if c >= 2)
    return names if len(names) >= 2 else frozenset()


def read(text: str) -> Walk:
    """Draft steps from a plain-text runbook (no Markdown structure)."""
    raw_lines = text.split("\n")
    lines: list[_Line] = []
    speakers = _chat_speakers(raw_lines)
    for no, raw in enumerate(raw_lines, start=1):
        norm = _normalise(raw)
        said = _INLINE_SPEAKER_RE.match(norm.strip())
        named = _NAME_COLON_RE.match(norm.strip()) if speakers else None
        if said is None and named is not None and named.group(1).lower() in speakers:
            said = named  # "bea: give it 10 min": a chat transcript whose lines start "name:"
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
    phrases.mark_approvals(reader.out.drafts, text)  # "Get sign-off ... before step 4."
    if reader.page_approval:  # a warning at the top of the page guards its destructive steps
        for draft in reader.out.drafts:
            if draft.command and classify(draft.command).risk is StepRisk.DANGEROUS:
                draft.approval = True
    for name in _prose_variables(text):
        reader.prose_vars.setdefault(name, name)
    reader.out.prose_variables = list(reader.prose_vars)
    return reader.out


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
            state.item_approval = ""
        elif line.marker:
            if state.lead is not None and not state.lead_used and state.cond:
                state.item_cond = state.cond
            if state.lead is not None and not state.lead_used and state.approval:
                state.item_approval = state.approval
            state.lead_used = True  # a lead-in with sub-steps heads them, it is not one itself
            _flush_lead(reader)
        if state.context and _ends_context(line):
            state.context = False
            state.section = "steps"
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
            said = _approval_sentence(text) if _WARNING_RE.match(text) else None
            if said and not reader.out.drafts:
                reader.page_approval = said  # "Warning: ... Only after approval from the IC."
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
                if not _approval_statement(reader, lines, i, _prose_only(text)):
                    nxt = next((ln for ln in lines[i + 1 :] if not ln.blank), None)
                    if nxt is not None and find_commands(nxt.text):
                        state.approval = _prose_only(text)  # "Note: needs a go from X ...:" + cmd
            elif not found and phrases.PROHIBIT_RE.match(_FILLER_RE.sub("", text)):
                _handoff_after_prohibition(reader, text, line.no)
            i += 1
            continue
        if _WARNING_RE.match(text):
            said = _approval_sentence(text)  # "Warning: ... Only with approval from X." after a cmd
            if said and not reader.out.drafts:
                reader.page_approval = said  # a page-level warning, before any step
            elif said and _approval_statement(reader, lines, i, said):
                pass
            elif phrases.needs_approval(text):
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
        # the undo of the step above, or of one just before it ("postconf -e ...", "postfix
        # reload", then "Undo: same postconf with 1s, then reload again.")
        recent = [d for d in reader.out.drafts[-3:] if d.command and not d.rollback]
        for target in [previous, *[d for d in reversed(recent) if d is not previous]]:
            derived = _derive_rollback(target.command or "", prose)
            if derived and not target.rollback:
                target.rollback = derived
                return i + 1
    if _approval_statement(reader, lines, i, prose):
        return i + 1
    if _approval_for_named_command(reader, prose):
        reader.out.description.append(" ".join(text.split()))
        return i + 1
    said = _approval_sentence(prose)
    first = branches.sentences(prose)[0] if said else ""
    if (
        said
        and not line.marker  # a list item's own sentence says what its own step needs
        and not _actionable(_condition_rest(first))
        and _approval_statement(reader, lines, i, said)
    ):
        reader.out.description.append(" ".join(text.split()))
        return i + 1
    _flush_lead(reader)
    split = phrases.wait_then(_FILLER_RE.sub("", prose.strip()), loose=True)
    if split is not None and (
        split[1].endswith(":") or (not split[1] and prose.rstrip().endswith(":"))
    ):  # "Wait 10 minutes, then:" over a command: the wait is a step, not the command's title
        # "Wait about 2 minutes, then check that ...:" over a command: a wait, then the lead-in
        _manual(reader, split[0], line.no, None if line.marker else state.cond, False, force=True)
        if not split[1]:
            return i + 1
        text = prose = split[1]
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
    state.lead_undo = (
        not line.marker
        and previous is not None
        and prose.rstrip().endswith(":")
        and bool(_UNDO_LEAD_RE.match(_FILLER_RE.sub("", prose.strip())))
    )
    if cond is not None:
        state.cond = cond
    waits = phrases.WAIT_RE.match(_FILLER_RE.sub("", prose.strip()))
    has_arrow = any(a in prose for a in ("->", "=>", "\u2192"))
    arrow = _ARROW_RE.split(prose.strip(), maxsplit=1) if has_arrow else [prose]
    done = (
        len(arrow) == 2
        and bool(arrow[0].strip())
        and bool(arrow[1].strip(" .:"))
        and (nxt is None or nxt.blank or nxt.indent <= line.indent)  # no block of its own below
    )
    if done and not prose.rstrip().endswith(":"):
        _flush_lead(reader)  # "DiskPressure -> use the disk-full notes": a whole step of its own
        state.cond = None  # ... whose condition guards it alone, not the lines below
        return i + 1
    if nxt is None or nxt.blank or (waits and not prose.rstrip().endswith(":")):
        _flush_lead(reader)  # a wait is a step of its own, not the title of the next command
    return i + 1


def _ends_context(line: _Line) -> bool:
    """Whether a line inside a context section (Symptoms, Background...) starts the steps: a
    "Step N:" item, or a line that is a whole shell command (a description does not hold one)."""
    if line.item and _STEP_ITEM_RE.match(line.raw.strip()):
        return True
    text = line.text.strip()
    return not line.marker and cmdline.is_command(text) and not cmdline.reads_as_prose(text)
