"""Incidents: the list with filters, the live incident page, and the actions on it.

Every action goes through the same code as the HTTP API (api/incidents.py): the approval
policy, the workflow's validators, the person from the session, the channel `web`. The live page
is a server-sent event stream of the rendered incident, sent whenever its state changes.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from api import exports
from api import incidents as api_incidents
from api.deps import AppState, State
from api.web import history
from api.web.acting import act
from api.web.command_panel import CommandPanel, command_panel
from api.web.render import flash, render, templates
from api.web.session import Responder, Viewer, WebUser
from schemas.incident import IncidentState, StepState
from services import incidents as incident_client
from services.incidents import IncidentNotFoundError

router = APIRouter(prefix="/web/incidents", include_in_schema=False)

PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}
PERIODS["30d"] = timedelta(days=30)
LIVE_POLL_S = 0.5
LIST_ROWS = 50
HEARTBEAT_S = 15.0
#: Actions on a whole incident: (path, API update name, button label).
INCIDENT_ACTIONS = (
    ("acknowledge", "acknowledge", "Acknowledge"),
    ("pause", "pause", "Pause"),
    ("resume", "resume", "Resume"),
    ("take-over", "take_over", "Take over"),
    ("escalate", "escalate", "Escalate"),
    ("resolve", "resolve", "Resolve"),
    ("abort", "abort", "Abort & roll back"),
)
_UPDATES = {path: update for path, update, _ in INCIDENT_ACTIONS}


def temporal_link(state: AppState, incident_id: str) -> str:
    base = state.settings.web_temporal_ui_url.rstrip("/")
    return f"{base}/namespaces/{state.settings.temporal_namespace}/workflows/{incident_id}"


@router.get("", response_class=HTMLResponse)
async def list_page(
    request: Request,
    state: State,
    user: Viewer,
    status: str | None = None,
    severity: str | None = None,
    service: str | None = None,
    period: str = "all",
) -> Response:
    since = datetime.now(UTC) - PERIODS[period] if period in PERIODS else None
    query = incident_client.visibility_query(
        service=service or None, status=status or None, severity=severity or None, since=since
    )
    rows = await history.fetch(state.client, query, limit=LIST_ROWS)
    return render(
        request,
        "incidents.html",
        user,
        nav="incidents",
        rows=rows,
        filters={"status": status, "severity": severity, "service": service, "period": period},
        periods=["1h", "24h", "7d", "30d", "all"],
    )


def _body(
    request: Request,
    state: AppState,
    user: WebUser,
    incident: IncidentState,
    panel: CommandPanel | None = None,
) -> str:
    return templates.get_template("_incident_live.html").render(
        request=request,
        user=user,
        csrf=user.csrf,
        incident=incident,
        StepState=StepState,
        temporal_url=temporal_link(state, incident.id),
        command=panel or command_panel(incident, state.settings),
    )


@router.get("/{incident_id}", response_class=HTMLResponse)
async def incident_page(incident_id: str, request: Request, state: State, user: Viewer) -> Response:
    try:
        incident = await incident_client.get_state(state.client, incident_id)
    except IncidentNotFoundError:
        return render(request, "error.html", user, 404, message=f"No incident {incident_id!r}.")
    panel = command_panel(incident, state.settings)
    return render(
        request,
        "incident.html",
        user,
        nav="incidents",
        incident=incident,
        command=panel,
        live=_body(request, state, user, incident, panel),
        temporal_url=temporal_link(state, incident_id),
    )


def _event(name: str, html: str) -> str:
    data = "\n".join(f"data: {line}" for line in html.splitlines() or [""])
    return f"event: {name}\n{data}\n\n"


@router.get("/{incident_id}/live")
async def live(incident_id: str, request: Request, state: State, user: Viewer) -> Response:
    """The incident, re-rendered and sent whenever it changes; ends once it has closed."""

    async def stream() -> AsyncIterator[str]:
        last = ""
        quiet = 0.0
        while not await request.is_disconnected():
            incident = await incident_client.get_state(state.client, incident_id)
            html = _body(request, state, user, incident)
            digest = hashlib.sha256(html.encode()).hexdigest()
            if digest != last:
                last, quiet = digest, 0.0
                yield _event("state", html)
            elif quiet >= HEARTBEAT_S:
                quiet = 0.0
                yield ": still here\n\n"
            if incident.status.is_closed:
                yield _event("closed", "")
                return
            await asyncio.sleep(LIVE_POLL_S)
            quiet += LIVE_POLL_S

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/{incident_id}/steps/{step_id}/approval", response_class=HTMLResponse)
async def approve(
    incident_id: str,
    step_id: str,
    request: Request,
    state: State,
    user: Responder,
    decision: Annotated[Literal["approve", "reject"], Form()] = "approve",
    comment: Annotated[str, Form(max_length=2000)] = "",
    command: Annotated[str, Form(max_length=16_384)] = "",
    confirm: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    body = api_incidents.ApprovalBody(
        decision=decision,
        comment=comment,
        command=command.strip() or None,
        confirm=confirm.strip() or None,
    )
    word = "Approved" if decision == "approve" else "Rejected"
    return await act(
        request,
        state,
        user,
        f"{word} {step_id}",
        lambda *web: api_incidents.approve_step(incident_id, step_id, body, *web),
    )


@router.post("/{incident_id}/steps/{step_id}/decision", response_class=HTMLResponse)
async def decide(
    incident_id: str,
    step_id: str,
    request: Request,
    state: State,
    user: Responder,
    action: Annotated[Literal["retry", "skip", "rollback", "abort"], Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    body = api_incidents.DecisionBody(action=action, comment=comment)
    return await act(
        request,
        state,
        user,
        f"{action} {step_id}",
        lambda *web: api_incidents.decide_step(incident_id, step_id, body, *web),
    )


@router.post("/{incident_id}/steps/{step_id}/skip", response_class=HTMLResponse)
async def skip(
    incident_id: str,
    step_id: str,
    request: Request,
    state: State,
    user: Responder,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    body = api_incidents.ReasonBody(reason=reason)
    return await act(
        request,
        state,
        user,
        f"Skipped {step_id}",
        lambda *web: api_incidents._step_action("skip_step", incident_id, step_id, body, *web),
    )


@router.post("/{incident_id}/steps/{step_id}/report", response_class=HTMLResponse)
async def report(
    incident_id: str,
    step_id: str,
    request: Request,
    state: State,
    user: Responder,
    outcome: Annotated[Literal["done", "skipped", "changed"], Form()],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    body = api_incidents.ReportBody(outcome=outcome, note=note)
    return await act(
        request,
        state,
        user,
        f"Reported {step_id} {outcome}",
        lambda *web: api_incidents.report_step(incident_id, step_id, body, *web),
    )


@router.post("/{incident_id}/{action}", response_class=HTMLResponse)
async def incident_action(
    incident_id: str,
    action: str,
    request: Request,
    state: State,
    user: Responder,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    update = _UPDATES.get(action)
    if update is None:
        return flash(request, f"no action {action!r}", "error", 404)
    body = api_incidents.ReasonBody(reason=reason)
    return await act(
        request,
        state,
        user,
        action.replace("-", " ").capitalize(),
        lambda *web: api_incidents._incident_action(update, incident_id, body, *web),
    )


@router.get("/{incident_id}/export")
async def export(
    incident_id: str,
    state: State,
    user: Viewer,
    format: Literal["json", "csv", "pdf"] = "pdf",
) -> Response:
    """The audit export (the API's), for a person signed in to the web app."""
    return await exports.export(incident_id, state, user.principal, format)
