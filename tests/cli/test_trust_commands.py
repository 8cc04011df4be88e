"""`ddrun killswitch`, `runbooks promote/trust` and `run --dry-run` over the real API."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.identity import Role
from schemas.incident import StepState
from tests.harness import generic_alert, run_cli, running_stack, serving, token_of, unique

pytestmark = pytest.mark.temporal


async def ddrun(client: Client, api: str, token: str, *args: str) -> tuple[int, str]:
    """The CLI as the person `token` belongs to (DDRUN_TOKEN wins over any saved login)."""
    env = {
        **os.environ,
        "DDRUN_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "DDRUN_API_URL": api,
        "DDRUN_TOKEN": token,
        "COLUMNS": "200",
    }
    code, out, _ = await run_cli(*args, env=env)
    return code, out


async def test_trust_commands_end_to_end(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with running_stack(client, engine) as stack, serving(stack) as api:
        # Who may do what: authors set modes, only admins promote, responders use kill switches.
        author, lead, ops = unique("author-"), unique("lead-"), unique("ops-")
        as_author = token_of(await stack.person(author, (Role.AUTHOR,)))
        as_lead = token_of(await stack.person(lead, (Role.ADMIN,)))
        ops_headers = await stack.person(ops, (Role.RESPONDER,))
        as_ops = token_of(ops_headers)
        name = unique("CliTrust")
        runbook = await stack.add_runbook(
            {
                "id": unique("clitrust-"),
                "title": "CLI trust",
                "selectors": [{"alertname": name}],
                "variables": [{"name": "out", "source": "label:out"}],
                "steps": [
                    {
                        "id": "make",
                        "title": "Make file",
                        "command": "touch {{ out }}",
                        "risk": "caution",
                    },
                ],
            }
        )
        alert_file = tmp_path / "alert.json"
        target = tmp_path / "made"
        alert_file.write_text(json.dumps(generic_alert(name, labels={"out": str(target)})))

        code, out = await ddrun(
            client,
            api,
            as_ops,
            "run",
            runbook.id,
            "--dry-run",
            "--alert",
            str(alert_file),
            "--json",
        )
        assert code == 0, out
        plan = json.loads(out)
        assert plan["dry_run"] is True
        assert plan["steps"][0]["state"] == StepState.PLANNED.value
        assert not target.exists()

        code, out = await ddrun(
            client, api, as_author, "runbooks", "set-mode", runbook.id, "autopilot"
        )
        assert code == 2
        assert "autopilot needs a promotion" in out
        code, out = await ddrun(client, api, as_author, "runbooks", "promote", runbook.id)
        assert code == 2
        assert "needs the 'admin' scope" in out
        code, out = await ddrun(client, api, as_lead, "runbooks", "promote", runbook.id)
        assert code == 0, out
        assert f"promoted to autopilot by {lead}" in out
        code, out = await ddrun(client, api, as_ops, "runbooks", "trust", runbook.id, "--json")
        view = json.loads(out)
        assert view["trust"]["mode"] == "autopilot"
        assert [(c["kind"], c["actor"]) for c in view["history"]][-1] == ("promoted", lead)

        code, out = await ddrun(
            client,
            api,
            as_ops,
            "killswitch",
            "engage",
            "--runbook",
            runbook.id,
            "--reason",
            "bad deploy",
        )
        assert code == 0, out
        assert f"engaged by {ops}" in out
        code, out = await ddrun(client, api, as_ops, "killswitch", "status")
        assert f"runbook={runbook.id}" in out
        assert "bad deploy" in out
        assert f"({ops}," in out
        response = await stack.post_generic(generic_alert(name, labels={"out": str(target)}))
        state = await stack.state(response.json()["incident_id"])
        assert state.mode.value == "read-along"
        code, out = await ddrun(client, api, as_ops, "killswitch", "lift", "--runbook", runbook.id)
        assert code == 0, out
        assert f"lifted by {ops}" in out
        code, out = await ddrun(client, api, as_ops, "killswitch", "status")
        assert "no kill switch engaged" in out
        aborted = await stack.http.post(
            f"/api/incidents/{response.json()['incident_id']}/abort", headers=ops_headers
        )
        assert aborted.status_code == 200, aborted.text
        await stack.handle(response.json()["incident_id"]).result()
