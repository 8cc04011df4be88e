"""Webhook → first step latency per alert source, beside bare Temporal in the same run.

Starts the embedded stack as `ddrun dev` does (and as bench/webhook_latency.py does), with a
secret configured for every source so each request is verified as in production: PagerDuty v3
and Grafana signed with HMAC-SHA256, Opsgenie with its header token, Alertmanager and the
generic webhook with a bearer token. Bodies are the contract fixtures
(../shared/contracts), each turned into a new problem per request (fresh incident id,
fingerprint or alias) and routed to a one-step runbook by `service: bench`.

Latency = the incident's first step printing its own clock minus the time just before the
POST, over N sequential alerts per source after 5 warm-ups. Baseline: bare `start_workflow`
of a workflow whose first act is one activity on another queue running the same subprocess
(bench/bare_temporal.py via bench/webhook_latency.measure_bare).
Usage: python bench/webhook_sources.py [--alerts 100] [--sources pagerduty,grafana,...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = REPO.parent / "shared" / "contracts"
sys.path.insert(0, str(REPO))

from bench.webhook_latency import free_port, measure_bare, pct, wait_http
from cli.dev import ensure_retention, temporal_binary, wait_for_temporal
from workers.dev_stack import DevStack
from workflows.incident import IncidentWorkflow

RUNBOOK = """id: bench-sources
title: Bench runbook for every source
selectors:
  - service: bench
steps:
  - id: first
    title: First step prints its start time
    command: date +%s.%N
    risk: safe
"""
PD_SECRET = "bench-pagerduty-secret"  # noqa: S105 - throwaway bench values
GF_SECRET = "bench-grafana-secret"  # noqa: S105
OG_TOKEN = "bench-opsgenie-token"  # noqa: S105
AM_TOKEN = "bench-alertmanager-token"  # noqa: S105
GEN_TOKEN = "bench-generic-token"  # noqa: S105
SECRETS_ENV = {
    "DDRUN_PAGERDUTY_WEBHOOK_SECRET": PD_SECRET,
    "DDRUN_GRAFANA_WEBHOOK_SECRET": GF_SECRET,
    "DDRUN_OPSGENIE_TOKEN": OG_TOKEN,
    "DDRUN_ALERTMANAGER_TOKEN": AM_TOKEN,
    "DDRUN_GENERIC_WEBHOOK_TOKEN": GEN_TOKEN,
}

Request = tuple[str, bytes, dict[str, str]]  # path, body, headers


def _fixture(path: str) -> Any:
    return json.loads((CONTRACTS / path).read_text())


def _hex(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def _compact(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def pagerduty_request() -> Request:
    body = _fixture("pagerduty/webhooks-v3/incident.triggered.json")
    body["event"]["id"] = uuid.uuid4().hex
    body["event"]["data"]["id"] = f"Q{uuid.uuid4().hex[:13].upper()}"
    body["event"]["data"]["service"]["summary"] = "bench"
    raw = _compact(body)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Webhook-Id": str(uuid.uuid4()),
        "X-PagerDuty-Signature": f"v1={_hex(PD_SECRET, raw)}",
    }
    return "/webhooks/pagerduty", raw, headers


def opsgenie_request() -> Request:
    body = _fixture("opsgenie/webhook.create.json")
    body["alert"]["alertId"] = str(uuid.uuid4())
    body["alert"]["alias"] = f"bench-{uuid.uuid4().hex}"
    body["alert"]["details"]["service"] = "bench"
    return "/webhooks/opsgenie", _compact(body), {"X-Ddrun-Token": OG_TOKEN}


def grafana_request() -> Request:
    body = _fixture("grafana/webhook.firing.json")
    alert = body["alerts"][0]
    alert["labels"].update(alertname=f"Bench{uuid.uuid4().hex[:8]}", service="bench")
    alert["fingerprint"] = uuid.uuid4().hex[:16]
    raw = _compact(body)
    return "/webhooks/grafana", raw, {"X-Grafana-Alerting-Signature": _hex(GF_SECRET, raw)}


def alertmanager_request() -> Request:
    body = _fixture("alertmanager/webhook.truncated.json")  # a group of one alert
    body["truncatedAlerts"] = 0
    alert = body["alerts"][0]
    alert["labels"].update(alertname=f"Bench{uuid.uuid4().hex[:8]}", service="bench")
    alert["fingerprint"] = uuid.uuid4().hex[:16]
    auth = {"Authorization": f"Bearer {AM_TOKEN}"}
    return "/webhooks/alertmanager", _compact(body), auth


def generic_request() -> Request:
    body = {"name": f"Bench{uuid.uuid4().hex[:8]}", "service": "bench"}
    return "/webhooks/generic", _compact(body), {"Authorization": f"Bearer {GEN_TOKEN}"}


SOURCES: dict[str, Callable[[], Request]] = {
    "pagerduty": pagerduty_request,
    "opsgenie": opsgenie_request,
    "grafana": grafana_request,
    "alertmanager": alertmanager_request,
    "generic": generic_request,
}


async def post_and_wait(
    http: httpx.AsyncClient, client: Client, make: Callable[[], Request]
) -> float:
    path, raw, headers = make()
    sent = time.time()
    response = await http.post(path, content=raw, headers=headers)
    if response.status_code != 202:
        raise RuntimeError(f"{path}: {response.status_code} {response.text}")
    incident_id = response.json()["incident_id"]
    state = await client.get_workflow_handle_for(IncidentWorkflow.run, incident_id).result()
    if not state.steps or not state.steps[0].stdout.strip():
        raise RuntimeError(f"{incident_id} ran no step: {state.match_reason}")
    return float(state.steps[0].stdout.strip()) - sent


async def measure_source(
    api: str, client: Client, make: Callable[[], Request], n: int
) -> dict[str, float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        for _ in range(5):  # warm-up
            await post_and_wait(http, client, make)
        for _ in range(n):
            latencies.append(await post_and_wait(http, client, make))
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


@contextlib.asynccontextmanager
async def embedded_stack() -> AsyncIterator[tuple[str, Client, subprocess.Popen[bytes]]]:
    """Temporal dev server, orchestrator and agent workers and the API, as `ddrun dev`."""
    stack = DevStack.load()
    data = Path(tempfile.mkdtemp(prefix="ddrun-bench-sources-"))
    (data / "runbooks").mkdir()
    (data / "runbooks" / "bench.yml").write_text(RUNBOOK)
    tport, aport = free_port(), free_port()
    address = f"127.0.0.1:{tport}"
    env = {
        **os.environ,
        **SECRETS_ENV,
        "DDRUN_DATA_DIR": str(data),
        "DDRUN_TEMPORAL_ADDRESS": address,
        "DDRUN_API_PORT": str(aport),
        "DDRUN_RUNBOOKS_DIR": str(data / "runbooks"),
    }
    procs: list[subprocess.Popen[bytes]] = []
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
        yield api, client, procs[-1]
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        print(f"stack log: {data / 'stack.log'}", file=sys.stderr)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=100, help="per source")
    parser.add_argument("--sources", default=",".join(SOURCES))
    args = parser.parse_args()
    chosen = [s.strip() for s in args.sources.split(",") if s.strip()]

    async with embedded_stack() as (api, client, api_proc):
        bare = await measure_bare(client, args.alerts, 0, 1)
        sources = {}
        for name in chosen:
            sources[name] = await measure_source(api, client, SOURCES[name], args.alerts)
        bare_again = await measure_bare(client, args.alerts, 0, 1)  # drift check on a shared box
        api_rss = rss_mb(api_proc.pid)
    baseline = {k: bare[k] for k in ("p50_ms", "p99_ms", "mean_ms")}
    report = {
        "alerts_per_source": args.alerts,
        "bare_temporal": baseline,
        "bare_temporal_after": {k: bare_again[k] for k in ("p50_ms", "p99_ms", "mean_ms")},
        "sources": {
            name: {
                **figures,
                "ratio_p50": figures["p50_ms"] / baseline["p50_ms"],
                "ratio_p99": figures["p99_ms"] / baseline["p99_ms"],
            }
            for name, figures in sources.items()
        },
        "api_rss_mb": api_rss,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
