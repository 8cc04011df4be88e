"""The runbook library: every runbook's latest version with its services, team, worst risk,
staleness and effectiveness (share of clean runs, from incident history), searched and
filtered; the rows the dashboard also reads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import AppState, State
from api.web.history import IncidentRow, history_of, history_or_none
from api.web.render import loading, render
from api.web.session import Viewer
from db.web import RunbookDates, runbook_dates
from schemas.runbook import Runbook, StepRisk

router = APIRouter(prefix="/web/runbooks", include_in_schema=False)

RISK_RANK = {StepRisk.SAFE: 0, StepRisk.CAUTION: 1, StepRisk.DANGEROUS: 2}
STALE_DAYS = 90
LIST_ROWS = 200  # a page of the library; the filters find the rest


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


async def library_of(
    app: FastAPI,
    state: AppState,
    runbooks: list[Runbook],
    incidents: list[IncidentRow],
    generation: int,
) -> list[LibraryRow]:
    """The rows, computed again only when the runbooks (the store hands back the same list
    until one changes) or the incident history (its generation) changed."""
    key = (generation, id(runbooks), len(runbooks))
    cached = getattr(app.state, "web_library", None)
    if cached is not None and cached[0] == key:
        rows: list[LibraryRow] = cached[1]
        return rows
    dates = await runbook_dates(state.engine)
    rows = await asyncio.to_thread(library_rows, runbooks, dates, incidents)  # loop stays free
    app.state.web_library = (key, rows, runbooks)  # keeps `runbooks` (and its id) alive
    return rows


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


def _query(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


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
    incidents = await history_or_none(request, state)
    if incidents is None:
        return loading(request, user, "library", str(request.url.path) + _query(request))
    history = history_of(request, state)
    runbooks = await state.runbooks.latest()
    rows = await library_of(request.app, state, runbooks, incidents, history.generation)
    shown = _filtered(rows, q, service, team, risk, staleness, effectiveness)
    shown.sort(key=lambda r: r.runbook.id)
    context: dict[str, Any] = {
        "nav": "library",
        "rows": shown[:LIST_ROWS],
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
    partial = bool(request.headers.get("hx-request")) and request.headers.get("hx-target") != "main"
    template = "_library_rows.html" if partial else "library.html"
    return render(request, template, user, **context)
