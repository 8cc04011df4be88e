"""Docs-as-code import: a folder of Markdown (parsed) and YAML runbooks into versions.

A file becomes a new version only when its bytes changed; each version keeps its source text
and the unified diff against the previous version's source, so reviewers see what changed.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.runbooks import RunbookStore, SavedRunbook
from db.tables import RunbookSourceRecord
from domain.runbook_files import MARKDOWN as MARKDOWN
from domain.runbook_files import YAML as YAML
from domain.runbook_yaml import RunbookFileError, runbook_from_yaml
from domain.runbooks.parse import parse_runbook
from schemas.runbook import Runbook


@dataclass
class ImportedFile:
    path: str
    runbook_id: str
    version: int
    status: str  # "new", "changed" or "unchanged"
    ambiguities: int = 0


@dataclass
class FolderImport:
    files: list[ImportedFile] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def runbook_id_for(relative: PurePath) -> str:
    """`kubernetes/KubePodCrashLooping.md` → `kubernetes-kubepodcrashlooping` (≤ 100 chars)."""
    raw = "-".join([*relative.parent.parts, relative.stem]).lower()
    slug = re.sub(r"[^a-z0-9._-]+", "-", raw).strip("-._") or "runbook"
    if len(slug) > 100:
        slug = f"{slug[:88]}-{hashlib.sha256(raw.encode()).hexdigest()[:10]}"
    return slug


class SourceStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def latest(self, runbook_id: str) -> RunbookSourceRecord | None:
        async with AsyncSession(self._engine) as session:
            return (
                await session.exec(
                    select(RunbookSourceRecord)
                    .where(RunbookSourceRecord.runbook_id == runbook_id)
                    .order_by(col(RunbookSourceRecord.version).desc())
                    .limit(1)
                )
            ).first()

    async def of_version(self, runbook_id: str, version: int) -> RunbookSourceRecord | None:
        async with AsyncSession(self._engine) as session:
            return (
                await session.exec(
                    select(RunbookSourceRecord).where(
                        RunbookSourceRecord.runbook_id == runbook_id,
                        RunbookSourceRecord.version == version,
                    )
                )
            ).first()

    async def add(self, record: RunbookSourceRecord) -> None:
        async with AsyncSession(self._engine) as session:
            session.add(record)
            await session.commit()


def runbook_from_source(text: str, relative: PurePath) -> tuple[Runbook, int]:
    """Markdown is parsed (id from its path), YAML loaded as written."""
    if relative.suffix.lower() in YAML:
        return runbook_from_yaml(text, source=str(relative)), 0
    parsed = parse_runbook(text, source_name=relative.name)
    runbook = parsed.runbook.model_copy(update={"id": runbook_id_for(relative)})
    return Runbook.model_validate(runbook.model_dump()), len(parsed.ambiguities)


async def save_source(
    runbooks: RunbookStore,
    sources: SourceStore,
    runbook: Runbook,
    text: str,
    path: str,
) -> tuple[SavedRunbook, str] | None:
    """Save `runbook` from `text` as a new version unless the same text is the latest."""
    sha = hashlib.sha256(text.encode()).hexdigest()
    previous = await sources.latest(runbook.id)
    if previous is not None and previous.source_sha256 == sha:
        return None
    saved = await runbooks.save(runbook, source_path=path, force=True)
    before = previous.source_text if previous is not None else ""
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{runbook.id} v{previous.version}" if previous else "/dev/null",
            tofile=f"{runbook.id} v{saved.runbook.version}",
        )
    )
    await sources.add(
        RunbookSourceRecord(
            runbook_id=runbook.id,
            version=saved.runbook.version,
            source_path=path,
            source_sha256=sha,
            source_text=text,
            diff=diff,
            created_at=datetime.now(UTC),
        )
    )
    return saved, diff


async def import_folder(engine: AsyncEngine, folder: Path) -> FolderImport:
    files = [
        (path.relative_to(folder), path.read_text(encoding="utf-8", errors="replace"))
        for path in _files(folder)
    ]
    return await import_sources(engine, files)


async def import_sources(
    engine: AsyncEngine, files: Iterable[tuple[PurePath, str]]
) -> FolderImport:
    """Import files given as (path relative to their folder, text): what `ddrun import` uploads."""
    runbooks, sources = RunbookStore(engine), SourceStore(engine)
    report = FolderImport()
    for relative, text in files:
        try:
            runbook, ambiguous = runbook_from_source(text, relative)
        except (RunbookFileError, ValueError) as err:
            report.errors.append(f"{relative}: {err}")
            continue
        result = await save_source(runbooks, sources, runbook, text, str(relative))
        if result is None:
            latest = await sources.latest(runbook.id)
            version = latest.version if latest else 0
            report.files.append(
                ImportedFile(str(relative), runbook.id, version, "unchanged", ambiguous)
            )
            continue
        saved, _diff = result
        status = "new" if saved.runbook.version == 1 else "changed"
        report.files.append(
            ImportedFile(str(relative), runbook.id, saved.runbook.version, status, ambiguous)
        )
    return report


def _files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (*MARKDOWN, *YAML)
    )
