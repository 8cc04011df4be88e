"""Incident command over HTTP: declare an incident, change its severity (with a reason), close
it as a false positive, or link it to the parent it duplicates. The actor is the credential's
person (api/auth.py), never a name in the body."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import Field

from api.auth import Reader, Responder
from api.deps import State
from api.errors import NotFoundError
from api.incidents import IdempotencyKey, Outcome, _act, _ActionBody, _who, request_id
from db.people import PeopleStore
from domain.handoff import handoff_document
from schemas.incident import HumanAction
from schemas.roles import IncidentRole, RoleChange
from schemas.severity import ParentLink, Severity, SeverityChange
from services import declare
from services import incidents as incident_client

router = APIRouter(prefix="/api/incidents", tags=["incident command"])


class DeclareBody(_ActionBody):
    severity: Severity
    title: str = Field(min_length=1, max_length=400)
    service: str | None = Field(default=None, min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)


class SeverityBody(_ActionBody):
    severity: Severity
    reason: str = Field(min_length=1, max_length=2000)


class FalsePositiveBody(_ActionBody):
    reason: str = Field(min_length=1, max_length=2000)


class ParentBody(_ActionBody):
    parent: str = Field(min_length=1, max_length=400)
    reason: str = Field(default="", max_length=2000)


@router.post("", status_code=201)
async def declare_incident(
    body: DeclareBody, state: State, principal: Responder, key: str | None = IdempotencyKey
) -> JSONResponse:
    """Declare an incident by hand (no alert fired): its id. A retry with the same
    Idempotency-Key reaches the incident the first request opened."""
    accepted = await declare.declare(
        state.client,
        state.settings,
        state.claims,
        declare.Declaration(**body.model_dump()),
        principal.handle,
        request_id("declare", key),
    )
    return JSONResponse(
        {"incident_id": accepted.incident_id, "severity": body.severity.value}, status_code=201
    )


@router.post("/{incident_id}/severity")
async def change_severity(
    incident_id: str,
    body: SeverityBody,
    request: Request,
    state: State,
    principal: Responder,
    key: str | None = IdempotencyKey,
) -> Outcome:
    change = SeverityChange(severity=body.severity, reason=body.reason, **_who(principal, request))
    return await _act(state, incident_id, "change_severity", change, key)


@router.post("/{incident_id}/false-positive")
async def mark_false_positive(
    incident_id: str,
    body: FalsePositiveBody,
    request: Request,
    state: State,
    principal: Responder,
    key: str | None = IdempotencyKey,
) -> Outcome:
    action = HumanAction(reason=body.reason, **_who(principal, request))
    return await _act(state, incident_id, "mark_false_positive", action, key)


@router.post("/{incident_id}/parent")
async def link_parent(
    incident_id: str,
    body: ParentBody,
    request: Request,
    state: State,
    principal: Responder,
    key: str | None = IdempotencyKey,
) -> Outcome:
    link = ParentLink(parent_id=body.parent, reason=body.reason, **_who(principal, request))
    result = await declare.link_to_parent(
        state.client, incident_id, link, request_id("link_parent", key)
    )
    return Outcome(result=result)


class RoleBody(_ActionBody):
    role: IncidentRole
    person: str = Field(min_length=1, max_length=200)
    remove: bool = False


@router.post("/{incident_id}/roles")
async def assign_role(
    incident_id: str,
    body: RoleBody,
    request: Request,
    state: State,
    principal: Responder,
    key: str | None = IdempotencyKey,
) -> Outcome:
    """Give a known person a role, or relieve them (`remove`); the commander is handed over."""
    if await PeopleStore(state.engine).get(body.person) is None:
        raise NotFoundError(f"no person {body.person!r} (see `ddrun users list`)")
    change = RoleChange(
        role=body.role, person=body.person, remove=body.remove, **_who(principal, request)
    )
    return await _act(state, incident_id, "assign_role", change, key)


@router.get("/{incident_id}/handoff", response_class=PlainTextResponse)
async def handoff(incident_id: str, state: State, _principal: Reader) -> str:
    """A handoff document (Markdown) for the next shift, from the incident as it stands."""
    return handoff_document(await incident_client.get_state(state.client, incident_id))
