"""Resolving by hand: refused, with what to do instead, while a human decision is pending; on a
closed incident, answered with when and by whom it closed (API and CLI), not a Temporal error."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError

from db.incident_claims import IncidentClaimStore
from domain.alerts.choose import choose_runbook
from domain.alerts.normalize import generic
from schemas.incident import (
    ApprovalDecision,
    HumanAction,
    IncidentState,
    IncidentStatus,
    InterruptedStepDecision,
    StepReport,
    StepState,
)
from schemas.trust import Mode
from schemas.webhooks.generic import GenericAlertBody
from services import incidents as incident_client
from tests.harness import (
    Stack,
    generic_alert,
    history_events,
    running_stack,
    serving,
    token_of,
    unique,
)
from tests.support import REPO, assert_eventually

pytestmark = pytest.mark.temporal

CLOSED = r"already closed at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by "


def _runbook(name: str, *steps: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": unique("resolve-"),
        "title": "Resolve by hand",
        "selectors": [{"alertname": name}],
        "steps": list(steps),
    }


async def _open(stack: Stack, *steps: dict[str, Any]) -> str:
    name = unique("Resolve")
    await stack.add_runbook(_runbook(name, *steps))
    response = await stack.post_generic(generic_alert(name))
    assert response.status_code == 202, response.text
    incident_id: str = response.json()["incident_id"]
    return incident_id


async def _step_in(stack: Stack, incident_id: str, step: str, state: StepState) -> IncidentState:
    return await assert_eventually(
        lambda: stack.state(incident_id),
        lambda s: next(v for v in s.steps if v.id == step).state is state,
        what=f"{step} {state.value}",
    )


async def _refusal(stack: Stack, incident_id: str) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await incident_client.resolve(stack.client, incident_id, HumanAction(actor="gus"))
    return str(getattr(err.value.cause, "message", err.value.cause))


async def _resolve_updates(stack: Stack, incident_id: str) -> list[Any]:
    return [
        e
        for e in await history_events(stack.handle(incident_id))
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        == "resolve"
    ]


async def test_resolve_is_refused_while_a_step_waits_for_approval(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        incident_id = await _open(
            stack,
            {"id": "look", "title": "Look", "command": "echo look", "risk": "safe"},
            {"id": "fix", "title": "Fix", "command": "echo fixed", "risk": "caution"},
        )
        await _step_in(stack, incident_id, "fix", StepState.AWAITING_APPROVAL)

        why = await _refusal(stack, incident_id)
        assert why == (
            "cannot resolve while step 'fix' is waiting for approval: "
            "approve or reject it, or abort"
        )
        answer = await stack.http.post(
            f"/api/incidents/{incident_id}/resolve", headers=await stack.person("gus")
        )
        assert answer.status_code == 409
        assert answer.json()["error"] == why
        state = await stack.state(incident_id)
        assert state.status is IncidentStatus.AWAITING_APPROVAL
        assert not [t for t in state.timeline if t.kind == "resolve_requested"]
        assert await _resolve_updates(stack, incident_id) == []  # refused before history

        await incident_client.approve_step(
            client, incident_id, ApprovalDecision(step_id="fix", approver="alice")
        )
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert result.steps[1].state is StepState.SUCCEEDED


async def test_resolve_is_refused_while_a_failed_step_waits_for_a_decision(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        incident_id = await _open(
            stack,
            {"id": "broken", "title": "Broken read", "command": "exit 3", "risk": "safe"},
            {"id": "after", "title": "After", "command": "echo after", "risk": "safe"},
        )
        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.NEEDS_HUMAN,
            timeout=45,
            what="the failed step handed to a human",
        )
        assert state.steps[0].state is StepState.INTERRUPTED

        why = await _refusal(stack, incident_id)
        assert why.startswith("cannot resolve while step 'broken' needs a decision (it failed")
        assert why.endswith("): decide retry, skip, rollback or abort")
        assert (await stack.state(incident_id)).status is IncidentStatus.NEEDS_HUMAN
        assert await _resolve_updates(stack, incident_id) == []

        await incident_client.decide_step(
            client,
            incident_id,
            InterruptedStepDecision(step_id="broken", actor="bob", action="skip"),
        )
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert [s.state for s in result.steps] == [StepState.SKIPPED, StepState.SUCCEEDED]


async def test_resolve_is_refused_while_a_read_along_step_waits_for_its_report(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        name = unique("ReadAlong")
        await stack.add_runbook(
            _runbook(name, {"id": "by-hand", "title": "By hand", "command": "echo hand"})
        )
        alert = generic.normalize(
            GenericAlertBody(name=name, service="checkout", severity="warning"),
            datetime.now(UTC),
            "digest",
        )[0]
        selected = choose_runbook(await stack.runbooks.latest(), alert)
        accepted = await incident_client.deliver_alert(
            client,
            stack.settings,
            alert,
            selected,
            mode=Mode.READ_ALONG,
            claims=IncidentClaimStore(stack.engine),
        )
        assert accepted.incident_id is not None
        incident_id = accepted.incident_id
        stack.touched.add(incident_id)
        await _step_in(stack, incident_id, "by-hand", StepState.AWAITING_REPORT)

        why = await _refusal(stack, incident_id)
        assert why == (
            "cannot resolve while step 'by-hand' is waiting for a report of what was done by "
            "hand: report it (done, skipped or changed), or abort"
        )
        await incident_client.report_step(
            client, incident_id, StepReport(step_id="by-hand", actor="carol", outcome="done")
        )
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED


async def _cli_resolve(stack: Stack, incident_id: str) -> tuple[int, str]:
    """`ddrun resolve` as dave, through the API (the CLI's way to act) with dave's token."""
    env = {
        **os.environ,
        "DDRUN_TOKEN": token_of(await stack.person("dave")),
        "COLUMNS": "300",
    }
    async with serving(stack) as api:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli.main",
            "resolve",
            incident_id,
            cwd=REPO,
            env={**env, "DDRUN_API_URL": api},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_resolving_a_closed_incident_says_when_and_by_whom_it_closed(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        # No runbook matches: it waits for a human to resolve it.
        response = await stack.post_generic(generic_alert(unique("Unmatched")))
        by_hand = response.json()["incident_id"]
        await assert_eventually(
            lambda: stack.state(by_hand),
            lambda s: s.match_reason.startswith("no runbook matched"),
            what="no runbook matched",
        )
        gus, eve = await stack.person("gus"), await stack.person("eve")
        done = await stack.http.post(
            f"/api/incidents/{by_hand}/resolve", json={"reason": "disk freed"}, headers=gus
        )
        assert done.status_code == 200, done.text
        result = await stack.handle(by_hand).result()
        assert result.status is IncidentStatus.RESOLVED

        again = await stack.http.post(f"/api/incidents/{by_hand}/resolve", headers=eve)
        assert again.status_code == 409
        message = again.json()["error"]
        assert re.fullmatch(
            rf"incident {by_hand} {CLOSED}gus: resolved \(resolved by gus: disk freed\)", message
        ), message
        assert result.closed_at is not None
        assert f"{result.closed_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}" in message

        with pytest.raises(incident_client.IncidentClosedError) as closed:
            await incident_client.resolve(client, by_hand, HumanAction(actor="eve"))
        assert closed.value.message == message

        code, out = await _cli_resolve(stack, by_hand)
        assert code == 2, out
        assert re.search(rf"refused \(409\): incident {by_hand} {CLOSED}gus: resolved", out), out
        assert "Temporal error" not in out

        # Closed by the runbook itself, not by a person: said so.
        completed = await _open(
            stack, {"id": "only", "title": "Only", "command": "echo ok", "risk": "safe"}
        )
        await stack.handle(completed).result()
        with pytest.raises(incident_client.IncidentClosedError) as closed:
            await incident_client.resolve(client, completed, HumanAction(actor="eve"))
        assert re.fullmatch(
            rf"incident {completed} {CLOSED}dd0c/run: resolved \(runbook completed\)",
            closed.value.message,
        ), closed.value.message

        missing = await stack.http.post(f"/api/incidents/{unique('nope-')}/resolve", headers=eve)
        assert missing.status_code == 404
