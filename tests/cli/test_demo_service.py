"""The demo service on its own: each way to break it makes /health say so and fires its alert
once, the runbooks' fixes (as shell commands) make it healthy and resolve the alert, and a
restart clears a stuck worker. A small local receiver stands in for the webhook; the whole
product path is covered by tests/e2e/test_first_incident_walkthrough.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.demo_service import DemoPaths, DemoService
from tests.support import REPO


class Receiver:
    """Collects the alert bodies posted to it, answering like the API does (202)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                received.append(body)
                raw = json.dumps({"incident_id": f"incident-generic-{body['dedup_key']}"})
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw.encode())

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sent(self) -> list[tuple[str, str]]:
        return [(b["name"], b["status"]) for b in self.bodies]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sh(command: str) -> None:
    subprocess.run(["bash", "-c", command], check=True, capture_output=True, timeout=30)


def test_disk_and_config_fire_once_and_the_runbook_fixes_resolve(
    tmp_path: Path, receiver: Receiver
) -> None:
    paths = DemoPaths.under(tmp_path)
    service = DemoService(paths, 1, receiver.url, resolve_after_s=0)
    service.check_once()
    assert service.problems() == {}
    assert receiver.sent() == []

    service.break_it("disk")
    service.check_once()
    service.check_once()  # still broken: no second alert
    assert "quota" in service.problems()["disk"]
    assert receiver.sent() == [("DemoDiskFull", "firing")]
    labels = receiver.bodies[0]["labels"]
    assert receiver.bodies[0]["dedup_key"] == "demo-disk-full"
    _sh(f"find '{labels['data_dir']}'/cache -type f -name '*.bin' -delete")  # demo-disk-full
    service.check_once()
    assert receiver.sent()[-1] == ("DemoDiskFull", "resolved")
    assert receiver.bodies[-1]["starts_at"] == receiver.bodies[0]["starts_at"]

    service.break_it("config")
    service.check_once()
    assert receiver.sent()[-1] == ("DemoConfigInvalid", "firing")
    config, good = labels["config_file"], labels["last_good_config"]
    _sh(f"cp -- '{config}' '{config}'.broken && cp -- '{good}' '{config}'")
    service.check_once()
    assert receiver.sent()[-1] == ("DemoConfigInvalid", "resolved")
    assert service.problems() == {}
    assert json.loads(paths.state.read_text())["firing"] == {}


def test_unsent_alert_is_retried_and_state_survives_a_new_process(
    tmp_path: Path, receiver: Receiver
) -> None:
    paths = DemoPaths.under(tmp_path)
    down = DemoService(paths, 1, f"http://127.0.0.1:{_free_port()}")  # the API is not up
    down.break_it("stuck")
    down.check_once()
    assert json.loads(paths.state.read_text())["firing"] == {}
    assert "could not send DemoServiceStuck firing" in paths.log.read_text()
    up = DemoService(paths, 1, receiver.url)
    up.stuck_since = down.stuck_since
    up.check_once()
    assert receiver.sent() == [("DemoServiceStuck", "firing")]
    # A new process (a restart) has no stuck worker, and resolves what the old one fired.
    DemoService(paths, 1, receiver.url, resolve_after_s=0).check_once()
    assert receiver.sent()[-1] == ("DemoServiceStuck", "resolved")


def test_ddrun_demo_serves_breaks_and_restarts_in_place(tmp_path: Path, receiver: Receiver) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DDRUN_")},
        "PYTHONPATH": str(REPO),
        "DDRUN_DATA_DIR": str(tmp_path),
        "DDRUN_API_URL": receiver.url,
        "DDRUN_DEMO_PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "demo"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # liveness waits, not speed: a loaded 2-core machine
        while True:
            try:
                assert httpx.get(f"{url}/health").json() == {"status": "ok"}
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        httpx.post(f"{url}/admin/break/stuck").raise_for_status()
        unhealthy = httpx.get(f"{url}/health")
        assert unhealthy.status_code == 503
        assert "stuck" in unhealthy.json()["problems"]
        # The self-check alerts on its next tick; a restart before it (the CLI now answers in a
        # fraction of a second) would rightly fire nothing.
        deadline = time.monotonic() + 30
        while ("DemoServiceStuck", "firing") not in receiver.sent():
            assert time.monotonic() < deadline, receiver.sent()
            time.sleep(0.1)
        restarted = subprocess.run(
            [sys.executable, "-m", "cli.main", "demo", "restart"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}
        assert proc.poll() is None  # the same process, a fresh image
        deadline = time.monotonic() + 30
        while ("DemoServiceStuck", "resolved") not in receiver.sent():
            assert time.monotonic() < deadline, receiver.sent()
            time.sleep(0.1)
        assert receiver.sent() == [("DemoServiceStuck", "firing"), ("DemoServiceStuck", "resolved")]
    finally:
        proc.terminate()  # SIGTERM stops it, also after the restart
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode is not None
    assert b"Traceback" not in out, out.decode()


def test_cli_says_the_api_is_unreachable_without_a_traceback(tmp_path: Path) -> None:
    """`export` reads history through the stack's API (issue #13): that is what it reports."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DDRUN_")},
        "PYTHONPATH": str(REPO),
        "DDRUN_API_URL": f"http://127.0.0.1:{_free_port()}",
        "DDRUN_DATA_DIR": str(tmp_path / "no-stack"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "export", "incident-x", "-o", str(tmp_path / "x")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert "API" in said
    assert "not reachable" in said


def test_an_alert_resolves_only_after_the_problem_stayed_gone(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Like Prometheus' keep_firing_for: the runbook's verify step runs before the incident
    closes on the resolved alert."""
    paths = DemoPaths.under(tmp_path)
    service = DemoService(paths, 1, receiver.url, resolve_after_s=0.5)
    service.break_it("stuck")
    service.check_once()
    assert receiver.sent() == [("DemoServiceStuck", "firing")]
    service.stuck_since = None  # fixed
    service.check_once()
    assert receiver.sent() == [("DemoServiceStuck", "firing")]  # not yet
    time.sleep(0.6)
    service.check_once()
    assert receiver.sent()[-1] == ("DemoServiceStuck", "resolved")
