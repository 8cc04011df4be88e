"""Branch conditions on steps: a tiny, safe language over earlier steps' outcomes.

Machine-checkable forms (combinable with `not`):
    steps.<id>.succeeded | steps.<id>.failed | steps.<id>.skipped
    steps.<id>.exit_code == N   (also !=)
    steps.<id>.output contains "text"
Anything else is prose ("if the pod was OOMKilled"): only a human can judge it, so the step
waits for a person whatever its risk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_STATE = re.compile(r"^steps\.([a-z0-9._-]+?)\.(succeeded|failed|skipped)$")
_EXIT = re.compile(r"^steps\.([a-z0-9._-]+?)\.exit_code\s*(==|!=)\s*(-?\d+)$")
_CONTAINS = re.compile(r'^steps\.([a-z0-9._-]+?)\.output\s+contains\s+"((?:[^"\\]|\\.)*)"$')


@dataclass(frozen=True)
class StepOutcome:
    state: str  # a StepState value
    exit_code: int | None
    output: str


def is_machine_checkable(condition: str) -> bool:
    text = _strip_not(condition.strip())[1]
    return any(p.match(text) for p in (_STATE, _EXIT, _CONTAINS))


def _strip_not(text: str) -> tuple[bool, str]:
    negate = False
    while text.startswith("not "):
        negate = not negate
        text = text[4:].strip()
    return negate, text


def evaluate(condition: str, outcomes: Mapping[str, StepOutcome]) -> bool | None:
    """True/False for a machine-checkable condition; None when a human must decide."""
    negate, text = _strip_not(condition.strip())
    result: bool | None = None
    if m := _STATE.match(text):
        outcome = outcomes.get(m.group(1))
        if outcome is None:
            return None
        result = outcome.state == m.group(2)
    elif m := _EXIT.match(text):
        outcome = outcomes.get(m.group(1))
        if outcome is None or outcome.exit_code is None:
            return None
        equal = outcome.exit_code == int(m.group(3))
        result = equal if m.group(2) == "==" else not equal
    elif m := _CONTAINS.match(text):
        outcome = outcomes.get(m.group(1))
        if outcome is None:
            return None
        needle = re.sub(r"\\(.)", r"\1", m.group(2))
        result = needle in outcome.output
    if result is None:
        return None
    return not result if negate else result
