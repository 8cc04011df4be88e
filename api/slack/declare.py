"""`/ddrun declare P1 [service=S] TITLE`, `/ddrun severity [ID] P0 REASON` and `/ddrun ic [ID]
@user` in Slack: the same declaration, severity change and handover as the API and CLI, as the
Slack user's linked person."""

from __future__ import annotations

import re

from api.slack.context import Ctx
from api.slack.incidents import call, require_respond
from api.slack.replies import Refused, Reply
from db.people import PeopleStore
from schemas.roles import IncidentRole, RoleChange
from schemas.severity import Severity, SeverityChange
from services import declare
from services import incidents as incident_client

#: A Slack mention as it arrives in a slash command: <@U123> or <@U123|name>.
_MENTION = re.compile(r"<@([A-Z0-9]{2,30})(?:\|[^>]*)?>")
_USAGE = "`/ddrun declare P0|P1|P2|P3 [service=NAME] TITLE`"


def _level(word: str) -> Severity | None:
    try:
        return Severity(word.strip().upper())
    except ValueError:
        return None


async def declare_command(ctx: Ctx, args: list[str]) -> Reply:
    require_respond(ctx)
    level = _level(args[0]) if args else None
    if level is None:
        raise Refused(f"say the severity first: {_USAGE}")
    rest = args[1:]
    service: str | None = None
    if rest and rest[0].startswith("service="):
        service = rest[0].removeprefix("service=") or None
        rest = rest[1:]
    title = " ".join(rest).strip()
    if not title or len(title) > 400:
        raise Refused(f"say what is happening (at most 400 characters): {_USAGE}")
    declaration = declare.Declaration(severity=level, title=title, service=service)
    accepted = await call(
        ctx,
        "new",
        declare.declare(ctx.app.client, ctx.app.settings, ctx.app.claims, declaration, ctx.actor),
    )
    return Reply(f":rotating_light: {level.value} declared: `{accepted.incident_id}` {title}")


async def severity_command(ctx: Ctx, incident_id: str, args: list[str]) -> Reply:
    require_respond(ctx)
    level = _level(args[0]) if args else None
    reason = " ".join(args[1:]).strip()
    if level is None or not reason:
        raise Refused("say the new severity and why: `/ddrun severity [ID] P0|P1|P2|P3 REASON`")
    change = SeverityChange(severity=level, reason=reason[:2000], **ctx.who)
    result = await call(
        ctx,
        incident_id,
        incident_client.act(ctx.app.client, incident_id, "change_severity", change),
    )
    return Reply(f":ok_hand: {result}")


async def commander_command(ctx: Ctx, incident_id: str, args: list[str]) -> Reply:
    """`/ddrun ic [ID] @user`: hand over the commander role to a linked Slack user."""
    require_respond(ctx)
    found = _MENTION.fullmatch(args[0]) if len(args) == 1 else None
    if found is None:
        raise Refused("say who takes over: `/ddrun ic [ID] @user`")
    person = await PeopleStore(ctx.app.engine).by_slack_user(found.group(1))
    if person is None:
        raise Refused(f"<@{found.group(1)}> is not linked to a dd0c/run person")
    change = RoleChange(role=IncidentRole.COMMANDER, person=person.handle, **ctx.who)
    result = await call(
        ctx, incident_id, incident_client.act(ctx.app.client, incident_id, "assign_role", change)
    )
    return Reply(f":crown: {result}")
