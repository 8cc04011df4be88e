"""A runbook's trust mode (read-along, copilot, autopilot) from the editor, through the trust
API's own code and rules: an author sets read-along or copilot (lowering or raising it) or
declines a promotion suggestion, only an admin promotes to autopilot; every change is kept with
the person who made it and why."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import trust as api_trust
from api.deps import State
from api.errors import ApiError
from api.web.render import flash, render
from api.web.session import Author
from domain.trust import describe, requirement
from schemas.runbook import Runbook
from schemas.trust import Mode, RunbookTrust

router = APIRouter(prefix="/web/runbooks", include_in_schema=False)

MODES = [
    (Mode.READ_ALONG, "read-along: nothing runs, people do each step and report"),
    (Mode.COPILOT, "copilot: safe steps run, the rest wait for approval"),
    (Mode.AUTOPILOT, "autopilot: steps run unasked, dangerous ones still need a person"),
]


def step_needs(runbook: Runbook, trust: RunbookTrust) -> dict[str, str]:
    """What each step needs under the runbook's mode and its own overrides (manual, always ask,
    risk): the per-step trust a person reads in the editor."""
    return {
        s.id: describe(requirement(s, trust.mode, has_command=bool(s.command)))
        for s in runbook.steps
    }


@router.post("/{runbook_id}/trust", response_class=HTMLResponse)
async def change(
    runbook_id: str,
    request: Request,
    state: State,
    user: Author,
    mode: Annotated[str, Form(max_length=20)] = "",
    action: Annotated[Literal["set", "decline"], Form()] = "set",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    body: api_trust.TrustBody
    if action == "decline":
        body = api_trust.TrustBody(action="decline", reason=reason.strip())
    elif mode == Mode.AUTOPILOT.value:
        body = api_trust.TrustBody(action="promote", reason=reason.strip())
    elif mode in {Mode.READ_ALONG.value, Mode.COPILOT.value}:
        body = api_trust.TrustBody(action="set", mode=Mode(mode), reason=reason.strip())
    else:
        return flash(request, f"unknown mode {mode[:20]!r}", "error", 400)
    try:
        await api_trust.change_trust(runbook_id, body, state, user.principal)
    except ApiError as err:
        if request.headers.get("hx-request"):
            return flash(request, err.message, "error", err.status_code)
        return render(request, "error.html", user, err.status_code, message=err.message)
    target = f"/web/runbooks/{runbook_id}?trust=changed#trust"
    if request.headers.get("hx-request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
