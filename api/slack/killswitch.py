"""`/ddrun killswitch`: stop automatic execution everywhere, or for one service or runbook, from
Slack, the place the on-call engineer already is.

Engaging is open to anyone in the workspace: stopping automation is always the safe direction.
Lifting starts automation again, so it takes what approving a dangerous step takes under the
approval policy. Both go through the same store and broadcast as the API and CLI.
"""

from __future__ import annotations

import logging
import re

from api.slack.context import Ctx
from api.slack.incidents import call, policy, require_respond
from api.slack.replies import Refused, Reply
from domain.policy import may_act
from schemas.runbook import StepRisk
from schemas.trust import KillSwitch, KillSwitchScope
from services import incidents as incident_client

log = logging.getLogger(__name__)

USAGE = (
    "`/ddrun killswitch status` · `/ddrun killswitch engage|lift global|service NAME|"
    "runbook ID [reason]`"
)


_MAX_NAME_CHARS = 200  # a service or runbook name, as stored with the switch
_MAX_REASON_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _scope(args: list[str]) -> tuple[KillSwitchScope, str | None, list[str]]:
    if not args:
        raise Refused(f"say what to stop: {USAGE}")
    kind = args[0].lower()
    if kind == "global":
        return KillSwitchScope.GLOBAL, None, args[1:]
    if kind in ("service", "runbook") and len(args) >= 2:
        name = args[1]
        if len(name) > _MAX_NAME_CHARS or _CONTROL.search(name):
            raise Refused(
                f"a {kind} name is at most {_MAX_NAME_CHARS} characters, without control characters"
            )
        return KillSwitchScope(kind), name, args[2:]
    raise Refused(f"say what to stop: {USAGE}")


def _authorise_lift(ctx: Ctx, scope: KillSwitchScope, value: str | None) -> None:
    service = value if scope is KillSwitchScope.SERVICE and value else "*"
    runbook = value if scope is KillSwitchScope.RUNBOOK else None
    allowed, why = may_act(
        policy(ctx), ctx.person.identifiers, service, runbook, StepRisk.DANGEROUS
    )
    if not allowed:
        log.info("%s (Slack %s) may not lift a kill switch: %s", ctx.actor, ctx.user_id, why)
        raise Refused(f"lifting a kill switch restarts automation; you may not: {why}")


async def _status(ctx: Ctx) -> Reply:
    switches = [s for s in await ctx.app.trust.kill_switches() if s.engaged]
    if not switches:
        return Reply("No kill switch engaged: automation runs as each runbook's mode allows.")
    lines = [f"• `{s.label}` by {s.actor}: {s.reason or 'no reason given'}" for s in switches]
    return Reply(":octagonal_sign: *Kill switches engaged*\n" + "\n".join(lines))


async def kill_switch_command(ctx: Ctx, args: list[str]) -> Reply:
    verb = args[0].lower() if args else "status"
    if verb == "status":
        return await _status(ctx)
    if verb not in ("engage", "lift"):
        raise Refused(USAGE)
    require_respond(ctx)
    scope, value, rest = _scope(args[1:])
    if len(" ".join(rest)) > _MAX_REASON_CHARS:
        raise Refused(f"give the reason in at most {_MAX_REASON_CHARS} characters")
    engaged = verb == "engage"
    if not engaged:
        _authorise_lift(ctx, scope, value)
    switch = await ctx.app.trust.set_kill_switch(
        KillSwitch(
            scope=scope,
            value=value,
            engaged=engaged,
            actor=ctx.actor,
            reason=f"{' '.join(rest) or verb} ({ctx.label})",
        )
    )
    told = await call(
        ctx, "kill switch", incident_client.broadcast_kill_switch(ctx.app.client, switch)
    )
    what = "engaged" if engaged else "lifted"
    return Reply(
        f":octagonal_sign: kill switch `{switch.label}` {what}; "
        f"{len(told)} running incident(s) told."
    )
