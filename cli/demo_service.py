"""The demo service: a tiny HTTP service that breaks on purpose, so dd0c/run can be tried
anywhere, with no cluster.

It lives in `cli/` because it ships with the `ddrun` tool (`ddrun demo` runs it) and needs only
the standard library. Everything it owns is under `<data dir>/demo/`: `config.json` (and the
`config.last-good.json` it was started with), `data/` (what fills its disk), `demo.log` and
`state.json` (its address and the alerts it has fired). It watches itself like a monitoring
system would: every second it checks its disk, its config and its worker, and posts an alert to
dd0c/run's generic webhook when a problem starts and a resolved alert when it ends, with a
stable dedup key per problem. The firing alerts are kept in `state.json`, so a restarted service
still resolves what its previous life fired.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

#: The service's own health problems → the alert each one fires (name, dedup key, title).
ALERTS: dict[str, tuple[str, str, str]] = {
    "disk": ("DemoDiskFull", "demo-disk-full", "demo service: data folder over its quota"),
    "config": ("DemoConfigInvalid", "demo-config-invalid", "demo service: config is invalid"),
    "stuck": ("DemoServiceStuck", "demo-service-stuck", "demo service: worker is stuck"),
}
GOOD_CONFIG: dict[str, Any] = {"greeting": "hello from the demo service", "disk_quota_mb": 5}
FILL_MB = 6  # `break disk` writes this much: over the default quota
TICK_S = 1.0
#: A problem must stay gone this long before its alert resolves (Prometheus' `keep_firing_for`):
#: a runbook's verify step runs before the incident closes on the resolved alert.
RESOLVE_AFTER_S = 3.0


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo service keeps its files (runbooks get these through alert labels)."""

    root: Path

    @classmethod
    def under(cls, data_dir: Path) -> DemoPaths:
        return cls((data_dir / "demo").resolve())

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def last_good(self) -> Path:
        return self.root / "config.last-good.json"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "demo.log"

    @property
    def state(self) -> Path:
        return self.root / "state.json"


def read_state(paths: DemoPaths) -> dict[str, Any]:
    try:
        data = json.loads(paths.state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class DemoService:
    """The service's state and its self-monitoring; the HTTP handler below only calls it."""

    def __init__(
        self, paths: DemoPaths, port: int, api_url: str, resolve_after_s: float = RESOLVE_AFTER_S
    ) -> None:
        self.paths = paths
        self.resolve_after_s = resolve_after_s
        self.healthy_since: dict[str, float] = {}  # firing kinds whose problem has gone
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.webhook = api_url.rstrip("/") + "/webhooks/generic"
        self.stuck_since: float | None = None  # in memory only: a restart clears it
        self.lock = threading.Lock()
        paths.data.mkdir(parents=True, exist_ok=True)
        if not paths.config.exists():
            _write_json(paths.config, GOOD_CONFIG)
        if not paths.last_good.exists():
            _write_json(paths.last_good, GOOD_CONFIG)

    def log(self, level: str, message: str) -> None:
        line = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} {level} {message}\n"
        with self.lock, self.paths.log.open("a", encoding="utf-8") as out:
            out.write(line)

    def config(self) -> tuple[dict[str, Any] | None, str]:
        """The config, or None and why it is unusable."""
        try:
            data = json.loads(self.paths.config.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            return None, f"cannot read {self.paths.config}: {err}"
        quota = data.get("disk_quota_mb") if isinstance(data, dict) else None
        if not isinstance(quota, int) or quota <= 0:
            return None, f"{self.paths.config}: disk_quota_mb must be a positive integer"
        return data, ""

    def problems(self) -> dict[str, str]:
        """What is wrong now, by kind (keys of ALERTS), with a sentence each."""
        found: dict[str, str] = {}
        config, why = self.config()
        if config is None:
            found["config"] = why
        quota_mb = int(config["disk_quota_mb"]) if config else GOOD_CONFIG["disk_quota_mb"]
        used = _folder_bytes(self.paths.data)
        if used > quota_mb * 1024 * 1024:
            found["disk"] = f"data folder uses {used / 2**20:.1f} MB of its {quota_mb} MB quota"
        if self.stuck_since is not None:
            found["stuck"] = f"worker stuck for {time.monotonic() - self.stuck_since:.0f} s"
        return found

    def break_it(self, kind: str) -> str:
        """Cause one problem on purpose; says what was done."""
        if kind == "disk":
            junk = self.paths.data / "cache"
            junk.mkdir(exist_ok=True)
            for i in range(FILL_MB):
                (junk / f"chunk-{i}.bin").write_bytes(b"\0" * 2**20)
            done = f"wrote {FILL_MB} MB of cache files into {junk}"
        elif kind == "config":
            self.paths.config.write_text('{"disk_quota_mb": "lots", ', encoding="utf-8")
            done = f"wrote a broken {self.paths.config}"
        elif kind == "stuck":
            self.stuck_since = time.monotonic()
            done = "the worker thread is stuck (only a restart clears it)"
        else:
            raise ValueError(f"unknown kind {kind!r}: disk, config or stuck")
        self.log("WARN", f"broken on purpose: {done}")
        return done

    def labels(self) -> dict[str, str]:
        """Where everything is, for the runbooks' variables. The port, not a URL: the runbooks
        fix the host to loopback, so an alert can never point their curl elsewhere."""
        p = self.paths
        return {
            "port": str(self.port),
            "log_file": str(p.log),
            "config_file": str(p.config),
            "last_good_config": str(p.last_good),
            "data_dir": str(p.data),
        }

    def _post(self, kind: str, status: str, detail: str, since: str) -> bool:
        name, key, title = ALERTS[kind]
        body = {
            "name": name,
            "title": title,
            "description": detail,
            "status": status,
            "service": "demo",
            "severity": "warning",
            "dedup_key": key,
            "starts_at": since,
            "labels": self.labels(),
        }
        request = urllib.request.Request(  # noqa: S310 - DDRUN_API_URL, http(s) only
            self.webhook,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except (urllib.error.URLError, OSError, ValueError) as err:
            self.log("WARN", f"could not send {name} {status} to {self.webhook}: {err}")
            return False
        incident = answer.get("incident_id") if isinstance(answer, dict) else None
        self.log(
            "INFO", f"alert {name} {status} sent" + (f": incident {incident}" if incident else "")
        )
        return True

    def check_once(self) -> None:
        """Fire what started, resolve what ended; only a delivered alert changes the state."""
        problems = self.problems()
        state = read_state(self.paths)
        firing: dict[str, str] = dict(state.get("firing", {}))
        for kind, detail in problems.items():
            if kind not in firing:
                self.log("ERROR", f"unhealthy: {detail}")
                since = datetime.now(UTC).isoformat()
                if self._post(kind, "firing", detail, since):
                    firing[kind] = since
        now = time.monotonic()
        for kind, since in list(firing.items()):
            if kind in problems:
                self.healthy_since.pop(kind, None)
                continue
            gone_at = self.healthy_since.setdefault(kind, now)
            if now - gone_at < self.resolve_after_s:
                continue
            if self._post(kind, "resolved", "healthy again", since):
                self.log("INFO", f"healthy again: {ALERTS[kind][0]} resolved")
                del firing[kind]
                self.healthy_since.pop(kind, None)
        _write_json(
            self.paths.state,
            {"url": self.url, "pid": os.getpid(), "firing": firing},
        )

    def watch(self) -> None:
        while True:
            try:
                self.check_once()
            except OSError as err:
                self.log("ERROR", f"self-check failed: {err}")
            time.sleep(TICK_S)


def _handler(service: DemoService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, code: int, body: dict[str, Any]) -> None:
            raw = (json.dumps(body) + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            service.log("INFO", f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}")

        def do_GET(self) -> None:
            if self.path == "/health":
                problems = service.problems()
                if problems:
                    self._send(503, {"status": "unhealthy", "problems": problems})
                else:
                    self._send(200, {"status": "ok"})
            elif self.path == "/":
                config, _ = service.config()
                self._send(200, {"greeting": (config or {}).get("greeting", "")})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            if self.path.startswith("/admin/break/"):
                try:
                    done = service.break_it(self.path.rsplit("/", 1)[1])
                except ValueError as err:
                    self._send(400, {"error": str(err)})
                    return
                self._send(200, {"done": done})
            elif self.path == "/admin/restart":
                service.log("INFO", "restart requested")
                self._send(202, {"restarting": True, "pid": os.getpid()})
                self.wfile.flush()
                threading.Timer(0.2, _reexec).start()
            else:
                self._send(404, {"error": "not found"})

    return Handler


def _reexec() -> None:
    """A restart is a fresh process image in place (same pid, same terminal): memory, such as a
    stuck worker, is gone; files and the alerts fired stay."""
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])  # noqa: S606


def serve(paths: DemoPaths, port: int, api_url: str) -> None:
    """Run until killed: the HTTP server in this thread, the self-check in another."""
    # Ctrl-C and SIGTERM stop it, also after a restart (an exec from a helper thread).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    service = DemoService(paths, port, api_url)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(service))
    service.log("INFO", f"started (pid {os.getpid()}) on {service.url}")
    threading.Thread(target=service.watch, name="self-check", daemon=True).start()
    server.serve_forever()
