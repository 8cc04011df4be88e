"""Where the time from a webhook POST to the first step goes, stage by stage.

Two sources, both from the same alerts the latency figure is measured on:
  * OpenTelemetry spans every process of the stack wrote to one file (`file:` exporter,
    infra/telemetry.py): the API's stages (parsing and checking, normalising, reading runbooks,
    matching, the policy read, the claim with the trust and kill-switch reads, the Temporal
    call) and the local activities of the workflow's first task;
  * the workflow's history (server timestamps): when it started, how long its first task
    waited for and ran in the worker, how long the first step waited for the agent.
The step's own clock closes the chain. Bare Temporal gets the history part, for comparison.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.stack import Request
from workflows.incident import IncidentWorkflow

#: API spans, in the order they happen (one alert per request in the benchmark).
API_SPANS = (
    "parse_and_verify",
    "normalise",
    "read_runbooks",
    "match",
    "read_policy",
    "incident_claim",
    "intake_delivery",
    "SignalWithStartWorkflow:IncidentWorkflow",
)


@dataclass
class Sample:
    """One alert: when it was sent, its workflow, and the step's own clock."""

    workflow_id: str
    sent: float
    step_clock: float
    stages: dict[str, float] = field(default_factory=dict)  # ms


async def post_timed(http: httpx.AsyncClient, client: Client, request: Request) -> Sample:
    """As bench.stack.post_and_wait, keeping what the breakdown needs."""
    path, raw, headers = request
    sent = time.time()
    response = await http.post(path, content=raw, headers=headers)
    if response.status_code != 202:
        raise RuntimeError(f"{path}: {response.status_code} {response.text}")
    incident_id = response.json()["incident_id"]
    state = await client.get_workflow_handle_for(IncidentWorkflow.run, incident_id).result()
    return Sample(incident_id, sent, float(state.steps[0].stdout.strip()))


async def add_history_stages(client: Client, sample: Sample, step_activity: str) -> None:
    """Server-side stages from the workflow's history, in ms."""
    events = [
        e async for e in client.get_workflow_handle(sample.workflow_id).fetch_history_events()
    ]

    def at(event: Any) -> float:
        return float(event.event_time.ToDatetime().timestamp())

    first: dict[int, float] = {}
    for e in events:
        first.setdefault(e.event_type, at(e))
    step_scheduled = step_started = None
    for e in events:
        if (
            e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and e.activity_task_scheduled_event_attributes.activity_type.name == step_activity
            and step_scheduled is None
        ):
            step_scheduled = at(e)
            scheduled_id = e.event_id
        elif (
            e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
            and step_scheduled is not None
            and step_started is None
            and e.activity_task_started_event_attributes.scheduled_event_id == scheduled_id
        ):
            step_started = at(e)
    started = first[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED]
    wft_scheduled = first[EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED]
    wft_started = first[EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED]
    wft_completed = first[EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]
    if step_scheduled is None or step_started is None:
        raise RuntimeError(f"{sample.workflow_id}: no {step_activity} activity in its history")
    ms = 1000.0
    sample.stages.update(
        {
            "POST sent -> workflow started (server)": (started - sample.sent) * ms,
            "first workflow task: waits for a worker": (wft_started - wft_scheduled) * ms,
            "first workflow task: runs in the worker": (wft_completed - wft_started) * ms,
            "task completed -> step scheduled": (step_scheduled - wft_completed) * ms,
            "step: waits for the agent": (step_started - step_scheduled) * ms,
            "step: agent started -> command's clock": (sample.step_clock - step_started) * ms,
            "total: POST -> first step": (sample.step_clock - sample.sent) * ms,
        }
    )


def read_spans(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Spans by trace id, from a file every process appended JSON lines to."""
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not path.exists():
        return traces
    for line in path.read_text().splitlines():
        if line.strip():
            span = json.loads(line)
            traces[span["context"]["trace_id"]].append(span)
    return traces


def _ms(span: dict[str, Any]) -> float:
    start = datetime.fromisoformat(span["start_time"])
    end = datetime.fromisoformat(span["end_time"])
    return (end - start).total_seconds() * 1000


def _t(span: dict[str, Any], key: str = "start_time") -> float:
    return datetime.fromisoformat(span[key]).timestamp()


def add_span_stages(traces: dict[str, list[dict[str, Any]]], samples: list[Sample]) -> None:
    """The API's stages and the first task's local activities, from the sample's trace."""
    by_workflow: dict[str, list[dict[str, Any]]] = {}
    for spans in traces.values():
        for span in spans:
            wid = span.get("attributes", {}).get("temporalWorkflowID")
            if wid and span["name"].startswith("SignalWithStart"):
                by_workflow[wid] = spans
    for sample in samples:
        spans = by_workflow.get(sample.workflow_id)
        if spans is None:
            continue
        named = {s["name"]: s for s in spans}
        root = next((s for s in spans if s["name"].startswith("POST /webhooks")), None)
        if root is not None:
            sample.stages["API: POST sent -> handler"] = (_t(root) - sample.sent) * 1000
            sample.stages["API: whole handler"] = _ms(root)
        for name in API_SPANS:
            if name in named:
                sample.stages[f"API: {name}"] = _ms(named[name])
                if root is not None:  # where each starts: the gaps are in no stage
                    sample.stages[f"API at: {name} starts"] = (_t(named[name]) - _t(root)) * 1000
        if root is not None:
            start_call = named.get(API_SPANS[-1])
            if start_call is not None:
                sample.stages["API at: Temporal call ended -> handler ended"] = (
                    _t(root, "end_time") - _t(start_call, "end_time")
                ) * 1000
        local = [
            s
            for s in spans
            if s["name"].startswith("RunActivity:")
            and "run_command" not in s["name"]
            and _t(s) < sample.step_clock  # before the first step, not at the close
        ]
        for span in local:
            sample.stages[f"worker: local activity {span['name'].split(':', 1)[1]}"] = _ms(span)


def breakdown(samples: list[Sample]) -> dict[str, dict[str, float]]:
    """Median and p90 of every stage over the samples, in the order first seen."""
    names: list[str] = []
    for sample in samples:
        names += [n for n in sample.stages if n not in names]
    out: dict[str, dict[str, float]] = {}
    for name in names:
        values = sorted(s.stages[name] for s in samples if name in s.stages)
        out[name] = {
            "median_ms": round(statistics.median(values), 2),
            "p90_ms": round(values[int(0.9 * (len(values) - 1))], 2),
        }
    return out


def render(title: str, table: dict[str, dict[str, float]]) -> str:
    lines = [title, f"  {'stage':<52} {'median':>8} {'p90':>8}"]
    for name, row in table.items():
        lines.append(f"  {name:<52} {row['median_ms']:8.2f} {row['p90_ms']:8.2f}")
    return "\n".join(lines)
