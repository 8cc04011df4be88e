"""Which incident an alert belongs to, decided by one atomic database claim per firing alert.

Correlation used to ask Temporal visibility per alert (~10 ms, and eventually consistent: two
different-key alerts for one service arriving together could open two incidents). Here the
decision "its own open incident / join the open incident of its (service, runbook) group /
start, reopening a recent run" is one transaction over two tables whose primary keys make it
atomic on SQLite and PostgreSQL alike:

* `incident_runs`: one row per incident id (open or closed, the last closed run's id, status
  and time, for the reopen window);
* `correlation_claims`: one row per (service, runbook) group: the incident that holds it and
  since when (the correlation window), released when that incident closes.

Each transaction starts with a write (INSERT ... ON CONFLICT DO NOTHING), so SQLite takes its
write lock first and never fails a read-then-write upgrade; PostgreSQL waits on the unique key
and re-reads with FOR UPDATE. On SQLite each transaction is one call on a worker thread
(`db.write_turns.write_in_one_call`): the write lock is held for microseconds of SQL, not for
the dozen event-loop turns a statement-by-statement async transaction waits through in a burst.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

from sqlalchemy import Column, DateTime, Update, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel, col

from db.intake_queue import start_queued
from db.prepared import insert_or_ignore
from db.stored import aware
from db.write_turns import read_in_one_call, write_in_one_call

T = TypeVar("T")


class IncidentRunRecord(SQLModel, table=True):
    """An incident id's current run: open, or when and how its last run closed."""

    __tablename__ = "incident_runs"

    incident_id: str = Field(primary_key=True, max_length=300)
    open: bool
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    run_id: str | None = Field(default=None, max_length=64)
    status: str | None = Field(default=None, max_length=40)
    closed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class CorrelationClaimRecord(SQLModel, table=True):
    """The incident holding a (service, runbook) group; `closed_at` set when it released it."""

    __tablename__ = "correlation_claims"

    key: str = Field(primary_key=True, max_length=64)  # sha256 hex of (service, runbook)
    incident_id: str = Field(index=True, max_length=300)
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    closed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


def group_key(service: str, runbook_id: str) -> str:
    """The correlation group of a (service, runbook): fixed size, no sender bytes stored."""
    h = hashlib.sha256()
    for part in (service, runbook_id):
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


_RUNS = IncidentRunRecord.__table__  # type: ignore[attr-defined]
_GROUPS = CorrelationClaimRecord.__table__  # type: ignore[attr-defined]
# Built once (db/prepared.py): the claim is on every firing alert's way to its first step.
_RUN_LOCKED = select(_RUNS).where(_RUNS.c.incident_id == bindparam("b_id")).with_for_update()
_RUN_OPENED = (
    update(_RUNS)
    .where(_RUNS.c.incident_id == bindparam("b_id"))
    .values(open=True, opened_at=bindparam("b_at"))
)
_GROUP_LOCKED = select(_GROUPS).where(_GROUPS.c.key == bindparam("b_key")).with_for_update()
_GROUP_TAKEN = (
    update(_GROUPS)
    .where(_GROUPS.c.key == bindparam("b_key"))
    .values(incident_id=bindparam("b_id"), opened_at=bindparam("b_at"), closed_at=None)
)


@dataclass(frozen=True)
class ClosedRun:
    run_id: str
    closed_at: datetime
    status: str


@dataclass(frozen=True)
class Claim:
    """Where a firing alert goes. `own`: its incident is open; `joined`: the open incident of
    its group (`since`: when that one claimed it); `start`: a new run, maybe reopening one."""

    action: Literal["own", "joined", "start"]
    incident_id: str
    since: datetime
    reopens: ClosedRun | None = None


class IncidentClaimStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(
        self,
        incident_id: str,
        group: str | None,
        *,
        correlation_window_s: int,
        reopen_window_s: int,
        now: datetime | None = None,
    ) -> Claim:
        """Decide atomically where a firing alert for `incident_id` goes (see the module)."""
        claim, _ = await self.claim_then(
            incident_id,
            group,
            lambda _conn, _claim: None,
            correlation_window_s=correlation_window_s,
            reopen_window_s=reopen_window_s,
            now=now,
        )
        return claim

    async def claim_then(
        self,
        incident_id: str,
        group: str | None,
        then: Callable[[Connection, Claim], T],
        *,
        correlation_window_s: int,
        reopen_window_s: int,
        now: datetime | None = None,
    ) -> tuple[Claim, T]:
        """The claim, and `then(conn, claim)` in the same transaction (the intake queue writes
        the alert there: claimed and queued, or neither)."""
        at = now or datetime.now(UTC)

        def decide(conn: Connection) -> tuple[Claim, T]:
            claim = self._decide(
                conn, incident_id, group, at, correlation_window_s, reopen_window_s
            )
            return claim, then(conn, claim)

        return await write_in_one_call(self._engine, decide)

    async def closed_after(self, incident_id: str, at: datetime) -> bool:
        """Did `incident_id`'s run close after `at`? (An alert queued at `at` reached it.)"""

        def read(conn: Connection) -> bool:
            closed = conn.execute(
                select(IncidentRunRecord.__table__.c.closed_at).where(  # type: ignore[attr-defined]
                    IncidentRunRecord.__table__.c.incident_id == incident_id  # type: ignore[attr-defined]
                )
            ).scalar()
            return closed is not None and (aware(closed) or at) > at

        return await read_in_one_call(self._engine, read)

    def _decide(
        self,
        conn: Connection,
        incident_id: str,
        group: str | None,
        now: datetime,
        correlation_window_s: int,
        reopen_window_s: int,
    ) -> Claim:
        run = self._lock_run(conn, incident_id, now)
        if run.open:
            return Claim("own", incident_id, aware(run.opened_at) or now)
        if group is not None and correlation_window_s:
            holder = self._claim_group(conn, group, incident_id, now)
            if holder is not None:
                if now - holder[1] <= timedelta(seconds=correlation_window_s):
                    return Claim("joined", holder[0], holder[1])
                self._take_group(conn, group, incident_id, now)
        reopens = None
        closed_at = aware(run.closed_at)
        if (
            reopen_window_s
            and run.run_id
            and closed_at is not None
            and now - closed_at <= timedelta(seconds=reopen_window_s)
        ):
            reopens = ClosedRun(run.run_id, closed_at, run.status or "closed")
        conn.execute(_RUN_OPENED, {"b_id": incident_id, "b_at": now})
        return Claim("start", incident_id, now, reopens)

    def _lock_run(self, conn: Connection, incident_id: str, now: datetime) -> IncidentRunRecord:
        """The incident's run row, made if missing (the write that takes SQLite's lock), and
        locked for this transaction on PostgreSQL."""
        made = conn.execute(
            insert_or_ignore(conn, _RUNS),
            {"incident_id": incident_id, "open": False, "opened_at": now},
        )
        if made.rowcount == 1:  # new: nothing to read back
            return IncidentRunRecord(incident_id=incident_id, open=False, opened_at=now)
        row = conn.execute(_RUN_LOCKED, {"b_id": incident_id}).one()
        return IncidentRunRecord(**row._mapping)

    def _claim_group(
        self, conn: Connection, group: str, incident_id: str, now: datetime
    ) -> tuple[str, datetime] | None:
        """None when this incident now holds the group (new, free, or its own); else the open
        holder and since when (the caller decides whether the window still covers it)."""
        inserted = conn.execute(
            insert_or_ignore(conn, _GROUPS),
            {"key": group, "incident_id": incident_id, "opened_at": now},
        )
        if inserted.rowcount == 1:
            return None
        row = conn.execute(_GROUP_LOCKED, {"b_key": group}).one()
        if row.closed_at is not None or row.incident_id == incident_id:
            self._take_group(conn, group, incident_id, now)
            return None
        return row.incident_id, aware(row.opened_at) or now

    @staticmethod
    def _take_group(conn: Connection, group: str, incident_id: str, now: datetime) -> None:
        conn.execute(_GROUP_TAKEN, {"b_key": group, "b_id": incident_id, "b_at": now})

    async def abandon(self, claim: Claim) -> None:
        """A start that Temporal refused: the run is not open and the group is free again, so
        the sender's retry decides afresh."""
        if claim.action != "start":
            return
        now = datetime.now(UTC)

        def free(conn: Connection) -> None:
            conn.execute(
                update(IncidentRunRecord)
                .where(col(IncidentRunRecord.incident_id) == claim.incident_id)
                .values(open=False)
            )
            conn.execute(self._release(claim.incident_id, now))

        await write_in_one_call(self._engine, free)

    async def record_close(
        self, incident_id: str, run_id: str, status: str, closed_at: datetime
    ) -> None:
        """The incident closed: later alerts reopen it (within the window) or start anew, and
        its group is free for the next incident."""

        def close(conn: Connection) -> None:
            conn.execute(
                insert_or_ignore(conn, _RUNS),
                {"incident_id": incident_id, "open": False, "opened_at": closed_at},
            )
            conn.execute(
                update(IncidentRunRecord)
                .where(col(IncidentRunRecord.incident_id) == incident_id)
                .values(open=False, run_id=run_id, status=status, closed_at=closed_at)
            )
            conn.execute(self._release(incident_id, closed_at))

        await write_in_one_call(self._engine, close)

    async def forget_gone(
        self, incident_id: str, claimed_at: datetime, grace: timedelta = timedelta(0)
    ) -> bool:
        """A group holder Temporal does not run (terminated, or its start never happened):
        free its claim unless someone re-claimed it meanwhile. False, and nothing freed, while
        the holder may still be starting: its claim is younger than `grace`, or its start is
        still waiting in the intake queue (db/intake_queue.py; a burst's backlog, or Temporal
        down), read in the same transaction as the release."""
        now = datetime.now(UTC)
        if now - claimed_at <= grace:
            return False
        starting = start_queued(incident_id)

        def forget(conn: Connection) -> bool:
            conn.execute(
                update(IncidentRunRecord)
                .where(col(IncidentRunRecord.incident_id) == incident_id)
                .where(col(IncidentRunRecord.opened_at) <= claimed_at)
                .where(~starting)
                .values(open=False)
            )
            conn.execute(
                self._release(incident_id, now)
                .where(col(CorrelationClaimRecord.opened_at) <= claimed_at)
                .where(~starting)
            )
            return not conn.execute(select(starting)).scalar()

        return await write_in_one_call(self._engine, forget)

    @staticmethod
    def _release(incident_id: str, at: datetime) -> Update:
        return (
            update(CorrelationClaimRecord)
            .where(col(CorrelationClaimRecord.incident_id) == incident_id)
            .where(col(CorrelationClaimRecord.closed_at).is_(None))
            .values(closed_at=at)
        )
