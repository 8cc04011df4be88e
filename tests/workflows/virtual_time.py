"""Opening an incident for a virtual-time test: its alert is delivered on real time, then the
test skips time as it needs."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from db.incident_claims import IncidentClaimStore
from schemas.alert import Alert
from services import incidents as incident_client
from tests.harness import Stack
from tests.support import assert_eventually


async def open_waiting(temporal_env: WorkflowEnvironment, stack: Stack, alert: Alert) -> str:
    """Deliver `alert` (which no runbook matches) and wait until its incident waits for people."""
    with temporal_env.with_time_skipping_disabled():
        accepted = await incident_client.deliver_alert(
            temporal_env.client, stack.settings, alert, claims=IncidentClaimStore(stack.engine)
        )
    incident_id = accepted.incident_id
    assert incident_id is not None
    stack.touched.add(incident_id)
    await assert_eventually(
        lambda: stack.state(incident_id),
        lambda s: any(e.kind == "no_runbook" for e in s.timeline),
        what="the incident waits for people",
    )
    return incident_id
