"""Continue-as-new: an incident that waits a long time (no runbook, or held open while its alert
keeps firing) and keeps receiving alerts would grow its history without end. When the server
suggests it, such a wait hands the incident over to a fresh run of the same workflow id: the
state, the recent alert ids (for de-duplication), the firing alerts and the escalation counters
travel in the input; the audit export reads every run.

Only quiet waits continue (nothing running, no step waiting for a person), so nothing in flight
has to be carried across. Runs recorded before this existed replay without it (patched).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.incident import (
        Continuation,
        ContinuedPhase,
        IncidentInput,
        IncidentState,
        RenderedStep,
        SelectedRunbook,
    )
    from workflows.incident.core import Incident

#: Alert event ids remembered for de-duplication (in memory, and across runs).
SEEN_EVENTS_KEPT = 1000


class ContinueAsNew(Exception):
    """The wait at `phase` should continue in a new run."""

    def __init__(self, phase: ContinuedPhase) -> None:
        super().__init__(phase.value)
        self.phase = phase


def suggested(i: Incident) -> bool:
    """The server suggests it (history count or size), or our own event threshold passed."""
    info = workflow.info()
    limit = i.inp.continue_after_events
    return info.is_continue_as_new_suggested() or (
        limit is not None and info.get_current_history_length() >= limit
    )


def restored_state(inp: IncidentInput) -> IncidentState | None:
    """The state a continued run starts from (None: a first run)."""
    if inp.continued is None:
        return None
    state = inp.continued.state
    return state.model_copy(update={"run_id": workflow.info().run_id, "runs": state.runs + 1})


def restore(i: Incident, carried: Continuation, selected: SelectedRunbook | None) -> None:
    """Everything but the state itself: what the steps were, what the alerts say."""
    i.seen_events = dict.fromkeys(carried.seen_events)
    i.firing_keys = set(carried.firing_keys)
    i.source_cleared = carried.source_cleared
    i.compensations = list(carried.state.compensations)
    i.holding = carried.phase is ContinuedPhase.HOLDING
    runbook = selected.runbook if selected is not None else None
    if runbook is None:
        return
    i.on_failure = runbook.on_failure
    rendered = {r.step_id: r for r in selected.rendered} if selected else {}
    views = {v.id: v for v in i.state.steps}
    for step in runbook.steps:
        i.steps[step.id] = step
        base = rendered.get(step.id, RenderedStep(step_id=step.id, command=None, rollback=None))
        view = views.get(step.id)
        # A rollback re-rendered from captured values lives in the step's view.
        i.rendered[step.id] = base.model_copy(
            update={"rollback": view.rollback if view else base.rollback}
        )


def carry(
    i: Incident,
    phase: ContinuedPhase,
    selected: SelectedRunbook | None,
    ack_level: int,
    resolve_level: int,
    no_runbook_escalated: bool,
) -> IncidentInput:
    """The next run's input: the same incident, picking up at `phase`."""
    return i.inp.model_copy(
        update={
            "selected": selected,
            "intake_check": None,  # the first run's: its slot, if any, is in the state
            "continued": Continuation(
                phase=phase,
                state=i.state,
                seen_events=list(i.seen_events)[-SEEN_EVENTS_KEPT:],
                firing_keys=sorted(i.firing_keys),
                source_cleared=i.source_cleared,
                ack_level=ack_level,
                resolve_level=resolve_level,
                no_runbook_escalated=no_runbook_escalated,
            ),
        }
    )
