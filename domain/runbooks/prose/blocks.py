"""Step assembly: opening blocks, manual (no-command) steps from actionable sentences, table
rows and the clause after a command.
"""

from __future__ import annotations

import re

from domain.runbooks import branches, cmdline, phrases
from domain.runbooks.drafts import Draft, is_imperative, make_title
from domain.runbooks.prose.command_spans import _clean_command, find_commands
from domain.runbooks.prose.conditions import _condition_of, _condition_rest
from domain.runbooks.prose.lines import _prose_only, _Reader, _State, _title
from domain.runbooks.prose.patterns import _ARROW_RE, _EXTRA_VERBS, _FILLER_RE, _STATEMENT_RE


def _new_block(state: _State) -> None:
    state.cond = None
    state.item_cond = None
    state.item_approval = ""
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
        else:  # "do NOT apply. Page the infra lead instead.": a hand-off in a later sentence
            for clause in _CLAUSE_SPLIT_RE.split(body)[1:]:
                clause = _FILLER_RE.sub("", clause.strip())
                if _HANDOFF_RE.match(clause) and _actionable(clause):
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


# "do NOT apply. Page the infra lead instead." / "missing - escalate to the platform team"
_CLAUSE_SPLIT_RE = re.compile(r"[,;:]\s+|(?<=[.!?])\s+|(?<!\s)\s+[-\u2013\u2014]\s+")
_HANDOFF_RE = re.compile(  # an action that hands the problem to people, said after a "don't"
    r"^(?:escalate|page|ask|tell|ping|call|notify|open|file|raise|hand)\b", re.I
)


def _handoff_after_prohibition(reader: _Reader, text: str, no: int) -> bool:
    """ "Do not rebuild it yourself, escalate to #dba-oncall": the hand-off is a step."""
    prose = _FILLER_RE.sub("", _prose_only(text).strip())
    for clause in _CLAUSE_SPLIT_RE.split(prose)[1:]:
        clause = _FILLER_RE.sub("", clause.strip())
        if _HANDOFF_RE.match(clause) and not phrases.PROHIBIT_RE.match(clause):
            _manual(reader, clause, no, reader.state.cond, False, force=True)
            return True
    return False


def _actionable(text: str) -> bool:
    body = _FILLER_RE.sub("", text.strip())
    if not body or _STATEMENT_RE.match(body) or phrases.PROHIBIT_RE.match(body):
        return False
    first = re.match(r"[A-Za-z-]+", body)
    if first and first.group(0).lower() in _EXTRA_VERBS:
        return True
    return is_imperative(body)


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
