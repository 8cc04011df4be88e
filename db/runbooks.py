"""Runbook versions: save only when content changed, read the latest of each, import a folder."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.tables import RunbookRecord
from db.write_turns import read_in_one_call
from domain.runbook_yaml import RunbookFileError, runbook_from_yaml
from schemas.runbook import Runbook


def content_hash(runbook: Runbook) -> str:
    body = runbook.model_dump(mode="json", exclude={"version"})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class SavedRunbook:
    runbook: Runbook
    created: bool


@dataclass
class ImportReport:
    saved: list[SavedRunbook] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class RunbookStore:
    """Versioned runbooks in the database, with the latest set cached until a new version lands."""

    def __init__(self, engine: AsyncEngine, fresh_for_s: float = 0.0) -> None:
        """`fresh_for_s`: how long the latest set is reused without asking the database at all
        (the webhook's hot path: an alert storm need not re-check the table per alert)."""
        self._engine = engine
        self._fresh_for_s = fresh_for_s
        self._checked_at = -1e18
        self._cache_key: tuple[int, int] | None = None
        self._cache: list[Runbook] = []

    async def save(
        self, runbook: Runbook, source_path: str | None = None, *, force: bool = False
    ) -> SavedRunbook:
        """A new version when the content changed (or `force`: its source file changed)."""
        digest = content_hash(runbook)
        for attempt in range(10):  # a concurrent save of the same runbook takes the next version
            async with AsyncSession(self._engine) as session:
                latest = (
                    await session.exec(
                        select(RunbookRecord)
                        .where(RunbookRecord.runbook_id == runbook.id)
                        .order_by(col(RunbookRecord.version).desc())
                        .limit(1)
                    )
                ).first()
                if latest is not None and latest.content_hash == digest and not force:
                    return SavedRunbook(_to_model(latest), created=False)
                version = 1 if latest is None else latest.version + 1
                stored = runbook.model_copy(update={"version": version})
                session.add(
                    RunbookRecord(
                        runbook_id=runbook.id,
                        version=version,
                        title=runbook.title,
                        content_hash=digest,
                        document=stored.model_dump_json(),
                        source_path=source_path,
                        created_at=datetime.now(UTC),
                    )
                )
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()
                    await asyncio.sleep(0.01 * (attempt + 1))
                    continue
                return SavedRunbook(stored, created=True)
        raise RuntimeError(f"could not save runbook {runbook.id}: too many concurrent versions")

    async def versions(self, runbook_id: str) -> list[RunbookRecord]:
        async with AsyncSession(self._engine) as session:
            return list(
                (
                    await session.exec(
                        select(RunbookRecord)
                        .where(RunbookRecord.runbook_id == runbook_id)
                        .order_by(col(RunbookRecord.version))
                    )
                ).all()
            )

    async def get(self, runbook_id: str, version: int | None = None) -> Runbook | None:
        async with AsyncSession(self._engine) as session:
            query = select(RunbookRecord).where(RunbookRecord.runbook_id == runbook_id)
            if version is None:
                query = query.order_by(col(RunbookRecord.version).desc()).limit(1)
            else:
                query = query.where(RunbookRecord.version == version)
            record = (await session.exec(query)).first()
            return None if record is None else _to_model(record)

    def forget_cached(self) -> None:
        """The next `latest()` asks the database: this process has just written new versions."""
        self._cache_key = None

    async def latest(self) -> list[Runbook]:
        """The newest version of every runbook, cached until the table changes."""
        now = time.monotonic()
        if self._cache_key is not None and now - self._checked_at < self._fresh_for_s:
            return self._cache
        self._checked_at = now
        # The check alone is one worker-thread call: at 3am alerts come minutes apart, so every
        # one of them finds the cache older than `fresh_for_s`, and the runbooks unchanged.
        key = await read_in_one_call(self._engine, _table_key)
        if key == self._cache_key:
            return self._cache
        async with AsyncSession(self._engine) as session:
            newest = (
                select(RunbookRecord.runbook_id, func.max(RunbookRecord.version).label("v"))
                .group_by(col(RunbookRecord.runbook_id))
                .subquery()
            )
            records = (
                await session.exec(
                    select(RunbookRecord)
                    .join(
                        newest,
                        (col(RunbookRecord.runbook_id) == newest.c.runbook_id)
                        & (col(RunbookRecord.version) == newest.c.v),
                    )
                    .order_by(col(RunbookRecord.runbook_id))
                )
            ).all()
            self._cache = [_to_model(r) for r in records]
            self._cache_key = key
            return self._cache

    async def import_dir(self, folder: Path) -> ImportReport:
        """Load every *.yml / *.yaml runbook under `folder`; unchanged files make no new version.

        A broken file is reported and skipped: one typo must not keep every other runbook out.
        """
        return await self.load(
            (str(path), path.read_text(encoding="utf-8")) for path in _runbook_files(folder)
        )

    async def load(self, files: Iterable[tuple[str, str]]) -> ImportReport:
        """Load YAML runbooks given as (where it came from, text); a broken one is reported."""
        report = ImportReport()
        for source, text in files:
            try:
                runbook = runbook_from_yaml(text, source=source)
            except RunbookFileError as err:
                report.errors.append(str(err))
                continue
            report.saved.append(await self.save(runbook, source_path=source))
        return report


def _runbook_files(folder: Path) -> list[Path]:
    return sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml")])


def _to_model(record: RunbookRecord) -> Runbook:
    return Runbook.model_validate_json(record.document)


_TABLE_KEY = select(func.count(), func.max(RunbookRecord.id))  # built once: db/prepared.py


def _table_key(conn: Connection) -> tuple[int, int]:
    """Changes whenever a version is saved (versions are only ever added)."""
    row = conn.execute(_TABLE_KEY).one()
    return int(row[0]), int(row[1] or 0)
