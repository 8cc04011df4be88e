"""Webhook → first step latency and sustained webhook throughput on the embedded stack.

Starts the stack as `ddrun dev` does (temporal-dev.yml server flags, orchestrator and agent
workers and the API as separate processes), then measures:
  * latency: POST /webhooks/generic → the incident's first step starting (the step prints its
    own clock), over N sequential alerts;
  * throughput: alerts/s the webhook accepts (202) at a fixed concurrency, then checks that
    every accepted alert became exactly one incident (zero loss).
The baseline, in the same run on the same server: bare `start_workflow` of a workflow whose
first act is one activity on a separate queue running the same subprocess.
Usage: python bench/webhook_latency.py [--alerts 200] [--burst 1000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bare_temporal import BareWorkflow, run_date
from cli.dev import ensure_retention, temporal_binary, wait_for_temporal
from workers.dev_stack import DevStack
from workflows.incident import IncidentWorkflow

RUNBOOK = """id: bench
title: Bench runbook
selectors:
  - labels: {bench: "yes"}
steps:
  - id: first
    title: First step prints its start time
    command: date +%s.%N
    risk: safe
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


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


async def measure_product(
    api: str, client: Client, n: int, burst: int, concurrency: int
) -> dict[str, float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        for _ in range(5):  # warm-up
            await post_and_wait(http, client, uuid.uuid4().hex)
        for _ in range(n):
            latencies.append(await post_and_wait(http, client, uuid.uuid4().hex))
        tag = uuid.uuid4().hex[:8]
        rate = await burst_post(http, tag, burst, concurrency)
    count = await count_until(
        client, f'WorkflowId STARTS_WITH "incident-generic-burst{tag}"', burst
    )
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "alerts_per_s": rate,
        "burst_sent": burst,
        "burst_incidents": count,
    }


async def post_and_wait(http: httpx.AsyncClient, client: Client, key: str) -> float:
    body = {"name": f"Bench{key}", "service": "bench", "labels": {"bench": "yes"}}
    sent = time.time()
    response = await http.post("/webhooks/generic", content=json.dumps(body))
    response.raise_for_status()
    incident_id = response.json()["incident_id"]
    state = await client.get_workflow_handle_for(IncidentWorkflow.run, incident_id).result()
    started = float(state.steps[0].stdout.strip())
    return started - sent


async def burst_post(http: httpx.AsyncClient, tag: str, total: int, concurrency: int) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    failures: list[int] = []

    async def sender() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            # One service per alert: distinct problems, so none is folded into another by
            # correlation (whose visibility lookup still runs for every one of them).
            body = {"name": f"burst{tag}-{i}", "service": f"bench-{i}", "labels": {"bench": "yes"}}
            response = await http.post("/webhooks/generic", content=json.dumps(body))
            if response.status_code != 202:
                failures.append(response.status_code)

    start = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    elapsed = time.monotonic() - start
    if failures:
        raise RuntimeError(f"{len(failures)} alerts refused: {failures[:5]}")
    return total / elapsed


async def count_until(client: Client, query: str, expected: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while True:
        count = (await client.count_workflows(query)).count
        if count >= expected or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.5)


async def measure_bare(client: Client, n: int, burst: int, concurrency: int) -> dict[str, float]:
    queue_wf, queue_act = f"bare-wf-{uuid.uuid4().hex[:6]}", f"bare-act-{uuid.uuid4().hex[:6]}"
    latencies: list[float] = []
    async with (
        Worker(client, task_queue=queue_wf, workflows=[BareWorkflow]),
        Worker(client, task_queue=queue_act, activities=[run_date]),
    ):

        async def one() -> float:
            sent = time.time()
            out = await client.execute_workflow(
                BareWorkflow.run, queue_act, id=f"bare-{uuid.uuid4().hex}", task_queue=queue_wf
            )
            return float(out) - sent

        for _ in range(5):
            await one()
        for _ in range(n):
            latencies.append(await one())
        tag = uuid.uuid4().hex[:8]
        ids = iter(range(burst))

        async def starter() -> None:
            for i in ids:
                await client.start_workflow(
                    BareWorkflow.run, queue_act, id=f"bareburst{tag}-{i}", task_queue=queue_wf
                )

        start = time.monotonic()
        await asyncio.gather(*(starter() for _ in range(concurrency)))
        rate = burst / (time.monotonic() - start)
        count = await count_until(client, f'WorkflowId STARTS_WITH "bareburst{tag}"', burst)
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "alerts_per_s": rate,
        "burst_sent": burst,
        "burst_incidents": count,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    stack = DevStack.load()
    data = Path(tempfile.mkdtemp(prefix="ddrun-bench-"))
    (data / "runbooks").mkdir()
    (data / "runbooks" / "bench.yml").write_text(RUNBOOK)
    tport, aport = free_port(), free_port()
    address = f"127.0.0.1:{tport}"
    env = {
        **os.environ,
        "DDRUN_DATA_DIR": str(data),
        "DDRUN_TEMPORAL_ADDRESS": address,
        "DDRUN_API_PORT": str(aport),
        "DDRUN_RUNBOOKS_DIR": str(data / "runbooks"),
    }
    procs = []
    log = (data / "stack.log").open("ab")
    try:
        cmd = stack.server_command(temporal_binary(), data, port=tport, headless=True)
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=log))
        client = await wait_for_temporal(address, stack.namespace)
        await ensure_retention(client, stack.namespace, stack.retention)
        for role in ("worker", "agent", "api"):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "cli.main", role],
                    env=env,
                    cwd=REPO,
                    stdout=log,
                    stderr=log,
                )
            )
        api = f"http://127.0.0.1:{aport}"
        await wait_http(f"{api}/healthz")
        client = await Client.connect(address, data_converter=pydantic_data_converter)
        bare = await measure_bare(client, args.alerts, args.burst, args.concurrency)
        ours = await measure_product(api, client, args.alerts, args.burst, args.concurrency)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    report = {
        "alerts": args.alerts,
        "burst": args.burst,
        "concurrency": args.concurrency,
        "product": ours,
        "bare_temporal": bare,
        "ratio_p50": ours["p50_ms"] / bare["p50_ms"],
        "ratio_p99": ours["p99_ms"] / bare["p99_ms"],
        "ratio_throughput": ours["alerts_per_s"] / bare["alerts_per_s"],
        "zero_loss": ours["burst_incidents"] == ours["burst_sent"],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
