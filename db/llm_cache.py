"""The LLM answer cache in the database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
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


class DbVectorCache:
    """Embedding vectors in the LLM cache table (key: sha256 of model and text; value: JSON),
    so a runbook's vector is computed once per model and text, across processes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get_many(self, keys: list[str]) -> dict[str, list[float]]:
        if not keys:
            return {}
        async with AsyncSession(self._engine) as session:
            records = (
                await session.exec(select(LlmCacheRecord).where(col(LlmCacheRecord.key).in_(keys)))
            ).all()
        return {r.key: [float(v) for v in json.loads(r.value)] for r in records}

    async def put_many(self, model: str, vectors: dict[str, list[float]]) -> None:
        now = datetime.now(UTC)
        for key, vector in vectors.items():
            async with AsyncSession(self._engine) as session:
                session.add(
                    LlmCacheRecord(key=key, model=model, value=json.dumps(vector), created_at=now)
                )
                try:
                    await session.commit()
                except IntegrityError:  # a concurrent match stored it first
                    await session.rollback()
