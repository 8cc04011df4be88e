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
(bench/bare_temporal.py via bench/webhook_latency.measure_bare); the stack and the timing
are bench/stack.py's, shared with bench/webhook_latency.py.
Usage: python bench/webhook_sources.py [--alerts 100] [--sources pagerduty,grafana,...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = REPO.parent / "shared" / "contracts"
sys.path.insert(0, str(REPO))

from bench.stack import Request, embedded_stack, latency_figures, sequential_latencies
from bench.webhook_latency import measure_bare

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


async def measure_source(
    api: str, client: Client, make: Callable[[], Request], n: int
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        return latency_figures(await sequential_latencies(http, client, make, n))


def rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=100, help="per source")
    parser.add_argument("--sources", default=",".join(SOURCES))
    args = parser.parse_args()
    chosen = [s.strip() for s in args.sources.split(",") if s.strip()]

    async with embedded_stack(RUNBOOK, prefix="ddrun-bench-sources-", env=SECRETS_ENV) as stack:
        client = stack.client
        bare = await measure_bare(client, args.alerts, 0, 1)
        sources = {}
        for name in chosen:
            sources[name] = await measure_source(stack.api, client, SOURCES[name], args.alerts)
        bare_again = await measure_bare(client, args.alerts, 0, 1)  # drift check on a shared box
        api_rss = rss_mb(stack.api_process.pid)
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
