"""Incident endpoints: list and read incidents, and the human inputs (approve, abort, ...).

The actor of every input is the authenticated principal (api/auth.py); a body that names an
actor is refused rather than ignored, so nobody believes they acted as someone else. An
`Idempotency-Key` header makes a retried request one action (it becomes the update id).
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.auth import Reader, Responder, approval_policy
from api.deps import State
from api.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from db.step_outputs import StepOutputStore
from domain.policy import may_act
from schemas.identity import Principal
from schemas.incident import (
    ApprovalDecision,
    HumanAction,
    IncidentState,
    IncidentSummary,
    InterruptedStepDecision,
    ModeChange,
    StepAction,
    StepOutput,
    StepReport,
    StepState,
    StepView,
)
from schemas.runbook import StepRisk
from schemas.trust import Mode
from services import incidents as incident_client

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

#: Channels a client may say it is (not an identity: where the person typed it).
CHANNELS = frozenset({"api", "cli", "web"})
CHANNEL_HEADER = "x-ddrun-channel"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


class _ActionBody(BaseModel):
    """A human input's body. Who acts comes from the credential, never from here."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_actor(cls, data: Any) -> Any:
        if isinstance(data, dict):
            named = sorted({"actor", "approver", "approver_name"} & data.keys())
            if named:
                raise ValueError(
                    f"{', '.join(named)}: who acts is taken from your credential; "
                    "remove the field from the body"
                )
        return data


class ReasonBody(_ActionBody):
    reason: str = Field(default="", max_length=2000)


class ApprovalBody(_ActionBody):
    decision: Literal["approve", "reject"] = "approve"
    comment: str = Field(default="", max_length=2000)
    command: str | None = Field(default=None, max_length=16_384)
    confirm: str | None = Field(default=None, max_length=500)


class DecisionBody(_ActionBody):
    action: Literal["retry", "skip", "rollback", "abort"]
    comment: str = Field(default="", max_length=2000)


class ReportBody(_ActionBody):
    outcome: Literal["done", "skipped", "changed"]
    note: str = Field(default="", max_length=4000)
    output: str = Field(default="", max_length=65_536)


class ModeBody(_ActionBody):
    mode: Mode
    reason: str = Field(default="", max_length=2000)


class Outcome(BaseModel):
    result: str


def _channel(request: Request) -> str:
    channel = request.headers.get(CHANNEL_HEADER, "api").strip().lower()
    return channel if channel in CHANNELS else "api"


def request_id(name: str, key: str | None) -> str | None:
    if key is None:
        return None
    if not _REQUEST_ID.match(key):
        raise BadRequestError("Idempotency-Key: 8 to 100 of A-Z a-z 0-9 . _ : -")
    return f"{name}:{key}"


async def _authorise(
    state: State,
    principal: Principal,
    incident_id: str,
    step_id: str,
    risk: StepRisk | None = None,
) -> StepView:
    """The approval policy, as Slack applies it: may this person act on this step here?
    (The workflow's validators still decide counts, the commander and the editor rule.)
    Returns the step as the incident shows it now."""
    incident = await incident_client.get_state(state.client, incident_id)
    step = next((s for s in incident.steps if s.id == step_id), None)
    if step is None:
        raise NotFoundError(f"incident {incident_id} has no step {step_id!r}")
    policy = approval_policy(state.settings)
    allowed, why = may_act(
        policy,
        principal.identifiers,
        incident.service,
        incident.runbook,
        risk or step.risk,
        severity=incident.severity,
        commander=incident.commander,
    )
    if not allowed:
        raise ForbiddenError(f"{principal.handle} may not do this: {why}")
    return step


def _who(principal: Principal, request: Request) -> dict[str, str]:
    return {
        "actor": principal.handle,
        "channel": _channel(request),
        "authenticated_by": principal.credential_label,
    }


async def _act(
    state: State, incident_id: str, update: str, arg: BaseModel, key: str | None
) -> Outcome:
    result = await incident_client.act(
        state.client, incident_id, update, arg, request_id(update, key)
    )
    return Outcome(result=result)


IdempotencyKey = Header(default=None, alias="Idempotency-Key")


@router.get("")
async def list_incidents(
    state: State,
    _principal: Reader,
    service: str | None = None,
    status: str | None = None,
    severity: str | None = None,
    runbook: str | None = None,
    limit: int = 50,
) -> list[IncidentSummary]:
    query = incident_client.visibility_query(
        service=service, status=status, severity=severity, runbook=runbook
    )
    return await incident_client.list_incidents(state.client, query, limit=min(max(limit, 1), 1000))


@router.get("/{incident_id}")
async def show_incident(incident_id: str, state: State, _principal: Reader) -> IncidentState:
    return await incident_client.get_state(state.client, incident_id)


class IncidentResult(BaseModel):
    """The incident's final state once its workflow has completed; `done` false while it runs."""

    done: bool
    state: IncidentState | None = None


@router.get("/{incident_id}/result")
async def incident_result(
    incident_id: str,
    state: State,
    _principal: Reader,
    wait_s: Annotated[float, Query(ge=0, le=50, description="How long to wait for the end")] = 20,
) -> IncidentResult:
    """The workflow's result (a dry run's plan, a closed incident's record), waiting up to
    `wait_s` for it, so a client polls without holding a request open for long."""
    handle = incident_client.incident_handle(state.client, incident_id)
    try:
        final = await asyncio.wait_for(handle.result(), timeout=wait_s)
    except TimeoutError:
        return IncidentResult(done=False)
    return IncidentResult(done=True, state=final)


@router.get("/{incident_id}/steps/{step_id}/output")
async def step_output(
    incident_id: str, step_id: str, state: State, _principal: Reader
) -> list[StepOutput]:
    """The step's full output (each attempt, each run, and its rollback), as the agent returned
    it: the incident itself keeps an excerpt and the sha256 (`output_digest`)."""
    outputs = await StepOutputStore(state.engine).for_step(incident_id, step_id)
    if not outputs:
        raise NotFoundError(f"no stored output for step {step_id!r} of incident {incident_id}")
    return outputs


@router.post("/{incident_id}/steps/{step_id}/approval")
async def approve_step(
    incident_id: str,
    step_id: str,
    body: ApprovalBody,
    request: Request,
    state: State,
    principal: Responder,
    key: str | None = IdempotencyKey,
) -> Outcome:
    step = await _authorise(state, principal, incident_id, step_id)
    if step.state is StepState.AWAITING_REPORT:
        # The validator would answer "not waiting for approval (waiting: <this step>)", which
        # contradicts itself: the step waits, for a report. Say what the person must do.
        raise ConflictError(
            f"step {step_id!r} is manual: run it yourself, then "
            f"`ddrun report {incident_id} {step_id} done|skipped|changed`"
        )
    who = _who(principal, request)
    decision = ApprovalDecision(
        step_id=step_id,
        approver=who["actor"],
        approver_name=principal.name or None,
        approver_ids=sorted(principal.identifiers - {principal.handle}),
        channel=who["channel"],
        authenticated_by=who["authenticated_by"],
        **body.model_dump(),
    )
    return await _act(state, incident_id, "approve_step", decision, key)


@router.post("/{incident_id}/steps/{step_id}/decision")
async def decide_step(
    incident_id: str,
    step_id: str,
    body: DecisionBody,
    request: Request,
    state: State,
    principal: Responder,
    key: str | None = IdempotencyKey,
) -> Outcome:
    await _authorise(state, principal, incident_id, step_id)
    decision = InterruptedStepDecision(
        step_id=step_id, **_who(principal, request), **body.model_dump()
    )
    return await _act(state, incident_id, "decide_step", decision, key)


@router.post("/{incident_id}/steps/{step_id}/report")
async def report_step(
    incident_id: str,
    step_id: str,
    body: ReportBody,
    request: Request,
    state: State,
    principal: Responder,
    key: str | None = IdempotencyKey,
) -> Outcome:
    report = StepReport(step_id=step_id, **_who(principal, request), **body.model_dump())
    return await _act(state, incident_id, "report_step", report, key)


async def _step_action(
    update: str,
    incident_id: str,
    step_id: str,
    body: ReasonBody,
    request: Request,
    state: State,
    principal: Principal,
    key: str | None,
) -> Outcome:
    await _authorise(
        state, principal, incident_id, step_id, StepRisk.CAUTION if update == "skip_step" else None
    )
    action = StepAction(step_id=step_id, reason=body.reason, **_who(principal, request))
    return await _act(state, incident_id, update, action, key)


def _step_route(path: str, update: str, summary: str) -> None:
    """One POST route per step action that takes a reason (skip, undo)."""

    async def route(
        incident_id: str,
        step_id: str,
        body: ReasonBody,
        request: Request,
        state: State,
        principal: Responder,
        key: str | None = IdempotencyKey,
    ) -> Outcome:
        return await _step_action(
            update, incident_id, step_id, body, request, state, principal, key
        )

    route.__name__ = update
    router.add_api_route(
        f"/{{incident_id}}/steps/{{step_id}}/{path}",
        route,
        methods=["POST"],
        summary=summary,
        name=update,
    )


_step_route("skip", "skip_step", "Skip a step that has not run yet")
_step_route("undo", "undo_step", "Undo a completed step now (its rollback)")


async def _incident_action(
    update: str,
    incident_id: str,
    body: ReasonBody,
    request: Request,
    state: State,
    principal: Principal,
    key: str | None,
) -> Outcome:
    action = HumanAction(reason=body.reason, **_who(principal, request))
    return await _act(state, incident_id, update, action, key)


def _incident_route(path: str, update: str, summary: str) -> None:
    """One POST route per incident-wide action (ack, abort, resolve, pause, resume, ...)."""

    async def route(
        incident_id: str,
        request: Request,
        state: State,
        principal: Responder,
        body: ReasonBody | None = None,
        key: str | None = IdempotencyKey,
    ) -> Outcome:
        return await _incident_action(
            update, incident_id, body or ReasonBody(), request, state, principal, key
        )

    route.__name__ = update
    router.add_api_route(
        f"/{{incident_id}}/{path}", route, methods=["POST"], summary=summary, name=update
    )


for _path, _update, _summary in (
    ("acknowledge", "acknowledge", "Acknowledge: a human is on it"),
    ("abort", "abort", "Abort: stop, and roll back every completed step, newest first"),
    ("resolve", "resolve", "Resolve by hand: stop the runbook, keep what was done"),
    ("pause", "pause", "Pause: the running step finishes, nothing new starts"),
    ("resume", "resume", "Resume after a pause"),
    ("take-over", "take_over", "Take over: the rest of the runbook becomes read-along"),
    ("escalate", "escalate", "Escalate now: page the next level"),
):
    _incident_route(_path, _update, _summary)


@router.post("/{incident_id}/mode")
async def set_mode(
    incident_id: str,
    body: ModeBody,
    request: Request,
    state: State,
    principal: Responder,
    key: str | None = IdempotencyKey,
) -> Outcome:
    change = ModeChange(mode=body.mode, reason=body.reason, **_who(principal, request))
    return await _act(state, incident_id, "set_mode", change, key)
