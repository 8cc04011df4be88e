"""An incident no runbook matched: it waits for a person. With `no_runbook_timeout_s`, nobody
acting escalates it (or, with nobody to page, ends it); the wait may continue as new while
alerts keep coming."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.incident import ContinuedPhase
    from workflows.incident.core import Incident, Unattended
    from workflows.incident.escalation import Escalator
    from workflows.incident.versions import PATCH_NO_RUNBOOK_TIMEOUT
    from workflows.incident.waiting import Waits


class NoRunbook:
    def __init__(self, incident: Incident, waits: Waits, escalator: Escalator) -> None:
        self._i = incident
        self._waits = waits
        self._escalator = escalator
        carried = incident.inp.continued
        #: Escalated once already (carried across continue-as-new): wait without a deadline.
        self.escalated = bool(carried and carried.no_runbook_escalated)

    async def wait(self) -> None:
        """Returns never: a person's resolve or abort (or the alert clearing) raises."""
        i = self._i
        timeout = i.inp.no_runbook_timeout_s
        phase = ContinuedPhase.NO_RUNBOOK
        if timeout and not self.escalated and self._i.versions.has(PATCH_NO_RUNBOOK_TIMEOUT):
            due = i.state.opened_at + timedelta(seconds=timeout)
            within = max(due - workflow.now(), timedelta(0))
            if not await self._waits.wait(
                lambda: False, what="no runbook: a human to act", within=within, continuable=phase
            ):
                why = f"no runbook matched and nobody acted within {timeout}s"
                levels = i.inp.escalation.levels
                if not levels:
                    raise Unattended(why)
                self.escalated = True
                await self._escalator.escalate(0, levels[0], why, None)
        await self._waits.wait(lambda: False, what="a human to resolve", continuable=phase)
