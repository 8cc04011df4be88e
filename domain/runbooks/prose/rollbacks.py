"""Rollbacks written in prose: a command that undoes the step before it ("if this makes
things worse, undo it with ..."), or an undo derived from the sentence itself.
"""

from __future__ import annotations

import re

from domain.runbooks import phrases
from domain.runbooks.drafts import Draft
from domain.runbooks.prose.lines import _Reader
from domain.runbooks.prose.patterns import _STEP_REF_RE


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
    listed = _STEP_LIST_RE.match(before)  # "Step 3 / Step 5 - all traffic back to blue:"
    numbers = re.findall(r"\d{1,2}", listed.group(0)) if listed else [ref.group(1)]
    attached = False
    for number in dict.fromkeys(numbers):
        target = next(
            (d for d in reversed(reader.out.drafts) if d.item == number and d.command), None
        )
        if target is not None and not target.rollback:
            target.rollback = command
            attached = True
    return attached


_STEP_LIST_RE = re.compile(
    r"^\W*(?:for\s+)?steps?\s*#?\d{1,2}(?:\s*(?:/|,|&|\+|and|or)\s*(?:steps?\s*)?#?\d{1,2})+\b",
    re.I,
)


def _undo_target(reader: _Reader, previous: Draft, command: str) -> Draft:
    """The step an undo in prose belongs to: the one just above, unless it shares nothing with
    the undo and a recent step clearly does (a chat reply undoing an earlier message's change)."""

    def likeness(draft: Draft) -> float:
        a, b = set(command.split()), set((draft.command or "").split())
        return len(a & b) / len(a | b) if a | b else 0.0

    def tool(text: str) -> str:
        words = [w for w in text.split() if w != "sudo"]
        return words[0] if words else ""

    recent = [
        d
        for d in reader.out.drafts[-5:]
        if d.command and not d.rollback and tool(d.command) == tool(command)
    ]
    best = max(recent, key=likeness, default=previous)
    if tool(previous.command or "") == tool(command):
        # "kubectl label ns x a=b", "kubectl rollout restart ...", then "remove the label again
        # with kubectl label ns x a-": the undo belongs to the step it mirrors, not the last one
        near = likeness(best) >= 0.5 and likeness(best) >= 2 * likeness(previous)
        return best if near else previous
    return best if likeness(best) >= 0.5 else previous
