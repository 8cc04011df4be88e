"""Issue #19 item 4: an incident resolves when its alerts resolve (or a person resolves it), not
because its runbook ran to the end; a failed step keeps it open; an abort leaves no step
awaiting approval."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.incident import (
    ApprovalDecision,
    HumanAction,
    IncidentState,
    IncidentStatus,
    InterruptedStepDecision,
    StepState,
)
from services import incidents as incident_client
from tests.harness import Stack, generic_alert, running_stack, unique
from tests.support import assert_eventually
from workflows.incident import IncidentWorkflow

pytestmark = pytest.mark.temporal


async def _open(stack: Stack, name: str, *steps: dict[str, Any]) -> str:
    await stack.add_runbook(
        {
            "id": unique("closing-"),
            "title": "Closing",
            "selectors": [{"alertname": name}],
            "steps": list(steps),
        }
    )
    response = await stack.post_generic(generic_alert(name, dedup_key=f"{name}-key"))
    assert response.status_code == 202, response.text
    incident_id: str = response.json()["incident_id"]
    return incident_id


async def _status(stack: Stack, incident_id: str, status: IncidentStatus) -> IncidentState:
    return await assert_eventually(
        lambda: stack.state(incident_id),
        lambda s: s.status is status,
        timeout=45,
        what=status.value,
    )


async def _details(stack: Stack, incident_id: str) -> str:
    meta = await stack.handle(incident_id).query("__temporal_workflow_metadata")
    return str(meta.current_details)


async def _resolve_alert(stack: Stack, name: str) -> None:
    body = generic_alert(name, dedup_key=f"{name}-key", status="resolved")
    response = await stack.post_generic(body)
    assert response.status_code == 202, response.text


async def test_runbook_done_while_alert_fires_stays_open_until_the_alert_resolves(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, hold_open_while_firing=True) as stack:
        name = unique("StillFiring")
        incident_id = await _open(
            stack, name, {"id": "fix", "title": "Fix", "command": "echo fixed", "risk": "safe"}
        )
        state = await _status(stack, incident_id, IncidentStatus.MONITORING)
        assert state.steps[0].state is StepState.SUCCEEDED
        assert state.closed_at is None
        assert not state.outcome
        held = [t.message for t in state.timeline if t.kind == "held_open"]
        assert held
        assert f"{name} still firing" in held[0]
        assert "Runbook completed, but" in await _details(stack, incident_id)
        desc = await stack.handle(incident_id).describe()
        assert desc.close_time is None  # still running in Temporal too

        await _resolve_alert(stack, name)
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert result.outcome == "runbook completed; alert resolved at its source"
        assert result.clean  # ran as written and fixed it: counts towards trust


async def test_alert_already_resolved_when_the_runbook_ends_resolves_at_once(
    client: Client, engine: AsyncEngine
) -> None:
    """3am, the good case: the alert cleared during the last step; nothing left to watch."""
    async with running_stack(client, engine, hold_open_while_firing=True) as stack:
        name = unique("Cleared")
        incident_id = await _open(
            stack,
            name,
            {"id": "fix", "title": "Fix", "command": "sleep 2; echo fixed", "risk": "safe"},
        )
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.steps[0].state is StepState.RUNNING,
            what="fix running",
        )
        await _resolve_alert(stack, name)
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert result.outcome == "runbook completed; alert resolved at its source"
        assert not [t for t in result.timeline if t.kind == "held_open"]


async def test_a_step_skipped_after_failing_keeps_it_open_until_a_person_resolves(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, hold_open_while_firing=True) as stack:
        name = unique("FailedStep")
        incident_id = await _open(
            stack,
            name,
            {"id": "broken", "title": "Broken", "command": "exit 3", "risk": "caution"},
            {"id": "after", "title": "After", "command": "echo after", "risk": "safe"},
        )
        await _status(stack, incident_id, IncidentStatus.AWAITING_APPROVAL)
        await incident_client.approve_step(
            client,
            incident_id,
            ApprovalDecision(step_id="broken", approver="alice"),
        )
        await _status(stack, incident_id, IncidentStatus.NEEDS_HUMAN)
        await incident_client.decide_step(
            client,
            incident_id,
            InterruptedStepDecision(step_id="broken", actor="bob", action="skip"),
        )
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: any(t.kind == "held_open" for t in s.timeline),
            what="held open",
        )
        state = await stack.state(incident_id)
        assert state.status is IncidentStatus.NEEDS_HUMAN
        assert [s.state for s in state.steps] == [StepState.SKIPPED, StepState.SUCCEEDED]
        assert "step broken failed" in await _details(stack, incident_id)

        # The alert clearing does not close it: the failed step still needs a person's word.
        await _resolve_alert(stack, name)
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: any(t.kind == "alert_resolved" for t in s.timeline),
            what="alert resolved recorded",
        )
        assert (await stack.state(incident_id)).status is IncidentStatus.NEEDS_HUMAN

        gus = await stack.person("gus")
        done = await stack.http.post(
            f"/api/incidents/{incident_id}/resolve", json={"reason": "checked"}, headers=gus
        )
        assert done.status_code == 200, done.text
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert result.outcome == "resolved by gus: checked"
        assert not result.clean


async def test_a_held_incident_still_escalates_on_its_timers(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(
        client, engine, hold_open_while_firing=True, resolve_timeout_s=3
    ) as stack:
        name = unique("Escalates")
        incident_id = await _open(
            stack, name, {"id": "fix", "title": "Fix", "command": "echo fixed", "risk": "safe"}
        )
        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: bool(s.escalations) and any(t.kind == "held_open" for t in s.timeline),
            timeout=45,
            what="escalated while held open",
        )
        assert "not resolved within" in state.escalations[0].reason
        assert not state.status.is_closed
        await stack.handle(incident_id).execute_update(
            IncidentWorkflow.abort,
            HumanAction(actor="erin"),
        )
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.ABORTED


async def test_without_the_setting_the_runbook_end_resolves_as_before(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, hold_open_while_firing=False) as stack:
        name = unique("Legacy")
        incident_id = await _open(
            stack, name, {"id": "fix", "title": "Fix", "command": "echo fixed", "risk": "safe"}
        )
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert result.outcome == "runbook completed"


async def test_the_ui_list_tells_an_aborted_incident_from_a_resolved_one(
    client: Client, engine: AsyncEngine
) -> None:
    """Both end Completed (their readers take the result as the incident's state); the list's
    IncidentStatus column and filter, and the current details, say how each really ended."""
    async with running_stack(client, engine) as stack:
        step = {"id": "fix", "title": "Fix", "command": "echo fixed", "risk": "caution"}
        resolved = await _open(stack, unique("UiResolved"), step)
        aborted = await _open(stack, unique("UiAborted"), step)
        for incident_id in (resolved, aborted):
            await _status(stack, incident_id, IncidentStatus.AWAITING_APPROVAL)
        await incident_client.approve_step(
            client, resolved, ApprovalDecision(step_id="fix", approver="alice")
        )
        await incident_client.abort(client, aborted, HumanAction(actor="erin", reason="wrong"))
        for incident_id in (resolved, aborted):
            await stack.handle(incident_id).result()
        aborted_details = await _details(stack, aborted)

        queue = f'TaskQueue = "{stack.settings.orchestrator_task_queue}"'

        async def listed(status: str) -> list[str]:
            query = f'{queue} AND IncidentStatus = "{status}"'
            return [w.id async for w in client.list_workflows(query)]

        await assert_eventually(lambda: listed("aborted"), lambda ids: ids == [aborted])
        assert await listed("resolved") == [resolved]
        execution = [w.status.name async for w in client.list_workflows(queue)]
        assert execution == ["COMPLETED", "COMPLETED"]
        assert aborted_details.startswith("aborted: aborted by erin: wrong")
