"""Issue 17, validated resolution (virtual time): when the alert resolves or a person proposes
resolution the incident soaks for its level's period; the alert firing again sends it back to
mitigating, and only a clean soak resolves it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from db.incident_claims import IncidentClaimStore
from domain.alerts.normalize import generic
from domain.audit.redact import Redactor
from schemas.alert import Alert, AlertStatus
from schemas.incident import HumanAction, IncidentState, IncidentStatus
from schemas.webhooks.generic import GenericAlertBody
from services import incidents as incident_client
from services.audit.history import derive
from tests.harness import Stack, running_stack, unique
from tests.support import assert_eventually
from tests.workflows.virtual_time import open_waiting

pytestmark = pytest.mark.temporal


async def _open(temporal_env: WorkflowEnvironment, stack: Stack, severity: str) -> Alert:
    body = GenericAlertBody(
        name=unique("Soak"), title="Queue backing up", service=unique("soak-"), severity=severity
    )
    alert = generic.normalize(body, datetime.now(UTC), "digest")[0]
    await open_waiting(temporal_env, stack, alert)
    return alert


async def _send(client: Client, stack: Stack, alert: Alert, status: AlertStatus) -> None:
    again = alert.model_copy(update={"status": status, "event_id": uuid.uuid4().hex})
    accepted = await incident_client.deliver_alert(
        client, stack.settings, again, claims=IncidentClaimStore(stack.engine)
    )
    assert accepted.action in ("resolved_sent", "started_or_attached"), accepted


async def _state(stack: Stack, incident: str, kind: str, count: int = 1) -> IncidentState:
    return await assert_eventually(
        lambda: stack.state(incident),
        lambda s: sum(e.kind == kind for e in s.timeline) >= count,
        what=f"{count} x {kind}",
    )


async def _forward(
    temporal_env: WorkflowEnvironment, incident: str, seconds: int, *, closes: bool = False
) -> None:
    """Virtual time on; False from fast_forward means the workflow closed before the target."""
    handle = temporal_env.client.get_workflow_handle(incident)
    reached = await temporal_env.fast_forward(handle, timedelta(seconds=seconds))
    assert reached or closes


async def test_a_re_firing_alert_interrupts_the_soak_and_a_clean_soak_resolves(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, soak_period=True, correlation_window_s=0) as stack:
        alert = await _open(temporal_env, stack, "warning")  # P2: 300s soak
        incident = incident_client.incident_id_for(alert)
        await _send(client, stack, alert, AlertStatus.RESOLVED)
        state = await _state(stack, incident, "soak_started")
        assert state.status is IncidentStatus.MONITORING
        assert state.soak_until is not None

        await _forward(temporal_env, incident, 200)
        await _send(client, stack, alert, AlertStatus.FIRING)
        state = await _state(stack, incident, "soak_interrupted")
        assert state.status is IncidentStatus.MITIGATING
        assert state.soak_until is None
        await _forward(temporal_env, incident, 200)  # past the first soak's end: still open
        described = await stack.handle(incident).describe()
        assert described.status is WorkflowExecutionStatus.RUNNING

        await _send(client, stack, alert, AlertStatus.RESOLVED)
        await _state(stack, incident, "soak_started", 2)
        await _forward(temporal_env, incident, 301, closes=True)
        result = await stack.handle(incident).result()
        assert result.status is IncidentStatus.RESOLVED
        assert result.outcome == "alert resolved at its source; clean soak of 300s"
        kinds = [e.kind for e in result.timeline if e.kind.startswith("soak")]
        assert kinds == ["soak_started", "soak_interrupted", "soak_started", "soak_clean"]

        # Time in each phase, MTTA and MTTR, from the history alone (the audit export's view).
        events = [e async for e in stack.handle(incident).fetch_history_events()]
        closed = next(r for r in derive(events, Redactor()).records if r["kind"] == "closed")
        phases = closed["data"]["phases_s"]
        assert phases["monitoring"] >= 200 + 300  # the interrupted soak, then the clean one
        assert phases["mitigating"] >= 200
        assert closed["data"]["mttr_s"] >= sum(phases.values()) - 1
        assert closed["data"]["mtta_s"] is None  # nobody acknowledged it


async def test_a_proposed_resolution_soaks_for_the_level_period(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, soak_period=True, correlation_window_s=0) as stack:
        alert = await _open(temporal_env, stack, "critical")  # P1: 900s soak
        incident = incident_client.incident_id_for(alert)
        await incident_client.resolve(
            client, incident, HumanAction(actor="lee", reason="rolled back the deploy")
        )
        await _state(stack, incident, "soak_started")
        await _forward(temporal_env, incident, 850)
        assert (await stack.handle(incident).describe()).status is WorkflowExecutionStatus.RUNNING
        await _forward(temporal_env, incident, 60, closes=True)
        result = await stack.handle(incident).result()
        assert result.status is IncidentStatus.RESOLVED
        assert result.outcome == "resolved by lee: rolled back the deploy; clean soak of 900s"


async def test_a_false_positive_closes_without_a_soak(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, soak_period=True, correlation_window_s=0) as stack:
        alert = await _open(temporal_env, stack, "warning")
        incident = incident_client.incident_id_for(alert)
        await incident_client.act(
            client, incident, "mark_false_positive", HumanAction(actor="lee", reason="test rig")
        )
        result = await stack.handle(incident).result()
        assert result.status is IncidentStatus.RESOLVED
        assert not any(e.kind.startswith("soak") for e in result.timeline)


async def test_a_failed_verification_after_the_soak_goes_back_to_mitigating(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    """The runbook's final safe step (a check) runs again when the soak ends: failing, the
    incident goes back to mitigating; after a person's resolve and a passing check it resolves."""
    broken = tmp_path / "still-broken"
    async with running_stack(
        client, engine, soak_period=True, correlation_window_s=0, hold_open_while_firing=True
    ) as stack:
        name = unique("Verify")
        await stack.add_runbook(
            {
                "id": unique("verify-"),
                "title": "Verify after soak",
                "selectors": [{"alertname": name}],
                "steps": [
                    {"id": "check", "title": "Healthy?", "command": f"test ! -e {broken}",
                     "risk": "safe"},
                ],
            }
        )  # fmt: skip
        body = GenericAlertBody(
            name=name, title="Flaky", service=unique("ver-"), severity="warning"
        )
        alert = generic.normalize(body, datetime.now(UTC), "digest")[0]
        with temporal_env.with_time_skipping_disabled():
            accepted = await incident_client.deliver_alert(
                temporal_env.client, stack.settings, alert, claims=IncidentClaimStore(stack.engine)
            )
        incident = accepted.incident_id or ""
        stack.touched.add(incident)
        await _state(stack, incident, "held_open")
        await _send(client, stack, alert, AlertStatus.RESOLVED)
        await _state(stack, incident, "soak_started")
        broken.write_text("x")
        await _forward(temporal_env, incident, 301)
        state = await _state(stack, incident, "soak_verification_failed")
        assert state.status is IncidentStatus.MITIGATING
        failed = next(e for e in state.timeline if e.kind == "soak_verification_failed")
        assert failed.message.startswith("check: ")
        assert failed.message.endswith(": back to mitigating")
        broken.unlink()
        await incident_client.resolve(client, incident, HumanAction(actor="lee", reason="fixed"))
        await _state(stack, incident, "soak_started", 2)
        await _forward(temporal_env, incident, 301, closes=True)
        result = await stack.handle(incident).result()
        assert result.status is IncidentStatus.RESOLVED
        assert result.outcome == "resolved by lee: fixed; clean soak of 300s"
        checks = [e for e in result.timeline if e.kind == "step_succeeded"]
        assert len(checks) == 1  # the verification re-runs are not new step results
