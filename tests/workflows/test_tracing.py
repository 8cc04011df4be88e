"""One trace from the webhook through the workflow to the command on the agent."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from tests.harness import generic_alert, running_stack, unique
from tests.support import SPANS

pytestmark = pytest.mark.temporal


async def test_webhook_to_step_is_one_trace(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine) as stack:
        name = unique("Traced")
        await stack.add_runbook(
            {
                "id": unique("tr-"),
                "title": "Traced",
                "selectors": [{"alertname": name}],
                "steps": [{"id": "look", "title": "Look", "command": "echo hi", "risk": "safe"}],
            }
        )
        SPANS.clear()
        response = await stack.post_generic(generic_alert(name))
        await stack.handle(response.json()["incident_id"]).result()

    spans = SPANS.get_finished_spans()
    root = next(s for s in spans if s.name == "deliver_alert")
    in_trace = {s.name for s in spans if s.context.trace_id == root.context.trace_id}
    assert "SignalWithStartWorkflow:IncidentWorkflow" in in_trace
    # Every stage before the first step is a span of the same trace (bench --profile).
    assert {
        "POST /webhooks/generic",
        "parse_and_verify",
        "normalise",
        "match",
        "incident_claim",
    } <= in_trace
    assert "RunActivity:run_command" in in_trace
