"""Is each part of the dev stack answering? Temporal, the API, and each worker's task queue.

A process that has started is not yet useful: the API listens seconds after it starts, and a
worker is only useful once Temporal has seen it poll. `ddrun dev` says "is up" only when every
probe here passes, so the first request after the message succeeds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

Check = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class Probe:
    """One part's health check; `where` says where the part is, for the "is up" banner."""

    name: str
    where: str
    check: Check


def temporal_check(client: Client) -> Check:
    async def check() -> bool:
        try:
            return await client.service_client.check_health(timeout=timedelta(seconds=2))
        except Exception:
            return False

    return check


def http_check(url: str) -> Check:
    async def check() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2.0) as http:
                return (await http.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    return check


def poller_check(
    client: Client,
    task_queue: str,
    queue_type: TaskQueueType.ValueType,
    since: Callable[[], datetime],
) -> Check:
    """A worker is up once Temporal saw it poll `task_queue` after `since()` (its latest start:
    a killed worker's poller stays listed for minutes after it died)."""

    async def check() -> bool:
        try:
            described = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=client.namespace,
                    task_queue=TaskQueue(
                        name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL
                    ),
                    task_queue_type=queue_type,
                ),
                timeout=timedelta(seconds=2),
            )
        except Exception:
            return False
        started = since()
        return any(p.last_access_time.ToDatetime(tzinfo=UTC) >= started for p in described.pollers)

    return check


async def wait_until_healthy(
    probes: Sequence[Probe],
    *,
    interval_s: float = 0.2,
    on_slow: Callable[[list[Probe], float], None] | None = None,
    slow_every_s: float = 15.0,
) -> float:
    """Wait until every probe passes at least once; returns the seconds it took. `on_slow` hears
    which parts still do not answer, every `slow_every_s`."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    next_report = began + slow_every_s
    waiting = list(probes)
    while waiting:
        results = await asyncio.gather(*(p.check() for p in waiting))
        waiting = [p for p, ok in zip(waiting, results, strict=True) if not ok]
        if not waiting:
            break
        now = loop.time()
        if on_slow is not None and now >= next_report:
            on_slow(waiting, now - began)
            next_report = now + slow_every_s
        await asyncio.sleep(interval_s)
    return loop.time() - began
