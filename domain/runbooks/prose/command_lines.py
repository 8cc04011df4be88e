"""A line that holds a command: its title, condition, continuation lines and whether it is
in fact the undo of the step before.
"""

from __future__ import annotations

import re

from domain.runbooks import cmdline, phrases, rollback
from domain.runbooks.drafts import Draft, attach_rollback
from domain.runbooks.prose.blocks import _after_clause, _flush_lead, _manual
from domain.runbooks.prose.command_spans import (
    Found,
    _clean_command,
    _collapse,
    _split_chained,
    find_commands,
)
from domain.runbooks.prose.conditions import _condition_of, _cut_clause
from domain.runbooks.prose.lines import (
    _join_continuations,
    _last_no,
    _Line,
    _prose_only,
    _Reader,
    _title,
)
from domain.runbooks.prose.patterns import _FILLER_RE
from domain.runbooks.prose.rollbacks import _step_rollback, _undo_target
from domain.runbooks.undo_words import LEAD_UNDO_RE
from domain.runbooks.undo_words import derive_rollback as _derive_rollback


def _command_line(reader: _Reader, lines: list[_Line], i: int, found: list[Found]) -> int:
    state = reader.state
    line = lines[i]
    text = line.text
    end_index = i
    last = found[-1]
    tail = ""
    if last.how in {"line", "split"}:
        joined, end_index = _join_continuations(lines, i, last.command)
        heredoc = "\n" in joined and "<<" in joined.split("\n", 1)[0]
        last.command, tail = (joined, "") if heredoc else _cut_clause(joined)  # body is not prose
        if "\n" not in last.command:
            found = [*found[:-1], *_split_chained(last)]
            last = found[-1]
    prose_parts: list[str] = []
    cursor = 0
    for f in found:
        prose_parts.append(text[cursor : f.start])
        cursor = f.end
    before = _prose_only(text[: found[0].start])
    split = phrases.wait_then(_FILLER_RE.sub("", before.strip()))
    if split is not None:  # "wait 2-3 min, then: cmd": a wait step before the command's step
        _flush_lead(reader)
        _manual(reader, split[0], line.no, None, False, force=True)
        before = split[1]
    after = _prose_only(text[found[-1].end :]) if last.how not in {"line", "split"} else ""
    tail = tail or after
    whole_prose = " ".join(p for p in prose_parts if p.strip()) + " " + after
    previous = reader.last_command_draft()
    own_undo = None  # "`cmd` - and scale back to 3 once ...": this step's undo, said after it
    said_after = after if after.strip() else tail  # a whole-line command's trailing clause
    if (
        len(found) == 1
        and said_after.strip()
        and not phrases.ROLLBACK_RE.search(before)
        and phrases.ROLLBACK_RE.search(said_after)
    ):
        own_undo = _derive_rollback(_clean_command(found[0].command)[0], said_after)
    if (
        own_undo is None
        and len(found) == 1
        and not before.strip()
        and state.lead is not None
        and not state.lead_used
        and not state.lead_undo
        and LEAD_UNDO_RE.search(state.lead)
    ):  # "raise it (and back to 10 afterwards):" over the command: the undo said in its lead-in
        cmd0 = _clean_command(found[0].command)[0]
        derived = _derive_rollback(cmd0, _prose_only(state.lead))
        own_undo = derived if derived and derived != cmd0 else None
    if len(found) == 2 and not phrases.ROLLBACK_RE.search(before):
        between = _prose_only(text[found[0].end : found[1].start])
        if phrases.ROLLBACK_RE.search(between):  # "`stop x` (you can start it again with ...)"
            own_undo = _collapse(_clean_command(found[1].command)[0])
            found = found[:1]
            last = found[0]
    is_rollback = (
        own_undo is None
        and previous is not None
        and bool(phrases.ROLLBACK_RE.search(whole_prose))
        and not re.match(r"^\s*(?:if\s+[^,]+,\s*)?roll\s*back\s+the\b", before, re.I)
    ) or (
        previous is not None and before.strip().startswith("(") and phrases.ROLLBACK_RE.search(text)
    )
    if (
        not is_rollback
        and previous is not None
        and len(found) == 1
        and _IF_TROUBLE_RE.match(before)
        and _is_inverse(previous.command or "", _clean_command(found[0].command)[0])
    ):  # "If the warehouse starts to struggle: helm -n x rollback x" after "helm upgrade x"
        is_rollback = True
    if not before.strip() and state.lead is not None and not state.lead_used and state.lead_undo:
        is_rollback = previous is not None  # "Put them back afterwards:" over the undo command
        state.lead = None
    named = before
    if (
        not before.strip()
        and state.section == "rollback"
        and state.lead
        and not state.lead_used
        and re.match(r"^\W*steps?\s*#?\d", _prose_only(state.lead), re.I)
    ):
        named = _prose_only(state.lead)  # "Step 3 / Step 5 - all traffic back:" over the command
    if _step_rollback(reader, named, _collapse(_clean_command(found[0].command)[0])):
        if named is not before:
            state.lead_used = True
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
    last_clause = re.split(r"[.;!?]\s+", before.strip())[-1]
    if cond is None and last_clause != before.strip():  # "... by itself; if it has not, restart"
        cond = _condition_of(last_clause, state.last_cond)
    if cond is None and whole_prose.strip() and own_undo is None:
        cond = _condition_of(whole_prose, state.last_cond)
        if cond and cond.endswith(")") and "(" not in cond:
            cond = None  # "cmd (..., once they fix it)": said inside an aside, not of the step
    line_cond = cond
    check = _CHECK_PAREN_RE.search(before)
    if check is not None:  # "If the journal is big (check with cmd), shrink it:": cmd is the check
        line_cond = _condition_of(before[: check.start()] + ",", state.last_cond)
        cond = None
    if cond:
        state.last_cond = cond
    scope_cond = state.cond if (state.lead is not None or state.cond) and not own_prose else None
    if own_prose and state.lead is not None and not state.lead_used:
        _flush_lead(reader)
    inherited = state.approval if (lead_applies or not own_prose) else ""
    title_source = own_prose if own_prose else (state.lead or "")
    lead = (tail or after).strip(" ,;.)").strip()
    nxt = lines[end_index + 1] if end_index + 1 < len(lines) else None
    lead_after = (
        lead.endswith(":") and nxt is not None and not nxt.marker and bool(find_commands(nxt.text))
    )
    if check is not None:
        title_source = check.group(0).strip(" (")  # "check with"
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
        stated = before if lead_after else text  # "(cmd), then, only after X approves, do Y:"
        draft.approval = (
            phrases.needs_approval(stated, cmd)
            or (bool(inherited) and phrases.needs_approval(inherited, cmd))
            or (bool(state.item_approval) and phrases.needs_approval(state.item_approval, cmd))
        )
        if f.how in {"span", "bare"} and (doubt := cmdline.common_word_doubt(cmd)):
            draft.notes.append(doubt)
        reader.out.drafts.append(draft)
    if state.lead is not None and not own_prose:
        state.lead_used = True
    if lead_after:
        state.lead, state.lead_no, state.lead_used = lead, line.no, False  # "..., shrink it:"
        state.cond = _condition_of(lead, state.last_cond) or line_cond
        state.approval = lead if phrases.needs_approval(lead) else ""
    elif tail.strip() and own_undo is None:
        _after_clause(reader, tail, cond, line.no)
    return end_index + 1


_IF_TROUBLE_RE = re.compile(r"^\W*(?:if|when|should|in\s+case)\b", re.I)


def _is_inverse(previous: str, command: str) -> bool:
    """Whether `command` is, word for word in any order, the well-known inverse of `previous`
    (one that needs no value captured at run time)."""
    inverse = rollback.infer(previous) if previous else None
    if inverse is None or inverse.capture or "{{ previous_" in inverse.command:
        return False
    return sorted(inverse.command.split()) == sorted(command.split())


_CHECK_PAREN_RE = re.compile(r"\s*\((?:check|see|verify|confirm|look)\b[^()]*$", re.I)
