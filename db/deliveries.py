"""Signed deliveries already handled, so a captured and re-sent request changes nothing.

A signature proves who sent a body, not that it is new: a re-sent PagerDuty `incident.resolved`
would close a reopened incident, a re-sent Slack command act again. Each receiver claims the
delivery's id here before acting; the claim is one INSERT that the primary key makes atomic on
SQLite and PostgreSQL alike, so of two concurrent copies exactly one proceeds. Ids are stored
as SHA-256 digests: fixed size, and no sender bytes (NUL, odd Unicode) reach the database.

Rows live `retention_s` (default 7 days, longer than any sender's retries). Expired rows are
deleted at most once per `PRUNE_EVERY_S` per engine, by the request that happens to claim then,
not on every request.
"""

from __future__ import annotations

import hashlib
import time
import weakref
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from db.tables import DeliveryRecord

PRUNE_EVERY_S = 3600.0
_last_pruned: weakref.WeakKeyDictionary[AsyncEngine, float] = weakref.WeakKeyDictionary()


def delivery_digest(*parts: str | bytes) -> str:
    """The stored form of a delivery id (parts joined unambiguously)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


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
