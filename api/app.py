"""The HTTP API application: built by `create_app(settings)`, connected to Temporal at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api import errors, incidents, webhooks
from api.deps import AppState
from schemas.settings import Settings
from workers.client import connect


def create_app(settings: Settings, client: Client | None = None) -> FastAPI:
    """`client` lets tests share a connection; otherwise one is opened in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if client is None:
            app.state.ddrun = AppState(
                settings=settings, client=await connect(settings, identity="ddrun-api")
            )
        yield

    app = FastAPI(title="dd0c/run", version="0.1.0", lifespan=lifespan)
    if client is not None:
        app.state.ddrun = AppState(settings=settings, client=client)
    errors.install(app)
    app.include_router(webhooks.router)
    app.include_router(incidents.router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
