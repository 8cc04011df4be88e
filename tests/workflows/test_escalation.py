"""Escalation is a durable timer: tested with the dev server's real time skipping, no sleeps."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from db.escalations import EscalationStore
from schemas import search_attributes as sa
from schemas.incident import ApprovalDecision, HumanAction, IncidentStatus, StepState
from services import incidents as incident_client
from tests.harness import running_stack
from tests.support import assert_eventually
from tests.workflows.escalation_support import (
    add_runbook_for_new_alert,
    approval_step,
    escalated_twice,
    start_incident,
)

pytestmark = pytest.mark.temporal


async def test_unapproved_step_escalates_level_by_level_then_approval_completes(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        name = await add_runbook_for_new_alert(
            stack,
            "DiskFull",
            "Disk full",
            [
                {"id": "look", "title": "Look", "command": "echo df", "risk": "safe"},
                approval_step("clean", "Clean old logs", "echo cleaned", 900),
            ],
        )
        incident_id = await start_incident(
            temporal_env, stack, name, service="checkout", severity="critical"
        )
        handle = temporal_env.client.get_workflow_handle(incident_id)
        started = await temporal_env.get_current_time(handle)

        state = await escalated_twice(stack, incident_id, "two escalation levels")
        assert state.status is IncidentStatus.ESCALATED
        assert [e.target for e in state.escalations] == ["primary-oncall", "secondary-oncall"]
        assert [e.level for e in state.escalations] == [1, 2]
        assert all(e.step_id == "clean" for e in state.escalations)
        assert "not approved within 900s" in state.escalations[0].reason
        gap = state.escalations[1].at - state.escalations[0].at
        assert timedelta(seconds=900) <= gap < timedelta(seconds=910)  # + the activity itself
        assert await temporal_env.get_current_time(handle) >= started + timedelta(seconds=1800)
        # Recorded durably by the escalation activity, not only in workflow memory.
        stored = await EscalationStore(engine).for_incident(incident_id)
        assert [e.target for e in stored] == ["primary-oncall", "secondary-oncall"]
        described = await handle.describe()
        assert described.typed_search_attributes.get(sa.ESCALATED) is True
        assert described.typed_search_attributes.get(sa.STATUS) == "escalated"

        await incident_client.approve_step(
            client, incident_id, ApprovalDecision(step_id="clean", approver="bob")
        )
        result = await incident_client.incident_handle(client, incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert result.steps[1].state is StepState.SUCCEEDED
        assert result.steps[1].approved_by == "bob"
        assert len(result.escalations) == 2


async def test_approval_in_time_cancels_the_escalation_timer(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        name = await add_runbook_for_new_alert(
            stack, "Latency", "Latency", [approval_step("scale", "Scale out", "echo scaled", 600)]
        )
        with temporal_env.with_time_skipping_disabled():
            incident_id = await start_incident(temporal_env, stack, name)
        handle = temporal_env.client.get_workflow_handle(incident_id)
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            what="waiting for approval",
        )
        assert await temporal_env.fast_forward(handle, timedelta(seconds=590))
        state = await stack.state(incident_id)
        assert state.escalations == []
        await incident_client.approve_step(
            client, incident_id, ApprovalDecision(step_id="scale", approver="carol")
        )
        result = await incident_client.incident_handle(client, incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert result.escalations == []


async def test_a_person_escalating_as_a_step_times_out_pages_the_next_level_not_the_same_twice(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine
) -> None:
    """The step's deadline and a person's `escalate` land in one workflow task (the workers are
    stopped while both arrive): escalation is serialised, so level 1 is paged once, then 2."""
    async with running_stack(client, engine) as first:
        name = await add_runbook_for_new_alert(
            first, "Race", "Race", [approval_step("scale", "Scale out", "echo scaled", 600)]
        )
        with temporal_env.with_time_skipping_disabled():
            incident_id = await start_incident(temporal_env, first, name)
        await assert_eventually(
            lambda: first.state(incident_id),
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            what="waiting for approval",
        )
        queues = {
            "orchestrator_task_queue": first.settings.orchestrator_task_queue,
            "agent_task_queue": first.settings.agent_task_queue,
        }
    handle = temporal_env.client.get_workflow_handle(incident_id)
    assert await temporal_env.fast_forward(handle, timedelta(seconds=601))
    asked = asyncio.create_task(
        handle.execute_update("escalate", HumanAction(actor="rosa", reason="now"), result_type=str)
    )
    await asyncio.sleep(1)  # the update now waits in the same workflow task as the fired timer
    async with running_stack(client, engine, **queues) as second:
        said = await asyncio.wait_for(asked, 60)
        state = await assert_eventually(
            lambda: second.state(incident_id),
            lambda s: len(s.escalations) == 2,
            timeout=60,
            what="both escalations recorded",
        )
        await incident_client.abort(client, incident_id, HumanAction(actor="rosa", reason="done"))
        await incident_client.incident_handle(client, incident_id).result()

    assert sorted(e.level for e in state.escalations) == [1, 2], state.escalations
    assert said.startswith("escalated to level")
