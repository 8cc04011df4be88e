"""Per-step overhead of a runbook step beside one bare Temporal activity round trip.

Starts the embedded stack as `ddrun dev` does (bench/stack.py), loads a runbook of K safe steps
(they run on their own, as in autopilot) whose commands print their own clock, and posts N
alerts one after another, each waiting for its incident to end. The per-step figure is the
time between consecutive steps' clocks (steps 2..K: the first step's blast-radius slot and
the start of the incident are not per-step costs).

Baseline, same run, same server: a bare workflow running the same K activities one after the
other on another task queue, each the same `date` subprocess (bench/bare_temporal.run_date),
timed the same way.

The profile splits each interval by the incident's own event history: the command activity
(scheduled → started: the agent picking it up; started → completed: the command on the agent,
heartbeats, output), and the orchestrator between two commands (activity completed → the next
activity scheduled: workflow task latency plus anything the workflow does between steps).
Usage: python bench/step_overhead.py [--steps 20] [--incidents 8]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bare_temporal import BareSteps, bare_workflow_options, run_date
from bench.stack import embedded_stack
from workflows.incident import IncidentWorkflow


def runbook(steps: int) -> str:
    body = "\n".join(
        f"  - id: s{i}\n    title: Step {i} prints its start time\n"
        f"    command: date +%s.%N\n    risk: safe"
        for i in range(steps)
    )
    return (
        "id: bench-steps\ntitle: Bench runbook of safe steps\n"
        f'selectors:\n  - labels: {{benchsteps: "yes"}}\nsteps:\n{body}\n'
    )


def intervals(clocks: list[str]) -> list[float]:
    times = [float(c) for c in clocks]
    return [b - a for a, b in itertools.pairwise(times[1:])]


async def breakdown(client: Client, workflow_id: str) -> dict[str, list[float]]:
    """Seconds per phase of each command activity after the first, from the event history."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    scheduled: dict[int, Any] = {}
    started: dict[int, Any] = {}
    phases: dict[str, list[float]] = {"between": [], "pickup": [], "run": []}
    last_completed = None
    for event in history.events:
        when = event.event_time.ToDatetime()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name not in (
                "run_command",
                "run_date",
            ):
                continue
            scheduled[event.event_id] = when
            if last_completed is not None:
                phases["between"].append((when - last_completed).total_seconds())
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            sid = event.activity_task_started_event_attributes.scheduled_event_id
            if sid in scheduled:
                started[sid] = when
                phases["pickup"].append((when - scheduled[sid]).total_seconds())
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            sid = event.activity_task_completed_event_attributes.scheduled_event_id
            if sid in started:
                phases["run"].append((when - started[sid]).total_seconds())
                last_completed = when
    phases["pickup"], phases["run"] = phases["pickup"][1:], phases["run"][1:]
    return phases


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": statistics.median(values) * 1000,
        "p90_ms": ordered[int(0.9 * (len(ordered) - 1))] * 1000,
        "mean_ms": statistics.fmean(values) * 1000,
    }


async def product(api: str, client: Client, steps: int, n: int) -> dict[str, Any]:
    per_step: list[float] = []
    phases: dict[str, list[float]] = {"between": [], "pickup": [], "run": []}
    async with httpx.AsyncClient(base_url=api, timeout=60) as http:
        for i in range(n + 1):  # the first is a warm-up
            key = uuid.uuid4().hex[:10]
            body = {
                "name": f"Steps{key}",
                "service": f"steps-{key}",
                "labels": {"benchsteps": "yes"},
            }
            response = await http.post("/webhooks/generic", content=json.dumps(body))
            response.raise_for_status()
            incident_id = response.json()["incident_id"]
            state = await client.get_workflow_handle_for(IncidentWorkflow.run, incident_id).result()
            clocks = [s.stdout.strip() for s in state.steps]
            if len(clocks) != steps or not all(clocks):
                raise RuntimeError(f"{incident_id}: not every step ran ({state.match_reason})")
            if i:
                per_step += intervals(clocks)
                for k, v in (await breakdown(client, incident_id)).items():
                    phases[k] += v
    return {"per_step": summary(per_step), "phases": {k: summary(v) for k, v in phases.items()}}


async def bare(client: Client, steps: int, n: int) -> dict[str, Any]:
    queue_wf, queue_act = f"bare-wf-{uuid.uuid4().hex[:6]}", f"bare-act-{uuid.uuid4().hex[:6]}"
    per_step: list[float] = []
    phases: dict[str, list[float]] = {"between": [], "pickup": [], "run": []}
    async with (
        Worker(client, task_queue=queue_wf, workflows=[BareSteps], **bare_workflow_options()),
        Worker(client, task_queue=queue_act, activities=[run_date]),
    ):
        for i in range(n + 1):
            wid = f"baresteps-{uuid.uuid4().hex}"
            clocks = await client.execute_workflow(
                BareSteps.run, args=[queue_act, steps], id=wid, task_queue=queue_wf
            )
            if i:
                per_step += intervals(clocks)
                for k, v in (await breakdown(client, wid)).items():
                    phases[k] += v
    return {"per_step": summary(per_step), "phases": {k: summary(v) for k, v in phases.items()}}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--incidents", type=int, default=8)
    args = parser.parse_args()
    started = time.monotonic()
    env = {"DDRUN_CORRELATION_WINDOW_S": "0"}
    async with embedded_stack(runbook(args.steps), prefix="ddrun-steps-", env=env) as s:
        base_before = await bare(s.client, args.steps, args.incidents)
        ours = await product(s.api, s.client, args.steps, args.incidents)
        base_after = await bare(s.client, args.steps, args.incidents)
    base = statistics.fmean(
        [base_before["per_step"]["median_ms"], base_after["per_step"]["median_ms"]]
    )
    print(
        json.dumps(
            {
                "steps": args.steps,
                "incidents": args.incidents,
                "product": ours,
                "bare_before": base_before,
                "bare_after": base_after,
                "ratio_median": ours["per_step"]["median_ms"] / base,
                "seconds": time.monotonic() - started,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
