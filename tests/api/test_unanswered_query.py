"""An incident whose worker cannot answer (stopped, or failing its workflow task) is refused in
bounded time with a 503, rather than holding the CLI or a page until its own timeout."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from schemas.incident import IncidentStatus
from services.incidents import QUERY_TIMEOUT
from tests.harness import generic_alert, running_stack, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


async def test_a_running_incident_without_its_worker_answers_503_in_time(
    client: Client, engine: AsyncEngine
) -> None:
    name = unique("NoWorker")
    async with running_stack(client, engine) as stack:
        await stack.add_runbook(
            {
                "id": unique("noworker-"),
                "title": "Unanswered query runbook",
                "selectors": [{"alertname": name}],
                "steps": [{"id": "fix", "title": "Fix", "command": "echo fix", "risk": "caution"}],
            }
        )
        headers = await stack.person(unique("reader-"))
        incident_id = (
            await stack.post_generic(generic_alert(name, service=unique("noworker-svc-")))
        ).json()["incident_id"]
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            what="waiting",
        )
        settings = stack.settings
    # The stack's workers have stopped; the incident is still running.
    app = create_app(settings, client=client, engine=engine)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ddrun.test") as http:
            started = time.monotonic()
            response = await http.get(f"/api/incidents/{incident_id}", headers=headers)
            took = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"]
        assert took < QUERY_TIMEOUT.total_seconds() + 5, took
    finally:
        await client.get_workflow_handle(incident_id).terminate("test over")
