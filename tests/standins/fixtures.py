"""Pytest fixtures that serve the stand-ins on a real socket, one server per test module.

Loaded for every test by tests/conftest.py (`pytest_plugins`). A server fixture is
module-scoped, so each module that asks for one gets its own server, started only then; the
per-test fixture hands out the stand-in wiped of the previous test's state. A module's own
fixture of the same name still wins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, TypeVar

import pytest
import pytest_asyncio

from tests.standins.pagerduty_events import PagerDutyStandin
from tests.standins.server import StandinServer
from tests.standins.slack_api import SlackStandin
from tests.standins.statuspage import StatuspageStandin


class _Resettable(Protocol):
    def reset(self) -> None: ...


S = TypeVar("S", bound=_Resettable)


def _fresh(server: StandinServer, kind: type[S]) -> S:
    standin: object = server.app
    assert isinstance(standin, kind)
    standin.reset()
    return standin


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def slack_server() -> AsyncIterator[StandinServer]:
    async with StandinServer(SlackStandin()) as server:
        yield server


@pytest.fixture
def slack(slack_server: StandinServer) -> SlackStandin:
    return _fresh(slack_server, SlackStandin)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pd_server() -> AsyncIterator[StandinServer]:
    async with StandinServer(PagerDutyStandin()) as server:
        yield server


@pytest.fixture
def pd(pd_server: StandinServer) -> PagerDutyStandin:
    return _fresh(pd_server, PagerDutyStandin)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def statuspage_server() -> AsyncIterator[StandinServer]:
    async with StandinServer(StatuspageStandin()) as server:
        yield server


@pytest.fixture
def statuspage(statuspage_server: StandinServer) -> StatuspageStandin:
    return _fresh(statuspage_server, StatuspageStandin)
