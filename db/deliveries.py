"""Signed deliveries already handled, so a captured and re-sent request changes nothing.

A signature proves who sent a body, not that it is new: a re-sent PagerDuty `incident.resolved`
would close a reopened incident, a re-sent Slack command act again. Each receiver claims the
delivery's id here before acting; the claim is one INSERT that the primary key makes atomic on
SQLite and PostgreSQL alike, so of two concurrent copies exactly one proceeds. Ids are stored
as SHA-256 digests: fixed size, and no sender bytes (NUL, odd Unicode) reach the database.

A webhook alert is only handled once Temporal has taken it, so its receiver `begin`s the
delivery (a pending row), does the work, then `finish`es it (the handled row): a request killed in
between leaves only a pending row, which a retry takes over after a lease, instead of the retry
being answered "duplicate" for an alert that never reached an incident.

Rows live `retention_s` (default 7 days, longer than any sender's retries). Expired rows are
deleted at most once per `PRUNE_EVERY_S` per engine, by the request that happens to claim then,
not on every request.
"""

from __future__ import annotations

import enum
import hashlib
import time
import weakref
from datetime import UTC, datetime, timedelta

from sqlalchemy import Delete, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.stored import aware
from db.tables import DeliveryRecord

PRUNE_EVERY_S = 3600.0
#: Deliveries begun but not finished live under this suffix of their source, beside the
#: finished ones, so no schema change was needed to tell the two apart.
PENDING_SUFFIX = "/pending"
_last_pruned: weakref.WeakKeyDictionary[AsyncEngine, float] = weakref.WeakKeyDictionary()


def delivery_digest(*parts: str | bytes) -> str:
    """The stored form of a delivery id (parts joined unambiguously)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


class Claim(enum.Enum):
    NEW = "new"
    DONE = "done"
    IN_FLIGHT = "in_flight"


def _pending(source: str) -> str:
    return source + PENDING_SUFFIX


def _delete(source: str, digest: str) -> Delete:
    return delete(DeliveryRecord).where(
        DeliveryRecord.source == source,  # type: ignore[arg-type]
        DeliveryRecord.delivery_id == digest,  # type: ignore[arg-type]
    )


class DeliveryStore:
    def __init__(self, engine: AsyncEngine, retention_s: int) -> None:
        self._engine = engine
        self._retention = timedelta(seconds=retention_s)

    async def claim(self, source: str, delivery_id: str) -> bool:
        """True for the first claim of (source, id) within the retention; False for a replay."""
        await self._prune_if_due()
        async with AsyncSession(self._engine) as session:
            session.add(
                DeliveryRecord(
                    source=source,
                    delivery_id=delivery_digest(delivery_id),
                    received_at=datetime.now(UTC),
                )
            )
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return False
        return True

    async def begin(self, source: str, delivery_id: str, lease_s: float) -> Claim:
        """Start handling a delivery that must finish before it counts as handled.

        NEW: this request handles it (`finish` or `abandon` after). DONE: a replay. IN_FLIGHT:
        another request is handling it right now. A claim left by a request that never finished
        (the API was killed between claiming and Temporal taking the alert) is taken over once
        older than `lease_s`, so the sender's retry is handled instead of answered "duplicate".
        """
        await self._prune_if_due()
        digest = delivery_digest(delivery_id)
        pending = _pending(source)
        async with AsyncSession(self._engine) as session:
            if await self._received(session, source, digest) is not None:
                return Claim.DONE
            session.add(
                DeliveryRecord(source=pending, delivery_id=digest, received_at=datetime.now(UTC))
            )
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return await self._take_over(session, source, digest, lease_s)
            # A request that finished between the check and the insert: it is done.
            if await self._received(session, source, digest) is not None:
                await self._drop(session, pending, digest)
                return Claim.DONE
        return Claim.NEW

    async def finish(self, source: str, delivery_id: str) -> None:
        """The delivery's work is durable: from now on a copy of it is a replay."""
        digest = delivery_digest(delivery_id)
        async with AsyncSession(self._engine) as session:
            session.add(
                DeliveryRecord(source=source, delivery_id=digest, received_at=datetime.now(UTC))
            )
            await session.exec(_delete(_pending(source), digest))
            try:
                await session.commit()
            except IntegrityError:  # a taken-over claim finished twice: handled either way
                await session.rollback()
                await self._drop(session, _pending(source), digest)

    async def abandon(self, source: str, delivery_id: str) -> None:
        """Forget a begun delivery whose work failed, so the sender's retry is handled."""
        async with AsyncSession(self._engine) as session:
            await self._drop(session, _pending(source), delivery_digest(delivery_id))

    async def _take_over(
        self, session: AsyncSession, source: str, digest: str, lease_s: float
    ) -> Claim:
        pending = _pending(source)
        since = await self._received(session, pending, digest)
        if since is None:  # finished (or abandoned) since the insert failed
            done = await self._received(session, source, digest)
            return Claim.DONE if done is not None else Claim.IN_FLIGHT
        if aware(since) > datetime.now(UTC) - timedelta(seconds=lease_s):
            return Claim.IN_FLIGHT
        result = await session.exec(
            update(DeliveryRecord)
            .where(
                DeliveryRecord.source == pending,  # type: ignore[arg-type]
                DeliveryRecord.delivery_id == digest,  # type: ignore[arg-type]
                DeliveryRecord.received_at == since,  # type: ignore[arg-type]
            )
            .values(received_at=datetime.now(UTC))
        )
        await session.commit()
        return Claim.NEW if result.rowcount == 1 else Claim.IN_FLIGHT

    @staticmethod
    async def _received(session: AsyncSession, source: str, digest: str) -> datetime | None:
        result = await session.exec(
            select(DeliveryRecord.received_at).where(
                DeliveryRecord.source == source,
                DeliveryRecord.delivery_id == digest,
            )
        )
        return result.first()

    @staticmethod
    async def _drop(session: AsyncSession, source: str, digest: str) -> None:
        await session.exec(_delete(source, digest))
        await session.commit()

    async def release(self, source: str, delivery_id: str) -> None:
        """Forget a claim whose work failed (Temporal down), so the sender's retry is handled."""
        async with AsyncSession(self._engine) as session:
            await session.exec(
                delete(DeliveryRecord).where(
                    DeliveryRecord.source == source,  # type: ignore[arg-type]
                    DeliveryRecord.delivery_id == delivery_digest(delivery_id),  # type: ignore[arg-type]
                )
            )
            await session.commit()

    async def prune(self) -> int:
        """Delete claims older than the retention; the number deleted."""
        cutoff = datetime.now(UTC) - self._retention
        async with AsyncSession(self._engine) as session:
            result = await session.exec(
                delete(DeliveryRecord).where(DeliveryRecord.received_at < cutoff)  # type: ignore[arg-type]
            )
            await session.commit()
        return int(result.rowcount)

    async def _prune_if_due(self) -> None:
        now = time.monotonic()
        last = _last_pruned.get(self._engine)
        if last is not None and now - last < PRUNE_EVERY_S:
            return
        _last_pruned[self._engine] = now
        await self.prune()
