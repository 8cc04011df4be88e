"""The HTTP API application: built by `create_app(settings)`, connected to Temporal at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api import (
    admission,
    codec,
    errors,
    exports,
    incident_command,
    incidents,
    mappings,
    match,
    people,
    rules,
    runbooks,
    status_page,
    trust,
    webhooks,
)
from api import web as web_app
from api.auth import Reader, check_bind, unguarded_routes
from api.deps import AppState
from api.slack import routes as slack
from db.engine import create_schema, make_engine
from db.mappings import MappingStore
from db.people import PeopleStore
from db.runbooks import RunbookStore
from db.trust import TrustStore
from infra.client import FAIL_FAST, connect
from infra.policy_file import load_policy
from schemas.settings import Settings


async def stop_intake(app: FastAPI) -> None:
    """Deliveries in flight finish; what is left queued is released to the next process."""
    state: AppState = app.state.ddrun
    if "intake" in vars(state):  # built on first use
        await state.intake.stop()


def create_app(
    settings: Settings, client: Client | None = None, engine: AsyncEngine | None = None
) -> FastAPI:
    """`client` and `engine` let tests share connections; otherwise the lifespan opens them."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_bind(settings)
        webhooks.log_unsigned_sources(settings)
        load_policy(settings.approval_policy_file)  # a broken policy stops start-up, loudly
        if client is not None and engine is not None:
            web_app.warm(app)
            app.state.ddrun.intake.start()
            yield
            await stop_intake(app)
            await web_app.stop(app)
            return
        own_engine = make_engine(settings.effective_database_url)
        await create_schema(own_engine)
        app.state.ddrun = AppState(
            settings=settings,
            client=client or await connect(settings, identity="ddrun-api", retry_config=FAIL_FAST),
            runbooks=RunbookStore(own_engine, settings.runbook_cache_s),
            trust=TrustStore(own_engine),
            engine=own_engine,
            mappings=MappingStore(own_engine, settings.runbook_cache_s),
            people=PeopleStore(own_engine),
        )
        web_app.warm(app)
        app.state.ddrun.intake.start()  # takes over what a previous process left queued
        yield
        await stop_intake(app)
        await web_app.stop(app)
        await own_engine.dispose()

    # No /docs pages (they load assets from a CDN, and nothing is public but what PUBLIC says);
    # the schema is served to authenticated readers at /api/openapi.json.
    app = FastAPI(
        title="dd0c/run",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    if client is not None and engine is not None:
        app.state.ddrun = AppState(
            settings=settings,
            client=client,
            runbooks=RunbookStore(engine, 0.0),
            trust=TrustStore(engine),
            engine=engine,
            mappings=MappingStore(engine, 0.0),
            people=PeopleStore(engine),
        )
    errors.install(app)
    app.state.admission = admission.Admission(limit=settings.webhook_max_in_flight)
    app.add_middleware(admission.AdmissionMiddleware, admission=app.state.admission)
    app.include_router(webhooks.router)
    app.include_router(admission.router)
    app.include_router(incident_command.router)
    app.include_router(status_page.router)
    app.include_router(incidents.router)
    app.include_router(runbooks.router)
    app.include_router(trust.router)
    app.include_router(exports.router)
    app.include_router(codec.router)
    app.include_router(mappings.router)
    app.include_router(match.router)
    app.include_router(rules.router)
    app.include_router(slack.router)
    app.include_router(people.router)
    web_app.install(app)

    @app.get("/api/openapi.json", tags=["meta"])
    async def openapi(_principal: Reader) -> dict[str, Any]:
        return app.openapi()

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    missing = unguarded_routes(app)
    if missing:
        raise RuntimeError(f"routes with no authentication: {', '.join(missing)}")
    return app
