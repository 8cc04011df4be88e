"""An alert value the renderer refuses never runs on its own, even under autopilot: the step
waits for a human who sees the raw value, and only an edited command is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowUpdateFailedError

from schemas.identity import Role
from schemas.incident import ApprovalDecision, IncidentStatus, StepState
from schemas.trust import Mode, Requirement
from services import incidents as incident_client
from tests.harness import generic_alert, running_stack, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


async def test_refused_label_waits_for_a_human_with_the_raw_value_and_nothing_executes(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    pwned = tmp_path / "pwned"
    log = tmp_path / "log"
    payload = f"-oProxyCommand=touch {pwned}"
    async with running_stack(client, engine) as stack:
        name = unique("Refuse")
        runbook = await stack.add_runbook(
            {
                "id": unique("refuse-"),
                "title": "Look at the node",
                "selectors": [{"alertname": name}],
                "variables": [
                    {"name": "instance", "source": "label:instance"},
                    {"name": "log", "source": "label:log"},
                ],
                "steps": [
                    {
                        # The old template of the shipped runbook: real ssh would run the
                        # ProxyCommand on the agent if this ever executed as rendered.
                        "id": "look",
                        "title": "Look",
                        "command": "ssh {{ instance }} df -h >> {{ log }}",
                        "risk": "safe",
                    },
                    {
                        "id": "after",
                        "title": "After",
                        "command": "echo after >> {{ log }}",
                        "risk": "safe",
                    },
                ],
            }
        )
        promoted = await stack.http.post(
            f"/api/runbooks/{runbook.id}/trust",
            json={"action": "promote"},
            headers=await stack.person(unique("lead-"), (Role.ADMIN,)),
        )
        assert promoted.status_code == 200, promoted.text
        response = await stack.post_generic(
            generic_alert(name, labels={"instance": payload, "log": str(log)})
        )
        assert response.status_code == 202, response.text
        incident = response.json()["incident_id"]

        state = await assert_eventually(
            lambda: stack.state(incident),
            lambda s: s.steps[0].state is StepState.AWAITING_APPROVAL,
            what="look waiting for a human",
        )
        look = state.steps[0]
        assert state.mode is Mode.AUTOPILOT
        assert look.requirement is Requirement.APPROVE  # a safe step, yet not automatic
        assert look.command == f"ssh {{{{ instance }}}} df -h >> {log}"
        assert [(r.variable, r.value, r.part) for r in look.refused] == [
            ("instance", payload, "command")
        ]
        assert "read as an option" in look.refused[0].reason
        assert any(e.kind == "values_refused" and payload in e.message for e in state.timeline)
        assert not pwned.exists()
        assert not log.exists()

        with pytest.raises(WorkflowUpdateFailedError) as err:
            await incident_client.approve_step(
                client, incident, ApprovalDecision(step_id="look", approver="alice")
            )
        assert "approve with an edited command" in str(err.value.cause)
        assert payload in str(err.value.cause)

        edited = f"echo looked >> {log}"
        said = await incident_client.approve_step(
            client, incident, ApprovalDecision(step_id="look", approver="alice", command=edited)
        )
        if "needs" in said:  # a policy may want someone other than the editor
            await incident_client.approve_step(
                client, incident, ApprovalDecision(step_id="look", approver="bob")
            )
        result = await stack.handle(incident).result()

    assert result.status is IncidentStatus.RESOLVED, result.outcome
    assert log.read_text().split() == ["looked", "after"]
    assert result.steps[0].edited_from == look.command
    assert not pwned.exists()
