"""10,000 open incidents waiting for approval on one dev server: worker memory and approval time.

Starts the embedded stack as `ddrun dev` does (bench/stack.py: Temporal dev server with the
temporal-dev.yml flags, orchestrator and agent workers and the API as separate processes) with
a one-step runbook whose step is `caution` (copilot: it waits for a person) and prints its clock.

1. idle: A incidents opened one at a time, each approved once it waits; the figure is the time
   from just before the approval (the same Temporal update the API and Slack send) to the
   approved step printing its clock, and the time the update call took;
2. load: N incidents opened through the same one Temporal call the webhook makes
   (`deliver_alert`), paced so that at most --window are opened but not yet waiting, until
   visibility shows all N waiting for approval (or --fill-seconds passed: the report says how
   many were opened and are waiting);
   the orchestrator worker's RSS (now and its peak, VmHWM) is read from /proc;
3. loaded: the same approvals as in 1, of A new incidents, among the N waiting ones (and of A
   of the N old ones, which the worker has evicted from its cache and must replay).

Bounded: stops opening after --fill-seconds, gives up after --max-seconds, and always tears
the stack down.
Usage: python bench/scale_10k.py [--incidents 10000] [--approvals 10]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import embedded_stack
from db.engine import make_engine
from db.incident_claims import IncidentClaimStore
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.incident import ApprovalDecision, IncidentStatus
from schemas.settings import Settings
from services import incidents as incident_client
from workflows.incident import IncidentWorkflow

RUNBOOK = """id: bench-scale
title: Bench runbook waiting for approval
selectors:
  - labels: {benchscale: "yes"}
steps:
  - id: fix
    title: A change that needs a person
    command: date +%s.%N
    risk: caution
"""
WAITING = IncidentStatus.AWAITING_APPROVAL.value


def rss_mib(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return {"rss_mib": fields["VmRSS"], "peak_rss_mib": fields["VmHWM"]}


def alert(tag: str, i: int) -> Alert:
    key = f"scale{tag}-{i}"
    return Alert(
        source=AlertSource.GENERIC,
        name=key,
        title=f"{key} needs a person",
        service=key,
        severity="warning",
        status=AlertStatus.FIRING,
        labels={"benchscale": "yes"},
        dedup_key=key,
        event_id=key,
        starts_at=datetime.now(UTC),
        received_at=datetime.now(UTC),
        payload_digest=key,
    )


async def wait_status(client: Client, incident_id: str, status: str, timeout: float = 120) -> None:
    handle = client.get_workflow_handle_for(IncidentWorkflow.run, incident_id)
    deadline = time.monotonic() + timeout
    while (await handle.query(IncidentWorkflow.state)).status.value != status:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{incident_id} never reached {status}")
        await asyncio.sleep(0.05)


async def approve_and_time(client: Client, incident_id: str) -> tuple[float, float]:
    """(seconds for the approval update, seconds until the approved step printed its clock)."""
    sent = time.time()
    await incident_client.approve_step(
        client, incident_id, ApprovalDecision(step_id="fix", approver="bench")
    )
    returned = time.time() - sent
    state = await client.get_workflow_handle_for(IncidentWorkflow.run, incident_id).result()
    if not state.steps or not state.steps[0].stdout.strip():
        raise RuntimeError(f"{incident_id}: the approved step did not run")
    return returned, float(state.steps[0].stdout.strip()) - sent


@functools.cache
def _claims(database_url: str) -> IncidentClaimStore:
    """The intake claims of the stack's database, as the API makes them (one per URL)."""
    return IncidentClaimStore(make_engine(database_url))


async def approvals(
    client: Client, settings: Settings, tag: str, n: int
) -> list[tuple[float, float]]:
    out = []
    for i in range(n):
        accepted = await incident_client.deliver_alert(
            client, settings, alert(tag, i), claims=_claims(settings.effective_database_url)
        )
        assert accepted.incident_id is not None
        await wait_status(client, accepted.incident_id, WAITING)
        out.append(await approve_and_time(client, accepted.incident_id))
    return out


def figures(samples: list[tuple[float, float]]) -> dict[str, float]:
    update = [s[0] * 1000 for s in samples]
    step = [s[1] * 1000 for s in samples]
    return {
        "update_median_ms": statistics.median(update),
        "approve_to_step_median_ms": statistics.median(step),
        "approve_to_step_max_ms": max(step),
    }


async def open_paced(
    client: Client, settings: Settings, tag: str, n: int, window: int, budget_s: float
) -> tuple[int, float]:
    """Open up to `n` incidents, never more than `window` of them not yet waiting (the worker
    works through a backlog of first workflow tasks; thousands at once make those tasks exceed
    their timeout and evict each other from the worker's cache, so nothing gets anywhere).
    Stops opening after `budget_s`. Returns (opened, seconds)."""
    query = (
        f'WorkflowId STARTS_WITH "incident-generic-scale{tag}-" AND IncidentStatus = "{WAITING}"'
    )
    start = time.monotonic()
    opened = 0
    while opened < n and time.monotonic() - start < budget_s:
        waiting = await count(client, query)
        room = min(window - (opened - waiting), n - opened)
        if room <= 0:
            await asyncio.sleep(0.5)
            continue
        batch = range(opened, opened + room)
        for chunk in range(0, len(batch), 32):
            await asyncio.gather(
                *(
                    incident_client.deliver_alert(
                        client,
                        settings,
                        alert(tag, i),
                        claims=_claims(settings.effective_database_url),
                    )
                    for i in batch[chunk : chunk + 32]
                )
            )
        opened += room
        if opened % 500 < room:
            print(f"  opened {opened}, {waiting} waiting", file=sys.stderr)
    while await count(client, query) < opened and time.monotonic() - start < budget_s + 300:
        await asyncio.sleep(1)
    return opened, time.monotonic() - start


async def count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


async def run(args: argparse.Namespace) -> dict[str, Any]:
    env = {"DDRUN_CORRELATION_WINDOW_S": "0", "DDRUN_REOPEN_WINDOW_S": "0"}
    async with embedded_stack(RUNBOOK, prefix="ddrun-scale-", env=env) as stack:
        settings = Settings(
            data_dir=stack.data_dir,
            temporal_address=stack.client.service_client.config.target_host,
            correlation_window_s=0,
            reopen_window_s=0,
            hold_open_while_firing=False,
        )
        client = stack.client
        worker_pid = stack.processes["worker"].pid
        await approvals(client, settings, uuid.uuid4().hex[:6], 2)  # warm-up
        idle = await approvals(client, settings, uuid.uuid4().hex[:6], args.approvals)
        memory_idle = rss_mib(worker_pid)

        tag = uuid.uuid4().hex[:6]
        opened, fill_s = await open_paced(
            client, settings, tag, args.incidents, args.window, args.fill_seconds
        )
        query = f'WorkflowId STARTS_WITH "incident-generic-scale{tag}-" AND IncidentStatus = "{WAITING}"'
        waiting = await count(client, query)
        memory_loaded = rss_mib(worker_pid)

        loaded = await approvals(client, settings, uuid.uuid4().hex[:6], args.approvals)
        old = random.sample(range(opened), args.approvals)
        evicted = [await approve_and_time(client, f"incident-generic-scale{tag}-{i}") for i in old]
        memory_after = rss_mib(worker_pid)
        idle_fig, loaded_fig, evicted_fig = figures(idle), figures(loaded), figures(evicted)
        return {
            "incidents_asked": args.incidents,
            "incidents_opened": opened,
            "incidents_waiting": waiting,
            "seconds_to_fill": fill_s,
            "worker_memory_idle": memory_idle,
            "worker_memory_with_all_waiting": memory_loaded,
            "worker_memory_after_approvals": memory_after,
            "approve_idle": idle_fig,
            "approve_new_among_waiting": loaded_fig,
            "approve_old_waiting_one": evicted_fig,
            "ratio_new": loaded_fig["approve_to_step_median_ms"]
            / idle_fig["approve_to_step_median_ms"],
            "ratio_old": evicted_fig["approve_to_step_median_ms"]
            / idle_fig["approve_to_step_median_ms"],
        }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--approvals", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=2400)
    parser.add_argument("--fill-seconds", type=float, default=1500, help="stop opening after")
    parser.add_argument("--window", type=int, default=150, help="opened but not yet waiting")
    args = parser.parse_args()
    started = time.monotonic()
    report = await asyncio.wait_for(run(args), timeout=args.max_seconds)
    report["seconds"] = time.monotonic() - started
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
