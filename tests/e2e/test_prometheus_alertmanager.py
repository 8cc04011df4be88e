"""A real Prometheus fires a rule, a real Alertmanager posts it to our webhook, an incident opens.

Why: the captured payloads in shared/corpus prove we parse what Alertmanager sent once; this
proves the whole chain as an operator wires it today (Debian's `prometheus` and
`prometheus-alertmanager`): rule evaluation, Alertmanager grouping, its webhook with
`http_config.authorization` (bearer), our token check, runbook selection from a YAML file, and the
incident running its first step on the agent. A receiver with the wrong token must be refused.

Both daemons run on free 127.0.0.1 ports with throw-away storage (clustering off), so package
daemons on 9090/9093 and parallel runs do not interfere. Missing binaries fail the test loudly.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from schemas.identity import Role
from schemas.incident import IncidentState, IncidentStatus, StepState
from tests.harness import running_stack, unique
from tests.standins.server import StandinServer

pytestmark = [pytest.mark.temporal, pytest.mark.e2e, pytest.mark.postgres]

APT_HINT = "apt-get install -y prometheus prometheus-alertmanager"
TOKEN = "am-e2e-token-5f1c9a"
WRONG_TOKEN = "not-the-token"
DEADLINE_S = 45.0

T = TypeVar("T")


def binary(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        f"{' / '.join(names)} not found on PATH: this end-to-end test needs the real daemons. "
        f"Install them with `{APT_HINT}` (Debian/Ubuntu; .ci/run does it when run as root)."
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Daemon:
    """One real server process with its log file; `stop()` always reaps it."""

    def __init__(self, name: str, argv: list[str], port: int, log: Path) -> None:
        self.name, self.argv, self.port, self.log = name, argv, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        async with httpx.AsyncClient(timeout=2, trust_env=False) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    pytest.fail(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
                try:
                    if (await http.get(f"{self.url}/-/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        pytest.fail(f"{self.name} not ready on {self.url} within 20 s:\n{self.output()[-4000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@asynccontextmanager
async def running(daemon: Daemon) -> AsyncIterator[Daemon]:
    try:
        await daemon.start()
        yield daemon
    finally:
        daemon.stop()


def alertmanager(executable: str, tmp: Path, webhook: str) -> Daemon:
    """Routes every alert to two receivers: ours with the right token, and one with a wrong one."""
    http_config = {"authorization": {"type": "Bearer", "credentials": TOKEN}}
    wrong = {"authorization": {"type": "Bearer", "credentials": WRONG_TOKEN}}
    config = {
        "route": {
            "receiver": "ddrun",
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
            "routes": [
                {"receiver": "ddrun", "continue": True},
                {"receiver": "ddrun-wrong-token"},
            ],
        },
        "receivers": [
            {
                "name": "ddrun",
                "webhook_configs": [
                    {"url": webhook, "send_resolved": True, "http_config": http_config}
                ],
            },
            {
                "name": "ddrun-wrong-token",
                "webhook_configs": [{"url": webhook, "http_config": wrong}],
            },
        ],
    }
    path = tmp / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    argv = [
        executable,
        f"--config.file={path}",
        f"--storage.path={tmp / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url=http://127.0.0.1:{port}/",
        "--cluster.listen-address=",
        "--log.level=debug",
    ]
    return Daemon("alertmanager", argv, port, tmp / "alertmanager.log")


def prometheus(executable: str, tmp: Path, alertmanager_port: int, rule: dict[str, Any]) -> Daemon:
    (tmp / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "e2e", "rules": [rule]}]}))
    config = {
        "global": {
            "evaluation_interval": "1s",
            "scrape_interval": "15s",
            "external_labels": {"prometheus": "ddrun-e2e"},
        },
        "alerting": {
            "alertmanagers": [
                {
                    "api_version": "v2",
                    "static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}],
                }
            ]
        },
        "rule_files": [str(tmp / "rules.yml")],
    }
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    argv = [
        executable,
        f"--config.file={path}",
        f"--storage.tsdb.path={tmp / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url=http://127.0.0.1:{port}/",
        # Alerts evaluated before the Alertmanager is discovered (about 5 s) are dropped and
        # re-sent only after this delay (1 min by default).
        "--rules.alert.resend-delay=1s",
    ]
    return Daemon("prometheus", argv, port, tmp / "prometheus.log")


def runbook_yaml(runbook_id: str, alertname: str) -> str:
    return f"""\
id: {runbook_id}
title: Checkout latency is burning the SLO
description: |
  End-to-end test runbook: read the pod's name from the alert, then wait for a human.
selectors:
  - alertname: {alertname}
variables:
  - name: pod
    source: label:pod
  - name: namespace
    source: label:namespace
steps:
  - id: show-pod
    title: Show which pod fired
    command: echo pod {{{{ pod }}}} in {{{{ namespace }}}}
    risk: safe
    timeout_s: 30
  - id: restart
    title: Restart the deployment
    command: kubectl -n {{{{ namespace }}}} rollout restart deployment/checkout
    risk: caution
"""


async def eventually(
    what: str,
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    logs: list[Daemon],
) -> T:
    deadline = time.monotonic() + DEADLINE_S
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if accept(last):
            return last
        await asyncio.sleep(0.25)
    tails = "\n".join(f"--- {d.name}:\n{d.output()[-3000:]}" for d in logs)
    pytest.fail(f"{what} within {DEADLINE_S} s; last: {last!r}\n{tails}")


async def test_prometheus_rule_fires_through_alertmanager_into_an_incident(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    prometheus_bin = binary("prometheus")
    alertmanager_bin = binary("prometheus-alertmanager", "alertmanager")
    alertname = unique("CheckoutLatencyE2E")
    service = unique("checkout-e2e-")
    runbook_id = unique("checkout-latency-e2e-")
    runbook_url = f"https://runbooks.example.com/{runbook_id}"
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / f"{runbook_id}.yml").write_text(runbook_yaml(runbook_id, alertname))
    rule = {
        "alert": alertname,
        "expr": "vector(1)",
        "for": "0s",
        "labels": {
            "service": service,
            "severity": "critical",
            "namespace": "checkout",
            "pod": "checkout-api-5f6d7c8b9-7tq4n",
        },
        "annotations": {
            "summary": "Checkout p99 latency above 2s",
            "description": "p99 latency of checkout is {{ $value }}s.",
            "runbook_url": runbook_url,
        },
    }

    async with AsyncExitStack() as stack:
        ddrun = await stack.enter_async_context(
            running_stack(client, engine, alertmanager_token=TOKEN)
        )
        report = await ddrun.runbooks.import_dir(tmp_path / "runbooks")
        assert report.errors == []
        assert [s.runbook.id for s in report.saved] == [runbook_id]
        api = await stack.enter_async_context(
            StandinServer(create_app(ddrun.settings, client=client, engine=engine))
        )
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=api.url, timeout=10, trust_env=False)
        )
        webhook = f"{api.url}/webhooks/alertmanager"
        # The API's reader and responder; webhooks carry Alertmanager's token, never this one.
        e2e = await ddrun.person("e2e", (Role.RESPONDER,))

        # Our endpoint refuses a missing or wrong token, and nothing is started for it.
        probe_service = unique("refused-")
        body = json.dumps(_webhook_body(unique("Refused"), probe_service))
        for headers in (
            {},
            {"Authorization": f"Bearer {WRONG_TOKEN}"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": TOKEN},
        ):
            refused = await http.post("/webhooks/alertmanager", content=body, headers=headers)
            assert refused.status_code == 401, (headers, refused.text)

        am = await stack.enter_async_context(
            running(alertmanager(alertmanager_bin, tmp_path, webhook))
        )
        prom = await stack.enter_async_context(
            running(prometheus(prometheus_bin, tmp_path, am.port, rule))
        )
        daemons = [prom, am]

        async def listed() -> list[dict[str, Any]]:
            rows = await http.get("/api/incidents", params={"service": service}, headers=e2e)
            assert rows.status_code == 200, rows.text
            return list(rows.json())

        rows: list[dict[str, Any]] = await eventually(
            "an incident for the firing rule", listed, bool, daemons
        )
        assert len(rows) == 1, rows
        incident_id = rows[0]["id"]
        assert incident_id.startswith(f"incident-alertmanager-{alertname}-")

        async def state() -> IncidentState:
            got = await http.get(f"/api/incidents/{incident_id}", headers=e2e)
            assert got.status_code == 200, got.text
            return IncidentState.model_validate(got.json())

        def first_step_done_and_waiting(s: IncidentState) -> bool:
            return s.status is IncidentStatus.AWAITING_APPROVAL and len(s.steps) == 2

        current: IncidentState = await eventually(
            "the safe step to run and the caution step to wait",
            state,
            first_step_done_and_waiting,
            daemons,
        )

        # The alert as Alertmanager delivered it: the rule's labels plus Prometheus' own.
        alert = current.alerts[0]
        assert alert.source.value == "alertmanager"
        assert alert.name == alertname
        assert alert.status.value == "firing"
        assert alert.labels == {
            "alertname": alertname,
            "service": service,
            "severity": "critical",
            "namespace": "checkout",
            "pod": "checkout-api-5f6d7c8b9-7tq4n",
            "prometheus": "ddrun-e2e",
        }
        assert alert.annotations["runbook_url"] == runbook_url
        assert alert.annotations["description"] == "p99 latency of checkout is 1s."  # templated
        assert alert.generator_url is not None
        assert alert.generator_url.startswith(f"{prom.url}/graph?g0.expr=vector%281%29")
        assert alert.starts_at is not None
        assert alert.ends_at is None
        assert current.service == service
        assert current.severity == "critical"
        assert current.title == "Checkout p99 latency above 2s"

        # The right runbook, from the YAML file, filled from the alert's labels.
        assert current.runbook == runbook_id
        assert current.runbook_version == 1
        assert alertname in current.match_reason
        assert current.variables["pod"] == "checkout-api-5f6d7c8b9-7tq4n"
        assert current.variables["namespace"] == "checkout"
        show, restart = current.steps
        assert show.state is StepState.SUCCEEDED
        assert show.stdout.strip() == "pod checkout-api-5f6d7c8b9-7tq4n in checkout"
        assert restart.state is StepState.AWAITING_APPROVAL
        assert restart.command == "kubectl -n checkout rollout restart deployment/checkout"

        # Alertmanager's receiver with the wrong token was refused (a 4xx it does not retry);
        # the receiver with the right one never failed.
        def refused_logged(output: str) -> bool:
            return any(
                "ddrun-wrong-token/webhook[0]" in line and "unexpected status code 401" in line
                for line in output.splitlines()
            )

        async def am_log() -> str:
            return am.output()

        await eventually("Alertmanager to log the refused receiver", am_log, refused_logged, [am])
        assert 'err="ddrun/webhook' not in am.output()

        # Repeat notifications (group_interval 1s) reach the same incident, never a second one.
        assert len(await listed()) == 1

        for daemon in daemons:
            daemon.stop()
        # The caution step still waits for approval: resolving is refused until it is decided.
        early = await http.post(f"/api/incidents/{incident_id}/resolve", headers=e2e)
        assert early.status_code == 409, early.text
        assert "'restart' is waiting for approval" in early.json()["error"]
        done = await http.post(f"/api/incidents/{incident_id}/abort", headers=e2e)
        assert done.status_code == 200, done.text
        assert "abort requested by e2e" in done.json()["result"]  # the token's person
        probed = await http.get("/api/incidents", params={"service": probe_service}, headers=e2e)
        assert (probed.status_code, probed.json()) == (200, [])


def _webhook_body(alertname: str, service: str) -> dict[str, Any]:
    labels = {"alertname": alertname, "service": service, "severity": "critical"}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "ddrun",
        "groupLabels": {"alertname": alertname},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "refused"},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": "refused"},
                "startsAt": "2026-11-20T09:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://127.0.0.1:9090/graph",
                "fingerprint": "0123456789abcdef",
            }
        ],
    }
