"""The async engine: SQLite (embedded default) or PostgreSQL through asyncpg, same code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db import (  # noqa: F401 - registers the tables on SQLModel.metadata
    alert_rules,
    incident_claims,
    intake_queue,
    mappings,
    people,
    slack_messages,
    step_outputs,
    tables,
    web,
)
from db.schema import upgrade
from db.write_turns import SQLITE_BUSY_TIMEOUT_S


def make_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


async def create_schema(engine: AsyncEngine) -> None:
    """Bring the schema up to date (the migrations under db/migrations); idempotent, cheap
    when current, and safe when several processes open a fresh database at once."""
    await upgrade(engine)
