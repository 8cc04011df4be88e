"""The automation gate: right before an automatic step, a kill switch pauses it and a missing
blast-radius slot hands it to a human. Both are read fresh (a local activity on the database)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.incident import StepView
    from schemas.trust import Mode, Requirement, SlotRequest
    from workflows.incident import stubs
    from workflows.incident.core import Incident
    from workflows.incident.waiting import Waits


class AutomationGate:
    def __init__(self, incident: Incident, waits: Waits) -> None:
        self._i = incident
        self._waits = waits

    async def automation_allowed(self, view: StepView) -> Requirement:
        """AUTO when the step may run on its own; APPROVE or REPORT when a human must act."""
        i = self._i
        while True:
            check = await stubs.check_automation(
                SlotRequest(
                    incident_id=i.state.id,
                    runbook_id=i.state.runbook or "",
                    service=i.state.service,
                    limit=0 if i.state.automation_slot else i.inp.blast_radius,
                )
            )
            known = {k.label for k in i.state.kill_switches}
            current = {k.label for k in check.kill_switches}
            for switch in check.kill_switches:
                if switch.label not in known:
                    i.apply_kill_switch(switch)
            for switch in list(i.state.kill_switches):
                if switch.label not in current:  # lifted while its signal did not reach us
                    i.apply_kill_switch(switch.model_copy(update={"engaged": False}))
            covering = i.covering_kill_switch()
            if covering is None:
                break
            i.pause(
                f"kill switch {covering.label} ({covering.actor}: {covering.reason}); "
                f"automatic step '{view.title}' held",
                covering.actor,
                by_kill_switch=True,
            )
            await self._waits.checkpoint()
            if i.state.mode is Mode.READ_ALONG:  # taken over while paused
                return Requirement.REPORT
        if i.inp.blast_radius and not i.state.automation_slot:
            i.state.automation_slot = check.granted
            if not check.granted:
                i.rec.timeline("blast_radius", check.reason)
                view.note = f"waits for a human: {check.reason}"
                return Requirement.APPROVE
        return Requirement.AUTO
