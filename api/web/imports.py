"""Importing runbooks: an uploaded Markdown or YAML file or a zip export (authors), a folder on
the server or a git repository the server can clone (admins: they reach the server's disk and
network). Every file goes through the same import as `ddrun import`: a changed file is a new
version with its diff, an unchanged one nothing."""

from __future__ import annotations

import asyncio
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import State
from api.web import export_formats
from api.web.authorship import record_import, record_version
from api.web.render import render
from api.web.session import Admin, Author, WebUser
from db.runbook_import import (
    MARKDOWN,
    YAML,
    SourceStore,
    import_folder,
    runbook_from_source,
    save_source,
)
from domain.runbook_yaml import RunbookFileError
from domain.runbooks.errors import RunbookParseError

router = APIRouter(prefix="/web/runbooks/-/import", include_in_schema=False)
MAX_UPLOAD = 5 * 1024 * 1024
GIT_TIMEOUT_S = 60


@router.get("", response_class=HTMLResponse)
async def import_page(request: Request, user: Author) -> Response:
    return render(request, "import.html", user, nav="library", report=None, error="")


async def _import_report(request: Request, user: WebUser, report: Any, error: str = "") -> Response:
    return render(request, "import.html", user, nav="library", report=report, error=error)


@router.post("/folder", response_class=HTMLResponse)
async def import_from_folder(
    request: Request, state: State, user: Admin, folder: Annotated[str, Form(max_length=1000)]
) -> Response:
    """A folder on the server (admins: it reads the server's disk)."""
    path = Path(folder)
    if not await asyncio.to_thread(path.is_dir):
        return await _import_report(request, user, None, f"{folder} is not a folder on the server")
    report = await import_folder(state.engine, path)
    await record_import(state.engine, user, report, f"imported from the server's {folder}")
    return await _import_report(request, user, report)


@router.post("/git", response_class=HTMLResponse)
async def import_from_git(
    request: Request, state: State, user: Admin, url: Annotated[str, Form(max_length=1000)]
) -> Response:
    """A git repository the server can reach (admins), cloned shallow into a temporary folder."""
    if not url.startswith(("https://", "http://", "ssh://", "git@", "file://", "/")):
        return await _import_report(request, user, None, "not a git URL")
    with tempfile.TemporaryDirectory(prefix="ddrun-git-") as tmp:
        proc = await asyncio.create_subprocess_exec(
            "git",
            "-c",
            "protocol.ext.allow=never",
            "clone",
            "--depth",
            "1",
            "--",
            url,
            f"{tmp}/repo",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"},
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), GIT_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            return await _import_report(request, user, None, "git clone took too long")
        if proc.returncode != 0:
            return await _import_report(
                request, user, None, f"git clone failed: {out.decode(errors='replace')[-500:]}"
            )
        report = await import_folder(state.engine, Path(tmp) / "repo")
        await record_import(state.engine, user, report, f"imported from {url}")
    return await _import_report(request, user, report)


def converted(inner: PurePosixPath, data: bytes) -> tuple[PurePosixPath, bytes] | None:
    """A file of an export as the parser reads it: Confluence HTML pages as Markdown (named by
    their title), Notion pages without their ids and callout tags, Markdown and YAML as they
    are; anything else (attachments, the space index) None."""
    suffix = inner.suffix.lower()
    if suffix in export_formats.HTML:
        if inner.name.lower() == "index.html" or "attachments" in inner.parts:
            return None
        title, markdown = export_formats.confluence_to_markdown(
            data.decode("utf-8", errors="replace")
        )
        name = export_formats.slug_name(title, inner.stem) + ".md"
        return inner.with_name(name), markdown.encode()
    if suffix not in (*MARKDOWN, *YAML):
        return None
    if suffix in MARKDOWN and export_formats.is_notion(inner):
        text = export_formats.tidy_notion(data.decode("utf-8", errors="replace"))
        return export_formats.notion_name(inner), text.encode()
    return inner, data


def extract_runbooks(raw: bytes, into: Path) -> str | None:
    """The runbooks of a zip (Markdown, YAML, Confluence HTML, Notion Markdown), written as
    Markdown or YAML under `into` (never outside it)."""
    try:
        with zipfile.ZipFile(BytesIO(raw)) as archive:
            for member in archive.infolist():
                inner = PurePosixPath(member.filename)
                if member.is_dir() or inner.is_absolute() or ".." in inner.parts:
                    continue
                if member.file_size > MAX_UPLOAD:
                    continue
                found = converted(inner, archive.read(member))
                if found is None:
                    continue
                target = into.joinpath(*found[0].parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(found[1])
    except zipfile.BadZipFile as err:
        return f"not a zip file: {err}"
    return None


@router.post("/upload", response_class=HTMLResponse)
async def import_upload(request: Request, state: State, user: Author, file: UploadFile) -> Response:
    """A Markdown or YAML file, a Confluence HTML page, or a zip of them (a Confluence HTML
    export, a Notion Markdown export)."""
    raw = await file.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        return await _import_report(request, user, None, "the file is larger than 5 MB")
    name = PurePosixPath(file.filename or "upload.md").name
    if name.lower().endswith(".zip"):
        with tempfile.TemporaryDirectory(prefix="ddrun-upload-") as tmp:
            problem = await asyncio.to_thread(extract_runbooks, raw, Path(tmp))
            if problem:
                return await _import_report(request, user, None, problem)
            report = await import_folder(state.engine, Path(tmp))
            await record_import(state.engine, user, report, f"uploaded in {name}")
        return await _import_report(request, user, report)
    if not name.lower().endswith((*MARKDOWN, *YAML, *export_formats.HTML, ".txt")):
        return await _import_report(
            request, user, None, "upload .md, .yml, .txt, a Confluence .html page or a .zip"
        )
    if name.lower().endswith(".txt"):
        name = name[:-4] + ".md"
    found = await asyncio.to_thread(converted, PurePosixPath(name), raw)
    if found is None:
        return await _import_report(request, user, None, f"{name}: nothing to import")
    name = found[0].name
    text = found[1].decode("utf-8", errors="replace")
    try:
        runbook, _ = runbook_from_source(text, Path(name))
        result = await save_source(state.runbooks, SourceStore(state.engine), runbook, text, name)
    except (RunbookFileError, RunbookParseError, ValueError) as err:
        return await _import_report(request, user, None, f"{name}: {err}")
    version = result[0].runbook.version if result else 0
    if result:
        await record_version(state.engine, user, runbook.id, version, f"uploaded {name}")
    return RedirectResponse(f"/web/runbooks/{runbook.id}?saved={version}", 303)
