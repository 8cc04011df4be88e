"""Issue 17: what the communications lead approves is pushed to an Atlassian Statuspage
(a stand-in speaking its API): nothing before approval, the first published update creates the
page's incident, the next ones update it, the resolved one gives the components back; a key
the page refuses is recorded and loses nothing of ours. The key never enters history."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.incident import HumanAction, IncidentState
from schemas.roles import IncidentRole, RoleChange
from schemas.status_updates import PublishApproval, StatusUpdateIn, UpdatePhase
from services import incidents as incident_client
from tests.harness import Stack, generic_alert, history_events, running_stack, unique
from tests.standins.statuspage import API_KEY, PAGE_ID, StatuspageStandin
from tests.support import assert_eventually
from workflows.incident.versions import FLOW_VERSIONS, INTRODUCED_IN, PATCH_STATUSPAGE

pytestmark = pytest.mark.temporal

CHECKOUT, API = "8kbf7d35c070", "vtnh60py4yd7"


def _settings(statuspage: StatuspageStandin, service: str, key: str = API_KEY) -> dict[str, object]:
    return {
        "statuspage_api_url": statuspage.url,
        "statuspage_page_id": PAGE_ID,
        "statuspage_api_key": SecretStr(key),
        "statuspage_components": {service: [CHECKOUT, API], "*": ["1r0mwwx9wl8v"]},
        "correlation_window_s": 0,
    }


async def _open_with_lead(stack: Stack, client: Client, service: str) -> tuple[str, str]:
    response = await stack.post_generic(
        generic_alert(unique("Sp"), service=service, severity="critical", title="Checkout failing")
    )
    incident: str = response.json()["incident_id"]
    stack.touched.add(incident)
    await assert_eventually(lambda: stack.state(incident), lambda s: s is not None, what="open")
    comms = unique("comms-")
    await incident_client.act(
        client,
        incident,
        "assign_role",
        RoleChange(role=IncidentRole.COMMS_LEAD, person=comms, actor="ic"),
    )
    return incident, comms


async def _post(client: Client, incident: str, phase: UpdatePhase, impact: str) -> None:
    await incident_client.act(
        client,
        incident,
        "post_status_update",
        StatusUpdateIn(phase=phase, impact=impact, next_steps="roll back", public=True, actor="ic"),
    )


async def _publish(client: Client, incident: str, number: int, comms: str) -> None:
    await incident_client.act(
        client, incident, "publish_status_update", PublishApproval(number=number, actor=comms)
    )


def _patches(events: list[Any]) -> list[str]:
    """The patch ids recorded in a history (markers): old histories replay without these."""
    found = []
    for e in events:
        if e.HasField("marker_recorded_event_attributes"):
            for payloads in e.marker_recorded_event_attributes.details.values():
                for payload in payloads.payloads:
                    try:
                        data = json.loads(payload.data)
                    except ValueError:
                        continue  # a local activity's marker: not a patch
                    if isinstance(data, dict) and "id" in data:
                        found.append(str(data["id"]))
    return found


def _pushed(n: int) -> object:
    return lambda s: len(s.statuspage_pushes) >= n


async def test_published_updates_create_then_update_then_resolve_the_statuspage_incident(
    client: Client, engine: AsyncEngine, statuspage: StatuspageStandin
) -> None:
    service = unique("sp-")
    async with running_stack(client, engine, **_settings(statuspage, service)) as stack:
        incident, comms = await _open_with_lead(stack, client, service)
        await _post(client, incident, UpdatePhase.INVESTIGATING, "Some card payments fail")
        await asyncio.sleep(1.5)  # a push, were there one, would have happened by now
        state = await stack.state(incident)
        assert len(state.status_updates) == 1
        assert statuspage.calls == [], "nothing is pushed before the comms lead approves"
        assert state.statuspage_incident_id is None

        statuspage.inject("POST", "http_status", status=503)  # one outage: retried
        await _publish(client, incident, 1, comms)
        state = await assert_eventually(
            lambda: stack.state(incident),
            _pushed(1),
            what="the first push",  # type: ignore[arg-type]
        )
        assert state.statuspage_pushes[0].ok, state.statuspage_pushes
        [failed, created] = statuspage.calls_to("POST")
        assert failed.body == created.body
        assert created.path == f"/v1/pages/{PAGE_ID}/incidents"
        assert created.authorization == f"OAuth {API_KEY}"
        sent = created.body["incident"]
        assert sent["name"] == "Checkout failing"
        assert sent["status"] == "investigating"
        assert sent["body"].startswith("Some card payments fail")
        assert sent["component_ids"] == [CHECKOUT, API]
        assert sent["components"] == {CHECKOUT: "partial_outage", API: "partial_outage"}  # P1
        [sp_id] = list(statuspage.incidents)
        assert state.statuspage_incident_id == sp_id
        assert state.statuspage_shortlink == statuspage.incidents[sp_id].shortlink
        assert statuspage.component_status(CHECKOUT) == "partial_outage"
        assert any(e.kind == "statuspage" and sp_id in e.message for e in state.timeline)

        await _post(client, incident, UpdatePhase.MITIGATING, "A fix is rolling out")
        await _publish(client, incident, 2, comms)
        state = await assert_eventually(
            lambda: stack.state(incident),
            _pushed(2),
            what="the update",  # type: ignore[arg-type]
        )
        [update] = statuspage.calls_to("PATCH")
        assert update.path == f"/v1/pages/{PAGE_ID}/incidents/{sp_id}"
        assert update.authorization == f"OAuth {API_KEY}"
        assert update.body["incident"]["status"] == "identified"  # mitigating shows as identified
        assert "name" not in update.body["incident"]
        assert len(statuspage.incidents) == 1, "a later update never opens a second incident"

        await _post(client, incident, UpdatePhase.RESOLVED, "Payments work again")
        await _publish(client, incident, 3, comms)
        state = await assert_eventually(
            lambda: stack.state(incident),
            _pushed(3),
            what="the resolution",  # type: ignore[arg-type]
        )
        resolved = statuspage.calls_to("PATCH")[-1].body["incident"]
        assert resolved["status"] == "resolved"
        assert resolved["components"] == {CHECKOUT: "operational", API: "operational"}
        assert statuspage.component_status(CHECKOUT) == "operational"
        assert statuspage.incidents[sp_id].status == "resolved"
        assert [u["status"] for u in statuspage.incidents[sp_id].updates] == [
            "resolved",
            "identified",
            "investigating",
        ]
        assert all(r.ok for r in state.statuspage_pushes)

        await incident_client.resolve(client, incident, HumanAction(actor="ic"))
        final: IncidentState = await stack.handle(incident).result()
        assert final.statuspage_incident_id == sp_id
        history = (await stack.handle(incident).fetch_history()).to_json()
        assert API_KEY not in history, "the API key never enters the workflow's history"
        # The run recorded the newest flow version, which brought the push.
        assert FLOW_VERSIONS[-1] in _patches(await history_events(stack.handle(incident)))
        assert INTRODUCED_IN[PATCH_STATUSPAGE] <= len(FLOW_VERSIONS)


async def test_a_refused_key_is_recorded_once_and_the_update_stays_published(
    client: Client, engine: AsyncEngine, statuspage: StatuspageStandin
) -> None:
    service = unique("spk-")
    settings = _settings(statuspage, service, key="sp-wrong-key")
    async with running_stack(client, engine, **settings) as stack:
        incident, comms = await _open_with_lead(stack, client, service)
        message = f"Checkout is down ({unique('')})"
        await _post(client, incident, UpdatePhase.IDENTIFIED, message)
        await _publish(client, incident, 1, comms)
        state = await assert_eventually(
            lambda: stack.state(incident),
            _pushed(1),
            what="the refusal",  # type: ignore[arg-type]
        )
        [record] = state.statuspage_pushes
        assert not record.ok
        assert "HTTP 401" in record.detail
        assert "DDRUN_STATUSPAGE_API_KEY" in record.detail
        [entry] = [e for e in state.timeline if e.kind == "statuspage_failed"]
        assert "update #1 not pushed" in entry.message
        assert "stays published on our status page" in entry.message
        assert len(statuspage.calls) == 1, "a refusal is not retried"
        assert statuspage.incidents == {}
        # Nothing lost on our side: published, and on our own status page.
        assert state.status_updates[0].published_by == comms
        assert state.statuspage_incident_id is None
        page = (await stack.http.get("/status.json")).json()
        [shown] = [i for i in page["incidents"] if i["id"] == incident]
        assert [u["message"] for u in shown["updates"]] == [message]
        await incident_client.resolve(client, incident, HumanAction(actor="ic"))
        await stack.handle(incident).result()
