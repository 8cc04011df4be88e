"""SQLite writes of one process are committed in groups (db/write_turns.py): concurrent writes
share a transaction in arrival order, and one that raises fails alone."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from db import write_turns
from db.engine import make_engine
from db.write_turns import read_in_one_call, write_in_one_call


async def test_concurrent_writes_commit_together_and_a_failing_one_fails_alone(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}")
    try:
        await write_in_one_call(
            engine, lambda conn: conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
        )

        def insert(n: int) -> object:
            def body(conn: Connection) -> int:
                conn.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
                # Each write sees every write queued before it, as one after the other would.
                return int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())

            return body

        def broken(conn: Connection) -> None:
            conn.execute(text("INSERT INTO t (n) VALUES (1000)"))
            raise RuntimeError("this write fails")

        bodies = [insert(n) for n in range(20)]
        bodies.insert(7, broken)
        results = await asyncio.gather(
            *(write_in_one_call(engine, b) for b in bodies),  # type: ignore[arg-type]
            return_exceptions=True,
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        assert len(failed) == 1
        assert str(failed[0]) == "this write fails"
        counts = [r for r in results if not isinstance(r, BaseException)]
        assert counts == list(range(1, 21))  # arrival order, each seeing those before it
        kept = await read_in_one_call(
            engine, lambda conn: [r[0] for r in conn.execute(text("SELECT n FROM t ORDER BY n"))]
        )
        assert kept == list(range(20))  # the failed write left nothing behind
    finally:
        await engine.dispose()


@pytest.mark.parametrize("writes", [1, 64, 200])
async def test_groups_hold_every_write_that_waited(
    tmp_path: Path, writes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'many.db'}")
    try:
        await write_in_one_call(
            engine, lambda conn: conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
        )
        transactions = 0
        to_thread = asyncio.to_thread

        async def counted(fn: Any, /, *args: Any) -> Any:
            nonlocal transactions
            transactions += getattr(fn, "__name__", "") == "_commit"
            return await to_thread(fn, *args)

        monkeypatch.setattr(write_turns.asyncio, "to_thread", counted)
        await asyncio.gather(
            *(
                write_in_one_call(
                    engine,
                    lambda conn, n=n: conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n}),
                )
                for n in range(writes)
            )
        )
        count = await read_in_one_call(
            engine, lambda conn: conn.execute(text("SELECT count(*) FROM t")).scalar_one()
        )
        assert count == writes
        # The first write goes at once, alone; those that waited meanwhile go in groups of 64.
        assert transactions == 1 + -(-(writes - 1) // write_turns.GROUP_COMMIT_MAX)
    finally:
        await engine.dispose()
