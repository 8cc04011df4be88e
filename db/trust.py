"""Trust state: runbook modes and their history, kill switches, and blast-radius slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.prepared import insert_or_ignore
from db.tables import (
    AutomationSlotRecord,
    KillSwitchRecord,
    RunbookTrustRecord,
    TrustChangeRecord,
)
from db.write_turns import read_in_one_call, write_in_one_call
from schemas.trust import KillSwitch, KillSwitchScope, Mode, RunbookTrust, TrustChange

#: A slot held longer than this belongs to an incident that vanished without releasing it.
SLOT_STALE_AFTER = timedelta(hours=6)

# Built once (db/prepared.py): read or written before every automatic step and in the intake.
_SLOTS = AutomationSlotRecord.__table__  # type: ignore[attr-defined]
_HOLDERS = sa_select(_SLOTS.c.incident_id).where(_SLOTS.c.scope == bindparam("b_scope"))
_STALE_SLOTS = delete(_SLOTS).where(_SLOTS.c.acquired_at < bindparam("b_before"))
_TRUST_T = RunbookTrustRecord.__table__  # type: ignore[attr-defined]
_TRUST = sa_select(*_TRUST_T.c["mode", "changed_by", "changed_at", "reason", "suggestion"]).where(
    _TRUST_T.c.runbook_id == bindparam("b_runbook")
)
_SWITCH_T = KillSwitchRecord.__table__  # type: ignore[attr-defined]
_SWITCHES = sa_select(*_SWITCH_T.c["scope", "value", "engaged", "actor", "reason", "at"]).order_by(
    _SWITCH_T.c.id
)


class TrustStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # ------------------------------------------------------------------ runbook modes

    async def get(self, runbook_id: str) -> RunbookTrust:
        return await read_in_one_call(self._engine, lambda conn: _trust(conn, runbook_id))

    @staticmethod
    def opening(
        conn: Connection, runbook_id: str | None
    ) -> tuple[list[KillSwitch], RunbookTrust | None]:
        """What a firing alert's incident opens with: the engaged kill switches and its
        runbook's mode, read inside the intake claim's transaction (services/intake_opening.py)."""
        return _engaged_switches(conn), _trust(conn, runbook_id) if runbook_id else None

    async def change(
        self,
        runbook_id: str,
        *,
        kind: str,
        mode: Mode,
        actor: str,
        reason: str,
        suggestion: str | None = None,
        keep_mode: bool = False,
    ) -> RunbookTrust:
        """Write the new mode (unless `keep_mode`) and log the change, in one transaction."""
        now = datetime.now(UTC)
        async with AsyncSession(self._engine) as session:
            record = await session.get(RunbookTrustRecord, runbook_id)
            if record is None:
                record = RunbookTrustRecord(
                    runbook_id=runbook_id, mode=Mode.COPILOT.value, reason="default"
                )
            if not keep_mode:
                record.mode = mode.value
                record.changed_by = actor
                record.changed_at = now
                record.reason = reason
            record.suggestion = suggestion
            session.add(record)
            session.add(
                TrustChangeRecord(
                    runbook_id=runbook_id,
                    kind=kind,
                    mode=mode.value,
                    actor=actor,
                    reason=reason,
                    at=now,
                )
            )
            await session.commit()
        return await self.get(runbook_id)

    async def history(self, runbook_id: str) -> list[TrustChange]:
        async with AsyncSession(self._engine) as session:
            rows = (
                await session.exec(
                    select(TrustChangeRecord)
                    .where(TrustChangeRecord.runbook_id == runbook_id)
                    .order_by(col(TrustChangeRecord.id))
                )
            ).all()
        return [
            TrustChange(
                runbook_id=r.runbook_id,
                kind=r.kind,
                mode=Mode(r.mode),
                actor=r.actor,
                reason=r.reason,
                at=r.at,
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ kill switches

    async def set_kill_switch(self, switch: KillSwitch) -> KillSwitch:
        at = datetime.now(UTC)
        async with AsyncSession(self._engine) as session:
            session.add(
                KillSwitchRecord(
                    scope=switch.scope.value,
                    value=switch.value or "",
                    engaged=switch.engaged,
                    actor=switch.actor,
                    reason=switch.reason,
                    at=at,
                )
            )
            await session.commit()
        return switch.model_copy(update={"at": at})

    async def kill_switches(self) -> list[KillSwitch]:
        """The engaged switches: the newest row of each scope decides."""
        return await read_in_one_call(self._engine, _engaged_switches)

    # ------------------------------------------------------------------ blast radius

    async def acquire_slots(
        self, incident_id: str, scopes: list[str], limit: int
    ) -> tuple[bool, str]:
        """Take one of `limit` slots in every scope, or none at all."""
        _, granted, reason = await self.check_automation(incident_id, scopes, limit)
        return granted, reason

    async def check_automation(
        self, incident_id: str, scopes: list[str], limit: int
    ) -> tuple[list[KillSwitch], bool, str]:
        """The engaged kill switches and one of `limit` slots in every scope (or none at all),
        in one transaction: on SQLite one worker-thread call, where the same work as one
        statement per event-loop round trip (stale delete, holder reads, inserts, switch read)
        took ~6.5 ms on the first automatic step of every incident."""
        now = datetime.now(UTC)
        return await write_in_one_call(
            self._engine, lambda conn: self.check_within(conn, incident_id, scopes, limit, now)
        )

    def check_within(
        self,
        conn: Connection,
        incident_id: str,
        scopes: list[str],
        limit: int,
        now: datetime,
        *,
        sweep: bool = True,
    ) -> tuple[list[KillSwitch], bool, str]:
        """`check_automation` inside a transaction someone else holds (the intake claim's).
        `limit` 0 takes no slot; without `sweep` slots held past `SLOT_STALE_AFTER` still
        count (the intake leaves that to the workflow's own check when it finds no slot)."""
        if limit <= 0:
            return _engaged_switches(conn), True, ""
        slots = AutomationSlotRecord
        if sweep:  # first, so that SQLite takes its write lock at once (db.write_turns)
            conn.execute(_STALE_SLOTS, {"b_before": now - SLOT_STALE_AFTER})
        taken: list[str] = []
        for scope in scopes:
            if not self._take_one(conn, incident_id, scope, limit, now):
                if taken:
                    conn.execute(
                        delete(slots).where(
                            col(slots.incident_id) == incident_id, col(slots.scope).in_(taken)
                        )
                    )
                holders = _holders(conn, scope)
                return (
                    _engaged_switches(conn),
                    False,
                    f"blast-radius limit: {len(holders)} of {limit} incidents already execute "
                    f"automatically for {scope} ({', '.join(holders)})",
                )
            taken.append(scope)
        return _engaged_switches(conn), True, ""

    def _take_one(
        self, conn: Connection, incident_id: str, scope: str, limit: int, now: datetime
    ) -> bool:
        holders = _holders(conn, scope)
        if incident_id in holders:
            return True
        if len(holders) >= limit:  # full: no insert would take (a burst for one runbook)
            return False
        insert = insert_or_ignore(conn, _SLOTS)
        for slot in range(limit):
            inserted = conn.execute(
                insert,
                {"scope": scope, "slot": slot, "incident_id": incident_id, "acquired_at": now},
            )
            if inserted.rowcount == 1:
                return True
        return False

    async def holders(self, scope: str) -> list[str]:
        async with AsyncSession(self._engine) as session:
            rows = (
                await session.exec(
                    select(AutomationSlotRecord.incident_id).where(
                        AutomationSlotRecord.scope == scope
                    )
                )
            ).all()
        return sorted(rows)

    async def release(self, incident_id: str, only: list[str] | None = None) -> None:
        query = delete(AutomationSlotRecord).where(
            col(AutomationSlotRecord.incident_id) == incident_id
        )
        if only is not None:
            if not only:
                return
            query = query.where(col(AutomationSlotRecord.scope).in_(only))
        async with AsyncSession(self._engine) as session:
            await session.exec(query)
            await session.commit()


def _trust(conn: Connection, runbook_id: str) -> RunbookTrust:
    record = conn.execute(_TRUST, {"b_runbook": runbook_id}).first()
    if record is None:
        return RunbookTrust(runbook_id=runbook_id)
    return RunbookTrust(
        runbook_id=runbook_id,
        mode=Mode(record.mode),
        changed_by=record.changed_by,
        changed_at=record.changed_at,
        reason=record.reason,
        suggestion=record.suggestion,
    )


def _engaged_switches(conn: Connection) -> list[KillSwitch]:
    """The engaged switches: the newest row of each scope decides."""
    rows = conn.execute(_SWITCHES).all()
    current: dict[tuple[str, str], Any] = {}
    for row in rows:
        current[(row.scope, row.value)] = row
    return [
        KillSwitch(
            scope=KillSwitchScope(r.scope),
            value=r.value or None,
            engaged=True,
            actor=r.actor,
            reason=r.reason,
            at=r.at,
        )
        for r in current.values()
        if r.engaged
    ]


def _holders(conn: Connection, scope: str) -> list[str]:
    return sorted(conn.execute(_HOLDERS, {"b_scope": scope}).scalars())
