"""`ddrun incidents list/show`, `approve` and `abort` as a user runs them: through the HTTP API
with a token (the actor is the token's person), against real Temporal."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from schemas.identity import Role
from schemas.incident import IncidentStatus
from tests.harness import (
    generic_alert,
    history_events,
    run_cli,
    running_stack,
    serving,
    token_of,
    unique,
)
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


async def ddrun(client: Client, api: str, token: str, *args: str) -> tuple[int, str, str]:
    """The CLI as the person `token` belongs to (DDRUN_TOKEN wins over any saved login)."""
    env = {
        **os.environ,
        "DDRUN_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "DDRUN_TEMPORAL_NAMESPACE": client.namespace,
        "DDRUN_API_URL": api,
        "DDRUN_TOKEN": token,
        "COLUMNS": "200",
    }
    return await run_cli(*args, env=env, stderr_apart=True)


async def test_list_show_approve_from_the_command_line(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine) as stack, serving(stack) as api:
        alice = unique("alice-")
        token = token_of(await stack.person(alice, (Role.RESPONDER,)))
        name = unique("Cli")
        service = unique("svc-")
        runbook = await stack.add_runbook(
            {
                "id": unique("cli-"),
                "title": "CLI runbook",
                "selectors": [{"alertname": name}],
                "steps": [
                    {"id": "look", "title": "Look", "command": "echo look", "risk": "safe"},
                    {"id": "fix", "title": "Fix it", "command": "echo fix", "risk": "caution"},
                ],
            }
        )
        response = await stack.post_generic(generic_alert(name, service=service))
        incident_id = response.json()["incident_id"]
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            what="waiting",
        )

        code, out, err = await ddrun(
            client, api, token, "incidents", "list", "--service", service, "--json"
        )
        assert code == 0, err
        rows: list[dict[str, Any]] = json.loads(out)
        assert [r["id"] for r in rows] == [incident_id]
        assert rows[0]["status"] == "awaiting_approval"
        assert rows[0]["service"] == service
        assert rows[0]["severity"] == "critical"
        assert rows[0]["runbook"] == runbook.id

        code, out, err = await ddrun(client, api, token, "incidents", "show", incident_id, "--json")
        assert code == 0, err
        shown = json.loads(out)
        assert shown["id"] == incident_id
        assert shown["status"] == "awaiting_approval"
        assert shown["runbook"] == runbook.id
        assert len(shown["alerts"]) == 1
        assert [
            {k: s[k] for k in ("id", "title", "risk", "state", "approved_by", "exit_code")}
            for s in shown["steps"]
        ] == [
            {
                "id": "look",
                "title": "Look",
                "risk": "safe",
                "state": "succeeded",
                "approved_by": None,
                "exit_code": 0,
            },
            {
                "id": "fix",
                "title": "Fix it",
                "risk": "caution",
                "state": "awaiting_approval",
                "approved_by": None,
                "exit_code": None,
            },
        ]

        code, out, err = await ddrun(client, api, token, "approve", incident_id, "look")
        assert code == 2
        assert "not waiting for approval" in out + err

        code, out, err = await ddrun(client, api, token, "approve", incident_id, "fix")
        assert code == 0, out + err
        assert f"approved by {alice}" in out
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED

        code, out, _ = await ddrun(client, api, token, "incidents", "show", incident_id)
        assert code == 0
        assert alice in out
        assert "resolved" in out

        events = await history_events(stack.handle(incident_id))
        accepted = [
            e.workflow_execution_update_accepted_event_attributes.accepted_request
            for e in events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        ]
        assert len(accepted) == 1  # the refused approval of "look" left no trace in history
        # The approver is the token's person, the channel the CLI, and the credential the token.
        payload = json.loads(accepted[0].input.args.payloads[0].data)
        token_id = token.split("_")[1]
        assert (payload["approver"], payload["channel"], payload["authenticated_by"]) == (
            alice,
            "cli",
            f"api-token {token_id}",
        )


async def test_abort_from_the_command_line(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine) as stack, serving(stack) as api:
        henry = unique("henry-")
        token = token_of(await stack.person(henry, (Role.RESPONDER,)))
        name = unique("CliAbort")
        await stack.add_runbook(
            {
                "id": unique("cliab-"),
                "title": "Abortable",
                "selectors": [{"alertname": name}],
                "steps": [{"id": "fix", "title": "Fix", "command": "echo x", "risk": "dangerous"}],
            }
        )
        response = await stack.post_generic(generic_alert(name))
        incident_id = response.json()["incident_id"]
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            what="waiting",
        )
        code, out, err = await ddrun(
            client, api, token, "abort", incident_id, "--reason", "false alarm"
        )
        assert code == 0, out + err
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.ABORTED
        assert henry in result.outcome


async def test_a_manual_step_from_the_command_line(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    """`show` says what it waits for and the next command, with the manual step's instructions;
    approving a manual step says to report it; the period export and verify read well."""
    async with running_stack(client, engine) as stack, serving(stack) as api:
        token = token_of(await stack.person(unique("mia-"), (Role.RESPONDER,)))
        name = unique("CliManual")
        await stack.add_runbook(
            {
                "id": unique("climan-"),
                "title": "Manual runbook",
                "selectors": [{"alertname": name}],
                "steps": [
                    {"id": "look", "title": "Look", "command": "echo look", "risk": "safe"},
                    {
                        "id": "drain",
                        "title": "Drain the node",
                        "manual": True,
                        "instructions": "Cordon the node first, then drain it.",
                        "command": "kubectl drain node-1 --ignore-daemonsets",
                        "risk": "caution",
                    },
                ],
            }
        )
        response = await stack.post_generic(generic_alert(name))
        incident_id = response.json()["incident_id"]
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: any(step.state.value == "awaiting_report" for step in s.steps),
            what="waiting for a report",
        )
        report = f"`ddrun report {incident_id} drain done|skipped|changed`"

        code, out, err = await ddrun(client, api, token, "approve", incident_id, "drain")
        assert code == 2, out + err
        assert f"step 'drain' is manual: run it yourself, then {report}" in err
        assert "not waiting for approval" not in out + err

        code, out, err = await ddrun(client, api, token, "incidents", "show", incident_id)
        assert code == 0, err
        assert "waiting for: a report of step drain" in out
        assert f"next: {report}" in out
        assert "mode: copilot" in out
        assert "paused: no" in out
        assert "Cordon the node first, then drain it." in out
        assert "command: kubectl drain node-1 --ignore-daemonsets" in out
        assert "report_requested" in out  # the timeline

        code, out, err = await ddrun(client, api, token, "report", incident_id, "drain", "done")
        assert code == 0, out + err
        assert (await stack.handle(incident_id).result()).status is IncidentStatus.RESOLVED

        folder = tmp_path / "recent"
        code, out, err = await ddrun(
            client, api, token, "export", "--since", "1h", "-o", str(folder)
        )
        assert code == 0, out + err
        index = json.loads((folder / "index.json").read_text())
        assert incident_id in [e["incident_id"] for e in index["incidents"]]

        exported = tmp_path / "one.jsonl"
        code, out, err = await ddrun(client, api, token, "export", incident_id, "-o", str(exported))
        assert code == 0, out + err
        code, out, err = await ddrun(client, api, token, "export", "verify", str(exported))
        assert code == 0, out + err
        assert out.count("records intact") == 1
        assert out.startswith("OK: ")

        # An unknown id, through the API and through Temporal directly: one line, exit 1.
        for args in (
            ("incidents", "show", "incident-nope"),
            ("approve", "incident-nope", "drain"),
            ("export", "incident-nope", "-o", str(tmp_path / "nope.jsonl")),
        ):
            code, out, err = await ddrun(client, api, token, *args)
            assert code == 1, (args, out + err)
            assert "Traceback" not in out + err
            assert len((out + err).strip().splitlines()) == 1, (args, out + err)
            assert "incident-nope" in err
