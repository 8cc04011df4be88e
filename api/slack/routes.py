"""Slack's inbound side: signed clicks, modal submissions and `/ddrun` become incident updates.

This module is the transport: every request is verified (v0 HMAC over the raw body, 5-minute
window) before it is parsed, and answered within Slack's 3 seconds; work that takes longer goes
on in the background and reports through the `response_url`. What a click, a dialog or a command
does is in slack_actions.py and slack_commands.py. Tests may set `app.state.slack_clock` (a
`slack_sdk.signature.Clock`) to verify recorded requests and `app.state.slack_timing` (a
`SlackTiming`) to shorten the waits.

A verified request is acted on once: its signature (HMAC over timestamp and body, so a captured
request re-sent has the same one) is claimed in the deliveries table first, and a replay within
the 5-minute window gets "already handled" and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from slack_sdk.signature import Clock, SignatureVerifier

from api.body import parse_json_text, read_limited
from api.deps import AppState, State
from api.errors import ApiError, BadRequestError, UnauthorizedError
from api.slack.actions import run_click, submit
from api.slack.commands import answer_command
from api.slack.context import Ctx, SlackTiming
from api.slack.payloads import BlockActions, SlashCommand, ViewSubmission
from api.slack.replies import Reply, SlackOut
from db.deliveries import DeliveryStore
from db.people import principal_of
from domain.slack.actions import Action, Callback
from domain.slack.modals import ModalContext
from schemas.identity import CredentialKind
from schemas.policy import SLACK_USER_ID

__all__ = ["ModalContext", "SlackTiming", "router"]

log = logging.getLogger(__name__)
router = APIRouter(prefix="/slack", tags=["slack"])
T = TypeVar("T")

WINDOW_S = 300
_DIALOGS = (Callback.CONFIRM_DANGEROUS.value, Callback.EDIT_COMMAND.value)


class SlackOffError(ApiError):
    status_code = 503


# ------------------------------------------------------------------------------- verification


def _clock(request: Request) -> Clock:
    clock = getattr(request.app.state, "slack_clock", None)
    return clock if isinstance(clock, Clock) else Clock()


def _timing(request: Request) -> SlackTiming:
    timing = getattr(request.app.state, "slack_timing", None)
    return timing if isinstance(timing, SlackTiming) else SlackTiming()


def _verify(request: Request, state: AppState, body: bytes) -> None:
    """Refuse (401, logged with why) unless Slack signed exactly this body, recently."""
    secret = state.settings.slack_signing_secret
    if secret is None:
        raise SlackOffError("Slack is off: DDRUN_SLACK_SIGNING_SECRET is not set")
    timestamp = request.headers.get("x-slack-request-timestamp")
    signature = request.headers.get("x-slack-signature")
    clock = _clock(request)
    why = ""
    if not timestamp or not signature:
        why = "unsigned (no X-Slack-Signature / X-Slack-Request-Timestamp)"
    elif not timestamp.isdigit():
        why = f"malformed timestamp {timestamp[:20]!r}"
    elif abs(clock.now() - int(timestamp)) > WINDOW_S:
        why = f"timestamp {int(timestamp) - clock.now():+.0f} s from now, outside {WINDOW_S} s"
    else:
        try:
            verifier = SignatureVerifier(secret.get_secret_value(), clock=clock)
            valid = verifier.is_valid(body, timestamp, signature)
        except UnicodeDecodeError:
            valid = False
        why = "" if valid else "signature does not match the body"
    if why:
        host = request.client.host if request.client else "?"
        log.warning("Slack request to %s from %s refused: %s", request.url.path, host, why)
        raise UnauthorizedError("invalid Slack request signature")


async def _first_time(request: Request, state: AppState) -> bool:
    """Claim this verified request; False when the same signed request was handled before."""
    signature = request.headers.get("x-slack-signature", "")
    store = DeliveryStore(state.engine, state.settings.delivery_retention_s)
    if await store.claim("slack", signature):
        return True
    log.warning("Slack request to %s replayed: already handled, ignored", request.url.path)
    return False


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadRequestError("body is not UTF-8 form data") from err
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


# ------------------------------------------------------------------------------- acknowledgement

_inflight: set[asyncio.Task[Any]] = set()


async def _within_budget(
    budget_s: float, work: Coroutine[Any, Any, T], late: Callable[[T], Awaitable[None]]
) -> tuple[bool, T | None]:
    """Run `work`; if it is not done within the ack budget, answer Slack now and hand its
    result to `late` when it is. `work` must not raise."""
    acked = False

    async def run() -> T:
        result = await work
        if acked:
            await late(result)
        return result

    task = asyncio.create_task(run())
    _inflight.add(task)
    task.add_done_callback(_inflight.discard)
    await asyncio.wait({task}, timeout=budget_s)
    if task.done():
        return True, task.result()
    acked = True
    return False, None


class NotLinkedError(Exception):
    """The verified Slack user is no dd0c/run person (or a disabled one): nothing is done."""

    def __init__(self, user_id: str, disabled: bool = False) -> None:
        self.user_id = user_id
        if disabled:
            text = (
                f":no_entry_sign: The dd0c/run person linked to your Slack account ({user_id}) "
                "is disabled, so dd0c/run will not act for you. Ask a dd0c/run admin."
            )
        else:
            text = (
                f":link: Your Slack account ({user_id}) is not linked to a dd0c/run person, so "
                "dd0c/run cannot record who you are and will not act for you. Ask a dd0c/run "
                f"admin to run `ddrun users update YOUR_HANDLE --slack {user_id}` (or "
                f"`ddrun users add YOUR_HANDLE --slack {user_id} --role responder`)."
            )
        super().__init__(text)
        self.text = text


async def _ctx(
    request: Request,
    state: AppState,
    user_id: str,
    user_name: str,
    response_url: str | None,
    trigger_id: str | None = None,
) -> Ctx:
    """Who is acting (the person the verified Slack user is linked to), and the two ways back
    to them (the `response_url`, a dialog)."""
    person = await state.people.by_slack_user(user_id) if SLACK_USER_ID.match(user_id) else None
    if person is None or person.disabled:
        log.info("Slack user %s refused: %s", user_id, "disabled" if person else "not linked")
        raise NotLinkedError(user_id, disabled=person is not None)
    return Ctx(
        app=state,
        slack=SlackOut(state),
        timing=_timing(request),
        user_id=user_id,
        user_name=user_name,
        response_url=response_url,
        trigger_id=trigger_id,
        person=principal_of(person, CredentialKind.SLACK, user_id),
    )


async def _tell(state: AppState, response_url: str | None, text: str) -> None:
    if response_url:
        await SlackOut(state).respond(response_url, Reply(text))


# ------------------------------------------------------------------------------- routes


@router.post("/interactions")
async def interactions(request: Request, state: State) -> Response:
    """Button clicks and dialog submissions; the answer body matters only for dialogs."""
    body = await read_limited(request, state.settings.max_body_bytes)
    _verify(request, state, body)
    raw = _form(body).get("payload")
    if raw is None:
        raise BadRequestError("expected a form field `payload` holding JSON")
    payload = parse_json_text(raw, "payload")
    kind = payload.get("type") if isinstance(payload, dict) else None
    if kind == "block_actions":
        click = BlockActions.model_validate(payload)
        if not await _first_time(request, state):
            return Response(status_code=200)
        return await _clicked(request, state, click)
    if kind == "view_submission":
        submitted = ViewSubmission.model_validate(payload)
        if not await _first_time(request, state):
            return Response(status_code=200)
        return await _submitted(request, state, submitted)
    log.info("ignoring Slack interaction of type %r", kind)
    return Response(status_code=200)


async def _clicked(request: Request, state: AppState, click: BlockActions) -> Response:
    """Answered with an empty 200 at once; the outcome goes to the `response_url`."""
    first = click.actions[0]
    if first.action_id not in {a.value for a in Action}:
        log.info("ignoring Slack action %r (not a dd0c/run button)", first.action_id)
        return Response(status_code=200)
    user = click.user
    try:
        ctx = await _ctx(request, state, user.id, user.shown, click.response_url, click.trigger_id)
    except NotLinkedError as err:
        await _tell(state, click.response_url, err.text)
        return Response(status_code=200)

    async def nothing(_: None) -> None:
        return None

    await _within_budget(
        ctx.timing.ack_budget_s, run_click(ctx, Action(first.action_id), first.value), nothing
    )
    return Response(status_code=200)


async def _submitted(request: Request, state: AppState, submitted: ViewSubmission) -> Response:
    """Errors found in time go back into the dialog; later ones to the `response_url`."""
    view = submitted.view
    if view.callback_id not in _DIALOGS:
        log.info("ignoring dialog %r (not a dd0c/run dialog)", view.callback_id)
        return Response(status_code=200)
    try:
        meta = ModalContext.model_validate_json(view.private_metadata)
    except ValidationError as err:
        raise BadRequestError("dialog metadata was not written by dd0c/run") from err
    user = submitted.user
    try:
        ctx = await _ctx(request, state, user.id, user.shown, meta.response_url)
    except NotLinkedError as err:
        await _tell(state, meta.response_url, err.text)
        return Response(status_code=200)

    async def report_late(answer: dict[str, Any] | None) -> None:
        if answer is not None:
            problems = "; ".join(answer["errors"].values())
            await ctx.slack.respond(meta.response_url, Reply(f":no_entry_sign: {problems}"))

    done, answer = await _within_budget(
        ctx.timing.ack_budget_s, submit(ctx, view, meta), report_late
    )
    if done and answer is not None:
        return JSONResponse(answer)
    return Response(status_code=200)


@router.post("/commands")
async def commands(request: Request, state: State) -> Response:
    """`/ddrun …`: answered in the response when quick, else through the response_url."""
    body = await read_limited(request, state.settings.max_body_bytes)
    fields = _form(body)
    if fields.get("ssl_check") == "1":
        return Response(status_code=200)  # Slack's certificate probe: nothing to do or trust
    _verify(request, state, body)
    cmd = SlashCommand.model_validate(fields)
    if cmd.command != "/ddrun":
        return JSONResponse(
            {"response_type": "ephemeral", "text": f"dd0c/run does not handle {cmd.command}"}
        )
    try:
        ctx = await _ctx(
            request, state, cmd.user_id, cmd.user_name, cmd.response_url, cmd.trigger_id
        )
    except NotLinkedError as err:
        return JSONResponse({"response_type": "ephemeral", "text": err.text})
    if not await _first_time(request, state):
        return JSONResponse(
            {
                "response_type": "ephemeral",
                "text": "This exact request was already handled (a repeat of the same signed "
                "request); nothing was done again.",
                "duplicate": True,
            }
        )

    async def reply_late(reply: Reply | None) -> None:
        if reply is not None:
            await ctx.slack.respond(cmd.response_url, reply)

    done, reply = await _within_budget(
        ctx.timing.ack_budget_s, answer_command(ctx, cmd), reply_late
    )
    if not done:
        reply = Reply(":hourglass_flowing_sand: working on it…")
    if reply is None:
        return Response(status_code=200)
    return JSONResponse({"response_type": "ephemeral", "text": reply.text})
