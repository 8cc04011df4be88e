"""Issue 13, bursts: no acknowledged alert is lost, and none doubled, when the API is SIGKILLed
in the middle of a burst.

The API runs as the product runs it (`ddrun api`, its own OS process, its own Temporal client
and database connections), the workers beside it on the test's Temporal server. Sixteen
concurrent senders post distinct alerts, half as the generic webhook (no delivery id), half as
PagerDuty v3 (a delivery id claimed in the database), behave as real senders do (retry on a
refused connection, a 429 or a 503, honouring Retry-After) and stop retrying an alert once they
got a 2xx. Once a third of the alerts are acknowledged, Temporal stops answering the API (a
relay between them stalls) until the gate is full of requests waiting on it, then the API is
SIGKILLed, Temporal answers again, and the API is restarted. Alerts acknowledged while
Temporal was stalled were only in the intake queue (services/intake.py): the restarted API takes
them over once the dead one's lease ran out.
Afterwards Temporal must hold exactly one incident per alert: every acknowledged alert became
an incident, and no retry made a second one.

A PagerDuty delivery cut short by the kill is the interesting one: its id was claimed, and
before issue 13 a retry was answered "duplicate" although Temporal never took the alert (this
test lost 3 of 64 PagerDuty alerts that way against the old claim-first code).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.settings import Settings
from tests.harness import running_stack, unique
from tests.support import CONTRACTS, REPO, processes

pytestmark = [pytest.mark.temporal, pytest.mark.e2e]

SENDERS = 16
PER_SENDER = 8  # 128 alerts
GATE = 6  # fewer than the senders: the gate must refuse some, and they must be retried
LEASE_S = 2
PD_TRIGGERED = json.loads(
    (CONTRACTS / "pagerduty" / "webhooks-v3" / "incident.triggered.json").read_text()
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StallableLink:
    """A TCP relay between the API and Temporal that the test can stall: requests already past
    their delivery claim then wait on Temporal, where a crash hurts most. On `resume` every
    connection from the stall is dropped unforwarded, so what was held never reaches Temporal."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.port = _free_port()
        self.running = asyncio.Event()
        self.running.set()
        self.open: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self.open |= {writer, up_writer}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, held: bool) -> None:
            try:
                while chunk := await src.read(65536):
                    if held and not self.running.is_set():
                        return  # stalled: nothing more goes to Temporal on this connection
                    dst.write(chunk)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass

        try:
            await asyncio.gather(
                pump(reader, up_writer, held=True), pump(up_reader, writer, held=False)
            )
        finally:
            for w in (writer, up_writer):
                self.open.discard(w)
                w.close()

    def stall(self) -> None:
        self.running.clear()

    def resume(self) -> None:
        for w in list(self.open):
            w.close()
        self.open.clear()
        self.running.set()

    async def stop(self) -> None:
        self.resume()
        if self.server is not None:
            self.server.close()


class ApiProcess:
    """`ddrun api` as a separate OS process on a fixed port, killable and restartable."""

    def __init__(
        self,
        settings: Settings,
        temporal: str,
        database_url: str,
        data_dir: Path,
        workers: int = 1,
    ) -> None:
        self.port = _free_port()
        self.log = data_dir / "api.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DDRUN_DATA_DIR": str(data_dir),
            "DDRUN_DATABASE_URL": database_url,
            "DDRUN_TEMPORAL_ADDRESS": temporal,
            "DDRUN_TEMPORAL_NAMESPACE": settings.temporal_namespace,
            "DDRUN_ORCHESTRATOR_TASK_QUEUE": settings.orchestrator_task_queue,
            "DDRUN_AGENT_TASK_QUEUE": settings.agent_task_queue,
            "DDRUN_API_HOST": "127.0.0.1",
            "DDRUN_API_PORT": str(self.port),
            "DDRUN_WEBHOOK_MAX_IN_FLIGHT": str(GATE),
            "DDRUN_DELIVERY_LEASE_S": str(LEASE_S),
            "DDRUN_INTAKE_LEASE_S": str(LEASE_S),
            "DDRUN_API_WORKERS": str(workers),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "api"],
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=out,
            )
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while True:
                assert self.proc.poll() is None, f"the API exited: {self.tail()}"
                try:
                    if (await http.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"the API did not come up: {self.tail()}"
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@dataclass
class Tally:
    acked: dict[str, int] = field(default_factory=dict)  # alert -> final 2xx status
    refused: int = 0  # 429s
    unavailable: int = 0  # 503s
    cut: int = 0  # connection refused or reset: the API was down or died mid-request
    first_acked: asyncio.Event = field(default_factory=asyncio.Event)


def _generic(tag: str, n: int) -> tuple[str, bytes]:
    key = f"{tag}-g{n}"
    body = {
        "name": f"Burst{key}",
        "dedup_key": key,
        "service": key,  # one service each: distinct problems, never correlated
        "severity": "warning",
        "title": f"{key} burst probe",
    }
    return "/webhooks/generic", json.dumps(body).encode()


def _pagerduty(tag: str, n: int) -> tuple[str, bytes]:
    body = json.loads(json.dumps(PD_TRIGGERED))
    body["event"]["id"] = f"01EV{tag}{n}"
    data = body["event"]["data"]
    data["id"] = f"{tag}-p{n}"
    data["title"] = f"{tag}-p{n} burst probe"
    data["service"]["summary"] = data["service"]["id"] = f"{tag}-p{n}"
    return "/webhooks/pagerduty", json.dumps(body, separators=(",", ":")).encode()


async def _send_until_acked(http: httpx.AsyncClient, path: str, raw: bytes, tally: Tally) -> int:
    """As a sender does: retry until a 2xx, waiting as told; never give up on a 5xx/429."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            response = await http.post(path, content=raw)
        except httpx.TransportError:
            tally.cut += 1
            await asyncio.sleep(0.2)
            continue
        if response.status_code in (200, 202):
            return response.status_code
        assert response.status_code in (429, 503), response.text
        if response.status_code == 429:
            tally.refused += 1
        else:
            tally.unavailable += 1
        await asyncio.sleep(float(response.headers.get("retry-after", "0.5")))
    raise AssertionError(f"{path} never acknowledged")


async def _ids(client: Client, prefix: str) -> list[str]:
    query = f'WorkflowId STARTS_WITH "{prefix}"'
    return [e.id async for e in client.list_workflows(query)]


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-workers"])
async def test_an_api_killed_mid_burst_loses_no_acknowledged_alert_and_doubles_none(
    client: Client, engine: AsyncEngine, tmp_path: Path, workers: int
) -> None:
    tag = unique("b").lower()
    alerts = {  # interleaved: both kinds are in flight whenever the API dies
        f"{kind}{n}": make(tag, n)
        for n in range(SENDERS * PER_SENDER // 2)
        for kind, make in (("g", _generic), ("p", _pagerduty))
    }
    total = len(alerts)
    async with running_stack(client, engine) as stack:
        link = StallableLink(stack.settings.temporal_address)
        await link.start()
        api = ApiProcess(
            stack.settings, link.address, engine.url.render_as_string(False), tmp_path, workers
        )
        await api.start()
        tally = Tally()
        queue: asyncio.Queue[str] = asyncio.Queue()
        for name in alerts:
            queue.put_nowait(name)
        killed_at: int | None = None
        try:
            async with httpx.AsyncClient(base_url=api.url, timeout=60) as http:

                async def sender() -> None:
                    while not queue.empty():
                        name = queue.get_nowait()
                        path, raw = alerts[name]
                        tally.acked[name] = await _send_until_acked(http, path, raw, tally)

                senders = [asyncio.create_task(sender()) for _ in range(SENDERS)]
                while len(tally.acked) < total // 3:
                    await asyncio.sleep(0.005)
                # Temporal stops answering the API: alerts acknowledged from now on wait in
                # the intake queue (answered at once while other deliveries are in flight),
                # a request that waits on Temporal holds its place in the gate and the rest are
                # refused with 429; then the API dies, with accepted alerts undelivered.
                link.stall()
                refused, acked = tally.refused, len(tally.acked)
                while tally.refused < refused + SENDERS and len(tally.acked) < acked + SENDERS:
                    await asyncio.sleep(0.01)
                killed_at = len(tally.acked)
                api.kill()
                link.resume()
                await asyncio.sleep(0.5)  # the senders meet a dead port meanwhile
                await api.start()
                await asyncio.gather(*senders)
        finally:
            api.stop()
            await link.stop()

        assert killed_at is not None
        assert killed_at < total, "the kill did not land mid-burst"
        assert tally.cut > 0, "no request met the dead API"
        assert tally.refused > 0, "the admission gate never refused: the burst was too small"
        assert len(tally.acked) == total

        prefixes = (f"incident-generic-{tag}-g", f"incident-pagerduty-pagerduty-{tag}-p")
        expected = {f"{prefixes[0]}{n}" for n in range(total // 2)} | {
            f"{prefixes[1]}{n}" for n in range(total // 2)
        }
        deadline = time.monotonic() + 30
        while True:  # visibility is eventually consistent: wait for it to show every start
            found = [i for p in prefixes for i in await _ids(client, p)]
            if set(found) >= expected or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        found = [i for p in prefixes for i in await _ids(client, p)]
        try:
            missing = expected - set(found)
            assert not missing, f"acknowledged but never an incident: {sorted(missing)[:10]}"
            assert len(found) == len(set(found)) == total, "an alert became two incidents"
        finally:
            for incident_id in set(found):
                await stack.handle(incident_id).terminate("test done")


async def test_api_worker_processes_die_with_their_supervisor(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    """`DDRUN_API_WORKERS=2`: a SIGKILLed `ddrun api` takes its uvicorn workers with it, so
    the restarted API gets its port back (orphans used to keep it and go on serving)."""
    async with running_stack(client, engine) as stack:
        database = engine.url.render_as_string(False)
        api = ApiProcess(stack.settings, stack.settings.temporal_address, database, tmp_path, 2)
        await api.start()
        assert api.proc is not None
        parent = api.proc.pid
        workers = [p.pid for p in processes() if p.ppid == parent and p.running]
        assert len(workers) >= 2, workers
        api.kill()
        deadline = time.monotonic() + 10
        while any(p.pid in workers and p.running for p in processes()):
            assert time.monotonic() < deadline, f"orphaned API workers: {workers}"
            await asyncio.sleep(0.1)
        await api.start()  # the same port
        try:
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{api.url}/healthz")).status_code == 200
        finally:
            api.stop()
