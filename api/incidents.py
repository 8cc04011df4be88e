"""Incident endpoints: list and read incidents, and the human inputs (approve, abort, ...)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import State
from schemas.incident import (
    ApprovalDecision,
    HumanAction,
    IncidentState,
    IncidentSummary,
    InterruptedStepDecision,
    ModeChange,
    StepAction,
    StepReport,
)
from schemas.trust import Mode
from workflows import incident_client

router = APIRouter(prefix="/api/incidents", tags=["incidents"])


class ActorBody(BaseModel):
    actor: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2000)


class ApprovalBody(BaseModel):
    approver: str = Field(min_length=1, max_length=200)
    decision: Literal["approve", "reject"] = "approve"
    comment: str = Field(default="", max_length=2000)
    command: str | None = Field(default=None, max_length=16_384)
    confirm: str | None = Field(default=None, max_length=500)


class DecisionBody(BaseModel):
    actor: str = Field(min_length=1, max_length=200)
    action: Literal["retry", "skip", "rollback", "abort"]
    comment: str = Field(default="", max_length=2000)


class Outcome(BaseModel):
    result: str


@router.get("")
async def list_incidents(
    state: State,
    service: str | None = None,
    status: str | None = None,
    severity: str | None = None,
    runbook: str | None = None,
    limit: int = 50,
) -> list[IncidentSummary]:
    query = incident_client.visibility_query(
        service=service, status=status, severity=severity, runbook=runbook
    )
    return await incident_client.list_incidents(state.client, query, limit=min(limit, 1000))


@router.get("/{incident_id}")
async def show_incident(incident_id: str, state: State) -> IncidentState:
    return await incident_client.get_state(state.client, incident_id)


@router.post("/{incident_id}/steps/{step_id}/approval")
async def approve_step(incident_id: str, step_id: str, body: ApprovalBody, state: State) -> Outcome:
    decision = ApprovalDecision(
        step_id=step_id,
        approver=body.approver,
        decision=body.decision,
        comment=body.comment,
        channel="api",
        command=body.command,
        confirm=body.confirm,
    )
    return Outcome(result=await incident_client.approve_step(state.client, incident_id, decision))


@router.post("/{incident_id}/steps/{step_id}/decision")
async def decide_step(incident_id: str, step_id: str, body: DecisionBody, state: State) -> Outcome:
    decision = InterruptedStepDecision(
        step_id=step_id, actor=body.actor, action=body.action, comment=body.comment, channel="api"
    )
    return Outcome(result=await incident_client.decide_step(state.client, incident_id, decision))


@router.post("/{incident_id}/acknowledge")
async def acknowledge(incident_id: str, body: ActorBody, state: State) -> Outcome:
    action = HumanAction(actor=body.actor, reason=body.reason, channel="api")
    return Outcome(result=await incident_client.acknowledge(state.client, incident_id, action))


@router.post("/{incident_id}/abort")
async def abort(incident_id: str, body: ActorBody, state: State) -> Outcome:
    action = HumanAction(actor=body.actor, reason=body.reason, channel="api")
    return Outcome(result=await incident_client.abort(state.client, incident_id, action))


@router.post("/{incident_id}/resolve")
async def resolve(incident_id: str, body: ActorBody, state: State) -> Outcome:
    action = HumanAction(actor=body.actor, reason=body.reason, channel="api")
    return Outcome(result=await incident_client.resolve(state.client, incident_id, action))


class ReportBody(BaseModel):
    actor: str = Field(min_length=1, max_length=200)
    outcome: Literal["done", "skipped", "changed"]
    note: str = Field(default="", max_length=4000)
    output: str = Field(default="", max_length=65_536)


class ModeBody(BaseModel):
    mode: Mode
    actor: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2000)


@router.post("/{incident_id}/steps/{step_id}/report")
async def report_step(incident_id: str, step_id: str, body: ReportBody, state: State) -> Outcome:
    report = StepReport(step_id=step_id, channel="api", **body.model_dump())
    return Outcome(result=await incident_client.report_step(state.client, incident_id, report))


@router.post("/{incident_id}/steps/{step_id}/skip")
async def skip_step(incident_id: str, step_id: str, body: ActorBody, state: State) -> Outcome:
    action = StepAction(step_id=step_id, actor=body.actor, reason=body.reason, channel="api")
    return Outcome(result=await incident_client.skip_step(state.client, incident_id, action))


@router.post("/{incident_id}/steps/{step_id}/undo")
async def undo_step(incident_id: str, step_id: str, body: ActorBody, state: State) -> Outcome:
    action = StepAction(step_id=step_id, actor=body.actor, reason=body.reason, channel="api")
    return Outcome(result=await incident_client.undo_step(state.client, incident_id, action))


@router.post("/{incident_id}/pause")
async def pause(incident_id: str, body: ActorBody, state: State) -> Outcome:
    action = HumanAction(actor=body.actor, reason=body.reason, channel="api")
    return Outcome(result=await incident_client.pause(state.client, incident_id, action))


@router.post("/{incident_id}/resume")
async def resume(incident_id: str, body: ActorBody, state: State) -> Outcome:
    action = HumanAction(actor=body.actor, reason=body.reason, channel="api")
    return Outcome(result=await incident_client.resume(state.client, incident_id, action))


@router.post("/{incident_id}/take-over")
async def take_over(incident_id: str, body: ActorBody, state: State) -> Outcome:
    action = HumanAction(actor=body.actor, reason=body.reason, channel="api")
    return Outcome(result=await incident_client.take_over(state.client, incident_id, action))


@router.post("/{incident_id}/mode")
async def set_mode(incident_id: str, body: ModeBody, state: State) -> Outcome:
    change = ModeChange(mode=body.mode, actor=body.actor, reason=body.reason, channel="api")
    return Outcome(result=await incident_client.set_mode(state.client, incident_id, change))
