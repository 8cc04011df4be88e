"""Issue 13, first step: the check before a new incident's first automatic step (kill switches
and a blast-radius slot) is taken with the alert's intake claim, in one transaction, and travels
in the workflow's input; the workflow counts it only while fresh and reads again otherwise; a
slot taken there is the incident's and is given back when it closes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError

from db.incident_claims import IncidentClaimStore
from db.trust import TrustStore
from domain.alerts.choose import choose_runbook
from domain.alerts.normalize import generic
from schemas.incident import IncidentInput, IncidentState, IncidentStatus, StepState
from schemas.trust import KillSwitch, KillSwitchScope
from schemas.webhooks.generic import GenericAlertBody
from services import incidents as incident_client
from services.intake import Intake
from services.intake_opening import with_intake_check
from tests.harness import (
    Stack,
    generic_alert,
    history_events,
    local_activity_types,
    running_stack,
    unique,
)
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


def _runbook(name: str, *steps: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": unique("intake-"),
        "title": "Intake check",
        "selectors": [{"alertname": name}],
        "variables": [{"name": "log", "source": "label:log"}],
        "steps": list(steps),
    }


def _step(step_id: str, risk: str) -> dict[str, Any]:
    command = f"echo {step_id} >> {{{{ log }}}}"
    return {"id": step_id, "title": step_id, "command": command, "risk": risk}


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


async def _input(stack: Stack, name: str, service: str, log: Path) -> IncidentInput:
    """The input the webhook builds for a copilot incident of `name` (its runbook chosen)."""
    alert = generic.normalize(
        GenericAlertBody(name=name, service=service, labels={"log": str(log)}),
        datetime.now(UTC),
        "digest",
    )[0]
    kept: list[IncidentInput] = []

    class Keep:
        async def accept(
            self, incident: IncidentInput, group: str | None, *, read_opening: bool = False
        ) -> Any:
            kept.append(incident)

    selected = choose_runbook(await stack.runbooks.latest(), alert)
    await incident_client.deliver_alert(
        stack.client,
        stack.settings,
        alert,
        selected,
        intake=Keep(),  # type: ignore[arg-type]
    )
    return kept[0]


async def _claimed(stack: Stack, incident: IncidentInput, fresh_s: float) -> IncidentInput:
    """Claimed as the intake claims it, the check taken in the same transaction."""
    trust = TrustStore(stack.engine)
    _, checked = await IncidentClaimStore(stack.engine).claim_then(
        incident.incident_id,
        None,
        lambda conn, _claim: with_intake_check(conn, trust, incident, fresh_s),
        correlation_window_s=0,
        reopen_window_s=0,
    )
    return checked


async def _state(stack: Stack, incident_id: str, what: str, check: Any) -> IncidentState:
    return await assert_eventually(lambda: stack.state(incident_id), check, what=what, timeout=30)


async def test_the_first_automatic_step_is_checked_with_the_intake_claim(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    async with running_stack(client, engine, blast_radius=2, correlation_window_s=0) as stack:
        name, service = unique("Opening"), unique("opening-svc-")
        runbook = _runbook(name, _step("look", "safe"), _step("change", "caution"))
        await stack.add_runbook(runbook)
        body = generic_alert(name, service=service, labels={"log": str(log)})
        response = await stack.post_generic(body)
        assert response.status_code == 202, response.text
        incident = str(response.json()["incident_id"])
        state = await _state(
            stack,
            incident,
            "the caution step waits",
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
        )
        assert _lines(log) == ["look"]
        assert state.automation_slot
        trust = TrustStore(engine)
        assert await trust.holders(f"service:{service}") == [incident]
        events = await history_events(stack.handle(incident))
        # No local activity before the first step: its check came in the input.
        assert local_activity_types(events) == ["store_step_output_then_check"]
        started = events[0].workflow_execution_started_event_attributes
        payload = started.input.payloads[0].data
        opened = IncidentInput.model_validate_json(payload)
        assert opened.intake_check is not None
        assert opened.intake_check.slot

        # A runbook whose first step waits for a person takes no slot at intake.
        other, other_service = unique("Waits"), unique("waits-svc-")
        await stack.add_runbook(_runbook(other, _step("change", "caution")))
        body = generic_alert(other, service=other_service, labels={"log": str(log)})
        waiting = str((await stack.post_generic(body)).json()["incident_id"])
        await _state(
            stack,
            waiting,
            "its first step waits",
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
        )
        assert await trust.holders(f"service:{other_service}") == []

        lead = await stack.person(unique("intake-lead-"))
        for closing in (incident, waiting):
            answer = await stack.http.post(f"/api/incidents/{closing}/abort", headers=lead)
            assert answer.status_code == 200, answer.text
            await stack.handle(closing).result()
        assert await trust.holders(f"service:{service}") == []  # given back at close


@pytest.mark.parametrize("fresh", [True, False], ids=["fresh", "too-old"])
async def test_an_intake_read_counts_only_while_fresh(
    client: Client, engine: AsyncEngine, tmp_path: Path, fresh: bool
) -> None:
    """A switch engaged after the intake read and never broadcast (only the database knows):
    a fresh read is the first step's check, so only the second step is held; a read too old
    to count is taken again, and holds the first step."""
    log = tmp_path / "log"
    async with running_stack(client, engine, correlation_window_s=0) as stack:
        name, service = unique("Fresh" if fresh else "Stale"), unique("fresh-svc-")
        await stack.add_runbook(_runbook(name, _step("one", "safe"), _step("two", "safe")))
        incident = await _claimed(
            stack, await _input(stack, name, service, log), 60.0 if fresh else 0.0
        )
        switch = KillSwitch(
            scope=KillSwitchScope.SERVICE, value=service, engaged=True, actor="ops", reason="db"
        )
        await TrustStore(engine).set_kill_switch(switch)
        await incident_client.start_incident(client, stack.settings, incident)
        stack.touched.add(incident.incident_id)
        state = await _state(stack, incident.incident_id, "held", lambda s: s.paused)
        assert "kill switch service=" in state.pause_reason
        steps = {s.id: s for s in state.steps}
        if fresh:
            assert _lines(log) == ["one"]
            assert steps["one"].state is StepState.SUCCEEDED
        else:
            assert _lines(log) == []
            assert steps["one"].state is StepState.PENDING
        events = await history_events(stack.handle(incident.incident_id))
        assert local_activity_types(events)[0] == (
            "store_step_output_then_check" if fresh else "check_automation"
        )
        await TrustStore(engine).set_kill_switch(switch.model_copy(update={"engaged": False}))
        lead = await stack.person(unique("intake-lead-"))
        path = f"/api/incidents/{incident.incident_id}/abort"
        answer = await stack.http.post(path, headers=lead)
        assert answer.status_code == 200, answer.text
        await stack.handle(incident.incident_id).result()


async def test_a_start_refused_for_good_gives_its_slot_back(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with running_stack(client, engine, correlation_window_s=0) as stack:
        name, service = unique("Refused"), unique("refused-svc-")
        await stack.add_runbook(_runbook(name, _step("one", "safe")))
        incident = await _input(stack, name, service, tmp_path / "log")
        # No task queue: Temporal refuses the start (INVALID_ARGUMENT), whatever the retries.
        refusing = stack.settings.model_copy(update={"orchestrator_task_queue": ""})
        intake = Intake(client, refusing, IncidentClaimStore(engine), engine)
        try:
            with pytest.raises(RPCError):
                await intake.accept(incident, None)
        finally:
            await intake.stop()
        assert (await intake.counts()).failed >= 1
        assert await TrustStore(engine).holders(f"service:{service}") == []
