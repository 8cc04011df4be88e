"""Reading and acting on an incident for a Slack user: time-bounded workflow calls, Temporal's
failures in words a responder can act on, and the approval-policy check made before anything is
sent.

The workflow's validators remain the authority on steps, cards and approvals; the checks here
only spare a user a dialog that would be refused, and every refusal becomes a `Refused`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from api.errors import refusal
from api.slack.context import CHANNEL, Ctx
from api.slack.replies import Refused, Reply, mention
from domain.policy import PolicyError, may_act
from domain.slack.actions import ActionValue
from infra.policy_file import current_policy
from schemas.identity import Scope
from schemas.incident import (
    ApprovalDecision,
    HumanAction,
    IncidentState,
    StepState,
    StepView,
)
from schemas.policy import ApprovalPolicy
from schemas.runbook import StepRisk
from services import incidents as incident_client

log = logging.getLogger(__name__)
T = TypeVar("T")


async def call(ctx: Ctx, incident_id: str, work: Awaitable[T], timeout_s: float | None = None) -> T:
    """`work` within `timeout_s` (the work timeout unless given); any failure is `Refused`."""
    limit = ctx.timing.work_timeout_s if timeout_s is None else timeout_s
    try:
        return await asyncio.wait_for(work, limit)
    except Exception as err:
        raise Refused(explain(err, incident_id)) from err


def explain(err: BaseException, incident_id: str) -> str:
    """A Temporal failure in words a responder can act on."""
    if isinstance(err, WorkflowUpdateFailedError):
        return refusal(err)
    if isinstance(err, incident_client.IncidentNotFoundError):
        return f"no incident {incident_id}"
    if isinstance(err, incident_client.IncidentClosedError):
        return str(err)  # closed: when, and by whom
    if isinstance(err, WorkflowUpdateRPCTimeoutOrCancelledError | TimeoutError):
        return f"incident {incident_id} did not answer in time; check `/ddrun status` and retry"
    if isinstance(err, WorkflowQueryFailedError):
        return f"incident {incident_id} cannot be read: {err}"
    if isinstance(err, RPCError):
        if "already completed" in err.message:
            return f"incident {incident_id} is closed"
        if err.status is RPCStatusCode.NOT_FOUND:
            return f"no incident {incident_id}"
        log.error("Temporal unavailable: %s", err)
        return "the workflow engine is unavailable; try again shortly"
    log.exception("unexpected failure for %s", incident_id, exc_info=err)
    return f"something went wrong ({type(err).__name__})"


async def incident_state(ctx: Ctx, incident_id: str) -> IncidentState:
    query = incident_client.get_state(ctx.app.client, incident_id)
    return await call(ctx, incident_id, query, ctx.timing.query_timeout_s)


def step_of(state: IncidentState, step_id: str | None) -> StepView:
    if not step_id:
        raise Refused("this button names no step")
    view = next((s for s in state.steps if s.id == step_id), None)
    if view is None:
        raise Refused(f"incident {state.id} has no step {step_id!r}")
    return view


async def incident_step(ctx: Ctx, value: ActionValue) -> tuple[IncidentState, StepView]:
    """The incident a button (or dialog) names, and its step."""
    state = await incident_state(ctx, value.incident)
    return state, step_of(state, value.step)


def policy(ctx: Ctx) -> ApprovalPolicy | None:
    """The approval policy; an unusable file refuses what it governs (it is never guessed)."""
    try:
        return current_policy(ctx.app.settings.approval_policy_file)
    except PolicyError as err:
        log.error("approval policy unusable: %s", err)
        raise Refused(f"the approval policy cannot be read, so nothing is allowed: {err}") from err


def require_respond(ctx: Ctx) -> None:
    """Acting on incidents takes the responder role, in Slack as anywhere."""
    if not ctx.person.can(Scope.RESPOND):
        raise Refused(
            f"you may not act on incidents: {ctx.actor} has the role(s) "
            f"{', '.join(sorted(r.value for r in ctx.person.roles)) or 'none'}, and acting "
            "needs responder (ask an admin: `ddrun users update HANDLE --role responder`)"
        )


def authorise(ctx: Ctx, state: IncidentState, risk: StepRisk) -> None:
    """Refuse unless the approval policy lets this user act on a step of `risk` here."""
    require_respond(ctx)
    allowed, why = may_act(
        policy(ctx),
        ctx.person.identifiers,
        state.service,
        state.runbook,
        risk,
        severity=state.severity,
        commander=state.commander,
    )
    if not allowed:
        log.info("%s (Slack %s) refused on %s: %s", ctx.actor, ctx.user_id, state.id, why)
        raise Refused(f"you may not do this: {why}")


def check_waiting(ctx: Ctx, view: StepView, card: str, *, editing: bool = False) -> None:
    """Before a dialog opens: the checks the workflow will make, so nobody types in vain."""
    if view.state is not StepState.AWAITING_APPROVAL:
        raise Refused(f"step {view.id} is {view.state.value}: it is not waiting for approval")
    if card and view.card and card != view.card:
        raise Refused(
            f"this card of step {view.id} is out of date (the step changed since it was "
            "drawn): use the latest card"
        )
    if not editing and any(a.approver == ctx.actor for a in view.approvals):
        raise Refused(f"you already approved step {view.id}; it needs someone else")


def decision(ctx: Ctx, view: StepView, card: str, **fields: Any) -> ApprovalDecision:
    return ApprovalDecision(
        step_id=view.id,
        approver=ctx.actor,
        approver_name=ctx.person.name or ctx.user_name or None,
        approver_ids=sorted(ctx.person.identifiers - {ctx.actor}),
        channel=CHANNEL,
        authenticated_by=ctx.person.credential_label,
        card=card or None,
        **fields,
    )


async def approve(ctx: Ctx, incident_id: str, chosen: ApprovalDecision) -> Reply:
    result = await call(
        ctx, incident_id, incident_client.approve_step(ctx.app.client, incident_id, chosen)
    )
    return Reply(f":white_check_mark: {mention(result)}")


async def simple(
    ctx: Ctx,
    value: ActionValue,
    send: Callable[[Any, str, HumanAction], Awaitable[str]],
    why: str,
    risk: StepRisk | None = None,
) -> Reply:
    """Incident-wide actions; those that may start automation again are checked as caution."""
    if risk is not None:
        authorise(ctx, await incident_state(ctx, value.incident), risk)
    result = await call(ctx, value.incident, send(ctx.app.client, value.incident, ctx.action(why)))
    return Reply(f":ok_hand: {mention(result)}")
