"""Webhook → first step latency and sustained webhook throughput on the embedded stack.

Starts the stack as `ddrun dev` does (temporal-dev.yml server flags, orchestrator and agent
workers and the API as separate processes), then measures:
  * latency: POST /webhooks/generic → the incident's first step starting (the step prints its
    own clock), over N alerts `--gap` seconds apart (0.7 s, as issue 13 measured), each beside
    one bare run (which of the two goes first alternates), so both see the same moments of a
    shared, noisy machine;
  * throughput: alerts/s the webhook accepts (202) at a fixed concurrency, then checks that
    every accepted alert became exactly one incident (zero loss).
The baseline, in the same run on the same server: bare `start_workflow` of a workflow whose
first act is one activity on a separate queue running the same subprocess.
With --profile, every process of the stack also writes its spans to one file and the timed
alerts are broken down stage by stage (bench/profile_stages.py), beside the bare workflow's
history stages; the exporter costs a little, so headline ratios come from a run without it.
Usage: python bench/webhook_latency.py [--alerts 200] [--burst 1000] [--concurrency 32]
       [--gap 0.7] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
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
from bench.stack import WARM_UPS, Request, embedded_stack, latency_figures

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


async def measure_product_burst(
    api: str, client: Client, burst: int, concurrency: int
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        tag = uuid.uuid4().hex[:8]
        rate = await burst_post(http, tag, burst, concurrency)
    count = await count_until(
        client, f'WorkflowId STARTS_WITH "incident-generic-burst{tag}"', burst
    )
    return {"alerts_per_s": rate, "burst_sent": burst, "burst_incidents": count}


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


@dataclass(frozen=True)
class Bare:
    """The bare baseline on its running workers."""

    client: Client
    queue_wf: str
    queue_act: str

    async def run(self) -> Sample:
        """One timed run: start → the first activity's own clock."""
        sent = time.time()
        workflow_id = f"bare-{uuid.uuid4().hex}"
        out = await self.client.execute_workflow(
            BareWorkflow.run, self.queue_act, id=workflow_id, task_queue=self.queue_wf
        )
        return Sample(workflow_id, sent, float(out))

    async def burst(self, total: int, concurrency: int) -> tuple[float, int]:
        """Starts/s at `concurrency`, and how many of them exist afterwards."""
        tag = uuid.uuid4().hex[:8]
        ids = iter(range(total))

        async def starter() -> None:
            for i in ids:
                await self.client.start_workflow(
                    BareWorkflow.run,
                    self.queue_act,
                    id=f"bareburst{tag}-{i}",
                    task_queue=self.queue_wf,
                )

        start = time.monotonic()
        await asyncio.gather(*(starter() for _ in range(concurrency)))
        rate = total / (time.monotonic() - start)
        query = f'WorkflowId STARTS_WITH "bareburst{tag}"'
        return rate, await count_until(self.client, query, total)


@contextlib.asynccontextmanager
async def bare_runner(client: Client) -> AsyncIterator[Bare]:
    """Workers of the bare baseline for as long as the block runs."""
    queue_wf, queue_act = f"bare-wf-{uuid.uuid4().hex[:6]}", f"bare-act-{uuid.uuid4().hex[:6]}"
    async with (
        Worker(client, task_queue=queue_wf, workflows=[BareWorkflow], **bare_workflow_options()),
        Worker(client, task_queue=queue_act, activities=[run_date]),
    ):
        yield Bare(client, queue_wf, queue_act)


async def measure_bare(
    client: Client, n: int, burst: int, concurrency: int, samples: list[Sample] | None = None
) -> dict[str, float]:
    """The bare baseline alone: N sequential runs after 5 warm-ups, then a burst of starts.
    `samples`: when given, each timed run is kept there too."""
    async with bare_runner(client) as bare:
        for _ in range(5):
            await bare.run()
        timed = [await bare.run() for _ in range(n)]
        if samples is not None:
            samples.extend(timed)
        rate, count = await bare.burst(burst, concurrency) if burst else (0.0, 0)
    return {
        **latency_figures([t.step_clock - t.sent for t in timed]),
        "alerts_per_s": rate,
        "burst_sent": burst,
        "burst_incidents": count,
    }


async def interleaved(
    http: httpx.AsyncClient, client: Client, bare: Bare, n: int, gap_s: float
) -> tuple[list[Sample], list[Sample]]:
    """N alerts and N bare runs, one of each in turn (which goes first alternates), after
    warm-ups: both see the same moments of a shared, noisy machine. Each starts `gap_s` after
    the one before ended, so neither meets what the other left running (an incident's closing
    work, the server's visibility and cleanup tasks after a run ends)."""

    async def alert() -> Sample:
        return await post_timed(http, client, generic_request())

    for _ in range(WARM_UPS):
        await alert()
        await bare.run()
    product: list[Sample] = []
    baseline: list[Sample] = []
    for i in range(n):
        for run, kept in ((bare.run, baseline), (alert, product))[:: -1 if i % 2 else 1]:
            await asyncio.sleep(gap_s)
            kept.append(await run())
    return product, baseline


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--gap", type=float, default=0.7, help="seconds between timed runs (issue 13: 0.7)"
    )
    parser.add_argument("--profile", action="store_true", help="per-stage breakdown (spans)")
    args = parser.parse_args()

    spans = Path(tempfile.mkdtemp(prefix="ddrun-spans-")) / "spans.jsonl"
    env = {"DDRUN_OTEL_EXPORTER_OTLP_ENDPOINT": f"file:{spans}"} if args.profile else {}
    async with (
        embedded_stack(RUNBOOK, prefix="ddrun-bench-", env=env) as stack,
        bare_runner(stack.client) as bare_run,
        httpx.AsyncClient(base_url=stack.api, timeout=30) as http,
    ):
        product_samples, bare_samples = await interleaved(
            http, stack.client, bare_run, args.alerts, args.gap
        )
        rate, count = await bare_run.burst(args.burst, args.concurrency)
        bare = {
            **latency_figures([s.step_clock - s.sent for s in bare_samples]),
            "alerts_per_s": rate,
            "burst_sent": args.burst,
            "burst_incidents": count,
        }
        ours = {
            **latency_figures([s.step_clock - s.sent for s in product_samples]),
            **await measure_product_burst(stack.api, stack.client, args.burst, args.concurrency),
        }
        if args.profile:
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
