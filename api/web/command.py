"""Incident command from the live incident page: change the severity (with a reason), give or
take a role, post a status update (prefilled from the record) and publish it, close as a false
positive, link to a parent incident, and read the handoff document.

Every action is the HTTP API's own function (api/incident_command.py, api/status_page.py),
called through api/web/acting.py as api/web/incidents.py calls api/incidents.py: the person is
the signed-in session's, never a form field; the channel is `web`; the workflow's validators
decide, and a refusal is shown in the page's #flash box with the workflow's reason. The checks
here only word what a form left empty; the API's models and the workflow decide the rest.

These routes are registered before api/web/incidents.py's catch-all
`POST /web/incidents/{incident_id}/{action}` (see api/web/__init__.py), which would otherwise
answer `/severity`, `/roles`, ... with "no action".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api import incident_command as api_command
from api import status_page as api_status
from api.deps import State
from api.web.acting import act
from api.web.render import flash, render
from api.web.session import Responder, Viewer
from domain.handoff import handoff_document
from schemas.roles import IncidentRole
from schemas.severity import Severity
from schemas.status_updates import UpdatePhase
from services import incidents as incident_client
from services.incidents import IncidentNotFoundError

router = APIRouter(prefix="/web/incidents", include_in_schema=False)

Text = Annotated[str, Form(max_length=2000)]


def _refused(request: Request, message: str) -> Response:
    return flash(request, message, "error", 422)


@router.post("/{incident_id}/severity", response_class=HTMLResponse)
async def change_severity(
    incident_id: str,
    request: Request,
    state: State,
    user: Responder,
    severity: Annotated[str, Form(max_length=10)] = "",
    reason: Text = "",
) -> Response:
    if severity not in Severity.__members__:
        return _refused(request, f"choose a severity level: {', '.join(Severity)}")
    if not reason.strip():
        return _refused(request, "a change of severity needs a reason")
    return await act(
        request,
        state,
        user,
        f"Severity {severity}",
        lambda *web: api_command.change_severity(
            incident_id,
            api_command.SeverityBody(severity=Severity(severity), reason=reason.strip()),
            *web,
        ),
    )


@router.post("/{incident_id}/roles", response_class=HTMLResponse)
async def assign_role(
    incident_id: str,
    request: Request,
    state: State,
    user: Responder,
    role: Annotated[str, Form(max_length=40)] = "",
    person: Annotated[str, Form(max_length=200)] = "",
    remove: Annotated[bool, Form()] = False,
) -> Response:
    if role not in {r.value for r in IncidentRole}:
        return _refused(request, f"choose a role: {', '.join(r.value for r in IncidentRole)}")
    if not person.strip():
        return _refused(request, "name the person (their handle)")
    return await act(
        request,
        state,
        user,
        "Roles",
        lambda *web: api_command.assign_role(
            incident_id,
            api_command.RoleBody(role=IncidentRole(role), person=person.strip(), remove=remove),
            *web,
        ),
    )


@router.post("/{incident_id}/false-positive", response_class=HTMLResponse)
async def mark_false_positive(
    incident_id: str, request: Request, state: State, user: Responder, reason: Text = ""
) -> Response:
    if not reason.strip():
        return _refused(request, "a false positive needs a reason (it is kept to tune the alert)")
    return await act(
        request,
        state,
        user,
        "False positive",
        lambda *web: api_command.mark_false_positive(
            incident_id, api_command.FalsePositiveBody(reason=reason.strip()), *web
        ),
    )


@router.post("/{incident_id}/parent", response_class=HTMLResponse)
async def link_parent(
    incident_id: str,
    request: Request,
    state: State,
    user: Responder,
    parent: Annotated[str, Form(max_length=400)] = "",
    reason: Text = "",
) -> Response:
    if not parent.strip():
        return _refused(request, "name the parent incident (its id)")
    return await act(
        request,
        state,
        user,
        "Linked",
        lambda *web: api_command.link_parent(
            incident_id, api_command.ParentBody(parent=parent.strip(), reason=reason.strip()), *web
        ),
    )


@router.post("/{incident_id}/status-updates", response_class=HTMLResponse)
async def post_status_update(
    incident_id: str,
    request: Request,
    state: State,
    user: Responder,
    phase: Annotated[str, Form(max_length=40)] = "",
    impact: Text = "",
    root_cause: Text = "",
    next_steps: Text = "",
    eta: Annotated[str, Form(max_length=200)] = "",
    public: Annotated[bool, Form()] = False,
) -> Response:
    if phase not in {p.value for p in UpdatePhase}:
        return _refused(request, f"choose a phase: {', '.join(p.value for p in UpdatePhase)}")
    if not impact.strip():
        return _refused(request, "a status update needs its impact (who is affected, how)")
    return await act(
        request,
        state,
        user,
        "Status update",
        lambda *web: api_status.post_status_update(
            incident_id,
            api_status.StatusUpdateBody(
                phase=UpdatePhase(phase),
                impact=impact.strip(),
                root_cause=root_cause.strip(),
                next_steps=next_steps.strip(),
                eta=eta.strip(),
                public=public,
            ),
            *web,
        ),
    )


@router.post("/{incident_id}/status-updates/{number}/publish", response_class=HTMLResponse)
async def publish_status_update(
    incident_id: str, number: int, request: Request, state: State, user: Responder
) -> Response:
    if number < 1:
        return _refused(request, "no such status update")
    return await act(
        request,
        state,
        user,
        "Published",
        lambda *web: api_status.publish_status_update(incident_id, number, *web),
    )


@router.get("/{incident_id}/handoff", response_class=HTMLResponse)
async def handoff(incident_id: str, request: Request, state: State, user: Viewer) -> Response:
    """The handoff document (api/incident_command.py's, Markdown) as a page to read or copy."""
    try:
        incident = await incident_client.get_state(state.client, incident_id)
    except IncidentNotFoundError:
        return render(request, "error.html", user, 404, message=f"No incident {incident_id!r}.")
    return render(
        request,
        "handoff.html",
        user,
        nav="incidents",
        incident=incident,
        document=handoff_document(incident),
    )
