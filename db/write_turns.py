"""Short write transactions on the request path that wait for SQLite's lock in small steps.

SQLite's own busy handler sleeps in growing steps (1, 2, 5 ... 100 ms) while it waits for
another process's write to finish, and never queues: under a burst, with the workers writing
too, an intake claim waited 300 ms and more for a lock that was free most of that time. Here
the transaction runs with no busy wait and is retried after 1-10 ms while the database is
locked (its first statement is its write, so nothing is repeated but the attempt), and the
writers of one process take turns on an asyncio lock instead of all polling. PostgreSQL waits
on row locks and needs none of this.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

from opentelemetry import trace
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")

#: How long any SQLite connection of ours waits for a lock (db.engine sets it per connection).
SQLITE_BUSY_TIMEOUT_S = 30
_FIRST_RETRY_S = 0.001
_MAX_RETRY_S = 0.01

# Per engine and event loop: an asyncio.Lock belongs to the loop that first waits on it.
_locks: weakref.WeakKeyDictionary[
    AsyncEngine, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]
] = weakref.WeakKeyDictionary()


def _turn(engine: AsyncEngine) -> asyncio.Lock:
    per_loop = _locks.setdefault(engine, weakref.WeakKeyDictionary())
    loop = asyncio.get_running_loop()
    lock = per_loop.get(loop)
    if lock is None:
        lock = per_loop[loop] = asyncio.Lock()
    return lock


def _locked(err: OperationalError) -> bool:
    text = str(err.orig).lower()
    return "locked" in text or "busy" in text


async def write_transaction(
    engine: AsyncEngine, body: Callable[[AsyncConnection], Awaitable[T]]
) -> T:
    """`body(conn)` in one transaction; on SQLite its first statement must be a write."""
    if engine.dialect.name != "sqlite":
        async with engine.begin() as conn:
            return await body(conn)
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    delay = _FIRST_RETRY_S
    asked = time.monotonic()
    span = trace.get_current_span()
    async with _turn(engine):
        span.set_attribute("ddrun.db.turn_wait_ms", (time.monotonic() - asked) * 1000)
        attempts = 0
        while True:
            attempts += 1
            span.set_attribute("ddrun.db.attempts", attempts)
            try:
                async with engine.begin() as conn:
                    await conn.exec_driver_sql("PRAGMA busy_timeout = 0")
                    try:
                        return await body(conn)
                    finally:
                        await conn.exec_driver_sql(
                            f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}"
                        )
            except OperationalError as err:
                if not _locked(err) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_S)
