"""Issue 13, bursts: a saturated API refuses webhook work with 429 + Retry-After before reading
the body, never a timeout, and a refused alert is not an accepted one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.identity import Role
from tests.harness import generic_alert, running_stack, unique
from tests.support import started

pytestmark = pytest.mark.temporal


async def test_a_full_gate_answers_429_at_once_and_says_so(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(
        client, engine, webhook_max_in_flight=2, correlation_window_s=0
    ) as stack:
        reader = await stack.person(unique("gate-reader-"), (Role.VIEWER,))
        release = asyncio.Event()
        body_read = [0, 0]

        def slow_body(slot: int) -> AsyncIterator[bytes]:
            async def chunks() -> AsyncIterator[bytes]:
                raw = json.dumps(generic_alert(unique("GateHeld"), service=unique("svc-")))
                yield raw[:10].encode()
                body_read[slot] += 1
                await release.wait()  # the sender is slow: the request stays in flight
                yield raw[10:].encode()

            return chunks()

        held = [
            asyncio.create_task(stack.http.post("/webhooks/generic", content=slow_body(i)))
            for i in range(2)
        ]
        while sum(body_read) < 2:
            await asyncio.sleep(0.01)

        sent = 0

        async def counted() -> AsyncIterator[bytes]:
            nonlocal sent
            sent += 1
            yield json.dumps(generic_alert(unique("GateRefused"))).encode()

        refused = await asyncio.wait_for(
            stack.http.post("/webhooks/generic", content=counted()), timeout=5
        )
        assert refused.status_code == 429, refused.text
        assert refused.headers["retry-after"] == "1"
        assert "nothing was accepted" in refused.json()["error"]
        assert sent == 0  # refused before its body was read

        # Humans are never refused by the webhook gate.
        stats = await stack.http.get("/api/webhooks/admission", headers=reader)
        assert stats.status_code == 200, stats.text
        gate = stats.json()
        assert gate | {"admitted": 0} == {
            "in_flight": 2,
            "limit": 2,
            "admitted": 0,
            "refused": 1,
            "peak": 2,
            # Nothing accepted yet by this process; the queue is the whole database's.
            "intake_backlog": 0,
            "intake_waiting": gate["intake_waiting"],
            "intake_failed": gate["intake_failed"],
        }
        assert gate["intake_waiting"] >= 0
        assert gate["intake_failed"] >= 0
        assert (await stack.http.get("/api/webhooks/admission")).status_code == 401

        release.set()
        for task in held:
            answer = await task
            assert answer.status_code == 202, answer.text
            handle = stack.handle(answer.json()["incident_id"])
            await started(handle)  # the second of two at once is answered `queued`
            await handle.terminate("test done")
        after = (await stack.http.get("/api/webhooks/admission", headers=reader)).json()
        assert (after["in_flight"], after["refused"]) == (0, 1)
        again = await stack.post_generic(generic_alert(unique("GateFree"), service=unique("s-")))
        assert again.status_code == 202, again.text
        handle = stack.handle(again.json()["incident_id"])
        await started(handle)
        await handle.terminate("test done")
