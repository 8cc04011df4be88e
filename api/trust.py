"""Trust endpoints: the kill switch, runbook modes (promotion is a human act), and dry runs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Author, Reader, Responder, approval_policy
from api.body import parse_json, read_limited
from api.deps import AppState, State
from api.errors import BadRequestError, ForbiddenError, NotFoundError
from api.incidents import IdempotencyKey, request_id
from db.deliveries import DeliveryStore
from db.runbook_import import runbook_from_source
from domain.alerts.normalize import alertmanager, generic
from domain.alerts.normalize.keys import ServiceLabels
from domain.alerts.prefill import prepare
from domain.policy import may_act
from domain.runbook_files import relative_name
from domain.runbook_yaml import RunbookFileError
from domain.runbooks.errors import RunbookParseError
from domain.trust import start_mode
from schemas.alert import Alert
from schemas.identity import Principal, Scope
from schemas.runbook import Runbook, StepRisk
from schemas.trust import KillSwitch, KillSwitchScope, Mode, RunbookTrust, TrustChange
from schemas.webhooks.alertmanager import AlertmanagerWebhook
from schemas.webhooks.generic import GenericAlertBody
from services import incidents as incident_client

router = APIRouter(prefix="/api", tags=["trust"])


class KillSwitchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: KillSwitchScope = KillSwitchScope.GLOBAL
    value: str | None = Field(default=None, max_length=200)
    engaged: bool = True
    reason: str = Field(default="", max_length=2000)


class KillSwitchResult(BaseModel):
    switch: KillSwitch
    incidents: list[str]
    duplicate: bool = Field(
        default=False, description="The same Idempotency-Key was seen: nothing was done again"
    )


class TrustBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["promote", "decline", "set"]
    mode: Mode | None = None
    reason: str = Field(default="", max_length=2000)


class TrustView(BaseModel):
    trust: RunbookTrust
    history: list[TrustChange]


class DryRunStarted(BaseModel):
    incident_id: str
    runbook: str
    mode: Mode


@router.get("/killswitch")
async def kill_switches(state: State, _principal: Reader) -> list[KillSwitch]:
    return await state.trust.kill_switches()


def _authorise_lift(state: State, principal: Principal, body: KillSwitchBody) -> None:
    """Lifting restarts automation, so it takes what approving a dangerous step takes (as in
    Slack); engaging is open to every responder, stopping is always the safe direction."""
    policy = approval_policy(state.settings)
    service = body.value if body.scope is KillSwitchScope.SERVICE and body.value else "*"
    runbook = body.value if body.scope is KillSwitchScope.RUNBOOK else None
    allowed, why = may_act(policy, principal.identifiers, service, runbook, StepRisk.DANGEROUS)
    if not allowed:
        raise ForbiddenError(f"lifting a kill switch restarts automation; you may not: {why}")


@router.post("/killswitch")
async def set_kill_switch(
    body: KillSwitchBody,
    state: State,
    principal: Responder,
    key: str | None = IdempotencyKey,
) -> KillSwitchResult:
    """Engage or lift; the same `Idempotency-Key` from the same person acts once (the switch
    lives in the database, not in a workflow, so the key is claimed in the deliveries store)."""
    if body.scope is not KillSwitchScope.GLOBAL and not body.value:
        raise BadRequestError(f"a {body.scope.value} kill switch needs a value")
    if not body.engaged:
        _authorise_lift(state, principal, body)
    value = None if body.scope is KillSwitchScope.GLOBAL else body.value
    claim = request_id("killswitch", key)
    store = DeliveryStore(state.engine, state.settings.delivery_retention_s)
    if claim is not None and not await store.claim("api", f"{principal.handle}:{claim}"):
        current = next(
            (
                s
                for s in await state.trust.kill_switches()
                if (s.scope, s.value) == (body.scope, value)
            ),
            None,
        )
        shown = current or KillSwitch(
            scope=body.scope, value=value, engaged=False, actor=principal.handle
        )
        return KillSwitchResult(switch=shown, incidents=[], duplicate=True)
    try:
        switch = await state.trust.set_kill_switch(
            KillSwitch(
                scope=body.scope,
                value=value,
                engaged=body.engaged,
                actor=principal.handle,
                reason=f"{body.reason} ({principal.credential_label})".lstrip(),
            )
        )
    except Exception:
        if claim is not None:
            await store.release("api", f"{principal.handle}:{claim}")
        raise
    told = await incident_client.broadcast_kill_switch(state.client, switch)
    return KillSwitchResult(switch=switch, incidents=told)


@router.get("/runbooks/{runbook_id}/trust")
async def runbook_trust(runbook_id: str, state: State, _principal: Reader) -> TrustView:
    return await _trust_view(runbook_id, state)


async def _trust_view(runbook_id: str, state: State) -> TrustView:
    return TrustView(
        trust=await state.trust.get(runbook_id), history=await state.trust.history(runbook_id)
    )


@router.post("/runbooks/{runbook_id}/trust")
async def change_trust(
    runbook_id: str, body: TrustBody, state: State, principal: Author
) -> TrustView:
    """Authors may lower a runbook's mode or decline a suggestion; only an admin promotes a
    runbook to autopilot (commands run with nobody asked)."""
    if await state.runbooks.get(runbook_id) is None:
        raise NotFoundError(f"no runbook {runbook_id!r}")
    current = await state.trust.get(runbook_id)
    reason = body.reason or body.action
    actor = principal.handle
    if body.action == "promote":
        if not principal.can(Scope.ADMIN):
            raise ForbiddenError(
                f"{actor} may not promote a runbook to autopilot: it needs the 'admin' scope"
            )
        await state.trust.change(
            runbook_id, kind="promoted", mode=Mode.AUTOPILOT, actor=actor, reason=reason
        )
    elif body.action == "decline":
        await state.trust.change(
            runbook_id,
            kind="declined",
            mode=current.mode,
            actor=actor,
            reason=reason,
            keep_mode=True,
        )
    else:
        if body.mode is None or body.mode is Mode.AUTOPILOT:
            raise BadRequestError("set takes read-along or copilot; autopilot needs a promotion")
        await state.trust.change(runbook_id, kind="set", mode=body.mode, actor=actor, reason=reason)
    return await _trust_view(runbook_id, state)


def _alert_from(raw: bytes, data: Any, service_labels: ServiceLabels) -> Alert:
    received = datetime.now(UTC)
    digest = hashlib.sha256(raw).hexdigest()
    if isinstance(data, dict) and "alerts" in data and "groupKey" in data:
        body = AlertmanagerWebhook.model_validate(data)
        return alertmanager.normalize(body, received, digest, service_labels)[0]
    return generic.normalize(GenericAlertBody.model_validate(data), received, digest)[0]


class DryRunBody(BaseModel):
    """A dry run of a runbook file that is in no database yet (`ddrun run FILE --dry-run`)."""

    model_config = ConfigDict(extra="forbid")

    runbook_path: str = Field(
        min_length=1, max_length=1000, description="The file's name: .md is parsed, .yml loaded"
    )
    runbook_text: str
    alert_payload: str | None = Field(default=None, description="A raw alert payload, any source")
    incident: str | None = Field(default=None, description="Or: use this live incident's alert")
    with_safe_reads: bool = False


@router.post("/runbooks/{runbook_id}/dry-run")
async def dry_run(
    runbook_id: str,
    request: Request,
    state: State,
    _principal: Responder,
    with_safe_reads: bool = False,
    incident: str | None = None,
) -> DryRunStarted:
    """Walk the runbook with an alert's values (a posted payload, or a live incident's alert)."""
    runbook = await state.runbooks.get(runbook_id)
    if runbook is None:
        raise NotFoundError(f"no runbook {runbook_id!r}")
    if incident is not None:
        alert = (await incident_client.get_state(state.client, incident)).alerts[0]
    else:
        raw = await read_limited(request, state.settings.max_body_bytes)
        alert = _alert_from(raw, parse_json(raw), state.service_labels)
    return await _start_dry_run(
        state, runbook, alert, with_safe_reads, f"dry run of runbook {runbook_id}"
    )


@router.post("/runbooks/dry-run")
async def dry_run_file(body: DryRunBody, state: State, _principal: Responder) -> DryRunStarted:
    """Walk a runbook file (parsed as `ddrun import` would, saved nowhere) with an alert's
    values: what it would do before anyone imports it."""
    if (body.alert_payload is None) == (body.incident is None):
        raise BadRequestError("give exactly one of alert_payload or incident")
    try:
        runbook, _ = runbook_from_source(body.runbook_text, relative_name(body.runbook_path))
    except (RunbookFileError, RunbookParseError, ValueError) as err:
        raise BadRequestError(f"not a runbook: {err}") from err
    if body.incident is not None:
        alert = (await incident_client.get_state(state.client, body.incident)).alerts[0]
    else:
        raw = (body.alert_payload or "").encode("utf-8")
        alert = _alert_from(raw, parse_json(raw), state.service_labels)
    why = f"dry run of runbook file {body.runbook_path}"
    return await _start_dry_run(state, runbook, alert, body.with_safe_reads, why)


async def _start_dry_run(
    state: AppState, runbook: Runbook, alert: Alert, with_safe_reads: bool, why: str
) -> DryRunStarted:
    runbook_id = runbook.id
    selected = prepare(runbook, alert, reason=why)
    mode, reason = start_mode(
        await state.trust.get(runbook_id),
        await state.trust.kill_switches(),
        alert.service,
        runbook_id,
    )
    dry_id = await incident_client.start_dry_run(
        state.client,
        state.settings,
        alert,
        selected,
        mode=mode,
        mode_reason=reason,
        with_safe_reads=with_safe_reads,
    )
    return DryRunStarted(incident_id=dry_id, runbook=runbook_id, mode=mode)
