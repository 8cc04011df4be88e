"""Trust state: runbook modes and their history, kill switches, and blast-radius slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.tables import (
    AutomationSlotRecord,
    KillSwitchRecord,
    RunbookTrustRecord,
    TrustChangeRecord,
)
from schemas.trust import KillSwitch, KillSwitchScope, Mode, RunbookTrust, TrustChange

#: A slot held longer than this belongs to an incident that vanished without releasing it.
SLOT_STALE_AFTER = timedelta(hours=6)


class TrustStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # ------------------------------------------------------------------ runbook modes

    async def get(self, runbook_id: str) -> RunbookTrust:
        async with AsyncSession(self._engine) as session:
            record = await session.get(RunbookTrustRecord, runbook_id)
        if record is None:
            return RunbookTrust(runbook_id=runbook_id)
        return RunbookTrust(
            runbook_id=record.runbook_id,
            mode=Mode(record.mode),
            changed_by=record.changed_by,
            changed_at=record.changed_at,
            reason=record.reason,
            suggestion=record.suggestion,
        )

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
        async with AsyncSession(self._engine) as session:
            rows = (
                await session.exec(select(KillSwitchRecord).order_by(col(KillSwitchRecord.id)))
            ).all()
        current: dict[tuple[str, str], KillSwitchRecord] = {}
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

    # ------------------------------------------------------------------ blast radius

    async def acquire_slots(
        self, incident_id: str, scopes: list[str], limit: int
    ) -> tuple[bool, str]:
        """Take one of `limit` slots in every scope, or none at all."""
        now = datetime.now(UTC)
        taken: list[str] = []
        async with AsyncSession(self._engine) as session:
            await session.exec(
                delete(AutomationSlotRecord).where(
                    col(AutomationSlotRecord.acquired_at) < now - SLOT_STALE_AFTER
                )
            )
            await session.commit()
        for scope in scopes:
            if not await self._take_one(incident_id, scope, limit, now):
                await self.release(incident_id, only=taken)
                holders = await self.holders(scope)
                return False, (
                    f"blast-radius limit: {len(holders)} of {limit} incidents already execute "
                    f"automatically for {scope} ({', '.join(holders)})"
                )
            taken.append(scope)
        return True, ""

    async def _take_one(self, incident_id: str, scope: str, limit: int, now: datetime) -> bool:
        if incident_id in await self.holders(scope):
            return True
        for slot in range(limit):
            async with AsyncSession(self._engine) as session:
                session.add(
                    AutomationSlotRecord(
                        scope=scope, slot=slot, incident_id=incident_id, acquired_at=now
                    )
                )
                try:
                    await session.commit()
                    return True
                except IntegrityError:
                    await session.rollback()
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
