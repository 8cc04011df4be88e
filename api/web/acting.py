"""One way for the web app to act: call the HTTP API's own action function as the signed-in
person, through the `web` channel, and answer with a flash saying what happened or why it was
refused (the workflow's validators decide; the person is the session's, never a form field)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from api import incidents as api_incidents
from api.deps import AppState
from api.errors import ApiError, refusal
from api.web.render import flash
from api.web.session import WebUser
from schemas.identity import Principal
from services.incidents import IncidentClosedError, IncidentNotFoundError

#: An API action given the four arguments every one of them ends with: the request (as sent
#: from the web), the app state, the acting principal and the idempotency key (none here).
WebCall = Callable[[Request, AppState, Principal, None], Awaitable[api_incidents.Outcome]]


def as_web(request: Request) -> Request:
    """The same request, saying it came from the web app (the channel in the audit)."""
    scope = dict(request.scope)
    headers = [(k, v) for k, v in scope["headers"] if k != api_incidents.CHANNEL_HEADER.encode()]
    scope["headers"] = [*headers, (api_incidents.CHANNEL_HEADER.encode(), b"web")]
    return Request(scope, request.receive)


async def act(
    request: Request, state: AppState, user: WebUser, done: str, action: WebCall
) -> Response:
    """Run `action` (typically `lambda *web: api_fn(incident_id, Body(...), *web)`) and flash
    its result. A body the API's model refuses is built inside the call, so it is a flash too."""
    try:
        outcome = await action(as_web(request), state, user.principal, None)
    except ApiError as err:
        return flash(request, err.message, "error", err.status_code)
    except (IncidentClosedError, IncidentNotFoundError) as err:
        return flash(request, str(getattr(err, "message", err)), "error", 409)
    except WorkflowUpdateFailedError as err:
        return flash(request, refusal(err), "error", 409)
    except ValidationError as err:
        return flash(request, "; ".join(e["msg"] for e in err.errors()), "error", 422)
    except RPCError as err:
        return flash(request, f"the workflow engine refused: {err.message}", "error", 503)
    return flash(request, f"{done}: {outcome.result}")
