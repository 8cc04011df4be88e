"""Timing helpers shared by the store-level benchmarks: each figure beside a baseline from the
same run, as a ratio (the machines are shared and noisy)."""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg


async def timed_ms(fn: Callable[[], Awaitable[object]], n: int) -> list[float]:
    """`n` sequential calls of `fn`, each in milliseconds."""
    out = []
    for _ in range(n):
        start = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def against_baseline(name: str, values: list[float], base: list[float], width: int = 26) -> str:
    """One report line: median and p95, and the median's ratio to the baseline's."""
    med, p95 = statistics.median(values), sorted(values)[int(0.95 * (len(values) - 1))]
    ratio = med / statistics.median(base)
    return f"  {name:<{width}} median {med:7.3f} ms  p95 {p95:7.3f} ms  ({ratio:4.2f}x baseline)"


async def on_both_databases(run: Callable[[str], Awaitable[None]], postgres: str) -> None:
    """`run(url)` on a fresh SQLite file, then on a throwaway PostgreSQL database (dropped)."""
    with tempfile.TemporaryDirectory() as tmp:
        await run(f"sqlite+aiosqlite:///{tmp}/bench.db")
    name = f"ddrun_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        await run(f"{base}/{name}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
