"""Who may approve: N different people, the incident commander, an editor is not their own
approver, stale cards refused; escalation by timer when nobody acknowledges, and by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from db.incident_claims import IncidentClaimStore
from domain.alerts.normalize import generic
from schemas.incident import (
    ApprovalDecision,
    ApprovalRule,
    CommanderChange,
    HumanAction,
    IncidentState,
    IncidentStatus,
    StepState,
)
from schemas.runbook import StepRisk
from schemas.webhooks.generic import GenericAlertBody
from services import incidents as incident_client
from tests.harness import Stack, running_stack, unique
from tests.support import assert_eventually
from tests.workflows.escalation_support import escalated_twice

pytestmark = pytest.mark.temporal


async def _abort(stack: Stack, client: Client, incident_id: str) -> None:
    """Abort and wait for the end, so the blast-radius slot is released before workers stop."""
    await incident_client.abort(client, incident_id, HumanAction(actor="test"))
    await stack.handle(incident_id).result()


async def _incident(
    stack: Stack, client: Client, log: Path, rules: dict[StepRisk, ApprovalRule], **kw: Any
) -> str:
    name = unique("Approve")
    await stack.add_runbook(
        {
            "id": unique("appr-"),
            "title": "Approvals",
            "selectors": [{"alertname": name}],
            "variables": [{"name": "log", "source": "label:log"}],
            "steps": [
                {
                    "id": "drop",
                    "title": "Drop cache",
                    "command": "echo drop >> {{ log }}",
                    "risk": "dangerous",
                    "approval_timeout_s": 7200,
                },
                {
                    "id": "tune",
                    "title": "Tune",
                    "command": "echo tune >> {{ log }}",
                    "risk": "caution",
                },
            ],
        }
    )
    alert = generic.normalize(
        GenericAlertBody(
            name=name, service="checkout", severity="critical", labels={"log": str(log)}
        ),
        datetime.now(UTC),
        "digest",
    )[0]
    from domain.alerts.choose import choose_runbook

    selected = choose_runbook(await stack.runbooks.latest(), alert)
    accepted = await incident_client.deliver_alert(
        client,
        stack.settings,
        alert,
        selected,
        approval_rules=rules,
        claims=IncidentClaimStore(stack.engine),
        **kw,
    )
    assert accepted.incident_id is not None
    return accepted.incident_id


async def _waiting(stack: Stack, incident_id: str, step: str) -> IncidentState:
    return await assert_eventually(
        lambda: stack.state(incident_id),
        lambda s: next(v for v in s.steps if v.id == step).state is StepState.AWAITING_APPROVAL,
        what=f"{step} waiting",
    )


async def _refused(client: Client, incident_id: str, decision: ApprovalDecision) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await incident_client.approve_step(client, incident_id, decision)
    return str(err.value.cause)


async def test_dangerous_step_in_a_critical_incident_needs_two_people_one_the_commander(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    rules = {
        StepRisk.DANGEROUS: ApprovalRule(approvals=2, commander_required=True),
        StepRisk.CAUTION: ApprovalRule(),
    }
    async with running_stack(client, engine) as stack:
        incident = await _incident(stack, client, log, rules, commander="carol")
        await _waiting(stack, incident, "drop")

        def approve(who: str) -> ApprovalDecision:
            return ApprovalDecision(step_id="drop", approver=who, confirm="drop", channel="slack")

        said = await incident_client.approve_step(client, incident, approve("alice"))
        assert "needs 1 more approval" in said
        assert "carol" in said
        state = await stack.state(incident)
        drop = next(v for v in state.steps if v.id == "drop")
        assert drop.state is StepState.AWAITING_APPROVAL
        assert [a.approver for a in drop.approvals] == ["alice"]
        assert not log.exists()

        assert "already approved" in await _refused(client, incident, approve("alice"))
        assert "incident commander (carol)" in await _refused(client, incident, approve("bob"))
        await incident_client.approve_step(client, incident, approve("carol"))
        state = await _waiting(stack, incident, "tune")
        drop = next(v for v in state.steps if v.id == "drop")
        assert drop.state is StepState.SUCCEEDED
        assert drop.approved_by == "alice, carol"
        assert log.read_text().split() == ["drop"]
        await _abort(stack, client, incident)


async def test_whoever_edits_a_command_cannot_be_its_only_approver_and_stale_cards_are_refused(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    rules = {StepRisk.DANGEROUS: ApprovalRule(), StepRisk.CAUTION: ApprovalRule()}
    async with running_stack(client, engine) as stack:
        incident = await _incident(stack, client, log, rules)
        state = await _waiting(stack, incident, "drop")
        card = next(v for v in state.steps if v.id == "drop").card
        edited = f"echo drop-edited >> {log}"
        said = await incident_client.approve_step(
            client,
            incident,
            ApprovalDecision(
                step_id="drop", approver="alice", command=edited, confirm="drop", card=card
            ),
        )
        assert "someone other than alice" in said
        state = await stack.state(incident)
        drop = next(v for v in state.steps if v.id == "drop")
        assert drop.command == edited
        assert drop.edited_by == "alice"
        assert drop.card != card  # the edit changed what is being approved

        stale = ApprovalDecision(step_id="drop", approver="bob", confirm="drop", card=card)
        assert "out of date" in await _refused(client, incident, stale)
        again = ApprovalDecision(step_id="drop", approver="alice", confirm="drop", card=drop.card)
        assert "already approved" in await _refused(client, incident, again)
        await incident_client.approve_step(
            client,
            incident,
            ApprovalDecision(step_id="drop", approver="bob", confirm="drop", card=drop.card),
        )
        await _waiting(stack, incident, "tune")
        assert log.read_text().split() == ["drop-edited"]
        # The first human to act became the commander; it can be handed over.
        state = await stack.state(incident)
        assert state.commander == "alice"
        await incident_client.assign_commander(
            client, incident, CommanderChange(commander="bob", actor="alice")
        )
        assert (await stack.state(incident)).commander == "bob"
        await _abort(stack, client, incident)


async def test_unacknowledged_incident_escalates_on_its_timer_and_by_hand(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    async with running_stack(client, engine, ack_timeout_s=600) as stack:
        incident = await _incident(
            stack, temporal_env.client, log, {StepRisk.DANGEROUS: ApprovalRule()}
        )
        handle = temporal_env.client.get_workflow_handle(incident)
        started = await temporal_env.get_current_time(handle)
        state = await escalated_twice(stack, incident, "two unacknowledged escalations")
        assert [e.target for e in state.escalations] == ["primary-oncall", "secondary-oncall"]
        assert "not acknowledged within 600s" in state.escalations[0].reason
        assert "not acknowledged within 1200s" in state.escalations[1].reason
        assert state.escalations[0].step_id is None
        assert await temporal_env.get_current_time(handle) >= started + timedelta(seconds=1200)
        assert state.status is IncidentStatus.ESCALATED

        said = await incident_client.escalate(
            client, incident, HumanAction(actor="dave", reason="need the DBA")
        )
        assert "level 2" in said
        state = await stack.state(incident)
        assert len(state.escalations) == 3
        assert state.escalations[-1].reason == "escalated by dave: need the DBA"
        await _abort(stack, client, incident)


async def test_acknowledging_in_time_stops_the_escalation_timer(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    async with running_stack(client, engine, ack_timeout_s=600) as stack:
        incident = await _incident(stack, client, log, {StepRisk.DANGEROUS: ApprovalRule()})
        await _waiting(stack, incident, "drop")
        await incident_client.acknowledge(client, incident, HumanAction(actor="erin"))
        # Now let virtual time run well past the deadline: nothing may escalate.
        handle = temporal_env.client.get_workflow_handle(incident)
        await temporal_env.fast_forward(handle, timedelta(seconds=1500))
        assert (await handle.query("state", result_type=IncidentState)).escalations == []
        await _abort(stack, client, incident)
