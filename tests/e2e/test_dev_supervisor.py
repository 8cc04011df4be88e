"""`ddrun dev` as a user runs it: "is up" means the API answers; a killed part comes back within
seconds and the stack still works; Ctrl-C leaves no process behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from schemas.incident import IncidentState, StepState
from tests.support import REPO, processes

pytestmark = pytest.mark.e2e

RUNBOOK = """\
id: supervised
title: Supervised stack check
selectors:
  - alertname: SupervisedStackCheck
steps:
  - id: look
    title: Look around
    command: echo looked
    risk: safe
  - id: change
    title: Change something
    command: echo changed
    risk: caution
"""

#: Banner labels → child names in the supervisor's log lines.
PARTS = {"API": "api", "Temporal": "temporal", "Orchestrator": "worker", "Agent": "agent"}


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


class DevRun:
    """`python -m cli.main dev` in its own process; every output line kept with its time."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[tuple[float, str]] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append((time.monotonic(), raw.decode(errors="replace").rstrip("\n")))

    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)

    async def wait_for(self, pattern: str, *, after: float = 0.0, timeout: float) -> re.Match[str]:
        """The first line matching `pattern` printed at or after `after` (monotonic time)."""
        deadline = time.monotonic() + timeout
        while True:
            for at, line in self.lines:
                if at >= after and (found := re.search(pattern, line)):
                    return found
            if time.monotonic() > deadline or self.proc.returncode is not None:
                raise AssertionError(f"no line matching {pattern!r}; output:\n{self.output()}")
            await asyncio.sleep(0.05)

    async def at_of(self, pattern: str, *, after: float) -> float:
        await self.wait_for(pattern, after=after, timeout=0)
        return next(at for at, line in self.lines if at >= after and re.search(pattern, line))


def _group_alive(pgid: int) -> bool:
    """A process of the group still runs. A zombie does not: the API's uvicorn workers die
    with their SIGKILLed parent and are handed to PID 1, which in this container never reaps
    them (under systemd or a container init they vanish)."""
    return any(p.pgid == pgid and p.running for p in processes())


def _leftovers(data_dir: Path) -> list[str]:
    """Processes still running with the data folder on their command line (Temporal) or in
    their environment (the Python parts)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
            if str(data_dir).encode() in cmdline + environ:
                shown = cmdline.replace(b"\0", b" ").decode(errors="replace")[:200]
                found.append(f"{proc.name}: {shown}")
    return found


async def test_dev_stack_restarts_what_dies_and_stops_cleanly(tmp_path: Path) -> None:
    api_port, temporal_port, ui_port = _free_ports(3)
    data_dir = tmp_path / "data"
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "supervised.yml").write_text(RUNBOOK)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DDRUN_")},
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        "dev",
        "--data-dir",
        str(data_dir),
        "--api-port",
        str(api_port),
        "--temporal-port",
        str(temporal_port),
        "--ui-port",
        str(ui_port),
        "--runbooks",
        str(runbooks),
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    dev = DevRun(proc)
    api = f"http://127.0.0.1:{api_port}"
    pids: dict[str, list[int]] = {}
    timings: list[str] = []
    try:
        await dev.wait_for(r"dd0c/run is up", timeout=180)
        async with httpx.AsyncClient(base_url=api, timeout=5) as http:
            # At the moment "is up" is printed, the API answers, and so does Temporal behind it;
            # /api takes a credential: the first admin's token, which `ddrun dev` kept for us.
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/api/incidents")).status_code == 401
            token = (data_dir / "admin.token").read_text().strip()
            admin = {"Authorization": f"Bearer {token}"}
            assert (await http.get("/api/incidents", headers=admin)).status_code == 200
            # ...and where it listens, so DDRUN_DATA_DIR alone finds this stack.
            where = json.loads((data_dir / "stack.json").read_text())
            assert where["api_url"] == api
            assert where["temporal_address"] == f"127.0.0.1:{temporal_port}"
            await dev.wait_for(r"^Ctrl-C stops everything", timeout=5)
            for label, name in PARTS.items():
                found = await dev.wait_for(rf"^  {label} .* pid (\d+)$", timeout=0)
                pids[name] = [int(found.group(1))]

            for name in ("agent", "api", "worker", "temporal"):
                victim = pids[name][-1]
                killed_at = time.monotonic()
                os.kill(victim, signal.SIGKILL)
                found = await dev.wait_for(
                    rf"\] {name} restarted \(pid (\d+)", after=killed_at, timeout=5
                )
                new_pid = int(found.group(1))
                assert new_pid != victim
                pids[name].append(new_pid)
                restarted = await dev.at_of(rf"\] {name} restarted", after=killed_at)
                await dev.wait_for(
                    rf"\] {name} (\(pid {victim}\) )?killed by SIGKILL", after=killed_at, timeout=0
                )
                await dev.wait_for(rf"\] {name} answers again", after=killed_at, timeout=60)
                answering = await dev.at_of(rf"\] {name} answers again", after=killed_at)
                timings.append(
                    f"{name}: restarted {restarted - killed_at:.1f} s, "
                    f"answering {answering - killed_at:.1f} s after SIGKILL"
                )
                assert restarted - killed_at < 3, timings[-1]
                assert (await http.get("/healthz")).status_code == 200

            # The stack still turns an alert into an incident whose first safe step runs.
            posted = await http.post(
                "/webhooks/generic",
                json={
                    "name": "SupervisedStackCheck",
                    "title": "checking the supervised stack",
                    "service": "supervised-svc",
                    "severity": "warning",
                },
            )
            assert posted.status_code == 202, posted.text
            incident_id = posted.json()["incident_id"]
            deadline = time.monotonic() + 60
            while True:
                got = await http.get(f"/api/incidents/{incident_id}", headers=admin)
                if got.status_code == 200:
                    state = IncidentState.model_validate(got.json())
                    if state.steps and state.steps[0].state is StepState.SUCCEEDED:
                        break
                assert time.monotonic() < deadline, got.text
                await asyncio.sleep(0.3)
            assert state.steps[0].stdout.strip() == "looked"
            assert state.steps[1].state is StepState.AWAITING_APPROVAL
    finally:
        print("\n".join(timings))  # noqa: T201 - the measured restart times, shown with -rP
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            code = await asyncio.wait_for(proc.wait(), timeout=90)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        await dev.reader
    assert code == 0, dev.output()
    assert dev.output().rstrip().endswith("dd0c/run stopped")
    everyone = [pid for seen in pids.values() for pid in seen]
    assert len(everyone) == 8
    alive = [pid for pid in everyone if _group_alive(pid)]
    assert alive == [], subprocess.run(
        ["ps", "-o", "pid,pgid,ppid,stat,etime,cmd", "-g", ",".join(map(str, alive))],
        capture_output=True,
        text=True,
    ).stdout
    assert _leftovers(data_dir) == []
