"""`ddrun demo [break|restart|status]`: the local demo service of the README's walk-through."""

from __future__ import annotations

from typing import Annotated

import typer

demo_app = typer.Typer(
    help="Without a command: run the local demo service (no cluster needed). Then break it, "
    "watch the incident, and see it recover.",
    invoke_without_command=True,
)
DEFAULT_PORT = 8099


@demo_app.callback()
def demo(
    ctx: typer.Context,
    port: Annotated[
        int,
        typer.Option(envvar="DDRUN_DEMO_PORT", help="Port on 127.0.0.1 for the demo service"),
    ] = DEFAULT_PORT,
) -> None:
    """Run the demo service in the foreground (Ctrl-C stops it); it alerts dd0c/run itself."""
    if ctx.invoked_subcommand is not None:
        return
    from cli.demo import run_service

    run_service(port)


@demo_app.command("break")
def break_cmd(
    kind: Annotated[str, typer.Argument(help="disk, config or stuck")],
) -> None:
    """Break the demo service, then wait until its incident waits for you (or has closed)."""
    from cli.demo import break_service

    break_service(kind)


@demo_app.command()
def restart() -> None:
    """Restart the demo service in place (what the runbooks' restart step does with curl)."""
    from cli import demo as service

    service.restart()


@demo_app.command()
def status(
    wait: Annotated[
        bool,
        typer.Option(help="Wait until the service is healthy and its incidents have closed"),
    ] = False,
) -> None:
    """The demo service's health, the alerts it has firing, and its incidents."""
    from cli import demo as service

    service.status(wait)


def register(app: typer.Typer) -> None:
    app.add_typer(demo_app, name="demo")
