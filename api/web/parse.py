"""Paste & parse: the parsed runbook beside the text as it is typed, then saved as a version.

The preview is the deterministic parser only (milliseconds, offline): it must keep up with
typing. Saving parses the same text the same way the API's `POST /api/runbooks` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import State
from api.web.authorship import record_version
from api.web.render import render
from api.web.session import Author
from db.runbook_import import SourceStore, runbook_from_source, save_source
from domain.runbook_yaml import RunbookFileError
from domain.runbooks.errors import RunbookParseError
from domain.runbooks.parse import ParseResult, parse_runbook, runbook_id_from

router = APIRouter(prefix="/web/parse", include_in_schema=False)
MAX_TEXT = 200_000


@dataclass(frozen=True)
class SourceLine:
    number: int
    text: str
    notes: list[str]


def annotated_lines(text: str, parsed: ParseResult) -> list[SourceLine]:
    """The pasted text line by line, each ambiguity attached to the line its step came from
    (the line holding the step's command, else its title's words); unplaced ones to line 1."""
    lines = text.splitlines() or [""]
    notes: dict[int, list[str]] = {}
    steps = {s.id: s for s in parsed.runbook.steps}
    for ambiguity in parsed.ambiguities:
        step = steps.get(ambiguity.step_id or "")
        needles = []
        if step is not None:
            if step.command:
                needles.append(step.command.splitlines()[0].strip()[:60])
            needles.append(step.title.strip()[:40])
            needles.extend(w for w in step.instructions.split(".")[:1] if w.strip())
        where = 0
        for needle in filter(None, (n.strip() for n in needles)):
            found = next((i for i, line in enumerate(lines) if needle in line), None)
            if found is not None:
                where = found
                break
        notes.setdefault(where, []).append(ambiguity.message)
    return [SourceLine(i + 1, line, notes.get(i, [])) for i, line in enumerate(lines)]


@router.get("", response_class=HTMLResponse)
async def parse_page(request: Request, user: Author) -> Response:
    return render(request, "parse.html", user, nav="parse")


@router.post("/preview", response_class=HTMLResponse)
async def preview(
    request: Request,
    user: Author,
    text: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    text = text.replace("\r\n", "\n")  # a browser's textarea sends CRLF
    if not text.strip():
        return render(request, "_parsed.html", user, parsed=None, lines=[], error="")
    try:
        parsed = parse_runbook(text, source_name=name or None)
    except RunbookParseError as err:
        return render(request, "_parsed.html", user, parsed=None, lines=[], error=str(err))
    return render(
        request,
        "_parsed.html",
        user,
        parsed=parsed,
        lines=annotated_lines(text, parsed),
        error="",
    )


@router.post("/save", response_class=HTMLResponse)
async def save(
    request: Request,
    state: State,
    user: Author,
    text: Annotated[str, Form(max_length=MAX_TEXT)],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Save as a new runbook (id from the name given, else from the title)."""
    text = text.replace("\r\n", "\n")
    if not name.strip():
        name = parse_runbook(text).runbook.id if text.strip() else "pasted"
    runbook_id = runbook_id_from(name)
    filename = f"{runbook_id}.md"
    try:
        runbook, _ = runbook_from_source(text, Path(filename))
        result = await save_source(
            state.runbooks, SourceStore(state.engine), runbook, text, filename
        )
    except (RunbookFileError, RunbookParseError, ValueError) as err:
        return render(request, "_flash.html", user, 422, message=str(err), kind="error")
    saved = result[0].runbook if result else await state.runbooks.get(runbook.id)
    if saved is None:
        return render(request, "_flash.html", user, 500, message="not saved", kind="error")
    if result:
        await record_version(state.engine, user, saved.id, saved.version, "pasted and parsed")
    response = render(
        request,
        "_flash.html",
        user,
        message=f"Saved {saved.id} v{saved.version}" + ("" if result else " (unchanged)"),
        kind="ok",
    )
    response.headers["HX-Redirect"] = f"/web/runbooks/{saved.id}"
    return response
