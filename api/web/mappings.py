"""Alert mappings: the explicit ones, the matcher's suggestions from recent incidents (with its
confidence), and a test bench that runs the real matcher on a pasted alert payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import State
from api.web.render import flash, render
from api.web.session import Author, Viewer
from db.mappings import MappingExistsError, MappingStore, checked_selector
from domain.alerts.choose import choose_runbook
from domain.alerts.detect import AlertPayloadError, normalize_any
from schemas.incident import IncidentState
from services import incidents as incident_client

router = APIRouter(prefix="/web/mappings", include_in_schema=False)
SUGGEST_FROM = 25


@dataclass(frozen=True)
class Suggestion:
    alertname: str
    service: str
    runbook: str
    confidence: float | None
    method: str
    incident: str


def _labels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


@router.get("", response_class=HTMLResponse)
async def mappings_page(request: Request, state: State, user: Viewer) -> Response:
    mappings = await MappingStore(state.engine).list()
    runbooks = sorted(r.id for r in await state.runbooks.latest())
    return render(
        request, "mappings.html", user, nav="mappings", mappings=mappings, runbooks=runbooks
    )


#: Matches the runbook itself declares (its selectors, the alert's runbook_url): certain, and
#: made again for every such alert, so a mapping would only repeat them.
CERTAIN_METHODS = frozenset({"mapping", "selector", "runbook_url"})


def suggestion_of(incident: IncidentState, mapped: set[str]) -> Suggestion | None:
    """A mapping worth making: the alert was matched by inference (name or text, not a mapping
    or the runbook's own selector), or not at all but with a best candidate, and its name has
    no explicit mapping yet."""
    if not incident.alerts or incident.match_method in CERTAIN_METHODS:
        return None
    name = incident.alerts[0].name
    if name in mapped:
        return None
    runbook = incident.runbook or (
        incident.match_candidates[0].runbook if incident.match_candidates else None
    )
    if runbook is None:
        return None
    confidence = incident.match_confidence
    if incident.runbook is None and incident.match_candidates:
        confidence = incident.match_candidates[0].score
    return Suggestion(
        name, incident.service, runbook, confidence, incident.match_method or "none", incident.id
    )


@router.get("/suggestions", response_class=HTMLResponse)
async def suggestions(request: Request, state: State, user: Viewer) -> Response:
    """Loaded after the page (it reads recent incidents' states)."""
    mapped = {m.selector.alertname for m in await MappingStore(state.engine).list()}
    rows = await incident_client.list_incidents(
        state.client, incident_client.visibility_query(), limit=SUGGEST_FROM
    )
    states = await incident_client.readable_states(state.client, [r.id for r in rows])
    found: dict[tuple[str, str], Suggestion] = {}
    for incident in states:
        s = suggestion_of(incident, {m for m in mapped if m})
        if s is not None:
            found.setdefault((s.alertname, s.runbook), s)
    ordered = sorted(found.values(), key=lambda s: -(s.confidence or 0))
    return render(request, "_suggestions.html", user, suggestions=ordered)


@router.post("", response_class=HTMLResponse)
async def add(
    request: Request,
    state: State,
    user: Author,
    runbook: Annotated[str, Form(max_length=100)],
    alertname: Annotated[str, Form(max_length=200)] = "",
    service: Annotated[str, Form(max_length=200)] = "",
    labels: Annotated[str, Form(max_length=4000)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if await state.runbooks.get(runbook) is None:
        return flash(request, f"no runbook {runbook!r}", "error", 422)
    try:
        selector = checked_selector(alertname or None, service or None, _labels(labels))
        mapping = await MappingStore(state.engine).add(
            selector, runbook, created_by=user.principal.handle, note=note
        )
    except MappingExistsError as err:
        return flash(request, str(err), "error", 409)
    except ValueError as err:
        return flash(request, str(err), "error", 422)
    response = flash(request, f"Mapping #{mapping.id} added: {alertname or service} → {runbook}")
    response.headers["HX-Refresh"] = "true"
    return response


@router.post("/{mapping_id}/delete", response_class=HTMLResponse)
async def remove(mapping_id: int, request: Request, state: State, _user: Author) -> Response:
    removed = await MappingStore(state.engine).remove(mapping_id)
    if removed is None:
        return flash(request, f"no mapping #{mapping_id}", "error", 404)
    response = flash(request, f"Mapping #{mapping_id} removed")
    response.headers["HX-Refresh"] = "true"
    return response


@router.post("/test", response_class=HTMLResponse)
async def test_payload(
    request: Request,
    state: State,
    user: Viewer,
    payload: Annotated[str, Form(max_length=256 * 1024)],
) -> Response:
    """Which runbook each alert in the payload would get, by the same matcher as the webhook."""
    try:
        alerts = normalize_any(payload.encode(), None, datetime.now(UTC))
    except AlertPayloadError as err:
        return render(request, "_match.html", user, results=[], error=str(err))
    runbooks = await state.runbooks.latest()
    mappings = await MappingStore(state.engine).list()
    results = [
        (
            alert,
            choose_runbook(
                runbooks, alert, mappings=mappings, threshold=state.settings.match_threshold
            ),
        )
        for alert in alerts
    ]
    return render(request, "_match.html", user, results=results, error="")
