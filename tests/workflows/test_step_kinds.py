"""Branches, manual steps and failures with nothing to undo: the human stays in charge."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.identity import Role
from schemas.incident import IncidentStatus, StepState
from tests.harness import generic_alert, running_stack, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


async def test_conditions_manual_steps_and_a_failure_handed_to_a_human(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        ivy = await stack.person("ivy", (Role.RESPONDER,))
        name = unique("Kinds")
        await stack.add_runbook(
            {
                "id": unique("kinds-"),
                "title": "Kinds of steps",
                "selectors": [{"alertname": name}],
                "variables": [{"name": "deployment", "source": "label:deployment"}],
                "steps": [
                    {"id": "probe", "title": "Probe", "command": "echo OOMKilled", "risk": "safe"},
                    {
                        "id": "if-oom",
                        "title": "Only when OOMKilled",
                        "command": "echo raising memory",
                        "risk": "safe",
                        "condition": 'steps.probe.output contains "OOMKilled"',
                    },
                    {
                        "id": "if-evicted",
                        "title": "Only when evicted",
                        "command": "echo never",
                        "risk": "safe",
                        "condition": 'steps.probe.output contains "Evicted"',
                    },
                    {
                        "id": "judgement",
                        "title": "Prose condition",
                        "command": "echo judged",
                        "risk": "safe",
                        "condition": "if the dashboard shows a traffic spike",
                    },
                    {
                        "id": "restart",
                        "title": "Restart the deployment",
                        "command": "echo restart {{ deployment }}",
                        "risk": "safe",
                    },
                    {"id": "flaky", "title": "Fails", "command": "exit 7", "risk": "caution"},
                    {"id": "last", "title": "Last", "command": "echo last", "risk": "safe"},
                ],
            }
        )
        response = await stack.post_generic(generic_alert(name))  # no `deployment` label
        incident_id = response.json()["incident_id"]

        def waiting_on(step: str):  # type: ignore[no-untyped-def]
            return lambda s: (
                s.current_step == step
                and s.status
                in (
                    IncidentStatus.AWAITING_APPROVAL,
                    IncidentStatus.NEEDS_HUMAN,
                )
            )

        state = await assert_eventually(
            lambda: stack.state(incident_id), waiting_on("judgement"), what="judgement"
        )
        steps = {s.id: s for s in state.steps}
        assert steps["if-oom"].state is StepState.SUCCEEDED
        assert steps["if-evicted"].state is StepState.SKIPPED
        assert "condition not met" in steps["if-evicted"].note
        assert state.missing_variables == ["deployment"]
        assert steps["restart"].command is None  # never a command with a hole in it

        response = await stack.http.post(
            f"/api/incidents/{incident_id}/steps/judgement/approval", json={}, headers=ivy
        )
        assert response.status_code == 200, response.text
        await assert_eventually(
            lambda: stack.state(incident_id), waiting_on("restart"), what="manual step"
        )
        response = await stack.http.post(
            f"/api/incidents/{incident_id}/steps/restart/report",
            json={"outcome": "done", "note": "restarted from the console"},
            headers=ivy,
        )
        assert response.status_code == 200, response.text
        await assert_eventually(
            lambda: stack.state(incident_id), waiting_on("flaky"), what="caution step"
        )
        response = await stack.http.post(
            f"/api/incidents/{incident_id}/steps/flaky/approval", json={}, headers=ivy
        )
        assert response.status_code == 200, response.text
        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.NEEDS_HUMAN,
            what="failure handed to a human",
        )
        flaky = {s.id: s for s in state.steps}["flaky"]
        assert flaky.state is StepState.INTERRUPTED
        assert flaky.exit_code == 7
        # A command that exited non-zero is known to have failed: no "may or may not" here,
        # that wording is for a lost agent only.
        said = [t.message for t in state.timeline if t.kind == "needs_human"]
        assert said
        assert "failed" in said[-1]
        assert "may or may not" not in said[-1]
        response = await stack.http.post(
            f"/api/incidents/{incident_id}/steps/flaky/decision",
            json={"action": "skip"},
            headers=ivy,
        )
        assert response.status_code == 200, response.text
        result = await stack.handle(incident_id).result()

    assert result.status is IncidentStatus.RESOLVED
    final = {s.id: s for s in result.steps}
    assert final["judgement"].stdout.strip() == "judged"
    assert final["restart"].state is StepState.SUCCEEDED
    assert final["restart"].note == "done by hand (ivy): restarted from the console"
    assert final["flaky"].state is StepState.SKIPPED
    assert final["last"].state is StepState.SUCCEEDED
