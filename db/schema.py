"""The database schema is what the migrations in `db/migrations` make it: every start upgrades
to the newest revision (idempotent, cheap when current). Several processes starting on one
fresh database at once is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any 64-bit number: PostgreSQL's advisory lock key that serialises schema changes.
_SCHEMA_LOCK = 0x6464_3063_7275_6E01
_SQLITE_LOCK_TIMEOUT_S = 60


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built here rather than read from an alembic.ini."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision the code knows."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"no migrations under {MIGRATIONS}")
    return revision


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


@contextlib.asynccontextmanager
async def _sqlite_file_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """SQLite runs DDL outside the transaction, so two processes migrating one fresh file would
    interleave: a lock file beside the database makes them take turns (the second finds the
    schema current and does nothing). PostgreSQL serialises with an advisory lock instead."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock = FileLock(f"{database}.migrate.lock", timeout=_SQLITE_LOCK_TIMEOUT_S)
    await asyncio.to_thread(lock.acquire)
    try:
        yield
    finally:
        lock.release()


async def _migrate(
    engine: AsyncEngine, step: Literal["upgrade", "downgrade"], revision: str
) -> None:
    def run(connection: Connection) -> None:
        if step == "upgrade" and _current(connection) == revision:
            return  # the common case at every start: nothing to do, no scripts run
        move = command.upgrade if step == "upgrade" else command.downgrade
        move(config(connection), revision)

    async with _sqlite_file_lock(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        await conn.run_sync(run)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database up to `revision` (default: the newest)."""
    await _migrate(engine, "upgrade", head() if revision == "head" else revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the database back to `revision` ("base": nothing of ours left)."""
    await _migrate(engine, "downgrade", revision)
