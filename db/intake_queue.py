"""Accepted alerts not yet handed to Temporal: a webhook answers once its alert is here.

A firing alert's row is written in the same transaction as its intake claim
(db/incident_claims.py), so an alert is either claimed and queued or neither. The API process
that wrote the row delivers it at once and deletes it; the row only matters when that process
died first: each row is leased to one process (`owner`, `lease_until`), the owner renews its
leases while it lives, and any process takes over rows whose lease ran out. A row Temporal
refused for good (not a passing outage) is kept with `failed_at` and the reason, for an
operator; nothing retries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, DateTime, Exists, Text, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel, col

from db.stored import aware
from db.write_turns import read_in_one_call, write_in_one_call
from schemas.intake import QueuedAlert

#: The longest reason kept for a failed attempt.
_ERROR_CHARS = 2000


class IntakeRecord(SQLModel, table=True):
    """One accepted alert waiting for Temporal."""

    __tablename__ = "intake_queue"

    id: str = Field(primary_key=True, max_length=32)
    # The incident it reaches: its own, or the open one it joins (`joins`).
    incident_id: str = Field(index=True, max_length=300)
    joins: bool
    payload: str = Field(sa_column=Column(Text, nullable=False))  # a QueuedAlert
    accepted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    failed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


@dataclass(frozen=True)
class Queued:
    id: str
    alert: QueuedAlert
    accepted_at: datetime


@dataclass(frozen=True)
class QueueCounts:
    waiting: int
    failed: int


_T = IntakeRecord.__table__  # type: ignore[attr-defined]
_ADD = insert(_T)  # built once: in every intake claim (db/prepared.py)


def start_queued(incident_id: str) -> Exists:
    """Whether the start of `incident_id` is still waiting in the queue (neither delivered nor
    refused): until then an alert joining it waits, and its claim is not forgotten."""
    return (
        select(_T.c.id)
        .where(_T.c.incident_id == incident_id)
        .where(_T.c.joins.is_(False))
        .where(_T.c.failed_at.is_(None))
        .exists()
    )


class IntakeQueue:
    def __init__(self, engine: AsyncEngine, lease_s: float) -> None:
        self._engine = engine
        self.lease = timedelta(seconds=lease_s)

    def add(
        self, conn: Connection, row_id: str, alert: QueuedAlert, owner: str, now: datetime
    ) -> None:
        """Inside the intake claim's transaction (`conn`): the alert is queued with its claim."""
        conn.execute(
            _ADD,
            {
                "id": row_id,
                "incident_id": alert.joins or alert.incident.incident_id,
                "joins": alert.joins is not None,
                "payload": alert.model_dump_json(),
                "accepted_at": now,
                "owner": owner,
                "lease_until": now + self.lease,
                "attempts": 0,
            },
        )

    async def remove(self, ids: list[str]) -> None:
        """Delivered: gone (one statement for a batch)."""
        if not ids:
            return

        def gone(conn: Connection) -> None:
            conn.execute(delete(_T).where(_T.c.id.in_(ids)))

        await write_in_one_call(self._engine, gone)

    async def renew(self, owner: str) -> None:
        """The owner lives: its rows stay its own for another lease."""
        until = datetime.now(UTC) + self.lease

        def renew(conn: Connection) -> None:
            conn.execute(
                update(_T)
                .where(_T.c.owner == owner, _T.c.failed_at.is_(None))
                .values(lease_until=until)
            )

        await write_in_one_call(self._engine, renew)

    async def release(self, owner: str) -> None:
        """A clean stop: what this process still holds is anyone's at once."""
        now = datetime.now(UTC)

        def release(conn: Connection) -> None:
            conn.execute(
                update(_T)
                .where(_T.c.owner == owner, _T.c.failed_at.is_(None))
                .values(owner=None, lease_until=now)
            )

        await write_in_one_call(self._engine, release)

    async def take_over(self, owner: str, limit: int) -> list[Queued]:
        """Rows whose owner stopped renewing (it died), oldest first, now `owner`'s."""
        now = datetime.now(UTC)
        until = now + self.lease

        def take(conn: Connection) -> list[Queued]:
            expired = (
                select(_T.c.id)
                .where(_T.c.failed_at.is_(None), _T.c.lease_until < now)
                .order_by(_T.c.accepted_at)
                .limit(limit)
            )
            taken = conn.execute(
                update(_T)
                .where(_T.c.id.in_(expired.scalar_subquery()), _T.c.lease_until < now)
                .values(owner=owner, lease_until=until)
            )
            if not taken.rowcount:
                return []
            rows = conn.execute(
                select(_T.c.id, _T.c.payload, _T.c.accepted_at)
                .where(_T.c.owner == owner, _T.c.lease_until == until)
                .order_by(_T.c.accepted_at)
            )
            return [
                Queued(r.id, QueuedAlert.model_validate_json(r.payload), aware(r.accepted_at))
                for r in rows
            ]

        return await write_in_one_call(self._engine, take)

    async def attempt_failed(self, row_id: str, error: str) -> None:
        def note(conn: Connection) -> None:
            conn.execute(
                update(_T)
                .where(_T.c.id == row_id)
                .values(attempts=_T.c.attempts + 1, last_error=error[:_ERROR_CHARS])
            )

        await write_in_one_call(self._engine, note)

    async def fail(self, row_id: str, error: str) -> None:
        """Refused for good: kept for an operator, never retried."""
        now = datetime.now(UTC)

        def fail(conn: Connection) -> None:
            conn.execute(
                update(_T)
                .where(_T.c.id == row_id)
                .values(
                    attempts=_T.c.attempts + 1,
                    last_error=error[:_ERROR_CHARS],
                    failed_at=now,
                    owner=None,
                )
            )

        await write_in_one_call(self._engine, fail)

    async def start_waiting(self, incident_id: str) -> bool:
        """Is the start of `incident_id` still queued (so an alert joining it must wait)?"""

        def read(conn: Connection) -> bool:
            return bool(conn.execute(select(start_queued(incident_id))).scalar())

        return await read_in_one_call(self._engine, read)

    async def counts(self) -> QueueCounts:
        def read(conn: Connection) -> QueueCounts:
            waiting, failed = conn.execute(
                select(
                    func.count().filter(col(IntakeRecord.failed_at).is_(None)),
                    func.count().filter(col(IntakeRecord.failed_at).is_not(None)),
                )
            ).one()
            return QueueCounts(waiting=int(waiting or 0), failed=int(failed or 0))

        return await read_in_one_call(self._engine, read)
