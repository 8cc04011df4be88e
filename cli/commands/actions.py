"""The human actions on an incident (`ddrun approve|reject|decide|ack|abort|…`): each is one POST
to the API, which records the person its credential proves, never a name typed here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from cli.commands.options import AsOpt, say
from schemas.enums import Mode

Why = Annotated[str, typer.Option(help="Why")]


def act(incident_id: str, path: str, body: dict[str, Any], as_: str | None) -> None:
    """POST one human action to the API; the server records who from the credential."""
    from cli.api_client import Api

    result = Api(actor=as_).call("POST", f"/api/incidents/{incident_id}/{path}", json=body)
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
    act(incident_id, f"steps/{step}/approval", body, as_)


def reject(incident_id: str, step: str, as_: AsOpt = None, comment: Why = "") -> None:
    """Reject the waiting step: it is skipped and the runbook goes on."""
    act(incident_id, f"steps/{step}/approval", {"decision": "reject", "comment": comment}, as_)


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
    act(incident_id, f"steps/{step}/decision", {"action": action, "comment": comment}, as_)


def abort(incident_id: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Abort: stop the running step and roll back every completed step, newest first."""
    act(incident_id, "abort", {"reason": reason}, as_)


def ack(incident_id: str, as_: AsOpt = None) -> None:
    """Acknowledge: a human is on it."""
    act(incident_id, "acknowledge", {}, as_)


def resolve(
    incident_id: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="What fixed it")] = "",
) -> None:
    """Resolve by hand: stop the runbook, keep what was done."""
    act(incident_id, "resolve", {"reason": reason}, as_)


def pause(incident_id: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Pause: the current step finishes, nothing new starts."""
    act(incident_id, "pause", {"reason": reason}, as_)


def resume(incident_id: str, as_: AsOpt = None) -> None:
    """Resume a paused incident."""
    act(incident_id, "resume", {}, as_)


def takeover(incident_id: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Take manual control: the rest of the runbook becomes read-along."""
    act(incident_id, "take-over", {"reason": reason}, as_)


def escalate(incident_id: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Escalate now: page the next level."""
    act(incident_id, "escalate", {"reason": reason}, as_)


def mode(
    incident_id: str,
    new_mode: Annotated[Mode, typer.Argument(metavar="MODE", help="read-along|copilot|autopilot")],
    as_: AsOpt = None,
    reason: Why = "",
) -> None:
    """Override the mode for the rest of one incident."""
    act(incident_id, "mode", {"mode": new_mode.value, "reason": reason}, as_)


def skip(incident_id: str, step: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Skip a step that has not run yet."""
    act(incident_id, f"steps/{step}/skip", {"reason": reason}, as_)


def undo(incident_id: str, step: str, as_: AsOpt = None, reason: Why = "") -> None:
    """Undo one completed step now, with the exact values it ran with."""
    act(incident_id, f"steps/{step}/undo", {"reason": reason}, as_)


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
    act(incident_id, f"steps/{step}/report", {"outcome": outcome, "note": note}, as_)


#: Every human action's CLI verb, in the order `ddrun --help` lists them.
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
