"""Explicit alert → runbook mappings: an operator's rule beats every inference.

One row per selector (alertname / service / labels); the same selector cannot point at two
runbooks, so a mapping never silently competes with another one. The webhook reads the list on
every firing alert, so it is cached for `fresh_for_s` and dropped at once by add and remove.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import re
import time
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Text, UniqueConstraint, func
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.write_turns import read_in_one_call
from domain.alerts.match import Mapping
from schemas.runbook import AlertSelector


class MappingRecord(SQLModel, table=True):
    """A stored mapping; `selector_key` is the digest of its canonical selector (unique)."""

    __tablename__ = "runbook_mappings"
    __table_args__ = (UniqueConstraint("selector_key"),)

    id: int | None = Field(default=None, primary_key=True)
    selector_key: str = Field(max_length=64)
    alertname: str | None = Field(default=None, max_length=200)
    service: str | None = Field(default=None, max_length=200)
    labels: str = Field(sa_column=Column(Text, nullable=False))
    runbook_id: str = Field(index=True, max_length=100)
    created_by: str = Field(default="", max_length=200)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class MappingExistsError(Exception):
    """The same selector is already mapped (to `existing.runbook`)."""

    def __init__(self, existing: Mapping) -> None:
        super().__init__(
            f"a mapping with this selector already exists: #{existing.id} -> {existing.runbook}"
        )
        self.existing = existing


def checked_selector(
    alertname: str | None = None, service: str | None = None, labels: dict[str, str] | None = None
) -> AlertSelector:
    """The selector, or ValueError naming what is wrong (empty, too long, a broken regex)."""
    labels = dict(labels or {})
    if alertname == "" or service == "":
        raise ValueError("alertname and service, when given, must not be empty")
    if alertname is None and service is None and not labels:
        raise ValueError("a selector needs at least one of alertname, service or labels")
    if len(alertname or "") > 200 or len(service or "") > 200 or len(labels) > 20:
        raise ValueError("alertname and service are at most 200 characters, labels at most 20")
    for key, value in labels.items():
        if not key or len(key) > 200 or len(value) > 500:
            raise ValueError(f"label {key!r}: names are 1-200 characters, values at most 500")
        if value.startswith("~"):
            try:
                re.compile(value[1:])
            except re.error as err:
                raise ValueError(f"label {key!r}: {value!r} is not a valid regex ({err})") from None
    return AlertSelector(alertname=alertname, service=service, labels=labels)


def selector_key(selector: AlertSelector) -> str:
    body = json.dumps(selector.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _to_mapping(record: MappingRecord) -> Mapping:
    return Mapping(
        id=record.id,
        selector=AlertSelector(
            alertname=record.alertname, service=record.service, labels=json.loads(record.labels)
        ),
        runbook=record.runbook_id,
        created_by=record.created_by,
        note=record.note,
        created_at=record.created_at.replace(tzinfo=record.created_at.tzinfo or UTC),
    )


class MappingStore:
    def __init__(self, engine: AsyncEngine, fresh_for_s: float = 0.0) -> None:
        self._engine = engine
        self._fresh_for_s = fresh_for_s
        self._cache: builtins.list[Mapping] | None = None
        self._cache_key: tuple[int, int, str] | None = None
        self._read_at = -1e18

    async def list(self) -> builtins.list[Mapping]:
        """Every mapping, oldest first (the order breaks ties between equal selectors)."""
        now = time.monotonic()
        if self._cache is not None and now - self._read_at < self._fresh_for_s:
            return self._cache
        self._read_at = now
        key = await read_in_one_call(self._engine, _table_key)  # one small worker-thread call
        if self._cache is not None and key == self._cache_key:
            return self._cache
        async with AsyncSession(self._engine) as session:
            records = (
                await session.exec(select(MappingRecord).order_by(col(MappingRecord.id)))
            ).all()
        self._cache = [_to_mapping(r) for r in records]
        self._cache_key = key
        return self._cache

    async def get(self, mapping_id: int) -> Mapping | None:
        async with AsyncSession(self._engine) as session:
            record = await session.get(MappingRecord, mapping_id)
        return None if record is None else _to_mapping(record)

    async def add(
        self, selector: AlertSelector, runbook_id: str, *, created_by: str = "", note: str = ""
    ) -> Mapping:
        """Store a new mapping; MappingExistsError when the same selector is already mapped."""
        selector = checked_selector(selector.alertname, selector.service, selector.labels)
        if not runbook_id or len(runbook_id) > 100:
            raise ValueError("the runbook id must be 1-100 characters")
        key = selector_key(selector)
        record = MappingRecord(
            selector_key=key,
            alertname=selector.alertname,
            service=selector.service,
            labels=json.dumps(selector.labels, sort_keys=True),
            runbook_id=runbook_id,
            created_by=created_by,
            note=note,
            created_at=datetime.now(UTC),
        )
        async with AsyncSession(self._engine) as session:
            session.add(record)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                existing = (
                    await session.exec(
                        select(MappingRecord).where(MappingRecord.selector_key == key)
                    )
                ).first()
                if existing is None:  # removed in between: the caller may simply retry
                    raise
                raise MappingExistsError(_to_mapping(existing)) from None
            await session.refresh(record)
        self._cache = None
        return _to_mapping(record)

    async def remove(self, mapping_id: int) -> Mapping | None:
        """Delete one mapping; None when there was no such mapping."""
        async with AsyncSession(self._engine) as session:
            record = await session.get(MappingRecord, mapping_id)
            if record is None:
                return None
            removed = _to_mapping(record)
            await session.delete(record)
            await session.commit()
        self._cache = None
        return removed


# Built once (db/prepared.py): read on every firing webhook more than a few seconds apart.
_TABLE_KEY = select(func.count(), func.max(MappingRecord.id), func.max(MappingRecord.created_at))


def _table_key(conn: Connection) -> tuple[int, int, str]:
    """Changes whenever a mapping is added or removed (they are never edited in place); the
    newest creation time too, as SQLite may give a deleted newest row's id to the next one."""
    row = conn.execute(_TABLE_KEY).one()
    return int(row[0]), int(row[1] or 0), str(row[2])
