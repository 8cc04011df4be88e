"""The runbook library, the editor, version history and import.

The editor saves a new version of the whole runbook. A step's risk may be raised freely; set
below what the classifier says of its command it needs a reason, and the lowering (who, from,
to, why) is kept with the version and shown in its history.
"""

from __future__ import annotations

import asyncio
import difflib
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.deps import State
from api.web.history import IncidentRow, history_of
from api.web.render import render
from api.web.session import Admin, Author, Viewer, WebUser
from db.runbook_import import (
    MARKDOWN,
    YAML,
    SourceStore,
    import_folder,
    runbook_from_source,
    save_source,
)
from db.web import RiskOverride, RunbookDates, RunbookEdit, WebStore, runbook_dates
from domain.runbook_yaml import RunbookFileError
from domain.runbooks.errors import RunbookParseError
from domain.runbooks.risk import classify
from schemas.runbook import Runbook, StepRisk

router = APIRouter(prefix="/web/runbooks", include_in_schema=False)

RISK_RANK = {StepRisk.SAFE: 0, StepRisk.CAUTION: 1, StepRisk.DANGEROUS: 2}
STALE_DAYS = 90
MAX_UPLOAD = 5 * 1024 * 1024
GIT_TIMEOUT_S = 60


@dataclass(frozen=True)
class LibraryRow:
    runbook: Runbook
    services: list[str]
    teams: list[str]
    risk: StepRisk
    age_days: int | None
    versions: int
    incidents: int
    clean_rate: float | None

    @property
    def stale(self) -> bool:
        return self.age_days is not None and self.age_days > STALE_DAYS


def services_of(runbook: Runbook) -> list[str]:
    found = list(runbook.services)
    found += [s.service for s in runbook.selectors if s.service]
    found += [s.labels[k] for s in runbook.selectors for k in ("service", "app") if k in s.labels]
    return sorted({s for s in found if not s.startswith("~")})


def teams_of(runbook: Runbook) -> list[str]:
    return sorted({s.labels["team"] for s in runbook.selectors if "team" in s.labels})


def worst_risk(runbook: Runbook) -> StepRisk:
    return max((s.risk for s in runbook.steps), key=RISK_RANK.__getitem__)


def library_rows(
    runbooks: list[Runbook], dates: dict[str, RunbookDates], incidents: list[IncidentRow]
) -> list[LibraryRow]:
    now = datetime.now(UTC)
    used: dict[str, list[IncidentRow]] = {}
    for row in incidents:
        if row.runbook:
            used.setdefault(row.runbook, []).append(row)
    out = []
    for rb in runbooks:
        date = dates.get(rb.id)
        runs = used.get(rb.id, [])
        closed = [r for r in runs if r.closed]
        out.append(
            LibraryRow(
                runbook=rb,
                services=services_of(rb),
                teams=teams_of(rb),
                risk=worst_risk(rb),
                age_days=(now - date.last_changed).days if date else None,
                versions=date.versions if date else 1,
                incidents=len(runs),
                clean_rate=sum(r.clean for r in closed) / len(closed) if closed else None,
            )
        )
    return out


def _filtered(
    rows: list[LibraryRow],
    q: str,
    service: str,
    team: str,
    risk: str,
    staleness: str,
    effectiveness: str,
) -> list[LibraryRow]:
    text = q.lower().strip()

    def keep(row: LibraryRow) -> bool:
        rb = row.runbook
        if text and text not in f"{rb.id} {rb.title} {rb.description}".lower():
            return False
        if service and service not in row.services:
            return False
        if team and team not in row.teams:
            return False
        if risk and row.risk.value != risk:
            return False
        if staleness == "stale" and not row.stale:
            return False
        if staleness == "fresh" and row.stale:
            return False
        if effectiveness == "unused" and row.incidents:
            return False
        if effectiveness == "effective" and (row.clean_rate is None or row.clean_rate < 0.8):
            return False
        return not (
            effectiveness == "struggling" and (row.clean_rate is None or row.clean_rate >= 0.5)
        )

    return [r for r in rows if keep(r)]


@router.get("", response_class=HTMLResponse)
async def library(
    request: Request,
    state: State,
    user: Viewer,
    q: str = "",
    service: str = "",
    team: str = "",
    risk: str = "",
    staleness: str = "",
    effectiveness: str = "",
) -> Response:
    runbooks = await state.runbooks.latest()
    dates = await runbook_dates(state.engine)
    incidents = await history_of(request, state).rows()
    rows = library_rows(runbooks, dates, incidents)
    shown = _filtered(rows, q, service, team, risk, staleness, effectiveness)
    shown.sort(key=lambda r: r.runbook.id)
    context: dict[str, Any] = {
        "nav": "library",
        "rows": shown[:500],
        "total": len(rows),
        "matching": len(shown),
        "filters": {
            "q": q,
            "service": service,
            "team": team,
            "risk": risk,
            "staleness": staleness,
            "effectiveness": effectiveness,
        },
        "services": sorted({s for r in rows for s in r.services}),
        "teams": sorted({t for r in rows for t in r.teams}),
        "stale_days": STALE_DAYS,
    }
    template = "_library_rows.html" if request.headers.get("hx-request") else "library.html"
    return render(request, template, user, **context)


def _yaml(runbook: Runbook) -> str:
    data = runbook.model_dump(mode="json", exclude_defaults=True, exclude={"version"})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


@dataclass(frozen=True)
class VersionView:
    version: int
    title: str
    at: datetime
    who: str
    how: str
    summary: str
    overrides: list[RiskOverride]
    diff: str


async def _history(
    state: State, runbook_id: str, edits: dict[int, RunbookEdit]
) -> list[VersionView]:
    views: list[VersionView] = []
    before = ""
    for record in await state.runbooks.versions(runbook_id):
        current = _yaml(Runbook.model_validate_json(record.document))
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                current.splitlines(keepends=True),
                fromfile=f"v{record.version - 1}" if before else "/dev/null",
                tofile=f"v{record.version}",
            )
        )
        before = current
        edit = edits.get(record.version)
        created = (
            record.created_at if record.created_at.tzinfo else record.created_at.replace(tzinfo=UTC)
        )
        views.append(
            VersionView(
                version=record.version,
                title=record.title,
                at=created,
                who=edit.actor if edit else "import",
                how=edit.authenticated_by if edit else (record.source_path or "-"),
                summary=edit.summary if edit else "",
                overrides=edit.overrides if edit else [],
                diff=diff,
            )
        )
    return list(reversed(views))


async def _editor(
    request: Request,
    state: State,
    user: WebUser,
    runbook: Runbook,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    edits = await WebStore(state.engine).edits(runbook.id)
    floors = {s.id: classify(s.command).risk.value if s.command else None for s in runbook.steps}
    return render(
        request,
        "editor.html",
        user,
        status_code,
        nav="library",
        runbook=runbook,
        floors=floors,
        risks=[r.value for r in StepRisk],
        history=await _history(state, runbook.id, edits),
        errors=errors or [],
    )


@router.get("/{runbook_id}", response_class=HTMLResponse)
async def editor(runbook_id: str, request: Request, state: State, user: Viewer) -> Response:
    runbook = await state.runbooks.get(runbook_id)
    if runbook is None:
        return render(request, "error.html", user, 404, message=f"No runbook {runbook_id!r}.")
    return await _editor(request, state, user, runbook)


def _field(form: FormData, name: str) -> str:
    """A form value, stripped, with the CRLF line ends browsers send from a textarea made LF
    (a `\\` continuation before CRLF would otherwise split a command in two)."""
    value = form.get(name)
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def _optional(form: FormData, name: str) -> str | None:
    return _field(form, name) or None


def edited_runbook(
    previous: Runbook, form: FormData
) -> tuple[Runbook | None, list[RiskOverride], list[str]]:
    """The runbook the form describes, the risks lowered below the classifier's (with the
    reasons given), and every problem that stops the save."""
    errors: list[str] = []
    overrides: list[RiskOverride] = []
    steps: list[tuple[float, dict[str, Any]]] = []
    count = int(_field(form, "step_count") or 0)
    for i in range(count):
        p = f"steps-{i}-"
        step_id, title = _field(form, p + "id"), _field(form, p + "title")
        if form.get(p + "delete") or not (step_id or title):
            continue
        command = _optional(form, p + "command")
        risk = StepRisk(_field(form, p + "risk") or "caution")
        reasons: list[str] = []
        if command:
            verdict = classify(command)
            reasons = list(verdict.reasons)
            if RISK_RANK[risk] < RISK_RANK[verdict.risk]:
                why = _field(form, p + "risk_reason")
                if not why:
                    errors.append(
                        f"step {step_id or title}: the classifier says {verdict.risk.value} "
                        f"({'; '.join(verdict.reasons) or 'its command'}); lowering it to "
                        f"{risk.value} needs a reason"
                    )
                else:
                    overrides.append(RiskOverride(step_id, verdict.risk.value, risk.value, why))
                    reasons = [f"lowered from {verdict.risk.value}: {why}", *reasons]
        try:
            order = float(_field(form, p + "order") or i)
        except ValueError:
            order = float(i)
        step: dict[str, Any] = {
            "id": step_id,
            "title": title or step_id,
            "command": command,
            "instructions": _field(form, p + "instructions"),
            "risk": risk.value,
            "risk_reasons": reasons,
            "rollback": _optional(form, p + "rollback"),
            "condition": _optional(form, p + "condition"),
            "manual": bool(form.get(p + "manual")),
            "require_approval": bool(form.get(p + "require_approval")),
            "breakpoint": bool(form.get(p + "breakpoint")),
        }
        for number in ("timeout_s", "approval_timeout_s"):
            raw = _field(form, p + number)
            if raw:
                step[number] = raw
        old = next((s for s in previous.steps if s.id == step_id), None)
        if old is not None:
            step["capture"] = dict(old.capture)
            step["continue_on_failure"] = old.continue_on_failure
        steps.append((order, step))
    variables = []
    for i in range(int(_field(form, "var_count") or 0)):
        p = f"vars-{i}-"
        name = _field(form, p + "name")
        if not name or form.get(p + "delete"):
            continue
        variables.append(
            {
                "name": name,
                "source": _optional(form, p + "source"),
                "default": _optional(form, p + "default"),
                "description": _field(form, p + "description"),
            }
        )
    data = previous.model_dump(mode="json")
    data.update(
        title=_field(form, "title") or previous.title,
        description=_field(form, "description"),
        services=[s.strip() for s in _field(form, "services").split(",") if s.strip()],
        prerequisites=[p for p in _field(form, "prerequisites").splitlines() if p.strip()],
        variables=variables,
        steps=[s for _, s in sorted(steps, key=lambda pair: pair[0])],
    )
    try:
        runbook = Runbook.model_validate(data)
    except ValidationError as err:
        errors += [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in err.errors()]
        return None, overrides, errors
    return runbook, overrides, errors


@router.post("/{runbook_id}", response_class=HTMLResponse)
async def save(runbook_id: str, request: Request, state: State, user: Author) -> Response:
    previous = await state.runbooks.get(runbook_id)
    if previous is None:
        return render(request, "error.html", user, 404, message=f"No runbook {runbook_id!r}.")
    form = await request.form()
    runbook, overrides, errors = edited_runbook(previous, form)
    if errors or runbook is None:
        return await _editor(request, state, user, runbook or previous, errors, 422)
    saved = await state.runbooks.save(runbook, source_path="web editor")
    if saved.created:
        await WebStore(state.engine).record_edit(
            RunbookEdit(
                runbook_id=runbook_id,
                version=saved.runbook.version,
                actor=user.principal.handle,
                authenticated_by=user.principal.credential_label,
                summary=_field(form, "summary"),
                overrides=overrides,
                at=datetime.now(UTC),
            )
        )
    return RedirectResponse(f"/web/runbooks/{runbook_id}?saved={saved.runbook.version}", 303)


@router.get("/-/import", response_class=HTMLResponse)
async def import_page(request: Request, user: Author) -> Response:
    return render(request, "import.html", user, nav="library", report=None, error="")


async def _import_report(request: Request, user: WebUser, report: Any, error: str = "") -> Response:
    return render(request, "import.html", user, nav="library", report=report, error=error)


@router.post("/-/import/folder", response_class=HTMLResponse)
async def import_from_folder(
    request: Request, state: State, user: Admin, folder: Annotated[str, Form(max_length=1000)]
) -> Response:
    """A folder on the server (admins: it reads the server's disk)."""
    path = Path(folder)
    if not await asyncio.to_thread(path.is_dir):
        return await _import_report(request, user, None, f"{folder} is not a folder on the server")
    return await _import_report(request, user, await import_folder(state.engine, path))


@router.post("/-/import/git", response_class=HTMLResponse)
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
    return await _import_report(request, user, report)


def extract_runbooks(raw: bytes, into: Path) -> str | None:
    """The Markdown and YAML files of a zip, written under `into` (never outside it)."""
    try:
        with zipfile.ZipFile(BytesIO(raw)) as archive:
            for member in archive.infolist():
                inner = PurePosixPath(member.filename)
                if member.is_dir() or inner.suffix.lower() not in (*MARKDOWN, *YAML):
                    continue
                if inner.is_absolute() or ".." in inner.parts:
                    continue
                target = into.joinpath(*inner.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(member)[:MAX_UPLOAD])
    except zipfile.BadZipFile as err:
        return f"not a zip file: {err}"
    return None


@router.post("/-/import/upload", response_class=HTMLResponse)
async def import_upload(request: Request, state: State, user: Author, file: UploadFile) -> Response:
    """A Markdown or YAML file, or a zip of them (Confluence and Notion export Markdown zips)."""
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
        return await _import_report(request, user, report)
    if not name.lower().endswith((*MARKDOWN, *YAML, ".txt")):
        return await _import_report(request, user, None, "upload .md, .yml, .txt or a .zip")
    text = raw.decode("utf-8", errors="replace")
    try:
        runbook, _ = runbook_from_source(
            text, Path(name if not name.endswith(".txt") else name[:-4] + ".md")
        )
        result = await save_source(state.runbooks, SourceStore(state.engine), runbook, text, name)
    except (RunbookFileError, RunbookParseError, ValueError) as err:
        return await _import_report(request, user, None, f"{name}: {err}")
    version = result[0].runbook.version if result else 0
    return RedirectResponse(f"/web/runbooks/{runbook.id}?saved={version}", 303)
