"""The automation gate: right before an automatic step, a kill switch pauses it and a missing
blast-radius slot hands it to a human. Both are read fresh (a local activity on the database).

Between two automatic steps the read is taken with the finished step's output (one local
activity, `next_check`/`checked`); it counts as fresh only in the workflow task that took it,
so a pause, an approval or anything else that waits reads again.

Before the first step the read may come from the alert's intake (`opening_check`): the API takes
it in the same transaction as the intake claim (services/intake_opening.py) when the runbook's
first step runs on its own. It counts only in the first workflow task and only if that task
began within `fresh_s` of the read (`DDRUN_INTAKE_CHECK_FRESH_S`, either clock ahead): a start
that waited in the intake queue or behind a burst reads again, so a kill switch engaged
meanwhile is seen. A slot taken there is the incident's either way (released when it closes).
"""

from __future__ import annotations

from datetime import timedelta

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

    def opening_check(self) -> None:
        """As a new incident opens: the check its intake took, if any (see the module)."""
        i = self._i
        intake = i.inp.intake_check
        if intake is None or i.inp.dry_run:
            return
        i.state.automation_slot = i.state.automation_slot or intake.slot
        age = workflow.now() - intake.checked_at
        if self._request().limit == 0 and abs(age) <= timedelta(seconds=intake.fresh_s):
            self.checked(SlotGrant(granted=True, kill_switches=intake.kill_switches))

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
