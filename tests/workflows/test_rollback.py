"""Compensations: completed steps are undone newest first when a later step fails or on abort."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from schemas.identity import Role
from schemas.incident import IncidentStatus, StepState
from tests.harness import activity_summaries, generic_alert, history_events, running_stack, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


def _three_steps(name: str, third: str) -> dict[str, object]:
    return {
        "id": unique("saga-"),
        "title": "Three changes",
        "selectors": [{"alertname": name}],
        "on_failure": "rollback",
        "variables": [{"name": "log", "source": "label:log"}],
        "steps": [
            {
                "id": "one",
                "title": "First change",
                "command": "echo do-one >> {{ log }}",
                "rollback": "echo undo-one >> {{ log }}",
                "risk": "safe",
            },
            {
                "id": "two",
                "title": "Second change",
                "command": "echo do-two >> {{ log }}",
                "rollback": "echo undo-two >> {{ log }}",
                "risk": "safe",
            },
            {
                "id": "three",
                "title": "Third change",
                "command": third,
                "rollback": "echo undo-three >> {{ log }}",
                "risk": "caution",
            },
        ],
    }


async def test_failed_third_step_rolls_back_two_then_one(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "actions.log"
    async with running_stack(client, engine) as stack:
        name = unique("Saga")
        await stack.add_runbook(_three_steps(name, "echo do-three >> {{ log }}; exit 3"))
        response = await stack.post_generic(generic_alert(name, labels={"log": str(log)}))
        incident_id = response.json()["incident_id"]
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            what="third step waiting",
        )
        dana = await stack.person("dana", (Role.RESPONDER,))
        approved = await stack.http.post(
            f"/api/incidents/{incident_id}/steps/three/approval", json={}, headers=dana
        )
        assert approved.status_code == 200, approved.text
        result = await stack.handle(incident_id).result()

    assert result.status is IncidentStatus.ROLLED_BACK
    assert "step three failed" in result.outcome
    steps = {s.id: s for s in result.steps}
    assert steps["three"].state is StepState.FAILED
    assert steps["three"].exit_code == 3
    assert steps["three"].attempts == 1  # a caution step is never retried on its own
    assert steps["two"].state is StepState.ROLLED_BACK
    assert steps["one"].state is StepState.ROLLED_BACK
    # The failed step's own rollback is not run: it may not have applied.
    assert log.read_text().split() == ["do-one", "do-two", "do-three", "undo-two", "undo-one"]
    events = await history_events(stack.handle(incident_id))
    assert activity_summaries(events)[-3:-1] == [
        "rollback two: Second change",
        "rollback one: First change",
    ]


async def test_abort_while_waiting_rolls_back_and_records_who_aborted(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "actions.log"
    async with running_stack(client, engine) as stack:
        name = unique("Abort")
        await stack.add_runbook(_three_steps(name, "echo do-three >> {{ log }}"))
        response = await stack.post_generic(generic_alert(name, labels={"log": str(log)}))
        incident_id = response.json()["incident_id"]
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            what="third step waiting",
        )
        erin = await stack.person("erin", (Role.RESPONDER,))
        response = await stack.http.post(
            f"/api/incidents/{incident_id}/abort",
            json={"reason": "wrong cluster"},
            headers=erin,
        )
        assert response.status_code == 200, response.text
        result = await stack.handle(incident_id).result()
        # A second abort on a closed incident is refused with a reason, not silently accepted.
        again = await stack.http.post(f"/api/incidents/{incident_id}/abort", headers=erin)

    assert again.status_code in (404, 409)
    assert result.status is IncidentStatus.ABORTED
    assert "erin" in result.outcome
    assert "wrong cluster" in result.outcome
    assert log.read_text().split() == ["do-one", "do-two", "undo-two", "undo-one"]
    # Issue #19: the step it waited on will never run, and says so (was awaiting_approval).
    three = {s.id: s for s in result.steps}["three"]
    assert three.state is StepState.SKIPPED
    assert three.note == "not run: incident aborted"
    assert not [s for s in result.steps if s.state is StepState.AWAITING_APPROVAL]
    events = await history_events(stack.handle(incident_id))
    updates = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    assert [u.name for u in updates] == ["abort"]
    assert b'"actor":"erin"' in updates[0].args.payloads[0].data  # the token's person


async def test_abort_during_a_running_step_stops_it(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "actions.log"
    async with running_stack(client, engine) as stack:
        name = unique("AbortRunning")
        await stack.add_runbook(
            {
                "id": unique("slow-"),
                "title": "Slow change",
                "selectors": [{"alertname": name}],
                "variables": [{"name": "log", "source": "label:log"}],
                "steps": [
                    {
                        "id": "slow",
                        "title": "Slow step",
                        "command": "echo started >> {{ log }}; sleep 30; "
                        "echo finished >> {{ log }}",
                        "rollback": "echo undo-slow >> {{ log }}",
                        "risk": "safe",
                    }
                ],
            }
        )
        response = await stack.post_generic(generic_alert(name, labels={"log": str(log)}))
        incident_id = response.json()["incident_id"]
        await assert_eventually(
            lambda: _read(log), lambda text: "started" in text, what="step started"
        )
        fay = await stack.person("fay", (Role.RESPONDER,))
        aborted = await stack.http.post(f"/api/incidents/{incident_id}/abort", headers=fay)
        assert aborted.status_code == 200, aborted.text
        result = await stack.handle(incident_id).result()

    assert result.status is IncidentStatus.ABORTED
    # Cancelled on the agent (its process group killed); it never completed, so no undo runs.
    assert log.read_text().split() == ["started"]


async def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""
