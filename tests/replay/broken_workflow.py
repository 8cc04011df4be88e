"""A deliberately non-deterministic edit of IncidentWorkflow, for proving the replay guard works.

It schedules an extra activity before the runbook without `workflow.patched`, the kind of change
that would break every in-flight incident.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.escalation import EscalationActivities
    from schemas.incident import Escalation, IncidentInput, IncidentState
    from workflows.incident import IncidentWorkflow


@workflow.defn(name="IncidentWorkflow")
class UnpatchedChange(IncidentWorkflow):
    @workflow.run
    async def run(self, inp: IncidentInput) -> IncidentState:
        await workflow.execute_activity_method(
            EscalationActivities.record_escalation,
            Escalation(
                incident_id=inp.incident_id,
                level=0,
                target="x",
                reason="new step",
                at=workflow.now(),
            ),
            start_to_close_timeout=timedelta(seconds=5),
        )
        return await super().run(inp)
