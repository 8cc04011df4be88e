"""Short write transactions on the request path that wait for SQLite's lock in small steps.

SQLite's own busy handler sleeps in growing steps (1, 2, 5 ... 100 ms) while it waits for
another process's write to finish, and never queues: under a burst, with the workers writing
too, an intake claim waited 300 ms and more for a lock that was free most of that time. Here
the transaction runs with no busy wait and is retried after 1-10 ms while the database is
locked (its first statement is its write, so nothing is repeated but the attempt), and the
writers of one process take turns on an asyncio lock instead of all polling. PostgreSQL waits
on row locks and needs none of this.

`write_in_one_call` goes further for a transaction written as a synchronous body: on a SQLite
file it runs the whole transaction in one call on a worker thread (a synchronous engine on the
same file), so the write lock is never held while the event loop is busy elsewhere: in a
100-alert burst an intake claim waited a median 120 ms for its turn when each of its statements
was an event-loop round trip. The writes of one process that wait for their turn are committed
together, one transaction per group (`_GroupCommit`), so no waiting writer holds a worker thread
(the reads need them), and another process's write is waited for by retrying in 1-4 ms steps
with no busy handler: with
SQLite's handler, in a 300-alert burst the workers' automation check took a median 452 ms and
the API's claim 108 ms, mostly asleep while the lock was free.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from opentelemetry import trace
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")

#: How long any SQLite connection of ours waits for a lock (db.engine sets it per connection).
SQLITE_BUSY_TIMEOUT_S = 30
_FIRST_RETRY_S = 0.001
_MAX_RETRY_S = 0.01
_MAX_THREAD_RETRY_S = 0.004

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


# Per async engine on a SQLite file: a synchronous engine on the same file and its thread lock.
_sync: weakref.WeakKeyDictionary[AsyncEngine, tuple[Engine, threading.Lock]] = (
    weakref.WeakKeyDictionary()
)
_sync_guard = threading.Lock()


def _sync_engine(engine: AsyncEngine) -> tuple[Engine, threading.Lock] | None:
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    with _sync_guard:
        found = _sync.get(engine)
        if found is None:
            sync = create_engine(
                url.set(drivername="sqlite"),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            )

            @event.listens_for(sync, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                # No busy handler: a locked database is retried here in 1-4 ms steps, not in
                # SQLite's 25-100 ms sleeps (see _retrying_locks).
                cursor.execute("PRAGMA busy_timeout = 0")
                cursor.close()

            found = _sync[engine] = (sync, threading.Lock())
        return found


async def write_in_one_call(engine: AsyncEngine, body: Callable[[Connection], T]) -> T:
    """`body(conn)` in one transaction; on a SQLite file, in one worker-thread call (its first
    statement must be a write, so SQLite takes the write lock at once), committed together with
    the other writes of this process that were waiting for their turn (see `_GroupCommit`)."""
    sync = _sync_engine(engine)
    if sync is None:

        async def run(conn: AsyncConnection) -> T:
            return await conn.run_sync(body)

        return await write_transaction(engine, run)
    group = _group_commit(engine, *sync)
    asked = time.monotonic()
    result, started, size, attempts = await group.submit(body)
    span = trace.get_current_span()
    span.set_attribute("ddrun.db.turn_wait_ms", (started - asked) * 1000)
    span.set_attribute("ddrun.db.batch", size)
    span.set_attribute("ddrun.db.attempts", attempts)
    return result


#: The most writes one transaction takes (a burst's writes wait in groups of this many).
GROUP_COMMIT_MAX = 64


class _GroupCommit:
    """The writes of one process on one SQLite file, one transaction at a time, each holding
    every write that arrived while the one before ran.

    Under a burst a write spends far longer waiting than writing (a claim: 1.5 ms of SQL beside
    a thread hop, the GIL shared with a busy event loop, and another process's writes). One
    transaction per group pays those once per group. The writes of a group run in arrival
    order, so each sees the ones before it, exactly as one after the other. If one of them
    raises, the group is rolled back and each write runs again alone, so that one fails and the
    others commit: a write is all or nothing, as in its own transaction.
    """

    def __init__(self, engine: Engine, thread_turn: threading.Lock) -> None:
        self._engine = engine
        self._thread_turn = thread_turn
        self._waiting: list[tuple[Callable[[Connection], Any], asyncio.Future[Any] | None]] = []
        self._running = False
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, body: Callable[[Connection], T]) -> tuple[T, float, int, int]:
        if not self._running:  # nobody writing: this write goes at once, with no queue hop
            self._running = True
            started = time.monotonic()
            try:
                outcomes, attempts = await asyncio.to_thread(self._commit, [(body, None)])
            finally:
                if self._waiting:  # others came meanwhile: their turn, in a drain of their own
                    self._start_drain()
                else:
                    self._running = False
            ok, value = outcomes[0]
            if not ok:
                raise value
            return value, started, 1, attempts
        future: asyncio.Future[tuple[T, float, int, int]] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.append((body, future))
        return await future

    def _start_drain(self) -> None:
        # Kept: the loop holds only a weak reference to a task, and a drain collected mid-way
        # would leave every later write of this process waiting for ever.
        self._drainer = asyncio.get_running_loop().create_task(
            self._drain(), context=contextvars.Context()
        )

    async def _drain(self) -> None:
        try:
            while self._waiting:
                group = self._waiting[:GROUP_COMMIT_MAX]
                del self._waiting[:GROUP_COMMIT_MAX]
                started = time.monotonic()
                try:
                    outcomes, attempts = await asyncio.to_thread(self._commit, group)
                except BaseException as err:  # e.g. the database is gone: every write fails
                    for _, future in group:
                        if future is not None and not future.done():
                            future.set_exception(err)
                    if not isinstance(err, Exception):
                        raise
                    continue
                for (_, future), (ok, value) in zip(group, outcomes, strict=True):
                    if future is None or future.done():  # its caller was cancelled: it stands
                        continue
                    if ok:
                        future.set_result((value, started, len(group), attempts))
                    else:
                        future.set_exception(value)
        finally:
            self._running = False

    def _commit(
        self, group: list[tuple[Callable[[Connection], Any], asyncio.Future[Any] | None]]
    ) -> tuple[list[tuple[bool, Any]], int]:
        with self._thread_turn:
            bodies = [body for body, _ in group]

            def together() -> list[tuple[bool, Any]]:
                with self._engine.begin() as conn:
                    return [(True, body(conn)) for body in bodies]

            try:
                return _retrying_locks(together)
            except Exception:
                if len(bodies) == 1:
                    raise
            outcomes: list[tuple[bool, Any]] = []
            attempts = 0
            for body in bodies:  # one of them failed: each alone, so only that one fails

                def alone(body: Callable[[Connection], Any] = body) -> Any:
                    with self._engine.begin() as conn:
                        return body(conn)

                try:
                    value, tries = _retrying_locks(alone)
                    outcomes.append((True, value))
                    attempts += tries
                except Exception as err:
                    outcomes.append((False, err))
            return outcomes, attempts


# Per async engine and event loop (a future belongs to the loop that made it).
_groups: weakref.WeakKeyDictionary[
    AsyncEngine, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _GroupCommit]
] = weakref.WeakKeyDictionary()


def _group_commit(engine: AsyncEngine, sync: Engine, thread_turn: threading.Lock) -> _GroupCommit:
    per_loop = _groups.setdefault(engine, weakref.WeakKeyDictionary())
    loop = asyncio.get_running_loop()
    found = per_loop.get(loop)
    if found is None:
        found = per_loop[loop] = _GroupCommit(sync, thread_turn)
    return found


def _retrying_locks(attempt: Callable[[], T]) -> tuple[T, int]:
    """`attempt()` until SQLite's lock is free (another process is writing), for up to
    SQLITE_BUSY_TIMEOUT_S, in growing steps of 1 to 4 ms on this worker thread. The attempt is
    a whole transaction: one that met the lock was rolled back and is simply run again."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    delay = _FIRST_RETRY_S
    attempts = 0
    while True:
        attempts += 1
        try:
            return attempt(), attempts
        except OperationalError as err:
            if not _locked(err) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, _MAX_THREAD_RETRY_S)


async def read_in_one_call(engine: AsyncEngine, body: Callable[[Connection], T]) -> T:
    """`body(conn)`, reads only; on a SQLite file in one worker-thread call (no write turn: WAL
    readers never wait for the writer), instead of one event-loop round trip per statement,
    checkout and rollback through aiosqlite's thread (1.2 ms → ~0.3 ms for a small SELECT)."""
    sync = _sync_engine(engine)
    if sync is None:
        async with engine.connect() as conn:
            return await conn.run_sync(body)
    sync_engine = sync[0]

    def read() -> T:
        with sync_engine.connect() as conn:
            return body(conn)

    def read_retrying() -> T:  # WAL readers are rarely refused (recovery, a reset WAL index)
        return _retrying_locks(read)[0]

    return await asyncio.to_thread(read_retrying)
