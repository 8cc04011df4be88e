"""`api.server.serve`: the API as `ddrun api` runs it, in one or several processes."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.auth import InsecureBindError
from api.server import serve
from tests.harness import generic_alert, stack_settings, unique
from tests.support import REPO, started


def test_an_insecure_bind_is_refused_before_anything_listens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DDRUN_AUTH_ENABLED", "false")
    monkeypatch.setenv("DDRUN_API_HOST", "127.0.0.1")  # restored afterwards: serve() sets it
    monkeypatch.setenv("DDRUN_API_PORT", "8080")
    with pytest.raises(InsecureBindError):
        serve("0.0.0.0", 18080)  # noqa: S104 - the point of the test


@pytest.mark.temporal
async def test_two_worker_processes_serve_webhooks_on_one_port(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    settings = stack_settings(client, correlation_window_s=0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DDRUN_DATA_DIR": str(tmp_path),
        "DDRUN_DATABASE_URL": engine.url.render_as_string(False),
        "DDRUN_TEMPORAL_ADDRESS": settings.temporal_address,
        "DDRUN_ORCHESTRATOR_TASK_QUEUE": settings.orchestrator_task_queue,
        "DDRUN_API_WORKERS": "2",
    }
    code = f"from api.server import serve; serve('127.0.0.1', {port})"
    with (tmp_path / "api.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], env=env, cwd=REPO, stdout=log, stderr=log
        )
    try:
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, (tmp_path / "api.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "the API did not come up"
                await asyncio.sleep(0.2)
            answers = await asyncio.gather(
                *(
                    http.post(
                        "/webhooks/generic",
                        content=json.dumps(generic_alert(unique("Srv"), service=unique("s-"))),
                    )
                    for _ in range(6)
                )
            )
        assert [a.status_code for a in answers] == [202] * 6, [a.text for a in answers]
        workers = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        spawned = [
            pid for pid in workers if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert len(spawned) == 2, "uvicorn did not start two worker processes"
        for answer in answers:  # a 202 may say `queued`: Temporal gets the alert just after
            handle = client.get_workflow_handle(answer.json()["incident_id"])
            await started(handle)
            await handle.terminate("test done")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
