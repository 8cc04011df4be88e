"""The incident's visible record, kept by the workflow: state, timeline, divergences, search
attributes. Deterministic helpers only (workflow time, upserts); no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutType
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

with workflow.unsafe.imports_passed_through():
    from schemas import search_attributes as sa
    from schemas.incident import (
        TIMELINE_HEAD,
        TIMELINE_KEPT,
        Divergence,
        IncidentState,
        IncidentStatus,
        RunCommandResult,
        StepState,
        StepView,
        TimelineEntry,
    )
    from workflows.closing import settle_waiting_steps


_ANNOUNCED = frozenset(
    {
        IncidentStatus.ESCALATED,
        IncidentStatus.NEEDS_HUMAN,
        IncidentStatus.PAUSED,
        IncidentStatus.ROLLING_BACK,
    }
)


class IncidentRecord:
    def __init__(self, state: IncidentState) -> None:
        self.state = state

    def timeline(self, kind: str, message: str, actor: str | None = None) -> None:
        entries = self.state.timeline
        entries.append(TimelineEntry(at=workflow.now(), kind=kind, message=message, actor=actor))
        if len(entries) > TIMELINE_KEPT:
            del entries[TIMELINE_HEAD]
            self.state.timeline_omitted += 1

    def set_status(self, status: IncidentStatus) -> None:
        if self.state.status is status:
            return
        before, self.state.status = self.state.status, status
        workflow.upsert_search_attributes([sa.STATUS.value_set(status.value)])
        if status in _ANNOUNCED:  # worth a line in the channel; the rest shows in the header
            self.timeline("status", f"{before.value} → {status.value}")

    def diverge(self, step_id: str, kind: str, actor: str | None, detail: str) -> None:
        self.state.divergences.append(
            Divergence(
                step_id=step_id,
                kind=kind,
                actor=actor,
                detail=detail,
                at=workflow.now(),
            )
        )
        self.timeline(f"divergence_{kind}", f"{step_id}: {detail}", actor)

    def finish_step(
        self, view: StepView, state: StepState, note: str = "", error: str | None = None
    ) -> None:
        view.state = state
        view.finished_at = workflow.now()
        if note:
            view.note = note
        if error is not None:
            view.error = error
        self.timeline(f"step_{state.value}", f"{view.id}: {note or error or view.title}")

    def close(self, status: IncidentStatus, outcome: str, completed: bool = False) -> None:
        """`completed`: the runbook ran to its end (not cut short by a resolution or abort)."""
        self.set_status(status)
        for step_id in settle_waiting_steps(self.state, f"incident {status.value}"):
            self.timeline("step_skipped", f"{step_id}: not run, incident {status.value}")
        self.state.outcome = outcome
        self.state.closed_at = workflow.now()
        self.state.current_step = None
        bad = {StepState.FAILED, StepState.INTERRUPTED, StepState.ROLLED_BACK}
        self.state.clean = (
            completed
            and status is IncidentStatus.RESOLVED
            and not self.state.divergences
            and not any(
                s.state in bad or s.state is StepState.ROLLBACK_FAILED for s in self.state.steps
            )
        )
        workflow.upsert_search_attributes(
            [sa.CLEAN.value_set(self.state.clean), sa.MODE.value_set(self.state.mode.value)]
        )
        workflow.set_current_details(f"{status.value}: {outcome}")
        self.timeline("closed", f"{status.value}: {outcome}")

    @staticmethod
    def record_result(view: StepView, result: RunCommandResult) -> None:
        view.exit_code = result.exit_code
        view.stdout = result.stdout
        view.stderr = result.stderr
        view.attempts = result.attempt


def closed_by(state: IncidentState) -> str:
    """Who (or what) closed the incident, read from its own record."""
    human = {
        IncidentStatus.RESOLVED: ("resolve_requested",),
        IncidentStatus.ABORTED: ("abort_requested", "human_decision"),
        IncidentStatus.ROLLED_BACK: ("human_decision",),
    }.get(state.status, ())
    for entry in reversed(state.timeline):
        if entry.kind in human and entry.actor:
            if entry.kind != "human_decision" or entry.message.startswith(("abort", "rollback")):
                return entry.actor
            break
    if state.outcome.endswith("alert resolved at its source"):
        return "its alert source"
    if state.outcome == "workflow cancelled":
        return "a workflow cancellation"
    return "dd0c/run"


def when(at: datetime | None) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if at is not None else "an unknown time"


def closed_message(state: IncidentState) -> str:
    """What a human input to a closed incident is answered: when, by whom, how it ended."""
    return (
        f"incident {state.id} already closed at {when(state.closed_at)} by {closed_by(state)}: "
        f"{state.status.value}" + (f" ({state.outcome})" if state.outcome else "")
    )


def failure_result(err: ActivityError) -> RunCommandResult | None:
    """The command's own result carried by a CommandFailed/CommandTimeout failure, if any."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details:
        detail = cause.details[0]
        if isinstance(detail, dict):
            return RunCommandResult.model_validate(detail)
    return None


def lost_agent(err: ActivityError) -> bool:
    """The agent stopped heartbeating or never finished: the command may or may not have run."""
    cause = err.cause
    return isinstance(cause, ActivityTimeoutError) and cause.type in {
        TimeoutType.HEARTBEAT,
        TimeoutType.START_TO_CLOSE,
    }


def describe_failure(err: ActivityError) -> str:
    cause = err.cause
    return str(cause) if cause is not None else str(err)
