"""`ddrun killswitch`, `runbooks promote/trust` and `run --dry-run` over the real API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from schemas.incident import StepState
from tests.harness import Stack, generic_alert, running_stack, unique
from tests.support import REPO

pytestmark = pytest.mark.temporal


@contextlib.asynccontextmanager
async def serving(stack: Stack) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(stack.settings, client=stack.client, engine=stack.engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def ddrun(client: Client, api: str, *args: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "DDRUN_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "DDRUN_API_URL": api,
        "COLUMNS": "200",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_trust_commands_end_to_end(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with running_stack(client, engine) as stack, serving(stack) as api:
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
            client, api, "run", runbook.id, "--dry-run", "--alert", str(alert_file), "--json"
        )
        assert code == 0, out
        plan = json.loads(out)
        assert plan["dry_run"] is True
        assert plan["steps"][0]["state"] == StepState.PLANNED.value
        assert not target.exists()

        code, out = await ddrun(
            client, api, "runbooks", "set-mode", runbook.id, "autopilot", "--as", "x"
        )
        assert code == 2
        assert "autopilot needs a promotion" in out
        code, out = await ddrun(client, api, "runbooks", "promote", runbook.id, "--as", "lead")
        assert code == 0, out
        code, out = await ddrun(client, api, "runbooks", "trust", runbook.id, "--json")
        assert json.loads(out)["trust"]["mode"] == "autopilot"

        code, out = await ddrun(
            client,
            api,
            "killswitch",
            "engage",
            "--runbook",
            runbook.id,
            "--as",
            "ops",
            "--reason",
            "bad deploy",
        )
        assert code == 0, out
        code, out = await ddrun(client, api, "killswitch", "status")
        assert f"runbook={runbook.id}" in out
        assert "bad deploy" in out
        response = await stack.post_generic(generic_alert(name, labels={"out": str(target)}))
        state = await stack.state(response.json()["incident_id"])
        assert state.mode.value == "read-along"
        code, out = await ddrun(
            client, api, "killswitch", "lift", "--runbook", runbook.id, "--as", "ops"
        )
        assert code == 0, out
        code, out = await ddrun(client, api, "killswitch", "status")
        assert "no kill switch engaged" in out
        await stack.http.post(
            f"/api/incidents/{response.json()['incident_id']}/abort", json={"actor": "ops"}
        )
        await stack.handle(response.json()["incident_id"]).result()
