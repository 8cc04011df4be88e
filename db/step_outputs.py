"""The full output of every command an incident ran (steps and rollbacks), as the agent returned
it (redacted, at most its per-stream limit). The workflow's history keeps an excerpt and the
sha256; this table is where a responder reads the rest. Idempotent per (incident, run, step,
purpose, attempt): a retried write stores nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.prepared import insert_or_ignore
from db.write_turns import write_in_one_call
from schemas.incident import StepOutput


class StepOutputRecord(SQLModel, table=True):
    __tablename__ = "step_outputs"
    __table_args__ = (UniqueConstraint("incident_id", "run_id", "step_id", "purpose", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(index=True, max_length=300)
    run_id: str = Field(max_length=64)
    step_id: str = Field(max_length=200)
    purpose: str = Field(max_length=20)
    attempt: int
    exit_code: int | None = None
    stdout: str = Field(sa_column=Column(Text, nullable=False))
    stderr: str = Field(sa_column=Column(Text, nullable=False))
    digest: str = Field(max_length=80)
    stored_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


_OUTPUTS = StepOutputRecord.__table__  # type: ignore[attr-defined]


class StepOutputStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def save(self, output: StepOutput) -> None:
        """One INSERT ... ON CONFLICT DO NOTHING (a retried write stores nothing twice), on
        SQLite one worker-thread call (db.write_turns): it runs between two steps."""
        row = {
            "incident_id": output.incident_id,
            "run_id": output.run_id,
            "step_id": output.step_id,
            "purpose": output.purpose,
            "attempt": output.attempt,
            "exit_code": output.exit_code,
            "stdout": output.stdout,
            "stderr": output.stderr,
            "digest": output.digest,
            "stored_at": datetime.now(UTC),
        }

        def body(conn: Connection) -> None:
            conn.execute(insert_or_ignore(conn, _OUTPUTS), row)

        await write_in_one_call(self._engine, body)

    async def for_step(self, incident_id: str, step_id: str) -> list[StepOutput]:
        """Every stored output of the step (each run, attempt, and its rollback), oldest first."""
        async with AsyncSession(self._engine) as session:
            rows = (
                await session.exec(
                    select(StepOutputRecord)
                    .where(
                        StepOutputRecord.incident_id == incident_id,
                        StepOutputRecord.step_id == step_id,
                    )
                    .order_by(col(StepOutputRecord.id))
                )
            ).all()
        return [
            StepOutput(
                incident_id=r.incident_id,
                run_id=r.run_id,
                step_id=r.step_id,
                purpose="rollback" if r.purpose == "rollback" else "step",
                attempt=r.attempt,
                exit_code=r.exit_code,
                stdout=r.stdout,
                stderr=r.stderr,
                digest=r.digest,
            )
            for r in rows
        ]
