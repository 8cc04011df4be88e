"""The runbook editor and its version history.

The editor saves a new version of the whole runbook. A step's risk may be raised freely; set
below what the classifier says of its command it needs a reason, and the lowering (who, from,
to, why) is kept with the version and shown in its history.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.deps import State
from api.web.authorship import record_version
from api.web.library import RISK_RANK
from api.web.render import render
from api.web.session import Author, Viewer, WebUser
from api.web.trust_mode import MODES, step_needs
from db.web import RiskOverride, RunbookEdit, WebStore
from domain.runbooks.risk import classify
from schemas.runbook import Runbook, StepRisk

router = APIRouter(prefix="/web/runbooks", include_in_schema=False)


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
    trust = await state.trust.get(runbook.id)
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
        trust=trust,
        trust_history=list(reversed(await state.trust.history(runbook.id)))[:10],
        modes=MODES,
        needs=step_needs(runbook, trust),
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
        await record_version(
            state.engine,
            user,
            runbook_id,
            saved.runbook.version,
            _field(form, "summary"),
            overrides,
        )
    return RedirectResponse(f"/web/runbooks/{runbook_id}?saved={saved.runbook.version}", 303)
