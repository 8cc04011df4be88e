"""Alembic migrations: the models and the migrations agree, and every revision goes up and down
on SQLite and PostgreSQL; a database made before migrations (create_all) upgrades in place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from db.engine import make_engine
from db.schema import config, current, downgrade, head, upgrade
from tests.conftest import _drop_postgres_database, _postgres_database


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database of its own (migrations need one nobody else has touched)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    else:
        url = await _postgres_database()
    engine = make_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()
        if request.param == "postgres":
            await _drop_postgres_database(url)


# The tables that existed when databases were made by create_all, before migrations: later
# revisions create their own tables, so a pre-migration database never has them.
BEFORE_MIGRATIONS = {
    "api_tokens",
    "automation_slots",
    "deliveries",
    "escalations",
    "kill_switches",
    "llm_cache",
    "people",
    "runbook_mappings",
    "runbook_sources",
    "runbook_trust",
    "runbook_versions",
    "slack_channels",
    "slack_messages",
    "trust_changes",
}


def _create_pre_migration_tables(connection: Connection) -> None:
    tables = [t for name, t in SQLModel.metadata.tables.items() if name in BEFORE_MIGRATIONS]
    SQLModel.metadata.create_all(connection, tables=tables)


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_models_and_migrations_agree_and_every_revision_goes_down_and_up(
    fresh: AsyncEngine,
) -> None:
    assert await current(fresh) is None
    await upgrade(fresh)
    assert await current(fresh) == head()
    async with fresh.connect() as conn:
        assert await conn.run_sync(_drift) == [], "a model changed without a migration"
        assert await conn.run_sync(_tables) >= set(SQLModel.metadata.tables)

    revisions = [r.revision for r in ScriptDirectory.from_config(config()).walk_revisions()]
    for revision in revisions:  # newest first: down one at a time, to nothing of ours
        down_to = ScriptDirectory.from_config(config()).get_revision(revision).down_revision
        await downgrade(fresh, str(down_to) if down_to else "base")
    assert await current(fresh) is None
    async with fresh.connect() as conn:
        assert await conn.run_sync(_tables) <= {"alembic_version"}

    for revision in reversed(revisions):  # and up again, one at a time
        await upgrade(fresh, revision)
        assert await current(fresh) == revision
    async with fresh.connect() as conn:
        assert await conn.run_sync(_drift) == []


async def test_a_database_from_before_migrations_upgrades_in_place(fresh: AsyncEngine) -> None:
    async with fresh.begin() as conn:  # what every start did before: create_all, no version
        await conn.run_sync(_create_pre_migration_tables)
        await conn.execute(
            text(
                "INSERT INTO kill_switches (scope, value, engaged, actor, reason, at) "
                "VALUES ('global', '', true, 'alice', 'kept across the upgrade', CURRENT_TIMESTAMP)"
            )
        )
    await upgrade(fresh)
    assert await current(fresh) == head()
    async with fresh.connect() as conn:
        assert await conn.run_sync(_drift) == []
        kept = (await conn.execute(text("SELECT reason FROM kill_switches"))).scalars().all()
    assert kept == ["kept across the upgrade"]
    await upgrade(fresh)  # current: nothing to do
    assert await current(fresh) == head()
