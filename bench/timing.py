"""Timing helpers shared by the store-level benchmarks: each figure beside a baseline from the
same run, as a ratio (the machines are shared and noisy)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable


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
