"""A burst of distinct alerts from concurrent senders, beside bare Temporal's start rate.

Starts the embedded stack as `ddrun dev` does (bench/stack.py), then in one run:
  * bare: `start_workflow` of bench/bare_temporal.BareWorkflow, the same number of starts from
    the same number of concurrent callers, right before the product (the ratio's baseline) and
    once after it, while its incidents still run (a drift check, not the baseline);
  * product: N distinct alerts (one service each, so none is correlated into another) posted to
    /webhooks/generic by S concurrent senders with keep-alive connections, each retrying a 429
    after its Retry-After as a real sender does; the rate is alerts acknowledged (202) per
    second, from the first POST to the last 202. Then Temporal is asked how many incidents
    exist for them: lost = acknowledged - incidents (must be 0), and when the last of them
    started: alerts answered while queued (services/intake.py) reach Temporal after their 202,
    so incidents started per second is reported beside the acknowledged rate.
It also prints the CPU seconds each stack process spent in the last bare and product bursts,
and with --profile (every process exports spans) the medians of each span in the product's.
Usage: python bench/burst.py [--alerts 300] [--senders 16] [--api-workers N] [--max-in-flight M]
                             [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bare_temporal import BareWorkflow, bare_workflow_options, run_date
from bench.profile_stages import _ms as span_ms
from bench.profile_stages import read_spans
from bench.stack import embedded_stack
from bench.webhook_latency import RUNBOOK, count_until
from schemas.settings import default_api_workers


async def bare_rate(client: Client, total: int, senders: int) -> float:
    """Bare start_workflow calls per second at the same concurrency (workers running, as the
    product's are)."""
    queue_wf, queue_act = f"bare-wf-{uuid.uuid4().hex[:6]}", f"bare-act-{uuid.uuid4().hex[:6]}"
    tag = uuid.uuid4().hex[:8]
    async with (
        Worker(client, task_queue=queue_wf, workflows=[BareWorkflow], **bare_workflow_options()),
        Worker(client, task_queue=queue_act, activities=[run_date]),
    ):
        for i in range(5):  # warm-up: connections, task queues
            await client.start_workflow(
                BareWorkflow.run, queue_act, id=f"barewarm{tag}-{i}", task_queue=queue_wf
            )
        ids = iter(range(total))

        async def starter() -> None:
            for i in ids:
                await client.start_workflow(
                    BareWorkflow.run, queue_act, id=f"bareburst{tag}-{i}", task_queue=queue_wf
                )

        start = time.monotonic()
        await asyncio.gather(*(starter() for _ in range(senders)))
        rate = total / (time.monotonic() - start)
        await count_until(client, f'WorkflowId STARTS_WITH "bareburst{tag}"', total)
        await count_until(  # let the bare workflows finish before the next measurement
            client,
            f'WorkflowId STARTS_WITH "bareburst{tag}" AND ExecutionStatus = "Completed"',
            total,
        )
    return rate


async def product_burst(api: str, client: Client, total: int, senders: int) -> dict[str, float]:
    tag = uuid.uuid4().hex[:8]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    acked = refused = queued = 0
    failures: list[str] = []
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx.AsyncClient(base_url=api, timeout=30, limits=limits) as http:
        for i in range(5):  # warm-up: the match index, connections
            body = {
                "name": f"warm{tag}-{i}",
                "service": f"warm{tag}-{i}",
                "labels": {"bench": "yes"},
            }
            await http.post("/webhooks/generic", content=json.dumps(body))

        async def sender() -> None:
            nonlocal acked, refused, queued
            while not queue.empty():
                i = queue.get_nowait()
                body = {
                    "name": f"burst{tag}-{i}",
                    "service": f"bench-{tag}-{i}",
                    "labels": {"bench": "yes"},
                }
                while True:
                    response = await http.post("/webhooks/generic", content=json.dumps(body))
                    if response.status_code == 202:
                        acked += 1
                        queued += any(a.get("queued") for a in response.json()["alerts"])
                        break
                    if response.status_code == 429:
                        refused += 1
                        await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                        continue
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    break

        start, wall_start = time.monotonic(), time.time()
        await asyncio.gather(*(sender() for _ in range(senders)))
        elapsed = time.monotonic() - start
    mine = f'WorkflowId STARTS_WITH "incident-generic-burst{tag}"'
    incidents = await count_until(client, mine, acked)
    # When the last incident started (the server's clock, this machine's): alerts queued in the
    # burst reach Temporal after their 202, so this is the rate incidents actually opened.
    last_start = max(
        [e.start_time.timestamp() async for e in client.list_workflows(mine)], default=wall_start
    )
    return {
        "alerts_per_s": total / elapsed,
        "incidents_started_per_s": incidents / max(last_start - wall_start, 1e-3),
        "answered_queued": queued,
        "acknowledged": acked,
        "refused_429": refused,
        "failed": len(failures),
        "incidents": incidents,
        "lost": acked - incidents,
        "first_failures": failures[:3],  # type: ignore[dict-item]
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="product/bare pairs to run")
    parser.add_argument("--api-workers", type=int, default=None, help="via api.server.serve")
    parser.add_argument("--max-in-flight", type=int, default=None)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="every process exports spans: medians per span for the (last) product burst",
    )
    args = parser.parse_args()

    env = {}
    spans = Path(tempfile.mkdtemp(prefix="ddrun-burst-spans-")) / "spans.jsonl"
    if args.profile:
        env["DDRUN_OTEL_EXPORTER_OTLP_ENDPOINT"] = f"file:{spans}"
    if args.max_in_flight:
        env["DDRUN_WEBHOOK_MAX_IN_FLIGHT"] = str(args.max_in_flight)
    api_command = None
    if args.api_workers:
        env["DDRUN_API_WORKERS"] = str(args.api_workers)
        api_command = [
            sys.executable,
            "-c",
            "import os; from api.server import serve; "
            "serve('127.0.0.1', int(os.environ['DDRUN_API_PORT']))",
        ]
    bare: list[float] = []
    ours: list[dict[str, float]] = []
    async with embedded_stack(
        RUNBOOK, prefix="ddrun-burst-", env=env, api_command=api_command
    ) as s:
        # Bare first, on a quiet stack; the product's incidents then keep the workers busy
        # (blast radius 3 queues their steps) for minutes, so a bare figure taken after them
        # is lower and is reported only as the drift check.
        cpu: dict[str, dict[str, float]] = {}
        for _ in range(args.rounds):
            before = cpu_seconds(s.processes)
            bare.append(await bare_rate(s.client, args.alerts, args.senders))
            cpu["bare"] = since(before, cpu_seconds(s.processes))
            if args.profile:
                spans.write_text("")  # the product's burst only
            before = cpu_seconds(s.processes)
            ours.append(await product_burst(s.api, s.client, args.alerts, args.senders))
            cpu["product"] = since(before, cpu_seconds(s.processes))
        after = await bare_rate(s.client, args.alerts, args.senders)
    product_rate = statistics.median(r["alerts_per_s"] for r in ours)
    started_rate = statistics.median(r["incidents_started_per_s"] for r in ours)
    bare_rate_median = statistics.median(bare)
    print(
        json.dumps(
            {
                "alerts": args.alerts,
                "senders": args.senders,
                "api_workers": args.api_workers or default_api_workers(),
                "product": ours,
                "bare_starts_per_s": bare,
                "bare_after_product_starts_per_s": after,
                "ratio": product_rate / bare_rate_median,
                "ratio_incidents_started": started_rate / bare_rate_median,
                "lost": sum(r["lost"] for r in ours),
                "refused_429": sum(r["refused_429"] for r in ours),
                # CPU seconds per stack process during the last bare and product bursts (the
                # bare workers run in this benchmark's own process, not in these).
                "cpu_seconds": cpu,
            },
            indent=2,
        )
    )
    if args.profile:
        print(span_medians(spans))


def cpu_seconds(processes: dict[str, subprocess.Popen[bytes]]) -> dict[str, float]:
    """User + system CPU seconds of each process so far, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for role, proc in processes.items():
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        out[role] = (int(fields[11]) + int(fields[12])) / tick
    return out


def since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {role: round(after[role] - before[role], 2) for role in after}


def span_medians(path: Path) -> str:
    """One line per span name (and per `ddrun.db.*` attribute): count, p50, p90, in ms."""
    durations: dict[str, list[float]] = defaultdict(list)
    for trace_spans in read_spans(path).values():
        for span in trace_spans:
            durations[span["name"]].append(span_ms(span))
            for key, value in (span.get("attributes") or {}).items():
                if key.startswith("ddrun.db."):
                    durations[f"{span['name']} {key}"].append(float(value))
    lines = []
    for name, values in sorted(durations.items(), key=lambda kv: -sum(kv[1])):
        values.sort()
        p90 = values[int(len(values) * 0.9)]
        lines.append(
            f"{name[:70]:70s} n={len(values):5d} p50={statistics.median(values):9.2f} "
            f"p90={p90:9.2f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    asyncio.run(main())
