"""What `ddrun demo` does: run the demo service, break it on purpose, follow the incident.

The walk-through in the README ("Your first incident in five minutes") is made of these
commands, so they wait for what a newcomer would otherwise have to poll for: `break` returns
once the incident waits for a human (or has closed), `status --wait` once the service is healthy
and its incidents have closed. Clients find the running service through `state.json` in
`DDRUN_DATA_DIR/demo/`, so only `ddrun demo` itself needs a port.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import httpx
import typer

from cli.api_client import Api, fail
from cli.demo_service import ALERTS, DemoPaths, read_state, serve
from schemas.incident import IncidentState, StepState
from schemas.settings import Settings

WAIT_S = 90.0


def _paths() -> DemoPaths:
    return DemoPaths.under(Settings().data_dir)


def run_service(port: int) -> None:
    """Run the demo service in the foreground (Ctrl-C stops it); it alerts dd0c/run itself."""
    settings = Settings()
    paths = DemoPaths.under(settings.data_dir)
    typer.echo(
        f"demo service on http://127.0.0.1:{port}  (pid {os.getpid()})\n"
        f"  files   {paths.root}  (log: {paths.log})\n"
        f"  alerts  {settings.api_url.rstrip('/')}/webhooks/generic\n"
        "  break it from another terminal: ddrun demo break disk|config|stuck"
    )
    sys.stdout.flush()
    try:
        serve(paths, port, settings.api_url)
    except OSError as err:
        raise fail(
            f"cannot serve on 127.0.0.1:{port}: {err} (set --port or DDRUN_DEMO_PORT)"
        ) from None
    except KeyboardInterrupt:
        typer.echo("demo service stopped")


def _service_url() -> str:
    url = read_state(_paths()).get("url")
    if not isinstance(url, str):
        raise fail("the demo service is not running: start it with `ddrun demo`")
    return url


def _service(method: str, path: str) -> dict[str, Any]:
    url = _service_url()
    try:
        response = httpx.request(method, url + path, timeout=10)
    except httpx.HTTPError as err:
        raise fail(f"the demo service does not answer at {url} ({type(err).__name__})") from None
    data = response.json()
    if response.status_code >= 400 and response.status_code != 503:
        raise fail(str(data.get("error", data)), 2)
    return data if isinstance(data, dict) else {}


def _incident(api: Api, incident_id: str) -> IncidentState | None:
    """The incident (its latest run), or None while it does not exist yet."""
    try:
        response = httpx.get(
            f"{api.base}/api/incidents/{incident_id}", headers=api.headers(), timeout=10
        )
    except httpx.HTTPError as err:
        raise fail(
            f"the dd0c/run API is not reachable at {api.base} ({type(err).__name__}). "
            "Is the stack running (`make run`)? Set DDRUN_API_URL if it is elsewhere."
        ) from None
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise fail(f"reading {incident_id}: {response.status_code} {response.text[:300]}", 2)
    return IncidentState.model_validate(response.json())


def _waiting_steps(state: IncidentState) -> list[str]:
    waiting = (StepState.AWAITING_APPROVAL, StepState.AWAITING_REPORT)
    return [s.id for s in state.steps if s.state in waiting]


def _say_steps(state: IncidentState) -> None:
    typer.echo(f"incident {state.id}: {state.status.value}  (runbook {state.runbook or 'none'})")
    for step in state.steps:
        typer.echo(f"  {step.id:<16} {step.state.value}")


def break_service(kind: str) -> None:
    """Break the demo service, then wait until its incident waits for you (or has closed)."""
    if kind not in ALERTS:
        raise fail(f"unknown kind {kind!r}: disk, config or stuck", 2)
    incident_id = f"incident-generic-{ALERTS[kind][1]}"
    api = Api()
    before = _incident(api, incident_id)  # a second time, the alert reopens it as a new run
    earlier_run = before.run_id if before is not None else None
    done = _service("POST", f"/admin/break/{kind}").get("done", "")
    typer.echo(f"broken: {done}")
    deadline = time.monotonic() + WAIT_S
    state = None
    while time.monotonic() < deadline:
        state = _incident(api, incident_id)
        if state is not None and state.run_id == earlier_run and state.status.is_closed:
            state = None  # the previous run: not reopened yet
        elif state is not None and (state.status.is_closed or _waiting_steps(state)):
            break
        time.sleep(0.5)
    if state is None:
        raise fail(f"no incident {incident_id} after {WAIT_S:.0f} s: see {_paths().log}")
    _say_steps(state)
    for step in _waiting_steps(state):
        typer.echo(f"next: ddrun approve {incident_id} {step}")


def restart() -> None:
    """Restart the demo service in place (what the runbooks' restart step does with curl)."""
    pid = _service("POST", "/admin/restart").get("pid")
    typer.echo(f"restarting the demo service (pid {pid})")
    health = _wait_healthy(time.monotonic() + 30)
    if health.get("status") != "ok":
        raise fail(f"the demo service is not healthy after its restart: {health}")
    typer.echo("the demo service is healthy again")


def _wait_healthy(deadline: float) -> dict[str, Any]:
    url = _service_url()
    while True:
        try:
            health = httpx.get(url + "/health", timeout=5).json()
            if isinstance(health, dict) and health.get("status") == "ok":
                return health
        except (httpx.HTTPError, ValueError):
            health = {"status": "not answering"}
        if time.monotonic() > deadline:
            return health if isinstance(health, dict) else {}
        time.sleep(0.5)


def status(wait: bool) -> None:
    """The demo service's health, the alerts it has firing, and its incidents."""
    deadline = time.monotonic() + (WAIT_S if wait else 0)
    health = _wait_healthy(deadline)
    typer.echo(f"demo service: {health.get('status')}")
    for kind, why in dict(health.get("problems") or {}).items():
        typer.echo(f"  {kind}: {why}")
    api = Api()
    still_open = []
    for _name, key, _title in ALERTS.values():
        incident_id = f"incident-generic-{key}"
        state = _incident(api, incident_id)
        while wait and state is not None and not state.status.is_closed:
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
            state = _incident(api, incident_id)
        if state is not None:
            _say_steps(state)
            if not state.status.is_closed:
                still_open.append(state.id)
    firing = sorted(read_state(_paths()).get("firing", {}))
    typer.echo(f"alerts firing: {', '.join(firing) or 'none'}")
    if wait and (health.get("status") != "ok" or firing or still_open):
        raise typer.Exit(1)
