"""Runbook endpoints: parse pasted text, save a new version (with its diff), list, read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from activities.parsing import parse_text
from api.auth import Author, Reader
from api.body import read_limited
from api.deps import State
from api.errors import BadRequestError, NotFoundError
from db.llm_cache import DbLlmCache
from db.runbook_import import SourceStore, runbook_from_source, save_source
from domain.runbook_yaml import RunbookFileError
from domain.runbooks.errors import RunbookParseError
from schemas.runbook import Runbook

router = APIRouter(prefix="/api/runbooks", tags=["runbooks"])


class SavedVersion(BaseModel):
    runbook: Runbook
    created: bool
    diff: str


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


@router.get("")
async def list_runbooks(state: State, _principal: Reader) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "title": r.title, "version": r.version, "steps": len(r.steps)}
        for r in await state.runbooks.latest()
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
