"""`ddrun dev|worker|agent|api`: the stack's processes (they reach Temporal and the database)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def dev(
    data_dir: Annotated[
        Path, typer.Option(help="Where Temporal and the database keep data")
    ] = Path(".ddrun"),
    api_port: Annotated[int, typer.Option(help="HTTP API port")] = 8080,
    temporal_port: Annotated[int, typer.Option(help="Temporal frontend (gRPC) port")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port")] = 8233,
    runbooks: Annotated[
        Path | None, typer.Option(help="Folder of YAML runbooks to load at start")
    ] = None,
) -> None:
    """Run everything on embedded defaults: Temporal dev server, workers, agent and API."""
    from cli.dev import REPO_ROOT, DevOptions, run_dev

    default_runbooks = REPO_ROOT / "runbooks"
    raise typer.Exit(
        run_dev(
            DevOptions(
                data_dir=data_dir,
                api_port=api_port,
                temporal_port=temporal_port,
                ui_port=ui_port,
                runbooks_dir=runbooks or (default_runbooks if default_runbooks.exists() else None),
            )
        )
    )


def worker() -> None:
    """Run the orchestrator worker (incident workflows and control-plane activities)."""
    from cli import failures
    from schemas.settings import Settings
    from workers import orchestrator

    failures.run_service(orchestrator.run(Settings()))


def agent() -> None:
    """Run the agent worker: executes runbook commands, needs only Temporal access."""
    from cli import failures
    from schemas.settings import Settings
    from workers import agent as agent_worker

    failures.run_service(agent_worker.run(Settings()))


def api() -> None:
    """Run the HTTP API (webhooks, incidents) on DDRUN_API_HOST:DDRUN_API_PORT."""
    from api.auth import InsecureBindError
    from api.server import serve
    from cli.api_client import fail
    from schemas.settings import Settings

    settings = Settings()
    try:
        serve(settings.api_host, settings.api_port)
    except InsecureBindError as err:
        raise fail(str(err), 2) from None


def register(app: typer.Typer) -> None:
    for command in (dev, worker, agent, api):
        app.command()(command)
