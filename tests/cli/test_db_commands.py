"""`ddrun db current|upgrade` against a fresh SQLite file and a fresh PostgreSQL database: what
the database is at, one upgrade to the newest revision, and a second upgrade that does nothing."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from db.engine import make_engine
from db.schema import current, head
from tests.conftest import _drop_postgres_database, _postgres_database
from tests.harness import run_cli


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    url = await _postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(url)


async def test_db_current_and_upgrade(fresh_url: str, tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DDRUN_")},
        "DDRUN_DATABASE_URL": fresh_url,
        "DDRUN_DATA_DIR": str(tmp_path / "data"),
    }
    newest = head()

    code, out, err = await run_cli("db", "current", env=env, stderr_apart=True)
    assert code == 1, out + err  # behind: a script can tell
    assert "nothing (never migrated)" in out
    assert f"newest {newest}" in out

    code, out, err = await run_cli("db", "upgrade", env=env, stderr_apart=True)
    assert code == 0, out + err
    assert f"database upgraded from nothing to {newest}" in out
    engine = make_engine(fresh_url)
    try:
        assert await current(engine) == newest  # the database itself says so
    finally:
        await engine.dispose()

    code, out, err = await run_cli("db", "upgrade", env=env, stderr_apart=True)
    assert code == 0, out + err
    assert f"database already at {newest}" in out

    code, out, err = await run_cli("db", "current", env=env, stderr_apart=True)
    assert code == 0, out + err
    assert f"database at {newest}; newest {newest} (up to date)" in out
