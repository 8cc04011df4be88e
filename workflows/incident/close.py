"""The end of an incident: whether a finished runbook may close it (the hold), and what closing
does (the blast-radius slot, trust bookkeeping, resolving pages, the last Slack sync)."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.incident import ContinuedPhase, IncidentStatus, ResolvePages, StepState
    from schemas.incident_runs import IncidentClosed
    from schemas.trust import RunOutcome
    from workflows import closing
    from workflows.incident import stubs
    from workflows.incident.core import Incident
    from workflows.incident.slack_sync import SlackSync
    from workflows.incident.versions import PATCH_RECORD_CLOSE
    from workflows.incident.waiting import Waits


class Closer:
    def __init__(self, incident: Incident, waits: Waits, slack: SlackSync) -> None:
        self._i = incident
        self._waits = waits
        self._slack = slack

    async def hold_open(self, resumed: bool = False) -> str:
        """The runbook ended: stay open while an alert fires or a step failed (see closing).

        Returns the outcome when the alerts cleared; a person's resolve or abort raises as in
        any other wait, and escalation timers and Slack keep running meanwhile. `resumed`: a
        continued run picks the hold up again (said once, by the first run).
        """
        i = self._i
        firing = [a.name for a in i.state.alerts if a.dedup_key in i.firing_keys]
        tolerated = frozenset(s.id for s in i.steps.values() if s.continue_on_failure)
        hold = closing.hold_after_runbook(i.state, firing, i.source_cleared, tolerated)
        if hold is None:  # the alerts cleared while the last steps ran
            return "runbook completed; alert resolved at its source"
        i.holding = True
        i.state.current_step = None
        i.rec.set_status(hold.status)
        workflow.set_current_details(hold.details)
        if not resumed:
            i.rec.timeline("held_open", hold.details)
        # No deadline: it returns only when the alerts cleared (a person's word raises).
        await self._waits.wait(
            lambda: i.source_cleared and not hold.needs_person,
            what="alert to resolve" if not hold.needs_person else "a human to resolve",
            continuable=ContinuedPhase.HOLDING,
        )
        return "runbook completed; alert resolved at its source"

    async def after_close(self) -> None:
        """Trust bookkeeping and the blast-radius slot; both read from this incident's record.
        First, the intake's claim: a later alert now reopens this run or starts a new one."""
        i = self._i
        if not i.inp.dry_run and i.versions.has(PATCH_RECORD_CLOSE):
            await stubs.record_incident_close(
                IncidentClosed(
                    incident_id=i.state.id,
                    run_id=workflow.info().run_id,
                    status=i.state.status.value,
                    closed_at=workflow.now(),
                )
            )
        if i.state.automation_slot:
            await stubs.release_automation_slot(i.state.id)
            i.state.automation_slot = False
        if i.inp.dry_run or i.state.runbook is None:
            return
        failed = any(
            s.state in (StepState.FAILED, StepState.ROLLED_BACK, StepState.ROLLBACK_FAILED)
            for s in i.state.steps
        )
        message = await stubs.record_run_outcome(
            RunOutcome(
                incident_id=i.state.id,
                run_id=workflow.info().run_id,
                runbook_id=i.state.runbook,
                mode=i.state.mode,
                status=i.state.status.value,
                clean=i.state.clean,
                failed=failed or i.state.status is not IncidentStatus.RESOLVED,
            )
        )
        if message:
            i.rec.timeline("trust", message)

    async def notify_close(self, background: list[asyncio.Task[None]]) -> None:
        """Stop the background work; resolve the pages sent; let Slack catch up on its own."""
        i = self._i
        for task in background:
            task.cancel()
        paged = sorted({e.level for e in i.state.escalations if e.paged})
        if paged:
            await stubs.resolve_pages(
                ResolvePages(incident_id=i.state.id, levels=paged, summary=i.state.outcome)
            )
        if i.inp.notifications.slack:
            await self._slack.catch_up()
