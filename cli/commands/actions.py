"""The human actions on an incident (`ddrun approve|reject|decide|ack|abort|…`): each is one POST
to the API, which records the person its credential proves, never a name typed here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from cli.commands.options import AsOpt, say
from schemas.enums import Mode

Why = Annotated[str, typer.Option(help="Why")]


def act(
    verb: str, incident_id: str, body: dict[str, Any], as_: str | None, step: str | None = None
) -> None:
    """POST one human action to the API, at the route the registry of human actions gives the
    verb; the server records who from the credential."""
    from cli.api_client import Api
    from schemas.human_actions import BY_VERB

    path = BY_VERB[verb].path(incident_id, step)
    result = Api(actor=as_).call("POST", path, json=body)
    say(result["result"])


def approve(
    incident_id: str,
    step: str,
    as_: AsOpt = None,
    comment: Why = "",
    edit: Annotated[
        str | None, typer.Option(help="Run this command instead (recorded as a divergence)")
    ] = None,
    confirm: Annotated[
        str | None, typer.Option(help="Dangerous steps: type the step's id or title")
    ] = None,
) -> None:
    """Approve the step that is waiting for approval."""
    body = {"decision": "approve", "comment": comment, "command": edit, "confirm": confirm}
    act("approve", incident_id, body, as_, step)


def reject(incident_id: str, step: str, as_: AsOpt = None, comment: Why = "") -> None:
    """Reject the waiting step: it is skipped and the runbook goes on."""
    act("reject", incident_id, {"decision": "reject", "comment": comment}, as_, step)


def decide(
    incident_id: str,
    step: str,
    action: Annotated[str, typer.Argument(help="retry, skip, rollback or abort")],
    as_: AsOpt = None,
    comment: Why = "",
) -> None:
    """Decide about an interrupted step (its agent died) or a failed rollback."""
    if action not in ("retry", "skip", "rollback", "abort"):
        raise typer.BadParameter("action must be retry, skip, rollback or abort")
    act("decide", incident_id, {"action": action, "comment": comment}, as_, step)


def abort(incident_id: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Abort: stop the running step and roll back every completed step, newest first."""
    act("abort", incident_id, {"reason": reason}, as_)


def ack(incident_id: str, as_: AsOpt = None) -> None:
    """Acknowledge: a human is on it."""
    act("ack", incident_id, {}, as_)


def resolve(
    incident_id: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="What fixed it")] = "",
) -> None:
    """Resolve by hand: stop the runbook, keep what was done."""
    act("resolve", incident_id, {"reason": reason}, as_)


def pause(incident_id: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Pause: the current step finishes, nothing new starts."""
    act("pause", incident_id, {"reason": reason}, as_)


def resume(incident_id: str, as_: AsOpt = None) -> None:
    """Resume a paused incident."""
    act("resume", incident_id, {}, as_)


def takeover(incident_id: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Take manual control: the rest of the runbook becomes read-along."""
    act("takeover", incident_id, {"reason": reason}, as_)


def escalate(incident_id: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Escalate now: page the next level."""
    act("escalate", incident_id, {"reason": reason}, as_)


def mode(
    incident_id: str,
    new_mode: Annotated[Mode, typer.Argument(metavar="MODE", help="read-along|copilot|autopilot")],
    as_: AsOpt = None,
    reason: Why = "",
) -> None:
    """Override the mode for the rest of one incident."""
    act("mode", incident_id, {"mode": new_mode.value, "reason": reason}, as_)


def skip(incident_id: str, step: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Skip a step that has not run yet."""
    act("skip", incident_id, {"reason": reason}, as_, step)


def undo(incident_id: str, step: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Undo one completed step now, with the exact values it ran with."""
    act("undo", incident_id, {"reason": reason}, as_, step)


def report(
    incident_id: str,
    step: str,
    outcome: Annotated[str, typer.Argument(help="done, skipped or changed")],
    as_: AsOpt = None,
    note: Annotated[str, typer.Option(help="What you did")] = "",
) -> None:
    """Read-along: report what you did for the presented step."""
    if outcome not in ("done", "skipped", "changed"):
        raise typer.BadParameter("outcome must be done, skipped or changed")
    act("report", incident_id, {"outcome": outcome, "note": note}, as_, step)


#: Every human action's CLI verb (the registry's `cli` verbs: tests/unit/test_human_actions.py),
#: in the order `ddrun --help` lists them.
COMMANDS: dict[str, Callable[..., None]] = {
    "approve": approve,
    "reject": reject,
    "decide": decide,
    "abort": abort,
    "ack": ack,
    "resolve": resolve,
    "pause": pause,
    "resume": resume,
    "takeover": takeover,
    "escalate": escalate,
    "mode": mode,
    "skip": skip,
    "undo": undo,
    "report": report,
}


def register(app: typer.Typer) -> None:
    for name, command in COMMANDS.items():
        app.command(name)(command)
