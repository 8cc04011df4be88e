"""The LLM answer cache in the database (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from db.tables import LlmCacheRecord


class DbLlmCache:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, key: str) -> str | None:
        async with AsyncSession(self._engine) as session:
            record = await session.get(LlmCacheRecord, key)
        return None if record is None else record.value

    async def put(self, key: str, model: str, value: str) -> None:
        async with AsyncSession(self._engine) as session:
            session.add(
                LlmCacheRecord(key=key, model=model, value=value, created_at=datetime.now(UTC))
            )
            try:
                await session.commit()
            except IntegrityError:  # a concurrent call stored the same answer first
                await session.rollback()
