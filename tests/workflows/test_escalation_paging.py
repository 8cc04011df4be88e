"""Escalation pages a real person: an approval that times out (virtual time) triggers PagerDuty's
Events API for the next level, and the pages are resolved when the incident closes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.paging import dedup_key
from schemas.incident import HumanAction
from services import incidents as incident_client
from tests.harness import running_stack
from tests.standins.pagerduty_events import PagerDutyStandin
from tests.standins.server import StandinServer
from tests.workflows.escalation_support import (
    add_runbook_for_new_alert,
    approval_step,
    escalated_twice,
    start_incident,
)

pytestmark = pytest.mark.temporal

KEYS = [SecretStr("a" * 32), SecretStr("b" * 32)]


@pytest_asyncio.fixture(loop_scope="session")
async def pagerduty() -> AsyncIterator[tuple[PagerDutyStandin, str]]:
    standin = PagerDutyStandin()
    async with StandinServer(standin) as server:
        yield standin, f"{server.url}/v2/enqueue"


async def test_an_unapproved_step_pages_level_by_level_and_closing_resolves_the_pages(
    temporal_env: WorkflowEnvironment,
    client: Client,
    engine: AsyncEngine,
    pagerduty: tuple[PagerDutyStandin, str],
) -> None:
    standin, url = pagerduty
    async with running_stack(
        client, engine, pagerduty_routing_keys=KEYS, pagerduty_events_url=url
    ) as stack:
        name = await add_runbook_for_new_alert(
            stack,
            "Paging",
            "Paging",
            [approval_step("fix", "Restart checkout", "echo fix", 300)],
        )
        incident = await start_incident(
            temporal_env, stack, name, service="checkout", severity="warning"
        )
        state = await escalated_twice(stack, incident, "two pages")
        assert all(e.paged for e in state.escalations)
        triggers = [e for e in standin.events if e["event_action"] == "trigger"]
        assert [e["dedup_key"] for e in triggers] == [
            dedup_key(incident, 1),
            dedup_key(incident, 2),
        ]
        assert [e["routing_key"] for e in triggers] == ["a" * 32, "b" * 32]
        assert triggers[0]["payload"]["severity"] == "warning"
        assert triggers[0]["payload"]["component"] == "checkout"
        assert "not approved within 300s" in triggers[0]["payload"]["summary"]

        await incident_client.abort(client, incident, HumanAction(actor="erin"))
        await stack.handle(incident).result()
        resolves = [e for e in standin.events if e["event_action"] == "resolve"]
        assert sorted((e["dedup_key"], e["routing_key"]) for e in resolves) == [
            (dedup_key(incident, 1), "a" * 32),
            (dedup_key(incident, 2), "b" * 32),
        ]
        assert not any(a.open for a in standin.alerts)
