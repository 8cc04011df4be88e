"""Whether an incident whose runbook has ended may close, and what it says while it may not.

A runbook that ran to its end is not proof the problem is gone: at 3am the responder trusts a
"resolved" to mean the alert cleared. So an incident resolves on its own only when its alerts
have resolved; while one still fires, or a step failed (or was skipped after failing), it stays
open and says why, until the alerts resolve or a person resolves it. Pure: no workflow calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.incident import IncidentState, IncidentStatus, StepState

_WAITING = frozenset({StepState.AWAITING_APPROVAL, StepState.AWAITING_REPORT})


@dataclass(frozen=True)
class Hold:
    """Why an ended runbook does not close the incident, and what to show meanwhile."""

    status: IncidentStatus
    details: str  # the Temporal UI's current details and the timeline entry
    needs_person: bool  # True: only a person (or an abort) ends it; alerts clearing does not


def failed_steps(state: IncidentState, tolerated: frozenset[str] = frozenset()) -> list[str]:
    """Steps that failed, or that a human skipped after they failed: the fix did not happen.

    `tolerated`: steps whose runbook says a failure is expected (`continue_on_failure`).
    """
    return [
        v.id
        for v in state.steps
        if v.id not in tolerated
        and (
            v.state in (StepState.FAILED, StepState.INTERRUPTED, StepState.ROLLBACK_FAILED)
            or (v.state is StepState.SKIPPED and v.error is not None)
        )
    ]


def hold_after_runbook(
    state: IncidentState,
    firing: list[str],
    source_cleared: bool,
    tolerated: frozenset[str] = frozenset(),
) -> Hold | None:
    """None: the runbook's end may resolve the incident. Else why it stays open.

    `firing`: names of the incident's alerts that still fire; `source_cleared`: every alert of
    the incident has resolved at its source.
    """
    failed = failed_steps(state, tolerated)
    if failed:
        alerts = "its alert has resolved" if source_cleared else _still(firing)
        return Hold(
            status=IncidentStatus.NEEDS_HUMAN,
            details=(
                f"Runbook ended, but step {', '.join(failed)} failed; {alerts}. "
                "Stays open until a person resolves it (or aborts)."
            ),
            needs_person=True,
        )
    if source_cleared:
        return None
    return Hold(
        status=IncidentStatus.MONITORING,
        details=(
            f"Runbook completed, but {_still(firing)}. Stays open until the alert resolves "
            "or a person resolves it; escalation timers keep running."
        ),
        needs_person=False,
    )


def _still(firing: list[str]) -> str:
    names = ", ".join(sorted(set(firing))) or "the alert"
    return f"{names} still firing"


def settle_waiting_steps(state: IncidentState, why: str) -> list[str]:
    """On close: a step still waiting for approval or a report will never run; say so.

    Returns the ids changed, so the caller records them. State only: no commands, replay-safe.
    """
    settled = []
    for view in state.steps:
        if view.state in _WAITING:
            view.state = StepState.SKIPPED
            view.note = f"not run: {why}"
            settled.append(view.id)
    return settled
