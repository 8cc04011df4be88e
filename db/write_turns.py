"""SQLite writers of one process take turns on an asyncio lock instead of in SQLite's busy
handler, which sleeps in growing steps (up to 100 ms) and makes a burst of concurrent claims
slow; other processes still wait on the busy timeout. PostgreSQL needs no turns."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

# Per engine and event loop: an asyncio.Lock belongs to the loop that first waits on it.
_locks: weakref.WeakKeyDictionary[
    AsyncEngine, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]
] = weakref.WeakKeyDictionary()


@contextlib.asynccontextmanager
async def write_turn(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold this process's write turn for `engine` when it is SQLite; nothing otherwise."""
    if engine.dialect.name != "sqlite":
        yield
        return
    per_loop = _locks.setdefault(engine, weakref.WeakKeyDictionary())
    loop = asyncio.get_running_loop()
    lock = per_loop.get(loop)
    if lock is None:
        lock = per_loop[loop] = asyncio.Lock()
    async with lock:
        yield
