"""Resolution is validated, not declared: when the alert resolves or a person proposes
resolution, the incident soaks (monitoring) for its level's period. An alert firing again during
the soak sends it back to mitigating, until the alert resolves (or a person proposes) again; only
a clean soak resolves it, once its verification passes: the runbook's final safe steps (the
checks it ends with) run again; one failing sends the incident back to mitigating until a person
resolves it (or the alert fires and resolves again). A false positive or a duplicate closes at
once (nothing to validate).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.incident import IncidentStatus, StepState, StepView
    from schemas.runbook import StepRisk
    from schemas.trust import Mode
    from workflows.incident.agent import Agent
    from workflows.incident.core import Aborted, Incident
    from workflows.incident.versions import PATCH_SOAK
    from workflows.incident_record import describe_failure


class Soak:
    def __init__(self, incident: Incident, agent: Agent) -> None:
        self._i = incident
        self._agent = agent

    def _checks(self) -> list[StepView]:
        """The safe steps the runbook ends with (that ran), re-run as the verification; none
        while a person has the controls (read-along), paused, or a kill switch covers it."""
        i = self._i
        if i.state.mode is Mode.READ_ALONG or i.state.paused or i.covering_kill_switch():
            return []
        trailing: list[StepView] = []
        for view in reversed(i.state.steps):
            if view.risk is not StepRisk.SAFE or not view.command:
                break
            if view.state is StepState.SUCCEEDED:
                trailing.append(view)
        return list(reversed(trailing))

    async def _verify(self) -> str | None:
        """None: verified (or nothing to verify); else what failed."""
        for view in self._checks():
            step = self._i.steps.get(view.id)
            timeout = step.timeout_s if step is not None else 300
            try:
                result = await self._agent.run_command(
                    view.id, view.command or "", timeout, StepRisk.SAFE, "verify"
                )
            except ActivityError as err:
                return f"{view.id}: {describe_failure(err)}"
            if result.exit_code != 0:
                return f"{view.id} exited {result.exit_code}"
        return None

    def _period(self) -> int | None:
        i = self._i
        level = i.state.severity_level
        if level is None or i.state.false_positive or i.state.parent_incident:
            return None
        return i.inp.soak_s.get(level)

    async def _back_to_mitigating(self, failed: str) -> str:
        """Verification failed: mitigating until a person resolves, or the alert fires and
        resolves again; returns why the next soak starts."""
        i = self._i
        i.resolution = None
        i.rec.timeline("soak_verification_failed", f"{failed}: back to mitigating")
        i.rec.set_status(IncidentStatus.MITIGATING)
        fired = i.fired
        await workflow.wait_condition(
            lambda: (
                i.resolution is not None
                or i.abort is not None
                or (i.fired != fired and i.source_cleared)
            )
        )
        if self._abort_requested():
            raise Aborted()
        return self._proposed()

    def _proposed(self) -> str:
        """Why the soak starts again: a person proposed resolution, or the alert resolved."""
        resolution = self._i.resolution
        if resolution is None:
            return "alert resolved at its source"
        reason = f": {resolution.reason}" if resolution.reason else ""
        return f"resolved by {resolution.actor}{reason}"

    def _abort_requested(self) -> bool:
        return self._i.abort is not None

    async def settle(self, why: str) -> str:
        """The outcome to close with once a soak was clean; raises Aborted on an abort."""
        i = self._i
        period = self._period()
        if not period or not self._i.versions.has(PATCH_SOAK):
            return why
        while True:
            fired = i.fired
            i.state.soak_until = workflow.now() + timedelta(seconds=period)
            i.rec.set_status(IncidentStatus.MONITORING)
            i.rec.timeline("soak_started", f"{why}; soaking {period}s before resolving")
            try:
                await workflow.wait_condition(
                    lambda f=fired: i.fired != f or i.abort is not None,  # type: ignore[misc]
                    timeout=timedelta(seconds=period),
                    timeout_summary=f"soak {period}s",
                )
                soaked = False
            except TimeoutError:
                soaked = True
            if soaked:
                i.state.soak_until = None
                failed = await self._verify()
                if failed is None:
                    i.rec.timeline("soak_clean", f"no alert fired for {period}s")
                    return f"{why}; clean soak of {period}s"
                why = await self._back_to_mitigating(failed)
                continue
            i.state.soak_until = None
            if self._abort_requested():
                raise Aborted()
            i.resolution = None  # a person may propose resolution again
            i.rec.timeline("soak_interrupted", "the alert fired again: back to mitigating")
            i.rec.set_status(IncidentStatus.MITIGATING)
            await workflow.wait_condition(
                lambda: i.source_cleared or i.resolution is not None or i.abort is not None
            )
            if self._abort_requested():
                raise Aborted()
            why = self._proposed()
