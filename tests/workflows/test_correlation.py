"""One incident per problem: related alerts join, a flapping alert reopens as a linked run, and
the source's acknowledge / resolve move the incident."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas import search_attributes as sa
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.incident import HumanAction, IncidentStatus
from services import incidents as incident_client
from tests.harness import Stack, generic_alert, running_stack, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


async def _abort(stack: Stack, client: Client, incident_id: str) -> None:
    """Abort and wait for the end, so the blast-radius slot is released before workers stop."""
    await incident_client.abort(client, incident_id, HumanAction(actor="test"))
    await stack.handle(incident_id).result()


async def _runbook(stack: Stack, *names: str) -> str:
    runbook_id = unique("corr-")
    await stack.add_runbook(
        {
            "id": runbook_id,
            "title": "Checkout is unhealthy",
            "selectors": [{"alertname": n} for n in names],
            "steps": [
                {"id": "look", "title": "Look", "command": "echo ok", "risk": "safe"},
                {"id": "fix", "title": "Fix", "command": "echo fix", "risk": "caution"},
            ],
        }
    )
    return runbook_id


async def _post(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    response = await stack.post_generic(body)
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()["alerts"][0]
    return accepted


async def _waiting(stack: Stack, incident_id: str, what: str) -> None:
    """Until the incident stops at its caution step, so later alerts meet an open incident."""
    await assert_eventually(
        lambda: stack.state(incident_id),
        lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
        what=what,
    )


async def test_a_different_alert_for_the_same_service_and_runbook_joins_the_open_incident(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        latency, errors = unique("Latency"), unique("Errors")
        await _runbook(stack, latency, errors)
        first = await _post(stack, generic_alert(latency, service="checkout"))
        incident_id = first["incident_id"]
        await _waiting(stack, incident_id, "first incident waiting")
        second = await _post(stack, generic_alert(errors, service="checkout"))
        assert second["action"] == "correlated"
        assert second["incident_id"] == incident_id
        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: len(s.related_alerts) == 1,
            what="related alert recorded",
        )
        assert state.related_alerts == [second["dedup_key"]]
        assert {a.name for a in state.alerts} == {latency, errors}
        assert any(e.kind == "related_alert" for e in state.timeline)
        keys = (await stack.handle(incident_id).describe()).typed_search_attributes.get(
            sa.ALERT_KEYS
        )
        assert keys == [first["dedup_key"], second["dedup_key"]]

        # A different service is a different problem.
        other = await _post(stack, generic_alert(errors, service="payments"))
        assert other["action"] == "started_or_attached"
        assert other["incident_id"] != incident_id

        # The incident resolves only when every alert in it has resolved at the source.
        gone = await _post(
            stack, {**generic_alert(latency, service="checkout"), "status": "resolved"}
        )
        assert gone["incident_id"] == incident_id
        still = await stack.state(incident_id)
        assert not still.status.is_closed
        gone = await _post(
            stack, {**generic_alert(errors, service="checkout"), "status": "resolved"}
        )
        assert gone["action"] == "resolved_sent"
        assert gone["incident_id"] == incident_id  # found through the alert-keys attribute
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        await _abort(stack, client, other["incident_id"])


async def test_correlation_can_be_turned_off(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine, correlation_window_s=0) as stack:
        latency, errors = unique("Latency"), unique("Errors")
        await _runbook(stack, latency, errors)
        first = await _post(stack, generic_alert(latency, service="checkout"))
        await _waiting(stack, first["incident_id"], "first incident waiting")
        second = await _post(stack, generic_alert(errors, service="checkout"))
        assert second["action"] == "started_or_attached"
        assert second["incident_id"] != first["incident_id"]
        for accepted in (first, second):
            await _abort(stack, client, accepted["incident_id"])


async def test_an_alert_that_fires_again_soon_after_closing_reopens_as_a_linked_run(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        name = unique("Flappy")
        await _runbook(stack, name)
        body = generic_alert(name, dedup_key=f"{name}-key")
        first = await _post(stack, body)
        incident_id = first["incident_id"]
        await _waiting(stack, incident_id, "incident waiting")
        await _post(stack, {**body, "status": "resolved"})
        closed = await stack.handle(incident_id).result()
        assert closed.status is IncidentStatus.RESOLVED
        first_run = closed.run_id
        assert first_run is not None

        again = await _post(stack, {**body, "event_id": unique("again-")})
        assert again["action"] == "reopened"
        assert again["incident_id"] == incident_id
        assert first_run in again["detail"]
        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.run_id != first_run,
            what="a new run",
        )
        assert state.reopens is not None
        assert state.reopens.run_id == first_run
        assert state.reopens.status == "resolved"
        assert any(e.kind == "reopened" for e in state.timeline)
        await _abort(stack, client, incident_id)

    # Outside the reopen window it is simply a new incident.
    async with running_stack(client, engine, reopen_window_s=0) as stack:
        name = unique("Flappy")
        await _runbook(stack, name)
        body = generic_alert(name, dedup_key=f"{name}-key")
        first = await _post(stack, body)
        await _post(stack, {**body, "status": "resolved"})
        await stack.handle(first["incident_id"]).result()
        again = await _post(stack, {**body, "event_id": unique("again-")})
        assert again["action"] == "started_or_attached"
        state = await assert_eventually(
            lambda: stack.state(first["incident_id"]),
            lambda s: not s.status.is_closed,
            what="a fresh run",
        )
        assert state.reopens is None
        await _abort(stack, client, first["incident_id"])


async def test_acknowledge_and_resolve_at_the_source_move_the_incident(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        name = unique("Paged")
        await _runbook(stack, name)
        first = await _post(stack, generic_alert(name, dedup_key=f"{name}-key"))
        incident_id = first["incident_id"]
        await _waiting(stack, incident_id, "incident waiting")

        def source_event(status: AlertStatus, event: str) -> Alert:
            return Alert(
                source=AlertSource.GENERIC,
                dedup_key=f"{name}-key",
                event_id=event,
                status=status,
                name=name,
                title=f"{name} is firing",
                service="payment-svc",
                received_at=datetime.now(UTC),
                payload_digest="d",
                actor="Alice Oncall",
                description="looking at it",
            )

        acked = await incident_client.deliver_alert(
            client, stack.settings, source_event(AlertStatus.ACKNOWLEDGED, "ack-1")
        )
        assert acked.action == "acknowledged"
        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.acknowledged_by is not None,
            what="acknowledged from the source",
        )
        assert state.acknowledged_by == "Alice Oncall via generic"
        assert state.commander is None  # a source identity does not name the commander

        updated = await incident_client.deliver_alert(
            client, stack.settings, source_event(AlertStatus.UPDATED, "note-1")
        )
        assert updated.action == "updated"
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: any(e.kind == "source_update" for e in s.timeline),
            what="source note on the timeline",
        )
        await incident_client.deliver_alert(
            client, stack.settings, source_event(AlertStatus.RESOLVED, "res-1")
        )
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert any("resolved by Alice Oncall" in e.message for e in result.timeline)


async def test_fifty_concurrent_alerts_of_one_key_and_fifty_of_other_keys_open_one_incident(
    client: Client, engine: AsyncEngine
) -> None:
    """The decision is one atomic claim, not a visibility query that lags behind starts.

    All 100 are in flight at once, so the webhook gate (64 by default; tests/api/
    test_admission.py) is opened wide enough to let them race."""
    async with running_stack(client, engine, webhook_max_in_flight=128) as stack:
        name = unique("Storm")
        await _runbook(stack, name, *(f"{name}-{i}" for i in range(50)))
        service = unique("storm-svc-")
        same = [generic_alert(name, service=service, dedup_key=f"{name}-key") for _ in range(50)]
        others = [
            generic_alert(f"{name}-{i}", service=service, dedup_key=f"{name}-other-{i}")
            for i in range(50)
        ]
        answers = await asyncio.gather(*(_post(stack, body) for body in [*same, *others]))
        incidents = {a["incident_id"] for a in answers}
        assert len(incidents) == 1, incidents
        (incident_id,) = incidents
        started = [a for a in answers if a["action"] == "started_or_attached"]
        correlated = [a for a in answers if a["action"] == "correlated"]
        assert len(started) + len(correlated) == 100
        query = f'WorkflowType = "IncidentWorkflow" AND IncidentService = "{service}"'
        await assert_eventually(
            lambda: client.count_workflows(query),
            lambda c: c.count >= 1,
            what="the incident visible",
        )
        await asyncio.sleep(1)  # visibility would show a second incident by now
        assert (await client.count_workflows(query)).count == 1
        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: len(s.related_alerts) == 50,
            what="every other key recorded as related",
        )
        assert len({a.dedup_key for a in state.alerts}) == 51
        await _abort(stack, client, incident_id)
