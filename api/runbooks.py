"""Runbook endpoints: parse pasted text, save a new version (with its diff), import or load the
files of a folder (uploaded by `ddrun import` / `ddrun runbooks load`), list, read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Author, Reader
from api.body import parse_json, read_limited
from api.deps import State
from api.errors import BadRequestError, NotFoundError
from db.llm_cache import DbLlmCache
from db.runbook_import import SourceStore, import_sources, runbook_from_source, save_source
from domain.runbook_files import relative_name
from domain.runbook_yaml import RunbookFileError
from domain.runbooks.errors import RunbookParseError
from schemas.runbook import Runbook
from services.parsing import parse_text

router = APIRouter(prefix="/api/runbooks", tags=["runbooks"])


class SavedVersion(BaseModel):
    runbook: Runbook
    created: bool
    diff: str


class SourceFile(BaseModel):
    """One runbook file of an uploaded folder: its path relative to the folder, and its text."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=1000)
    text: str


class SourceFiles(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files: list[SourceFile] = Field(max_length=10_000)


class ImportedFileOut(BaseModel):
    path: str
    runbook_id: str
    version: int
    status: str  # new, changed or unchanged
    ambiguities: int


class ImportOutcome(BaseModel):
    files: list[ImportedFileOut]
    errors: list[str]


class LoadedRunbook(BaseModel):
    id: str
    version: int
    created: bool


class LoadOutcome(BaseModel):
    saved: list[LoadedRunbook]
    errors: list[str]


class VersionInfo(BaseModel):
    version: int
    title: str
    created_at: str
    source_path: str | None
    diff: str | None


async def _text(request: Request, state: State) -> str:
    raw = await read_limited(request, state.settings.max_body_bytes)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadRequestError(f"runbook text is not UTF-8: {err}") from err


@router.post("/parse")
async def parse(
    request: Request, state: State, _principal: Author, name: str | None = None
) -> dict[str, Any]:
    """Raw Markdown or prose in; the structured runbook (and the LLM's part, if any) out."""
    text = await _text(request, state)
    try:
        parsed = await parse_text(
            text, source_name=name, settings=state.settings, cache=DbLlmCache(state.engine)
        )
    except RunbookParseError as err:
        raise BadRequestError(str(err)) from err
    return parsed.to_json_dict()


@router.post("")
async def save(
    request: Request, state: State, _principal: Author, name: str = "pasted.md"
) -> SavedVersion:
    """Markdown (parsed) or YAML (`name` ending .yml) saved as a new version when it changed."""
    text = await _text(request, state)
    try:
        runbook, _ = runbook_from_source(text, Path(Path(name).name))
    except (RunbookFileError, RunbookParseError, ValueError) as err:
        raise BadRequestError(str(err)) from err
    result = await save_source(state.runbooks, SourceStore(state.engine), runbook, text, name)
    if result is None:
        latest = await state.runbooks.get(runbook.id)
        return SavedVersion(runbook=latest or runbook, created=False, diff="")
    saved, diff = result
    return SavedVersion(runbook=saved.runbook, created=True, diff=diff)


async def _files(request: Request, state: State) -> list[SourceFile]:
    raw = await read_limited(request, state.settings.max_body_bytes)
    return SourceFiles.model_validate(parse_json(raw)).files


@router.post("/import")
async def import_files(request: Request, state: State, _principal: Author) -> ImportOutcome:
    """Docs-as-code import of uploaded files (Markdown parsed, YAML as written); a changed file
    is a new version, an unreadable one is reported and the rest still imported."""
    files = await _files(request, state)
    named = []
    errors = []
    for file in files:
        try:
            named.append((relative_name(file.path), file.text))
        except ValueError as err:
            errors.append(str(err))
    report = await import_sources(state.engine, named)
    state.runbooks.forget_cached()
    return ImportOutcome(
        files=[
            ImportedFileOut(
                path=f.path,
                runbook_id=f.runbook_id,
                version=f.version,
                status=f.status,
                ambiguities=f.ambiguities,
            )
            for f in report.files
        ],
        errors=errors + report.errors,
    )


@router.post("/load")
async def load_files(request: Request, state: State, _principal: Author) -> LoadOutcome:
    """Uploaded YAML runbooks loaded as written; a changed file becomes a new version."""
    files = await _files(request, state)
    report = await state.runbooks.load((f.path, f.text) for f in files)
    state.runbooks.forget_cached()
    return LoadOutcome(
        saved=[
            LoadedRunbook(id=s.runbook.id, version=s.runbook.version, created=s.created)
            for s in report.saved
        ],
        errors=report.errors,
    )


@router.get("")
async def list_runbooks(
    state: State, _principal: Reader, full: bool = False
) -> list[dict[str, Any]]:
    """The latest version of each runbook: a summary, or with `full=true` the whole runbook."""
    latest = await state.runbooks.latest()
    if full:
        return [r.model_dump(mode="json") for r in latest]
    return [
        {"id": r.id, "title": r.title, "version": r.version, "steps": len(r.steps)} for r in latest
    ]


@router.get("/{runbook_id}")
async def get_runbook(
    runbook_id: str, state: State, _principal: Reader, version: int | None = None
) -> Runbook:
    runbook = await state.runbooks.get(runbook_id, version)
    if runbook is None:
        raise NotFoundError(f"no runbook {runbook_id!r}" + (f" v{version}" if version else ""))
    return runbook


@router.get("/{runbook_id}/versions")
async def versions(runbook_id: str, state: State, _principal: Reader) -> list[VersionInfo]:
    sources = SourceStore(state.engine)
    out = []
    for record in await state.runbooks.versions(runbook_id):
        source = await sources.of_version(runbook_id, record.version)
        out.append(
            VersionInfo(
                version=record.version,
                title=record.title,
                created_at=record.created_at.isoformat(),
                source_path=record.source_path,
                diff=source.diff if source else None,
            )
        )
    if not out:
        raise NotFoundError(f"no runbook {runbook_id!r}")
    return out
