"""Rollbacks written in prose: a command that undoes the step before it ("if this makes
things worse, undo it with ..."), or an undo derived from the sentence itself.
"""

from __future__ import annotations

import re

from domain.runbooks import phrases
from domain.runbooks.drafts import Draft
from domain.runbooks.prose.lines import _Reader
from domain.runbooks.prose.patterns import _SPACED_UNITS, _STEP_REF_RE


def _derive_rollback(previous: str, prose: str) -> str | None:
    """The undo written out when the text says it in words ("set it back to 4gb")."""
    same = re.search(r"\bsame\s+(?:cmd|command)\s+(?:with|but)\s+(--?[\w-]+)[ =](\S+)", prose, re.I)
    if same:
        flag, value = same.group(1), same.group(2).rstrip(".,)")
        pattern = re.compile(rf"({re.escape(flag)}[ =])(\S+)")
        if pattern.search(previous):
            return pattern.sub(lambda m: m.group(1) + value, previous, count=1)
        return None
    back = re.search(r"\bback\s+to\s+(\d+(?:\.\d+)?)(\s*)([A-Za-z%]*)", prose, re.I) or (
        _old_value(prose)
    )
    if not back:
        return None
    number, unit = back.group(1), back.group(3)
    if back.group(2) and unit.lower() not in _SPACED_UNITS:
        unit = ""  # "back to 3 once lag is low": the word after the number is not a unit
    if unit.lower() in {"replicas", "replica", "nodes", "pods", "instances"}:
        unit = ""
    value_re = re.compile(
        rf"(?<=[\s='\"])(\d+(?:\.\d+)?){re.escape(unit)}(?=$|[\s'\"}},;])", re.I if unit else 0
    )
    matches = list(value_re.finditer(previous))
    if len(matches) != 1:
        return None
    match = matches[0]
    return previous[: match.start()] + number + unit + previous[match.end() :]


def _old_value(prose: str) -> re.Match[str] | None:
    """ "it was 3 days = 259200000, set it back to that": the value named before "back to that"
    (the last number of the "it was ..." clause)."""
    if not re.search(
        r"\bback\s+to\s+(?:that|it|the\s+(?:old|previous|original)\s+value)\b", prose, re.I
    ):
        return None
    was = re.search(r"\b(?:it|this|that|they)\s+(?:was|were)\s+([^,;()]*)", prose, re.I)
    if was is None:
        return None
    values = list(re.finditer(r"(?<![\w.])(\d+(?:\.\d+)?)(\s*)([A-Za-z%]*)", was.group(1)))
    return values[-1] if values else None


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
