"""Intake claims: where a firing alert goes is decided by one atomic claim, on SQLite and
PostgreSQL, so concurrent alerts for one problem open exactly one incident."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.incident_claims import Claim, IncidentClaimStore, group_key
from db.intake_queue import IntakeRecord

WINDOWS = {"correlation_window_s": 900, "reopen_window_s": 1800}


def _ids(n: int) -> tuple[str, list[str]]:
    tag = uuid.uuid4().hex[:8]
    return f"svc-{tag}", [f"incident-generic-{tag}-{i}" for i in range(n)]


async def test_fifty_same_key_and_fifty_other_keys_at_once_make_one_incident(
    engine: AsyncEngine,
) -> None:
    store = IncidentClaimStore(engine)
    service, ids = _ids(50)
    group = group_key(service, "rb")
    same = [store.claim(ids[0], group, **WINDOWS) for _ in range(50)]
    others = [store.claim(i, group, **WINDOWS) for i in ids[1:]] + [
        store.claim(ids[0], group, **WINDOWS)
    ]
    asked = [ids[0]] * 50 + ids[1:] + [ids[0]]
    claims: list[Claim] = await asyncio.gather(*same, *others)
    started = [c for c in claims if c.action == "start"]
    assert len(started) == 1
    winner = started[0].incident_id
    assert {c.incident_id for c in claims} == {winner}
    # The winner's own key finds its incident open; every other key joins it.
    for key, claim in zip(asked, claims, strict=True):
        if claim is not started[0]:
            assert claim.action == ("own" if key == winner else "joined")


async def test_a_closed_incident_reopens_within_the_window_and_not_after(
    engine: AsyncEngine,
) -> None:
    store = IncidentClaimStore(engine)
    service, (incident,) = _ids(1)
    group = group_key(service, "rb")
    t0 = datetime.now(UTC)
    first = await store.claim(incident, group, now=t0, **WINDOWS)
    assert (first.action, first.reopens) == ("start", None)
    again = await store.claim(incident, group, now=t0 + timedelta(seconds=5), **WINDOWS)
    assert again.action == "own"

    closed_at = t0 + timedelta(seconds=60)
    await store.record_close(incident, "run-1", "resolved", closed_at)
    soon = await store.claim(incident, group, now=closed_at + timedelta(seconds=1799), **WINDOWS)
    assert soon.action == "start"
    assert soon.reopens is not None
    assert (soon.reopens.run_id, soon.reopens.status) == ("run-1", "resolved")
    assert soon.reopens.closed_at == closed_at

    await store.record_close(incident, "run-2", "aborted", closed_at + timedelta(seconds=1900))
    late = await store.claim(incident, group, now=closed_at + timedelta(seconds=3701), **WINDOWS)
    assert (late.action, late.reopens) == ("start", None)


async def test_the_group_is_held_within_the_correlation_window_and_freed_by_closing(
    engine: AsyncEngine,
) -> None:
    store = IncidentClaimStore(engine)
    service, (a, b, c, d) = _ids(4)
    group = group_key(service, "rb")
    t0 = datetime.now(UTC)
    assert (await store.claim(a, group, now=t0, **WINDOWS)).action == "start"
    joined = await store.claim(b, group, now=t0 + timedelta(seconds=899), **WINDOWS)
    assert (joined.action, joined.incident_id) == ("joined", a)
    # Open for longer than the window: a new problem starts its own incident and takes the group.
    later = await store.claim(c, group, now=t0 + timedelta(seconds=901), **WINDOWS)
    assert (later.action, later.incident_id) == ("start", c)
    # a closing does not free a group it no longer holds.
    await store.record_close(a, "run-a", "resolved", t0 + timedelta(seconds=902))
    held = await store.claim(d, group, now=t0 + timedelta(seconds=903), **WINDOWS)
    assert (held.action, held.incident_id) == ("joined", c)
    await store.record_close(c, "run-c", "resolved", t0 + timedelta(seconds=904))
    free = await store.claim(d, group, now=t0 + timedelta(seconds=905), **WINDOWS)
    assert (free.action, free.incident_id) == ("start", d)
    # Another runbook, or no correlation, is another group.
    other = await store.claim(b, group_key(service, "rb2"), now=t0, **WINDOWS)
    assert (other.action, other.incident_id) == ("start", b)


async def test_a_refused_start_and_a_holder_temporal_never_ran_free_the_group(
    engine: AsyncEngine,
) -> None:
    store = IncidentClaimStore(engine)
    service, (a, b, c) = _ids(3)
    group = group_key(service, "rb")
    first = await store.claim(a, group, **WINDOWS)
    await store.abandon(first)
    retried = await store.claim(b, group, **WINDOWS)
    assert (retried.action, retried.incident_id) == ("start", b)
    joined = await store.claim(c, group, **WINDOWS)
    assert (joined.action, joined.incident_id) == ("joined", b)
    await store.forget_gone(b, joined.since)
    fresh = await store.claim(c, group, **WINDOWS)
    assert (fresh.action, fresh.incident_id) == ("start", c)
    assert (await store.claim(b, group, **WINDOWS)).action == "joined"


async def test_a_holder_whose_start_waits_in_the_intake_queue_is_not_forgotten(
    engine: AsyncEngine,
) -> None:
    """Temporal not knowing a holder is not enough to forget it while its start is queued
    (a burst's backlog, or Temporal down): the grace has passed, the start is still coming."""
    store = IncidentClaimStore(engine)
    service, (holder, later) = _ids(2)
    group = group_key(service, "rb")
    first = await store.claim(holder, group, **WINDOWS)
    queued = IntakeRecord.__table__  # type: ignore[attr-defined]
    row = uuid.uuid4().hex
    async with engine.begin() as conn:
        await conn.execute(
            insert(queued).values(
                id=row,
                incident_id=holder,
                joins=False,
                payload="{}",
                accepted_at=first.since,
                owner="test",
                lease_until=first.since,
                attempts=0,
            )
        )
    joined = await store.claim(later, group, **WINDOWS)
    assert (joined.action, joined.incident_id) == ("joined", holder)
    grace = timedelta(seconds=5)
    assert not await store.forget_gone(holder, joined.since, grace)  # within the grace
    long_ago = joined.since - timedelta(seconds=60)
    assert not await store.forget_gone(holder, joined.since, timedelta(0))  # start queued
    assert (await store.claim(later, group, **WINDOWS)).incident_id == holder  # still held
    async with engine.begin() as conn:
        await conn.execute(update(queued).where(queued.c.id == row).values(failed_at=long_ago))
    assert await store.forget_gone(holder, joined.since, timedelta(0))  # its start was refused
    fresh = await store.claim(later, group, **WINDOWS)
    assert (fresh.action, fresh.incident_id) == ("start", later)
