"""Status updates (post, prefilled draft, publish) and the public, read-only status page
(`/status` HTML, `/status.json`): it shows only updates the communications lead approved."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import Field

from api.auth import Reader, Responder
from api.deps import State
from api.incidents import IdempotencyKey, Outcome, _act, _ActionBody, _who
from domain.status_page import draft_update, status_page, status_page_html
from schemas.incident import IncidentState
from schemas.status_updates import PublishApproval, StatusUpdateIn, UpdatePhase
from services import incidents as incident_client

router = APIRouter(tags=["status"])

#: How long a closed incident stays on the public page.
_CLOSED_SHOWN = timedelta(days=1)
_MAX_SHOWN = 50
_READ_TIMEOUT_S = 3.0

log = logging.getLogger(__name__)


class StatusUpdateBody(_ActionBody):
    phase: UpdatePhase
    impact: str = Field(min_length=1, max_length=2000)
    root_cause: str = Field(default="", max_length=2000)
    next_steps: str = Field(default="", max_length=2000)
    eta: str = Field(default="", max_length=200)
    public: bool = False


@router.get("/api/incidents/{incident_id}/status-updates/draft")
async def draft(incident_id: str, state: State, _principal: Reader) -> dict[str, object]:
    """A status update prefilled from the incident's record."""
    return draft_update(await incident_client.get_state(state.client, incident_id))


@router.post("/api/incidents/{incident_id}/status-updates")
async def post_status_update(
    incident_id: str,
    body: StatusUpdateBody,
    request: Request,
    state: State,
    principal: Responder,
    key: str | None = IdempotencyKey,
) -> Outcome:
    update = StatusUpdateIn(**body.model_dump(), **_who(principal, request))
    return await _act(state, incident_id, "post_status_update", update, key)


@router.post("/api/incidents/{incident_id}/status-updates/{number}/publish")
async def publish_status_update(
    incident_id: str,
    number: int,
    request: Request,
    state: State,
    principal: Responder,
    key: str | None = IdempotencyKey,
) -> Outcome:
    approval = PublishApproval(number=number, **_who(principal, request))
    return await _act(state, incident_id, "publish_status_update", approval, key)


async def _shown(state: State) -> list[IncidentState]:
    since = datetime.now(UTC) - _CLOSED_SHOWN
    query = (
        incident_client.visibility_query()
        + f' AND (ExecutionStatus = "Running" OR CloseTime >= "{since.isoformat()}")'
    )
    rows = await incident_client.list_incidents(state.client, query, limit=_MAX_SHOWN)
    return await incident_client.readable_states(
        state.client, [row.id for row in rows], _READ_TIMEOUT_S
    )


@router.get("/status.json")
async def status_json(state: State) -> dict[str, object]:
    """Public and read-only: components, incidents and their published updates."""
    components = list(state.settings.status_page_components)
    return status_page(await _shown(state), components, datetime.now(UTC))


@router.get("/status", response_class=HTMLResponse)
async def status_html(state: State) -> str:
    components = list(state.settings.status_page_components)
    return status_page_html(status_page(await _shown(state), components, datetime.now(UTC)))
