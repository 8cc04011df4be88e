"""Blast-radius slots held by incidents that no longer run are freed when someone needs one."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from activities.trust import TrustActivities
from db.trust import TrustStore
from schemas.trust import SlotRequest


def _request(incident_id: str, runbook_id: str, service: str) -> SlotRequest:
    return SlotRequest(incident_id=incident_id, runbook_id=runbook_id, service=service, limit=1)


async def test_a_slot_left_by_an_ended_incident_is_freed_and_a_running_holder_keeps_its_own(
    client: Client, engine: AsyncEngine
) -> None:
    tag = uuid.uuid4().hex[:8]
    runbook, service = f"slots-{tag}", f"slots-svc-{tag}"
    store = TrustStore(engine)
    gone = f"incident-generic-gone-{tag}"  # never started in Temporal (terminated and purged)
    granted, _ = await store.acquire_slots(
        gone, [f"runbook:{runbook}", f"service:{service}"], limit=1
    )
    assert granted

    without_temporal = TrustActivities(store)  # nothing to ask: the slot stays taken
    refused = await without_temporal.check_automation(
        _request(f"incident-a-{tag}", runbook, service)
    )
    assert not refused.granted
    assert gone in refused.reason

    checked = TrustActivities(store, client)
    # A holder that still runs (a workflow no worker polls stays RUNNING) keeps its slot.
    running = await client.start_workflow(
        "NoWorkerPollsThis", id=f"incident-b-{tag}", task_queue=f"nobody-{tag}"
    )
    try:
        grant = await checked.check_automation(_request(running.id, runbook, service))
        assert grant.granted, grant.reason
        assert await store.holders(f"runbook:{runbook}") == [running.id]
        again = await checked.check_automation(_request(f"incident-c-{tag}", runbook, service))
        assert not again.granted
        assert running.id in again.reason
    finally:
        await running.terminate("test over")
        await store.release(running.id)
