"""Issue 17, response SLAs as workflow timers (virtual time): each deadline of the incident's
level fires when unmet, is recorded and announced (timeline) and pages the next level through
the PagerDuty path; an acknowledgement (API, or the alert's source) stops the acknowledge
timer; a change of severity recomputes what is due."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from db.incident_claims import IncidentClaimStore
from domain.alerts.normalize import generic
from schemas.alert import AlertStatus
from schemas.incident import HumanAction, IncidentState
from schemas.severity import SlaKind
from schemas.webhooks.generic import GenericAlertBody
from services import incidents as incident_client
from tests.harness import Stack, running_stack, unique
from tests.standins.pagerduty_events import PagerDutyStandin
from tests.standins.server import StandinServer
from tests.support import assert_eventually
from tests.workflows.virtual_time import open_waiting

pytestmark = pytest.mark.temporal

KEYS = [SecretStr("c" * 32), SecretStr("d" * 32)]


def _settings(pd_server: StandinServer) -> dict[str, Any]:
    return {
        "sla_timers": True,
        "correlation_window_s": 0,
        "pagerduty_routing_keys": KEYS,
        "pagerduty_events_url": f"{pd_server.url}/v2/enqueue",
    }


async def _open(temporal_env: WorkflowEnvironment, stack: Stack, **labels: str) -> str:
    """An alert no runbook matches (the incident waits for people), on virtual time."""
    # The title is the alert's own unique name: the suite's runbook library is shared, and a
    # title in everyday words ("Checkout errors") found another test's checkout runbook.
    name = unique("Sla")
    body = GenericAlertBody(name=name, title=name, service=unique("sla-"), labels=labels)
    alert = generic.normalize(body, datetime.now(UTC), "digest")[0]
    return await open_waiting(temporal_env, stack, alert)


async def _at(
    temporal_env: WorkflowEnvironment,
    stack: Stack,
    incident_id: str,
    seconds: int,
    breaches: int,
    pages: int = 0,
) -> IncidentState:
    """Virtual time `seconds` after opening; the state once `breaches` SLAs were missed and
    `pages` escalations recorded."""
    handle = temporal_env.client.get_workflow_handle(incident_id)
    opened = (await stack.state(incident_id)).opened_at
    now = await temporal_env.get_current_time(handle)
    left = opened + timedelta(seconds=seconds) - now
    if left > timedelta(0):
        assert await temporal_env.fast_forward(handle, left)
    return await assert_eventually(
        lambda: stack.state(incident_id),
        lambda s: len(s.sla_breaches) >= breaches and len(s.escalations) >= pages,
        what=f"{breaches} SLA breaches, {pages} pages",
    )


def _triggers(pd: PagerDutyStandin, incident_id: str) -> list[dict[str, Any]]:
    return [
        e
        for e in pd.events
        if e["event_action"] == "trigger" and incident_id in str(e.get("dedup_key", ""))
    ]


async def test_every_p0_deadline_fires_records_announces_and_pages_the_next_level(
    temporal_env: WorkflowEnvironment,
    client: Client,
    engine: AsyncEngine,
    pd: PagerDutyStandin,
    pd_server: StandinServer,
) -> None:
    async with running_stack(client, engine, **_settings(pd_server)) as stack:
        incident = await _open(temporal_env, stack, priority="P0")
        state = await _at(temporal_env, stack, incident, 59, 0)
        assert state.sla_breaches == []  # not yet: the deadline is a minute

        state = await _at(temporal_env, stack, incident, 61, 1, 1)
        assert [b.kind for b in state.sla_breaches] == [SlaKind.ACKNOWLEDGE]
        assert state.escalations[0].reason == "SLA: P0 acknowledge deadline of 60s missed"
        assert state.escalations[0].paged
        assert any(
            e.kind == "sla_breach" and e.message == "P0 acknowledge deadline of 60s missed"
            for e in state.timeline
        )

        state = await _at(temporal_env, stack, incident, 301, 2, 2)
        assert [b.kind for b in state.sla_breaches] == [SlaKind.ACKNOWLEDGE, SlaKind.ENGAGE]
        assert [e.level for e in state.escalations] == [1, 2]
        assert "engage deadline of 300s" in state.escalations[1].reason

        state = await _at(temporal_env, stack, incident, 901, 3, 2)
        assert state.sla_breaches[2].kind is SlaKind.ALL_HANDS
        assert len(state.escalations) == 2  # both levels already paged: recorded, not re-paged
        assert [e["routing_key"] for e in _triggers(pd, incident)] == ["c" * 32, "d" * 32]

        await incident_client.resolve(client, incident, HumanAction(actor="ivy"))
        await stack.handle(incident).result()


@pytest.mark.parametrize("how", ["api", "source"])
async def test_an_acknowledgement_stops_the_acknowledge_timer(
    how: str,
    temporal_env: WorkflowEnvironment,
    client: Client,
    engine: AsyncEngine,
    pd: PagerDutyStandin,
    pd_server: StandinServer,
) -> None:
    async with running_stack(client, engine, **_settings(pd_server)) as stack:
        incident = await _open(temporal_env, stack, priority="P1")
        await _at(temporal_env, stack, incident, 100, 0)
        if how == "api":
            jo = await stack.person(unique("jo-"))
            acked = await stack.http.post(f"/api/incidents/{incident}/acknowledge", headers=jo)
            assert acked.status_code == 200, acked.text
        else:  # PagerDuty / Opsgenie: the source says someone acknowledged it
            first = (await stack.state(incident)).alerts[0]
            ack = first.model_copy(
                update={
                    "status": AlertStatus.ACKNOWLEDGED,
                    "event_id": uuid.uuid4().hex,
                    "actor": "jo@pagerduty",
                }
            )
            assert (
                await incident_client.deliver_alert(
                    client, stack.settings, ack, claims=IncidentClaimStore(stack.engine)
                )
            ).action == ("acknowledged")
        await assert_eventually(
            lambda: stack.state(incident),
            lambda s: s.acknowledged_by is not None,
            what="acknowledged",
        )
        state = await _at(temporal_env, stack, incident, 301, 0)
        assert state.sla_breaches == []  # the acknowledge deadline passed, met
        # Engaging is a different deadline: nobody acted beyond acknowledging.
        state = await _at(temporal_env, stack, incident, 901, 1, 1)
        assert [b.kind for b in state.sla_breaches] == [SlaKind.ENGAGE]
        assert len(_triggers(pd, incident)) == 1

        await incident_client.resolve(client, incident, HumanAction(actor="jo"))
        await stack.handle(incident).result()


async def test_raising_the_severity_recomputes_the_deadlines(
    temporal_env: WorkflowEnvironment,
    client: Client,
    engine: AsyncEngine,
    pd: PagerDutyStandin,
    pd_server: StandinServer,
) -> None:
    async with running_stack(client, engine, **_settings(pd_server)) as stack:
        incident = await _open(temporal_env, stack, priority="P3")  # acknowledge within 1h
        await _at(temporal_env, stack, incident, 30, 0)
        kim = await stack.person(unique("kim-"))
        raised = await stack.http.post(
            f"/api/incidents/{incident}/severity",
            json={"severity": "P0", "reason": "all regions"},
            headers=kim,
        )
        assert raised.status_code == 200, raised.text
        # P0 acknowledge is a minute from opening; the change itself engaged a person.
        state = await _at(temporal_env, stack, incident, 61, 1, 1)
        assert [(b.severity, b.kind) for b in state.sla_breaches] == [("P0", SlaKind.ACKNOWLEDGE)]
        state = await _at(temporal_env, stack, incident, 301, 1)
        assert len(state.sla_breaches) == 1  # engaged (the change of severity) in time
        await incident_client.resolve(client, incident, HumanAction(actor="kim"))
        await stack.handle(incident).result()
