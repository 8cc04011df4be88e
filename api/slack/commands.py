"""`/ddrun` in Slack: status, approve, pause, resume, abort, escalate, killswitch, runbook search
and help.

In an incident's own channel the incident ID may be left out; anywhere else the user names it.
Each verb goes through the same checks and workflow calls as the buttons.
"""

from __future__ import annotations

import logging

from api.deps import AppState
from api.slack.actions import on_approve
from api.slack.context import Ctx
from api.slack.declare import commander_command, declare_command, severity_command
from api.slack.incidents import call, incident_state, simple
from api.slack.killswitch import kill_switch_command
from api.slack.payloads import SlashCommand
from api.slack.replies import Refused, Reply, failure, refusal
from db.slack_messages import SlackMessageStore
from domain.incident_ids import looks_like_incident_id
from domain.runbooks.search import NothingToSearchError, search_runbooks, search_terms
from domain.slack.actions import ActionValue
from domain.slack.modals import HELP, status_text
from schemas.runbook import StepRisk
from services import incidents as incident_client

log = logging.getLogger(__name__)
_ID_PREFIXES = ("incident-", "dryrun-")
_MAX_STEP_CHARS = 100  # ActionValue.step
_MAX_REASON_CHARS = 1000  # HumanAction.reason is 2,000 with the "from Slack by …" label


async def _incident_in_channel(app: AppState, channel_id: str) -> str | None:
    """The incident whose own channel this is; None (the user names it) in a shared channel."""
    if not channel_id:
        return None
    return await SlackMessageStore(app.engine).incident_in_channel(channel_id)


def _checked_id(text: str) -> str:
    if not looks_like_incident_id(text):
        raise Refused(f"`{text[:60]}` is not an incident id (see `/ddrun status`)")
    return text


async def _target(ctx: Ctx, args: list[str], channel_id: str) -> tuple[str, list[str]]:
    if args and args[0].startswith(_ID_PREFIXES):
        return _checked_id(args[0]), args[1:]
    found = await _incident_in_channel(ctx.app, channel_id)
    if found is None:
        raise Refused("say which incident: `/ddrun <command> INCIDENT_ID …` (see `/ddrun help`)")
    return found, args


async def _open_incidents(ctx: Ctx) -> Reply:
    query = incident_client.visibility_query() + ' AND ExecutionStatus = "Running"'
    listing = incident_client.list_incidents(ctx.app.client, query, limit=10)
    rows = await call(ctx, "list", listing, ctx.timing.query_timeout_s)
    if not rows:
        return Reply("No open incidents.")
    lines = [f"• `{r.id}` · {r.severity} · {r.service} · {r.status}" for r in rows]
    return Reply("*Open incidents*\n" + "\n".join(lines))


async def _search_runbooks(ctx: Ctx, text: str) -> Reply:
    try:
        terms = search_terms(text)
    except NothingToSearchError as err:
        raise Refused("say what to look for: `/ddrun runbook search crash looping pod`") from err
    found = search_runbooks(await ctx.app.runbooks.latest(), terms)
    if not found:
        return Reply(f"No runbook mentions {text!r}.")
    lines = [f"{n}. `{rb.id}` {rb.title} (v{rb.version})" for n, rb in enumerate(found, start=1)]
    return Reply(f"*Runbooks for {text!r}*\n" + "\n".join(lines))


async def _run_command(ctx: Ctx, cmd: SlashCommand) -> Reply | None:
    words = cmd.text.split()
    verb, args = (words[0].lower(), words[1:]) if words else ("help", [])
    ic = incident_client
    if verb == "help":
        return Reply(HELP)
    if verb in ("killswitch", "kill-switch"):
        return await kill_switch_command(ctx, args)
    if verb == "declare":
        return await declare_command(ctx, args)
    if verb in ("runbook", "runbooks") and args[:1] == ["search"]:
        return await _search_runbooks(ctx, " ".join(args[1:]))
    if verb == "status" and not (args and args[0].startswith(_ID_PREFIXES)):
        found = await _incident_in_channel(ctx.app, cmd.channel_id)
        if found is None:
            return await _open_incidents(ctx)
        args = [found]
    if verb == "severity":
        incident_id, rest = await _target(ctx, args, cmd.channel_id)
        return await severity_command(ctx, incident_id, rest)
    if verb == "ic":
        incident_id, rest = await _target(ctx, args, cmd.channel_id)
        return await commander_command(ctx, incident_id, rest)
    if verb not in ("status", "approve", "pause", "resume", "abort", "escalate"):
        return Reply(f"Unknown command {verb!r}.\n{HELP}")
    incident_id, rest = await _target(ctx, args, cmd.channel_id)
    if rest and len(rest[0]) > _MAX_STEP_CHARS:
        raise Refused(f"a step id is at most {_MAX_STEP_CHARS} characters")
    value = ActionValue(incident=incident_id, step=rest[0] if rest else None)
    reason = " ".join(rest)
    if len(reason) > _MAX_REASON_CHARS:
        raise Refused(f"say it in at most {_MAX_REASON_CHARS} characters")
    if verb == "status":
        return Reply(status_text(await incident_state(ctx, incident_id)))
    if verb == "approve":
        if not rest:
            raise Refused("say which step: `/ddrun approve [ID] STEP`")
        return await on_approve(ctx, value)
    if verb == "pause":
        return await simple(ctx, value, ic.pause, "paused")
    if verb == "resume":
        return await simple(ctx, value, ic.resume, "resumed", StepRisk.CAUTION)
    if verb == "abort":
        return await simple(ctx, value, ic.abort, reason or "aborted", StepRisk.CAUTION)
    return await simple(ctx, value, ic.escalate, reason or "escalated by hand")


async def answer_command(ctx: Ctx, cmd: SlashCommand) -> Reply | None:
    """The reply to one `/ddrun` (None: a dialog answers instead); never raises."""
    try:
        return await _run_command(ctx, cmd)
    except Refused as err:
        return refusal(err)
    except Exception as err:
        log.exception("/ddrun %s failed", cmd.text[:100])
        return failure(err, "command")
