"""Compensation: undo completed steps in reverse order (the saga), or one step on request."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.incident import IncidentStatus, StepState
    from workflows.incident.agent import Agent
    from workflows.incident.core import Choice, Incident
    from workflows.incident.outputs import Outputs
    from workflows.incident.waiting import Waits
    from workflows.incident_record import describe_failure, failure_result


class Compensation:
    def __init__(self, incident: Incident, agent: Agent, waits: Waits, outputs: Outputs) -> None:
        self._i = incident
        self._outputs = outputs
        self._agent = agent
        self._waits = waits

    def remember(self, step_id: str) -> None:
        """A step with a rollback succeeded: it is undone if the incident rolls back."""
        self._i.compensations.append(step_id)
        self._i.state.compensations = list(self._i.compensations)

    def _forget(self, step_id: str) -> None:
        self._i.compensations.remove(step_id)
        self._i.state.compensations = list(self._i.compensations)

    async def compensate(self) -> None:
        """Undo completed steps in reverse order; a failed undo stops and asks a human."""
        i = self._i
        i.compensating = bool(i.compensations)
        while i.compensations:
            i.rec.set_status(IncidentStatus.ROLLING_BACK)
            if not await self.undo(i.compensations[-1], "rolled_back", None):
                i.rec.timeline("rollback_stopped", "remaining rollbacks left to humans")
                return

    async def undo(self, step_id: str, kind: str, actor: str | None) -> bool:
        """Run one step's compensation; False when a human chose to stop undoing."""
        i = self._i
        view = i.view(step_id)
        while True:
            rollback = i.rendered[step_id].rollback or ""
            i.rec.timeline("rollback_started", f"{step_id}: {rollback}", actor)
            try:
                result = await self._agent.run_command(
                    step_id, rollback, i.steps[step_id].timeout_s, view.risk, "rollback"
                )
            except ActivityError as err:
                await self._outputs.keep_rollback(view, failure_result(err))
                view.state = StepState.ROLLBACK_FAILED
                i.rec.timeline("rollback_failed", f"{step_id}: {describe_failure(err)}")
                choice = await self._waits.ask_human_about(
                    view, f"its rollback failed ({describe_failure(err)})", abortable=False
                )
                if choice is Choice.RETRY:
                    continue
                if choice in (Choice.ABORT, Choice.ROLLBACK):
                    return False
                self._forget(step_id)
                return True
            await self._outputs.keep_rollback(view, result)
            view.state = StepState.ROLLED_BACK
            self._forget(step_id)
            i.rec.diverge(step_id, kind, actor, f"rollback ran: {rollback}")
            return True

    async def serve_undo_requests(self) -> None:
        i = self._i
        while i.undo_requests:
            request = i.undo_requests.pop(0)
            if request.step_id in i.compensations:
                await self.undo(request.step_id, "undone", request.actor)
