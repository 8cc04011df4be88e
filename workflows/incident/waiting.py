"""Every wait of an incident: for a human, a pause, a deadline. Each wait serves undo requests
meanwhile and is cut short (by raising) by an abort, a manual resolution or the alert clearing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.incident import LOST_AGENT, ContinuedPhase, IncidentStatus, StepState, StepView
    from workflows.incident.continuation import ContinueAsNew, suggested
    from workflows.incident.core import Choice, Incident
    from workflows.incident.versions import PATCH_CONTINUE_AS_NEW


class Waits:
    def __init__(self, incident: Incident, serve_undo: Callable[[], Awaitable[None]]) -> None:
        self._i = incident
        self._serve_undo = serve_undo

    async def wait(
        self,
        done: Callable[[], bool],
        *,
        what: str,
        within: timedelta | None = None,
        continuable: ContinuedPhase | None = None,
    ) -> bool:
        """Wait for `done`, serving undo requests meanwhile; False when `within` passed first.

        `continuable`: a quiet wait that may hand over to a new run (raises ContinueAsNew) when
        the server suggests it.
        """
        i = self._i
        may_continue = continuable is not None and self._i.versions.has(PATCH_CONTINUE_AS_NEW)
        deadline = workflow.now() + within if within is not None else None
        while True:
            remaining = None if deadline is None else deadline - workflow.now()
            if remaining is not None and remaining <= timedelta(0):
                return False
            try:
                await workflow.wait_condition(
                    lambda: (
                        done()
                        or bool(i.undo_requests)
                        or i.interrupted()
                        or (may_continue and suggested(i))
                    ),
                    timeout=remaining,
                    timeout_summary=what,
                )
            except TimeoutError:
                return False
            i.check_interrupts()
            if i.undo_requests:
                await self._serve_undo()
                continue
            if done():
                return True
            if may_continue and continuable is not None and suggested(i):
                raise ContinueAsNew(continuable)

    async def checkpoint(self) -> None:
        """Between steps: honour interrupts, undo requests and a pause (nothing new starts)."""
        i = self._i
        i.check_interrupts()
        if i.undo_requests:
            await self._serve_undo()
        if i.state.paused:
            i.rec.set_status(IncidentStatus.PAUSED)
            workflow.set_current_details(f"Paused: {i.state.pause_reason}")
            await self.wait(lambda: not i.state.paused, what="paused")
            i.rec.set_status(IncidentStatus.MITIGATING)

    async def ask_human_about(self, view: StepView, why: str, abortable: bool = True) -> Choice:
        """Stop and let a person choose; nothing runs twice, or is undone, on its own."""
        i = self._i
        view.state = StepState.INTERRUPTED
        view.error = why
        i.waiting_for_decision = view.id
        i.decisions.pop(view.id, None)
        i.rec.set_status(IncidentStatus.NEEDS_HUMAN)
        # Only a lost agent leaves it unknown whether the command took effect; a command that
        # exited non-zero, or a rollback that failed, is known to have failed.
        unknown = " It may or may not have taken effect." if why.startswith(LOST_AGENT) else ""
        message = f"Step '{view.title}' needs a human: {why}.{unknown}"
        workflow.set_current_details(message + " Decide: retry, skip, rollback or abort.")
        i.rec.timeline("needs_human", message)
        try:
            if abortable:
                await workflow.wait_condition(lambda: view.id in i.decisions or i.abort is not None)
            else:
                await workflow.wait_condition(lambda: view.id in i.decisions)
        finally:
            i.waiting_for_decision = None
        if view.id not in i.decisions:
            return Choice.ABORT
        decision = i.decisions[view.id]
        i.rec.timeline("human_decision", f"{decision.action} {view.id}", decision.actor)
        return Choice(decision.action)
