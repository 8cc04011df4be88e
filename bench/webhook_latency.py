"""Webhook → first step latency and sustained webhook throughput on the embedded stack.

Starts the stack as `ddrun dev` does (temporal-dev.yml server flags, orchestrator and agent
workers and the API as separate processes), then measures:
  * latency: POST /webhooks/generic → the incident's first step starting (the step prints its
    own clock), over N sequential alerts;
  * throughput: alerts/s the webhook accepts (202) at a fixed concurrency, then checks that
    every accepted alert became exactly one incident (zero loss).
The baseline, in the same run on the same server: bare `start_workflow` of a workflow whose
first act is one activity on a separate queue running the same subprocess.
With --profile, every process of the stack also writes its spans to one file and the same
kind of alerts are broken down stage by stage (bench/profile_stages.py), beside the bare
workflow's history stages; the exporter costs a little, so headline ratios come from a run
without it.
Usage: python bench/webhook_latency.py [--alerts 200] [--burst 1000] [--concurrency 32]
       [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bare_temporal import BareWorkflow, bare_workflow_options, run_date
from bench.profile_stages import (
    Sample,
    add_history_stages,
    add_span_stages,
    breakdown,
    post_timed,
    read_spans,
    render,
)
from bench.stack import WARM_UPS, Request, embedded_stack, latency_figures, sequential_latencies

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


async def measure_product(
    api: str, client: Client, n: int, burst: int, concurrency: int
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        latencies = await sequential_latencies(http, client, generic_request, n)
        tag = uuid.uuid4().hex[:8]
        rate = await burst_post(http, tag, burst, concurrency)
    count = await count_until(
        client, f'WorkflowId STARTS_WITH "incident-generic-burst{tag}"', burst
    )
    return {
        **latency_figures(latencies),
        "alerts_per_s": rate,
        "burst_sent": burst,
        "burst_incidents": count,
    }


def generic_request() -> Request:
    key = uuid.uuid4().hex
    body = {"name": f"Bench{key}", "service": "bench", "labels": {"bench": "yes"}}
    return "/webhooks/generic", json.dumps(body).encode(), {}


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


async def measure_bare(
    client: Client, n: int, burst: int, concurrency: int, samples: list[Sample] | None = None
) -> dict[str, float]:
    """`samples`: when given, each timed run is kept there too (for --profile)."""
    queue_wf, queue_act = f"bare-wf-{uuid.uuid4().hex[:6]}", f"bare-act-{uuid.uuid4().hex[:6]}"
    latencies: list[float] = []
    async with (
        Worker(client, task_queue=queue_wf, workflows=[BareWorkflow], **bare_workflow_options()),
        Worker(client, task_queue=queue_act, activities=[run_date]),
    ):

        async def one(keep: bool = False) -> float:
            sent = time.time()
            workflow_id = f"bare-{uuid.uuid4().hex}"
            out = await client.execute_workflow(
                BareWorkflow.run, queue_act, id=workflow_id, task_queue=queue_wf
            )
            if keep and samples is not None:
                samples.append(Sample(workflow_id, sent, float(out)))
            return float(out) - sent

        for _ in range(5):
            await one()
        for _ in range(n):
            latencies.append(await one(keep=True))
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
        **latency_figures(latencies),
        "alerts_per_s": rate,
        "burst_sent": burst,
        "burst_incidents": count,
    }


async def profile_product(api: str, client: Client, n: int) -> list[Sample]:
    """N more alerts like the latency ones, each kept with its workflow id for the breakdown."""
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        for _ in range(WARM_UPS):
            await post_timed(http, client, generic_request())
        return [await post_timed(http, client, generic_request()) for _ in range(n)]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", action="store_true", help="per-stage breakdown (spans)")
    args = parser.parse_args()

    spans = Path(tempfile.mkdtemp(prefix="ddrun-spans-")) / "spans.jsonl"
    env = {"DDRUN_OTEL_EXPORTER_OTLP_ENDPOINT": f"file:{spans}"} if args.profile else {}
    bare_samples: list[Sample] = []
    product_samples: list[Sample] = []
    async with embedded_stack(RUNBOOK, prefix="ddrun-bench-", env=env) as stack:
        bare = await measure_bare(
            stack.client, args.alerts, args.burst, args.concurrency, bare_samples
        )
        ours = await measure_product(
            stack.api, stack.client, args.alerts, args.burst, args.concurrency
        )
        if args.profile:
            product_samples = await profile_product(stack.api, stack.client, args.alerts)
            for sample in product_samples:
                await add_history_stages(stack.client, sample, "run_command")
            for sample in bare_samples:
                await add_history_stages(stack.client, sample, "run_date")
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
    if args.profile:
        add_span_stages(read_spans(spans), product_samples)  # flushed as the stack stopped
        report["profile_product"] = breakdown(product_samples)
        report["profile_bare"] = breakdown(bare_samples)
        print(render("product: POST -> first step, per stage", report["profile_product"]))
        print(render("bare Temporal: start -> first activity, per stage", report["profile_bare"]))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
