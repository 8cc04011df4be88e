"""Escalation records: the durable list of who was paged for which incident and why."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.tables import EscalationRecord
from schemas.incident import Escalation


class EscalationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, escalation: Escalation) -> None:
        """Idempotent: an activity retry of the same escalation writes nothing new."""
        step_id = escalation.step_id or ""
        async with AsyncSession(self._engine) as session:
            existing = (
                await session.exec(
                    select(EscalationRecord).where(
                        EscalationRecord.incident_id == escalation.incident_id,
                        EscalationRecord.level == escalation.level,
                        EscalationRecord.step_id == step_id,
                        EscalationRecord.at == escalation.at,
                    )
                )
            ).first()
            if existing is not None:
                return
            session.add(
                EscalationRecord(
                    incident_id=escalation.incident_id,
                    level=escalation.level,
                    target=escalation.target,
                    reason=escalation.reason,
                    step_id=step_id,
                    at=escalation.at,
                    recorded_at=datetime.now(UTC),
                )
            )
            await session.commit()

    async def for_incident(self, incident_id: str) -> list[Escalation]:
        async with AsyncSession(self._engine) as session:
            rows = (
                await session.exec(
                    select(EscalationRecord)
                    .where(EscalationRecord.incident_id == incident_id)
                    .order_by(col(EscalationRecord.id))
                )
            ).all()
        return [
            Escalation(
                incident_id=r.incident_id,
                level=r.level,
                target=r.target,
                reason=r.reason,
                step_id=r.step_id or None,
                at=r.at,
            )
            for r in rows
        ]
