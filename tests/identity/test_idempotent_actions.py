"""A human command retried with the same request id is one action: the second answer is the
first's, and history holds one accepted update."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from db.trust import TrustStore
from schemas.incident import IncidentStatus
from tests.harness import generic_alert, history_events, running_stack, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


async def test_the_same_request_id_is_one_action(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine) as stack:
        name = unique("Idem")
        await stack.add_runbook(
            {
                "id": unique("idem-"),
                "title": "Idempotent",
                "selectors": [{"alertname": name}],
                "steps": [
                    {"id": "one", "title": "One", "command": "echo one", "risk": "caution"},
                    {"id": "two", "title": "Two", "command": "echo two", "risk": "caution"},
                ],
            }
        )
        alert = generic_alert(name, severity="warning", service=unique("idem-svc-"))
        incident_id = (await stack.post_generic(alert)).json()["incident_id"]
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            what="waiting",
        )
        me = await stack.person(unique("ida-"))
        key = {"Idempotency-Key": uuid.uuid4().hex}
        path = f"/api/incidents/{incident_id}/steps/one/approval"
        first = await stack.http.post(path, json={}, headers={**me, **key})
        again = await stack.http.post(path, json={}, headers={**me, **key})
        assert first.status_code == again.status_code == 200, (first.text, again.text)
        assert first.json() == again.json()
        other = await stack.http.post(
            path, json={}, headers={**me, "Idempotency-Key": uuid.uuid4().hex}
        )
        assert other.status_code == 409  # a new request id is a new action: already decided
        bad = await stack.http.post(path, json={}, headers={**me, "Idempotency-Key": "a b"})
        assert bad.status_code == 400

        pause_key = {"Idempotency-Key": uuid.uuid4().hex}
        for _ in range(2):
            paused = await stack.http.post(
                f"/api/incidents/{incident_id}/pause", json={}, headers={**me, **pause_key}
            )
            assert paused.status_code == 200, paused.text

        events = await history_events(stack.handle(incident_id))
        accepted = [
            e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
            for e in events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        ]
        assert accepted.count("approve_step") == 1
        assert accepted.count("pause") == 1
        aborted = await stack.http.post(f"/api/incidents/{incident_id}/abort", json={}, headers=me)
        assert aborted.status_code == 200, aborted.text
        await stack.handle(incident_id).result()


async def test_a_retried_kill_switch_request_acts_once(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine) as stack:
        me = await stack.person(unique("ks-"))
        service = unique("ks-svc-")
        key = {"Idempotency-Key": uuid.uuid4().hex}
        body = {"scope": "service", "value": service, "engaged": True, "reason": "retried"}
        first = await stack.http.post("/api/killswitch", json=body, headers={**me, **key})
        assert first.status_code == 200, first.text
        assert first.json()["duplicate"] is False
        lifted = await stack.http.post(
            "/api/killswitch",
            json={**body, "engaged": False},
            headers={**me, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert lifted.status_code == 200, lifted.text
        again = await stack.http.post("/api/killswitch", json=body, headers={**me, **key})
        assert again.status_code == 200, again.text
        assert again.json()["duplicate"] is True
        switches = await TrustStore(engine).kill_switches()
        assert not [s for s in switches if s.value == service and s.engaged]  # not re-engaged
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text("SELECT COUNT(*) FROM kill_switches WHERE value = :v"), {"v": service}
                )
            ).scalar_one()
        assert rows == 2  # the engage and the lift, nothing more
