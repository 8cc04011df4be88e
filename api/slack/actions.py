"""Button clicks on the bot's messages, and the approval dialogs some of them open.

Approve opens a dialog when the step needs its id typed; Edit always does. The dialog's answer
comes back as a view submission (`submit`), whose errors are shown under the input they concern.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from api.slack.context import Ctx
from api.slack.incidents import (
    approve,
    authorise,
    call,
    check_waiting,
    decision,
    incident_state,
    incident_step,
    simple,
)
from api.slack.payloads import SubmittedView
from api.slack.replies import Refused, Reply, failure, mention, refusal
from domain.slack.actions import Action, ActionValue, BadActionValueError, Callback, decode
from domain.slack.modals import (
    COMMAND_BLOCK,
    COMMENT_BLOCK,
    CONFIRM_BLOCK,
    MAX_EDIT_CHARS,
    ModalContext,
    confirm_modal,
    confirms,
    edit_modal,
    input_error,
    needs_confirmation,
    status_text,
    typed,
)
from schemas.incident import ModeChange, StepAction
from schemas.runbook import StepRisk
from schemas.trust import Mode
from services import incidents as incident_client

log = logging.getLogger(__name__)
Handler = Callable[[Ctx, ActionValue], Awaitable[Reply | None]]


def _meta(ctx: Ctx, value: ActionValue) -> ModalContext:
    return ModalContext(
        incident=value.incident, step=value.step, card=value.card, response_url=ctx.response_url
    )


# ------------------------------------------------------------------------------- block actions


async def on_approve(ctx: Ctx, value: ActionValue) -> Reply | None:
    """Approve now, or open the confirmation dialog (None: the dialog will answer)."""
    state, view = await incident_step(ctx, value)
    authorise(ctx, state, view.risk)
    if needs_confirmation(view):
        check_waiting(ctx, view, value.card)
        await ctx.slack.open_view(ctx.trigger_id, confirm_modal(state, view, _meta(ctx, value)))
        return None
    return await approve(ctx, state.id, decision(ctx, view, value.card))


async def _on_edit(ctx: Ctx, value: ActionValue) -> Reply | None:
    state, view = await incident_step(ctx, value)
    authorise(ctx, state, view.risk)
    check_waiting(ctx, view, value.card, editing=True)
    if view.command is None:
        raise Refused(f"step {view.id} has no command to edit")
    if len(view.command) > MAX_EDIT_CHARS:
        raise Refused(f"step {view.id}'s command is too long to edit in Slack: use the CLI")
    await ctx.slack.open_view(ctx.trigger_id, edit_modal(state, view, _meta(ctx, value)))
    return None


async def _on_skip_step(ctx: Ctx, value: ActionValue) -> Reply:
    state, view = await incident_step(ctx, value)
    authorise(ctx, state, StepRisk.CAUTION)
    action = StepAction(step_id=view.id, reason=ctx.label, **ctx.who)
    result = await call(ctx, state.id, incident_client.skip_step(ctx.app.client, state.id, action))
    return Reply(f":fast_forward: {mention(result)}")


async def _on_start_copilot(ctx: Ctx, value: ActionValue) -> Reply:
    state = await incident_state(ctx, value.incident)
    authorise(ctx, state, StepRisk.CAUTION)
    done: list[str] = []
    client = ctx.app.client
    if state.acknowledged_by is None:
        ack = incident_client.acknowledge(client, state.id, ctx.action("starting copilot"))
        done.append(await call(ctx, state.id, ack))
    if state.mode is not Mode.COPILOT:
        change = ModeChange(mode=Mode.COPILOT, reason=f"copilot {ctx.label}", **ctx.who)
        done.append(await call(ctx, state.id, incident_client.set_mode(client, state.id, change)))
    return Reply(":rocket: " + (mention("; ".join(done)) or "copilot is already running"))


async def _on_view_steps(ctx: Ctx, value: ActionValue) -> Reply:
    return Reply(status_text(await incident_state(ctx, value.incident)))


def _click_handler(action: Action) -> Handler:
    ic = incident_client
    table: dict[Action, Handler] = {
        Action.APPROVE: on_approve,
        Action.EDIT: _on_edit,
        Action.SKIP_STEP: _on_skip_step,
        Action.PAUSE: lambda c, v: simple(c, v, ic.pause, "paused"),
        Action.RESUME: lambda c, v: simple(c, v, ic.resume, "resumed", StepRisk.CAUTION),
        Action.TAKE_OVER: lambda c, v: simple(c, v, ic.take_over, "taken over"),
        Action.ABORT: lambda c, v: simple(c, v, ic.abort, "aborted", StepRisk.CAUTION),
        Action.ACKNOWLEDGE: lambda c, v: simple(c, v, ic.acknowledge, "acknowledged"),
        Action.START_COPILOT: _on_start_copilot,
        Action.VIEW_STEPS: _on_view_steps,
        Action.SKIP_RUNBOOK: lambda c, v: simple(c, v, ic.take_over, "runbook skipped: read-along"),
    }
    return table[action]


async def run_click(ctx: Ctx, action: Action, raw_value: str) -> None:
    """Handle one click and report to the clicking user; never raises."""
    try:
        value = decode(raw_value)
        reply = await _click_handler(action)(ctx, value)
    except (Refused, BadActionValueError) as err:
        reply = refusal(err)
    except Exception as err:
        log.exception("Slack action %s failed", action)
        reply = failure(err, "action")
    if reply is not None:
        await ctx.slack.respond(ctx.response_url, reply)


# ------------------------------------------------------------------------------- view submissions


def _errors(block_id: str, message: str) -> dict[str, Any]:
    return input_error(block_id, mention(message))


async def submit(ctx: Ctx, view: SubmittedView, meta: ModalContext) -> dict[str, Any] | None:
    """Approve from a dialog: errors go back under the input they concern; None closes it."""
    editing = view.callback_id == Callback.EDIT_COMMAND.value
    where = COMMAND_BLOCK if editing else CONFIRM_BLOCK
    values = view.state.values
    try:
        state, step = await incident_step(ctx, meta)
        fields: dict[str, Any] = {"comment": typed(values, COMMENT_BLOCK) or ""}
        if editing:
            command = typed(values, COMMAND_BLOCK)
            if not command:
                return _errors(COMMAND_BLOCK, "Enter the command to run")
            fields["command"] = None if command == (step.command or "").strip() else command
        if not editing or needs_confirmation(step):
            confirmation = typed(values, CONFIRM_BLOCK)
            if not confirms(confirmation, step):
                return _errors(CONFIRM_BLOCK, f"Type {step.id} to confirm")
            fields["confirm"] = confirmation
        authorise(ctx, state, step.risk)
        reply = await approve(ctx, state.id, decision(ctx, step, meta.card, **fields))
    except Refused as err:
        return _errors(where, str(err))
    except Exception as err:
        log.exception("Slack dialog %s failed", view.callback_id)
        return _errors(where, f"{type(err).__name__}: not approved")
    await ctx.slack.respond(ctx.response_url, reply)
    return None
