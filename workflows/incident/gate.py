"""The automation gate: right before an automatic step, a kill switch pauses it and a missing
blast-radius slot hands it to a human. Both are read fresh (a local activity on the database).

Between two automatic steps the read is taken with the finished step's output (one local
activity, `next_check`/`checked`); it counts as fresh only in the workflow task that took it,
so a pause, an approval or anything else that waits reads again.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.incident import StepView
    from schemas.trust import Mode, Requirement, SlotGrant, SlotRequest
    from workflows.incident import stubs
    from workflows.incident.core import Incident
    from workflows.incident.versions import PATCH_CHECK_WITH_OUTPUT
    from workflows.incident.waiting import Waits


class AutomationGate:
    def __init__(self, incident: Incident, waits: Waits) -> None:
        self._i = incident
        self._waits = waits
        self._taken: tuple[SlotGrant, int] | None = None  # (answer, history length then)

    def next_check(self) -> SlotRequest | None:
        """The check for whatever step comes next, to be taken now with the output just kept;
        None when it cannot be (a blast-radius slot is asked for only right before a step
        that runs on its own, never ahead of it)."""
        i = self._i
        if i.inp.dry_run or not i.versions.has(PATCH_CHECK_WITH_OUTPUT):
            return None
        request = self._request()
        return request if request.limit == 0 else None

    def checked(self, grant: SlotGrant) -> None:
        self._taken = (grant, workflow.info().get_current_history_length())

    async def automation_allowed(self, view: StepView) -> Requirement:
        """AUTO when the step may run on its own; APPROVE or REPORT when a human must act."""
        i = self._i
        while True:
            check = self._taken_in_this_task() or await stubs.check_automation(self._request())
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

    def _request(self) -> SlotRequest:
        i = self._i
        return SlotRequest(
            incident_id=i.state.id,
            runbook_id=i.state.runbook or "",
            service=i.state.service,
            limit=0 if i.state.automation_slot else i.inp.blast_radius,
        )

    def _taken_in_this_task(self) -> SlotGrant | None:
        """The check taken with the last output, if nothing has waited since: the history has
        not grown, so no other workflow task (a signal, a timer, an approval) came between."""
        taken, self._taken = self._taken, None
        if taken is None or taken[1] != workflow.info().get_current_history_length():
            return None
        return taken[0]
