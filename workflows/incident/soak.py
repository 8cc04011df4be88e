"""Resolution is validated, not declared: when the alert resolves or a person proposes
resolution, the incident soaks (monitoring) for its level's period. An alert firing again during
the soak sends it back to mitigating, until the alert resolves (or a person proposes) again; only
a clean soak resolves it. A false positive or a duplicate closes at once (nothing to validate).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.incident import IncidentStatus
    from workflows.incident.core import Aborted, Incident

#: Runs recorded before the soak closed at once; their inputs carry no soak, so they never ask.
PATCH_SOAK = "soak-period"


class Soak:
    def __init__(self, incident: Incident) -> None:
        self._i = incident

    def _period(self) -> int | None:
        i = self._i
        level = i.state.severity_level
        if level is None or i.state.false_positive or i.state.parent_incident:
            return None
        return i.inp.soak_s.get(level)

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
        if not period or not workflow.patched(PATCH_SOAK):
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
            except TimeoutError:
                i.state.soak_until = None
                i.rec.timeline("soak_clean", f"no alert fired for {period}s")
                return f"{why}; clean soak of {period}s"
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
