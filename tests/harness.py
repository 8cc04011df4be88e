"""A whole product stack per test, in-process: workers on fresh task queues and the HTTP API.

Each test gets unique task queues and unique alert names, so tests sharing one Temporal server
and one database never see each other's incidents or runbooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from api.app import create_app, stop_intake
from db.people import PeopleStore
from db.runbooks import RunbookStore
from schemas.identity import PersonIn, Role, Scope, scopes_of
from schemas.incident import IncidentState
from schemas.runbook import Runbook
from schemas.settings import Settings
from services import incidents as incident_client
from tests.support import REPO
from workers import agent as agent_worker
from workers import orchestrator
from workflows.incident import IncidentWorkflow

CORPUS_WEBHOOKS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "alertmanager-webhooks"
)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@dataclass
class Stack:
    settings: Settings
    client: Client
    engine: AsyncEngine
    http: httpx.AsyncClient
    runbooks: RunbookStore = field(init=False)
    touched: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.runbooks = RunbookStore(self.engine)

    async def add_runbook(self, data: dict[str, Any]) -> Runbook:
        saved = await self.runbooks.save(Runbook.model_validate(data))
        return saved.runbook

    async def person(
        self,
        handle: str,
        roles: tuple[Role, ...] = (Role.RESPONDER,),
        *,
        slack: str | None = None,
        scopes: tuple[Scope, ...] | None = None,
    ) -> dict[str, str]:
        """Headers authenticating as `handle` (made on first use) with a fresh token."""
        return await as_person(self.engine, handle, roles, slack=slack, scopes=scopes)

    async def post_generic(self, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post("/webhooks/generic", content=json.dumps(body))

    async def post_alertmanager(self, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post("/webhooks/alertmanager", content=json.dumps(body))

    def handle(self, incident_id: str) -> WorkflowHandle[IncidentWorkflow, IncidentState]:
        self.touched.add(incident_id)
        return incident_client.incident_handle(self.client, incident_id)

    async def state(self, incident_id: str) -> IncidentState:
        return await self.handle(incident_id).query(IncidentWorkflow.state)


async def as_person(
    engine: AsyncEngine,
    handle: str,
    roles: tuple[Role, ...] = (Role.RESPONDER,),
    *,
    slack: str | None = None,
    scopes: tuple[Scope, ...] | None = None,
) -> dict[str, str]:
    """Headers authenticating as `handle` (made with `roles` on first use; the database is
    shared by the tests of a session, so an existing person is reused) with a fresh token."""
    people = PeopleStore(engine)
    if await people.get(handle) is None:
        await people.add(PersonIn(handle=handle, roles=list(roles), slack_user_id=slack))
    issued = await people.issue_token(
        handle,
        name="test",
        scopes=list(scopes or scopes_of(roles)),
        expires_in=None,
        created_by="tests",
    )
    return {"Authorization": f"Bearer {issued.token}"}


async def run_cli(
    *args: str,
    env: dict[str, str],
    cwd: Path | None = None,
    stderr_apart: bool = False,
    timeout: float = 120,
) -> tuple[int, str, str]:
    """`ddrun ARGS` as a user runs it, without blocking the event loop that may serve the API it
    talks to: (exit code, stdout, stderr); stderr is folded into stdout unless `stderr_apart`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        *args,
        cwd=cwd or REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE if stderr_apart else asyncio.subprocess.STDOUT,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode(), (err or b"").decode()


def token_of(headers: dict[str, str]) -> str:
    """The bare token in headers from `as_person` (for DDRUN_TOKEN)."""
    return headers["Authorization"].removeprefix("Bearer ")


@contextlib.asynccontextmanager
async def serving(stack: Stack, settings: Settings | None = None) -> AsyncIterator[str]:
    """The stack's HTTP API on a real loopback port (for the CLI, which talks HTTP): its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(settings or stack.settings, client=stack.client, engine=stack.engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # start-up failed: say why
            raise RuntimeError("the API stopped during start-up")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def stack_settings(client: Client, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "temporal_address": client.service_client.config.target_host,
        "temporal_namespace": client.namespace,
        "orchestrator_task_queue": unique("orch-"),
        "agent_task_queue": unique("agent-"),
        "escalation_levels": ["primary-oncall", "secondary-oncall"],
        "max_body_bytes": 256 * 1024,
        # Tests of what happens during a runbook end with it (their alerts never resolve);
        # holding an incident open after its runbook is tested in tests/workflows/test_closing.py.
        "hold_open_while_firing": False,
        # Response-SLA timers page on virtual time; tests/workflows/test_incident_command.py
        # turns them on where they are the subject.
        "sla_timers": False,
        # Alerts map to P0-P3; their IC approval rules are tested in test_incident_roles.py.
        "ic_approvals": False,
        # Resolved incidents close at once; the soak is tested in test_soak.py.
        "soak_period": False,
        "status_update_reminders": False,
        # The intake's kill-switch read counts as the first automatic step's check however
        # loaded the machine (tests that assert which local activities ran stay exact); a read
        # too old to count is tested in tests/workflows/test_intake_check.py.
        "intake_check_fresh_s": 60.0,
        # Every test's workflows run in the strict sandbox: a non-deterministic call fails here.
        "workflow_sandbox": True,
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running_stack(
    client: Client, engine: AsyncEngine, *, with_agent: bool = True, **overrides: Any
) -> AsyncIterator[Stack]:
    settings = stack_settings(client, **overrides)
    app = create_app(settings, client=client, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(orchestrator.build_worker(client, settings, engine))
        if with_agent:
            await stack.enter_async_context(agent_worker.build_worker(client, settings))
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://ddrun.test")
        )
        result = Stack(settings=settings, client=client, engine=engine, http=http)
        try:
            yield result
        finally:  # a failed test's histories are the ones most worth replaying
            await stop_intake(app)
            await _record_histories(result)


async def _record_histories(stack: Stack) -> None:
    """With DDRUN_RECORD_HISTORIES=DIR, keep every closed incident's history as a replay fixture
    (how tests/replay/histories/ was made)."""
    folder = os.environ.get("DDRUN_RECORD_HISTORIES")
    if not folder:
        return
    test = os.environ.get("PYTEST_CURRENT_TEST", "test").split("::")[-1].split(" ")[0]
    for incident_id in sorted(stack.touched):
        handle = stack.client.get_workflow_handle(incident_id)
        if (await handle.describe()).close_time is None:
            continue
        history = await handle.fetch_history()
        name = f"{test}--{incident_id}"[:180].replace("/", "_")
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.json").write_text(history.to_json())


def generic_alert(name: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "title": f"{name} is firing",
        "service": "payment-svc",
        "severity": "critical",
        "labels": {"namespace": "payments"},
    }
    body.update(fields)
    return body


def corpus_payload(filename: str, alertname: str | None = None) -> dict[str, Any]:
    """A real captured Alertmanager body, optionally renamed so the test owns its runbook."""
    data: dict[str, Any] = json.loads((CORPUS_WEBHOOKS / filename).read_text())
    if alertname is not None:
        for alert in data["alerts"]:
            alert["labels"]["alertname"] = alertname
            alert["fingerprint"] = uuid.uuid4().hex[:16]
        data["commonLabels"]["alertname"] = alertname
    return data


async def history_events(handle: WorkflowHandle[Any, Any]) -> list[Any]:
    return [e async for e in handle.fetch_history_events()]


def activity_summaries(events: list[Any]) -> list[str]:
    """Activity labels in scheduling order, as the Temporal UI shows them."""
    from temporalio.contrib.pydantic import pydantic_data_converter

    out = []
    for e in events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            payload = e.user_metadata.summary
            out.append(pydantic_data_converter.payload_converter.from_payload(payload, str))
    return out


def local_activity_types(events: list[Any]) -> list[str]:
    """The local activities a run recorded (their markers), in order."""
    out = []
    for e in events:
        if e.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
            continue
        attributes = e.marker_recorded_event_attributes
        if attributes.marker_name != "core_local_activity":
            continue
        data = json.loads(attributes.details["data"].payloads[0].data)
        out.append(str(data["activity_type"]))
    return out
