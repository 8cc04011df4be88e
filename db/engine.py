"""The async engine: SQLite (embedded default) or PostgreSQL through asyncpg, same code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel

from db import (  # noqa: F401 - registers the tables on SQLModel.metadata
    mappings,
    people,
    slack_messages,
    tables,
)


def make_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


# Any 64-bit number: PostgreSQL's advisory lock key that serialises schema creation.
_SCHEMA_LOCK = 0x6464_3063_7275_6E01


async def create_schema(engine: AsyncEngine) -> None:
    """Create missing tables; idempotent, safe on every start, and safe when several processes
    start at once (CLI commands side by side on a fresh database).

    create_all checks then creates, which two processes can interleave: PostgreSQL serialises it
    with an advisory lock held for the transaction; SQLite takes its write lock only at the first
    CREATE, so the loser of that race sees "already exists" and checks again.
    """
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            await conn.run_sync(SQLModel.metadata.create_all)
        return
    for attempt in range(_SQLITE_SCHEMA_ATTEMPTS):
        try:
            async with engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)
            return
        except OperationalError as err:
            if "already exists" not in str(err) or attempt == _SQLITE_SCHEMA_ATTEMPTS - 1:
                raise


_SQLITE_SCHEMA_ATTEMPTS = 5
