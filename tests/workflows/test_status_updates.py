"""Issue 17, communication: status-update reminders at each level's cadence (virtual time), a
prefilled update from the record, updates posted to the war room, and a public status page that
shows an update only once the communications lead approved publishing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.alerts.normalize import generic
from schemas.incident import HumanAction
from schemas.status_updates import StatusUpdateIn, UpdatePhase
from schemas.webhooks.generic import GenericAlertBody
from services import incidents as incident_client
from tests.harness import Stack, generic_alert, running_stack, unique
from tests.support import assert_eventually
from tests.workflows.virtual_time import open_waiting

pytestmark = pytest.mark.temporal


async def _open_virtual(temporal_env: WorkflowEnvironment, stack: Stack, severity: str) -> str:
    body = GenericAlertBody(
        name=unique("Cadence"), title="Logins slow", service=unique("cad-"), severity=severity
    )
    alert = generic.normalize(body, datetime.now(UTC), "digest")[0]
    return await open_waiting(temporal_env, stack, alert)


async def _until(temporal_env: WorkflowEnvironment, stack: Stack, incident: str, s: int) -> None:
    opened = (await stack.state(incident)).opened_at
    await _until_time(temporal_env, incident, opened + timedelta(seconds=s))


async def _until_time(temporal_env: WorkflowEnvironment, incident: str, when: datetime) -> None:
    handle = temporal_env.client.get_workflow_handle(incident)
    left = when - await temporal_env.get_current_time(handle)
    if left > timedelta(0):
        assert await temporal_env.fast_forward(handle, left)


async def test_reminders_come_at_the_level_cadence_and_an_update_restarts_it(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(
        client, engine, status_update_reminders=True, correlation_window_s=0
    ) as stack:
        incident = await _open_virtual(temporal_env, stack, "critical")  # P1: hourly
        state = await stack.state(incident)
        assert state.update_due_at == state.opened_at + timedelta(hours=1)
        await _until(temporal_env, stack, incident, 3601)
        state = await assert_eventually(
            lambda: stack.state(incident), lambda s: s.update_reminders == 1, what="reminder"
        )
        assert any(e.kind == "update_due" and "every 60 min" in e.message for e in state.timeline)

        await _until(temporal_env, stack, incident, 3700)
        said = await incident_client.act(
            client,
            incident,
            "post_status_update",
            StatusUpdateIn(phase=UpdatePhase.INVESTIGATING, impact="logins slow", actor="mo"),
        )
        assert "status update #1 posted by mo" in said
        state = await assert_eventually(
            lambda: stack.state(incident),
            lambda s: s.update_due_at == s.status_updates[-1].at + timedelta(hours=1),
            what="the next update due an hour after the last",
        )
        assert state.update_reminders == 1
        assert any(e.kind == "status_update" and e.actor == "mo" for e in state.timeline)
        # From the update's own time: other tests skipping time on the shared server may have
        # moved the clock past 3,700 s before it was posted.
        assert state.update_due_at is not None
        await _until_time(temporal_env, incident, state.update_due_at + timedelta(seconds=1))
        await assert_eventually(
            lambda: stack.state(incident), lambda s: s.update_reminders == 2, what="2nd reminder"
        )
        await incident_client.resolve(client, incident, HumanAction(actor="mo"))
        await stack.handle(incident).result()


async def test_the_status_page_shows_an_update_only_once_the_comms_lead_approved_it(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, status_page_components=["website"]) as stack:
        ic, comms = unique("ic-"), unique("comms-")
        ic_h, comms_h = await stack.person(ic), await stack.person(comms)
        response = await stack.post_generic(
            generic_alert(unique("Page"), service=unique("pay-"), severity="critical")
        )
        incident = response.json()["incident_id"]
        stack.touched.add(incident)
        await assert_eventually(lambda: stack.state(incident), lambda s: s is not None, what="open")
        draft = await stack.http.get(
            f"/api/incidents/{incident}/status-updates/draft", headers=ic_h
        )
        assert draft.status_code == 200
        assert draft.json()["impact"].startswith("P1 ")
        message = f"Some card payments fail; we are investigating ({unique('')})"
        posted = await stack.http.post(
            f"/api/incidents/{incident}/status-updates",
            json={"phase": "identified", "impact": message, "public": True},
            headers=ic_h,
        )
        assert posted.status_code == 200, posted.text
        private = await stack.http.post(
            f"/api/incidents/{incident}/status-updates",
            json={"phase": "identified", "impact": f"internal detail {incident}"},
            headers=ic_h,
        )
        assert private.status_code == 200

        page = await stack.http.get("/status.json")  # public: no credential
        assert page.status_code == 200
        assert all(i["id"] != incident for i in page.json()["incidents"])
        assert message not in (await stack.http.get("/status")).text

        url = f"/api/incidents/{incident}/status-updates/1/publish"
        no_lead = await stack.http.post(url, headers=ic_h)
        assert no_lead.status_code == 409
        assert "name a communications lead first" in no_lead.text
        role = await stack.http.post(
            f"/api/incidents/{incident}/roles",
            json={"role": "comms_lead", "person": comms},
            headers=ic_h,
        )
        assert role.status_code == 200
        not_lead = await stack.http.post(url, headers=ic_h)
        assert not_lead.status_code == 409
        assert "only the communications lead" in not_lead.text
        not_public = await stack.http.post(
            f"/api/incidents/{incident}/status-updates/2/publish", headers=comms_h
        )
        assert not_public.status_code == 409
        published = await stack.http.post(url, headers=comms_h)
        assert published.status_code == 200, published.text

        page = (await stack.http.get("/status.json")).json()
        [shown] = [i for i in page["incidents"] if i["id"] == incident]
        assert shown["status"] == "Identified"
        assert [u["message"] for u in shown["updates"]] == [message]
        components = {c["name"]: c["status"] for c in page["components"]}
        assert components["website"] == "operational"
        assert components[shown["component"]] == "major_outage"
        text = (await stack.http.get("/status")).text
        assert message in text
        assert f"internal detail {incident}" not in text
        await incident_client.resolve(client, incident, HumanAction(actor=ic))
