"""Issue #19: Alertmanager's Watchdog (and any `severity: none` alert) is acknowledged with 202
and said to be ignored; it starts no incident. With the real captured Watchdog delivery."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from tests.harness import Stack, corpus_payload, running_stack, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal

WATCHDOG = "12-watchdog-cluster-scope-Watchdog-firing.json"


async def _started(stack: Stack) -> int:
    query = f'TaskQueue = "{stack.settings.orchestrator_task_queue}"'
    return (await stack.client.count_workflows(query)).count


async def test_the_captured_watchdog_is_acknowledged_and_starts_nothing(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        response = await stack.post_alertmanager(corpus_payload(WATCHDOG))
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["action"] == "ignored"
        assert body["detail"] == "heartbeat"
        assert body["incident_id"] is None
        assert [a["action"] for a in body["alerts"]] == ["ignored"]
        # Any alert with severity `none` is a heartbeat too, whatever its name.
        renamed = await stack.post_alertmanager(corpus_payload(WATCHDOG, unique("Alive")))
        assert renamed.status_code == 202, renamed.text
        assert (renamed.json()["action"], renamed.json()["detail"]) == ("ignored", "heartbeat")
        assert await _started(stack) == 0

        # The check is the setting's: with no heartbeat rules the same delivery is an incident.
    async with running_stack(client, engine, heartbeat_alerts=[], heartbeat_severities=[]) as stack:
        started = await stack.post_alertmanager(corpus_payload(WATCHDOG, unique("Watchdog")))
        assert started.status_code == 202, started.text
        assert started.json()["incident_id"] is not None
        assert "action" not in started.json()
        stack.touched.add(started.json()["incident_id"])
        await assert_eventually(lambda: _started(stack), lambda n: n == 1, what="one incident")
        await stack.handle(started.json()["incident_id"]).terminate("test done")
