"""The health checks behind `ddrun dev`'s "is up", against a real Temporal server and workers."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.client import Client

from cli.stack_health import Probe, http_check, poller_check, temporal_check, wait_until_healthy
from tests.harness import running_stack, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


async def test_a_worker_counts_as_up_once_temporal_saw_it_poll_since_its_start(
    client: Client, engine: AsyncEngine
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert await temporal_check(client)()
    async with running_stack(client, engine) as stack:
        agent = stack.settings.agent_task_queue
        orchestrator = stack.settings.orchestrator_task_queue
        activity, workflow = (
            TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        await assert_eventually(
            poller_check(client, agent, activity, lambda: before), bool, what="agent polls"
        )
        await assert_eventually(
            poller_check(client, orchestrator, workflow, lambda: before),
            bool,
            what="orchestrator polls",
        )
        # A poller seen before the worker's (re)start is a dead worker's: not up.
        later = datetime.now(UTC) + timedelta(hours=1)
        assert not await poller_check(client, agent, activity, lambda: later)()
        assert not await poller_check(client, unique("nobody-"), activity, lambda: before)()


async def test_wait_until_healthy_waits_for_every_part_and_says_which_are_slow() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    assert not await http_check(f"http://127.0.0.1:{closed_port}/healthz")()

    calls = {"slow": 0}

    async def slow() -> bool:
        calls["slow"] += 1
        return calls["slow"] >= 4

    async def fast() -> bool:
        return True

    heard: list[list[str]] = []
    took = await wait_until_healthy(
        [Probe("fast", "here", fast), Probe("slow", "there", slow)],
        interval_s=0.05,
        on_slow=lambda waiting, _s: heard.append([p.name for p in waiting]),
        slow_every_s=0.0,
    )
    assert calls["slow"] == 4
    assert heard == [["slow"]] * 3
    assert took > 0
