"""`ddrun killswitch engage|lift|status`: stop (or restart) automatic execution, via the API."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.commands.options import AsOpt, console

killswitch_app = typer.Typer(help="Stop all automatic execution", no_args_is_help=True)


@killswitch_app.command("engage")
def killswitch_engage(
    reason: Annotated[str, typer.Option(help="Why")],
    as_: AsOpt = None,
    service: Annotated[str | None, typer.Option(help="Only this service")] = None,
    runbook: Annotated[str | None, typer.Option(help="Only this runbook")] = None,
) -> None:
    """Stop automatic execution everywhere (or for one service or runbook)."""
    _killswitch(True, as_, reason, service, runbook)


@killswitch_app.command("lift")
def killswitch_lift(
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
    service: Annotated[str | None, typer.Option(help="The service switch")] = None,
    runbook: Annotated[str | None, typer.Option(help="The runbook switch")] = None,
) -> None:
    """Lift a kill switch; incidents it held resume."""
    _killswitch(False, as_, reason, service, runbook)


@killswitch_app.command("status")
def killswitch_status() -> None:
    """Engaged kill switches."""
    from rich.markup import escape

    from cli.api_client import Api

    switches = Api().call("GET", "/api/killswitch")
    if not switches:
        console().print("no kill switch engaged")
    for s in switches:
        where = s["scope"] if s["scope"] == "global" else f"{s['scope']}={s['value']}"
        console().print(f"{escape(where)}: {escape(s['reason'])} ({escape(s['actor'])}, {s['at']})")


def _killswitch(
    engaged: bool, actor: str | None, reason: str, service: str | None, runbook: str | None
) -> None:
    from rich.markup import escape

    from cli.api_client import Api

    scope, value = ("global", None)
    if service:
        scope, value = "service", service
    elif runbook:
        scope, value = "runbook", runbook
    result = Api(actor=actor).call(
        "POST",
        "/api/killswitch",
        json={"scope": scope, "value": value, "engaged": engaged, "reason": reason},
    )
    verb = "engaged" if engaged else "lifted"
    console().print(
        f"kill switch {scope}{'=' + value if value else ''} {verb} by "
        f"{escape(result['switch']['actor'])}; {len(result['incidents'])} running incident(s) told"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(killswitch_app, name="killswitch")
