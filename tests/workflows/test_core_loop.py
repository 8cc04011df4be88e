"""The core loop on a real Temporal dev server: webhook → incident → steps → approval → done."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from schemas import search_attributes as sa
from schemas.identity import Role
from schemas.incident import IncidentStatus, StepState
from tests.harness import (
    activity_summaries,
    corpus_payload,
    generic_alert,
    history_events,
    running_stack,
    token_of,
    unique,
)
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


def crashloop_runbook(alertname: str) -> dict[str, object]:
    return {
        "id": unique("crashloop-"),
        "title": "Pod is crash looping",
        "selectors": [{"alertname": alertname}],
        "variables": [
            {"name": "namespace", "source": "label:namespace"},
            {"name": "pod", "source": "label:pod"},
        ],
        "steps": [
            {
                "id": "inspect",
                "title": "Inspect the pod",
                "command": "echo inspecting {{ namespace }}/{{ pod }}",
                "risk": "safe",
            },
            {
                "id": "restart",
                "title": "Restart the pod",
                "command": "echo restarting {{ pod }}",
                "rollback": "echo undo restart {{ pod }}",
                "risk": "caution",
            },
            {
                "id": "verify",
                "title": "Verify",
                "command": "echo verified",
                "risk": "safe",
            },
        ],
    }


async def test_webhook_runs_safe_steps_waits_for_approval_and_records_the_approver(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        alertname = unique("KubePodCrashLooping")
        runbook = await stack.add_runbook(crashloop_runbook(alertname))
        payload = corpus_payload("13-default-payments-TargetDown-firing.json", alertname)
        payload["alerts"][0]["labels"]["pod"] = "payment-svc-7d9f8b6c4-x2k9q"

        response = await stack.post_alertmanager(payload)
        assert response.status_code == 202, response.text
        incident_id = response.json()["incident_id"]
        assert incident_id.startswith(f"incident-alertmanager-{alertname}")

        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            what="restart step waiting for approval",
        )
        steps = {s.id: s for s in state.steps}
        assert state.runbook == runbook.id
        assert steps["inspect"].state is StepState.SUCCEEDED
        assert steps["inspect"].exit_code == 0
        assert "inspecting payments/payment-svc-7d9f8b6c4-x2k9q" in steps["inspect"].stdout
        assert steps["restart"].state is StepState.AWAITING_APPROVAL
        assert steps["verify"].state is StepState.PENDING

        alice = await stack.person("alice", (Role.RESPONDER,))
        response = await stack.http.post(
            f"/api/incidents/{incident_id}/steps/restart/approval",
            json={"comment": "logs show a stale connection pool"},
            headers=alice,
        )
        assert response.status_code == 200, response.text

        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        final = {s.id: s for s in result.steps}
        assert final["restart"].approved_by == "alice"
        assert final["restart"].stdout.strip() == "restarting payment-svc-7d9f8b6c4-x2k9q"
        assert final["verify"].state is StepState.SUCCEEDED

        described = await stack.handle(incident_id).describe()
        attrs = described.typed_search_attributes
        assert attrs.get(sa.STATUS) == "resolved"
        assert attrs.get(sa.SERVICE) == "payment-svc"
        assert attrs.get(sa.SEVERITY) == "warning"
        assert attrs.get(sa.SOURCE) == "alertmanager"
        assert attrs.get(sa.RUNBOOK_ID) == runbook.id
        assert attrs.get(sa.RUNBOOK_VERSION) == 1
        assert attrs.get(sa.AUTOMATED) is True  # the safe steps ran on their own
        assert attrs.get(sa.ESCALATED) is False
        found = [
            e.id
            async for e in client.list_workflows(
                f'IncidentService = "payment-svc" AND RunbookId = "{runbook.id}"'
            )
        ]
        assert found == [incident_id]

        events = await history_events(stack.handle(incident_id))
        accepted = [
            e
            for e in events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        ]
        assert len(accepted) == 1
        update_input = accepted[0].workflow_execution_update_accepted_event_attributes
        request = update_input.accepted_request
        assert request.input.name == "approve_step"
        recorded = json.loads(request.input.args.payloads[0].data)
        assert recorded["approver"] == "alice"  # the token's person
        assert recorded["authenticated_by"] == f"api-token {token_of(alice).split('_')[1]}"
        assert recorded["step_id"] == "restart"
        assert activity_summaries(events) == [
            "step inspect: Inspect the pod",
            "step restart: Restart the pod",
            "step verify: Verify",
            "record run outcome for trust",
        ]


async def test_the_state_query_only_reads(client: Client, engine: AsyncEngine) -> None:
    """The query answers each step's card (derived) without writing it into the state: the
    result, built from the state, carries none of what queries computed."""
    async with running_stack(client, engine) as stack:
        name = unique("Reader")
        await stack.add_runbook(
            {
                "id": unique("reader-"),
                "title": "Read",
                "selectors": [{"alertname": name}],
                "steps": [{"id": "go", "title": "Go", "command": "echo go", "risk": "caution"}],
            }
        )
        response = await stack.post_generic(generic_alert(name))
        incident_id = response.json()["incident_id"]
        waiting = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            what="waiting for approval",
        )
        again = await stack.state(incident_id)
        ada = await stack.person("ada-reader", (Role.RESPONDER,))
        approved = await stack.http.post(
            f"/api/incidents/{incident_id}/steps/go/approval", json={}, headers=ada
        )
        assert approved.status_code == 200, approved.text
        result = await stack.handle(incident_id).result()

    assert waiting.steps[0].card
    assert again.steps[0].card == waiting.steps[0].card
    assert result.status is IncidentStatus.RESOLVED
    assert result.steps[0].card == ""  # no query wrote into the state
