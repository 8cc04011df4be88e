"""The embedded stack and latency arithmetic the webhook benchmarks share.

One place starts the stack as `ddrun dev` does (temporal-dev.yml server flags, orchestrator and
agent workers and the API as separate processes) and times one alert from POST to its first
step, so the per-source and core-loop benchmarks measure exactly the same thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cli.dev import ensure_retention, temporal_binary, wait_for_temporal
from infra.dev_stack import DevStack
from workflows.incident import IncidentWorkflow

Request = tuple[str, bytes, dict[str, str]]  # path, body, headers
WARM_UPS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def latency_figures(latencies: list[float]) -> dict[str, float]:
    """p50, p99 and mean in milliseconds, the figures every report compares."""
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


async def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up")
            await asyncio.sleep(0.2)


async def post_and_wait(http: httpx.AsyncClient, client: Client, request: Request) -> float:
    """Seconds from just before the POST to the incident's first step printing its clock."""
    path, raw, headers = request
    sent = time.time()
    response = await http.post(path, content=raw, headers=headers)
    if response.status_code != 202:
        raise RuntimeError(f"{path}: {response.status_code} {response.text}")
    incident_id = response.json()["incident_id"]
    state = await client.get_workflow_handle_for(IncidentWorkflow.run, incident_id).result()
    if not state.steps or not state.steps[0].stdout.strip():
        raise RuntimeError(f"{incident_id} ran no step: {state.match_reason}")
    return float(state.steps[0].stdout.strip()) - sent


async def sequential_latencies(
    http: httpx.AsyncClient, client: Client, make: Callable[[], Request], n: int
) -> list[float]:
    """N alerts one after another, after WARM_UPS that are not counted."""
    for _ in range(WARM_UPS):
        await post_and_wait(http, client, make())
    return [await post_and_wait(http, client, make()) for _ in range(n)]


@dataclass(frozen=True)
class Stack:
    api: str
    client: Client
    api_process: subprocess.Popen[bytes]
    #: Every process by role (temporal, worker, agent, api), e.g. to read a worker's memory.
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    data_dir: Path | None = None


@contextlib.asynccontextmanager
async def embedded_stack(
    runbook: str,
    *,
    prefix: str,
    env: Mapping[str, str] | None = None,
    api_command: list[str] | None = None,
) -> AsyncIterator[Stack]:
    """Temporal dev server, orchestrator and agent workers and the API, as `ddrun dev`;
    `api_command` runs the API another way (e.g. through api.server.serve with workers)."""
    stack = DevStack.load()
    data = Path(tempfile.mkdtemp(prefix=prefix))
    (data / "runbooks").mkdir()
    (data / "runbooks" / "bench.yml").write_text(runbook)
    tport, aport = free_port(), free_port()
    address = f"127.0.0.1:{tport}"
    process_env = {
        **os.environ,
        **(env or {}),
        "DDRUN_DATA_DIR": str(data),
        "DDRUN_TEMPORAL_ADDRESS": address,
        "DDRUN_API_PORT": str(aport),
        "DDRUN_RUNBOOKS_DIR": str(data / "runbooks"),
        # The benchmarks time alert → first step and wait for the result; their alerts never
        # resolve, so the incident must close when its runbook ends.
        "DDRUN_HOLD_OPEN_WHILE_FIRING": "false",
    }
    procs: list[subprocess.Popen[bytes]] = []
    log = (data / "stack.log").open("ab")
    try:
        cmd = stack.server_command(temporal_binary(), data, port=tport, headless=True)
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=log))
        client = await wait_for_temporal(address, stack.namespace)
        await ensure_retention(client, stack.namespace, stack.retention)
        for role in ("worker", "agent", "api"):
            command = [sys.executable, "-m", "cli.main", role]
            procs.append(
                subprocess.Popen(
                    api_command if role == "api" and api_command else command,
                    env=process_env,
                    cwd=REPO,
                    stdout=log,
                    stderr=log,
                )
            )
        api = f"http://127.0.0.1:{aport}"
        await wait_http(f"{api}/healthz")
        client = await Client.connect(address, data_converter=pydantic_data_converter)
        roles = dict(zip(("temporal", "worker", "agent", "api"), procs, strict=True))
        yield Stack(api, client, procs[-1], roles, data)
    finally:
        # The API, the agent, the worker, then the server: a worker stopping while the server
        # is already gone retries its calls past any wait, and hid the figures behind a timeout.
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        print(f"stack log: {data / 'stack.log'}", file=sys.stderr)
