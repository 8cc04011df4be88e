"""`ddrun`: run the stack and act on incidents from a terminal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from schemas.incident import (
    ApprovalDecision,
    HumanAction,
    IncidentState,
    InterruptedStepDecision,
)
from schemas.settings import Settings
from workers.client import connect
from workflows import incident_client

app = typer.Typer(help="dd0c/run: runbook automation and incident response", no_args_is_help=True)
incidents_app = typer.Typer(help="List and inspect incidents", no_args_is_help=True)
runbooks_app = typer.Typer(help="Manage runbooks in the database", no_args_is_help=True)
app.add_typer(incidents_app, name="incidents")
app.add_typer(runbooks_app, name="runbooks")
console = Console()
T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output")]


def _with_client(fn: Callable[[Client], Awaitable[T]], identity: str = "ddrun-cli") -> T:
    async def go() -> T:
        client = await connect(Settings(), identity=identity)
        return await fn(client)

    try:
        return asyncio.run(go())
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        console.print(f"[red]refused:[/red] {getattr(cause, 'message', None) or cause or err}")
        raise typer.Exit(2) from None
    except incident_client.IncidentNotFoundError as err:
        console.print(f"[red]no incident {err.args[0]!r}[/red]")
        raise typer.Exit(1) from None
    except RPCError as err:
        console.print(f"[red]Temporal error:[/red] {err.message}")
        raise typer.Exit(1) from None


# ----------------------------------------------------------------------------- processes


@app.command()
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


@app.command()
def worker() -> None:
    """Run the orchestrator worker (incident workflows and control-plane activities)."""
    from workers import orchestrator

    asyncio.run(orchestrator.run(Settings()))


@app.command()
def agent() -> None:
    """Run the agent worker: executes runbook commands, needs only Temporal access."""
    from workers import agent as agent_worker

    asyncio.run(agent_worker.run(Settings()))


@app.command()
def api() -> None:
    """Run the HTTP API (webhooks, incidents)."""
    import uvicorn

    from api.app import create_app
    from workers.telemetry import setup_logging, setup_tracing

    settings = Settings()
    setup_logging()
    setup_tracing("ddrun-api", settings.otel_exporter_otlp_endpoint)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
    )


# ----------------------------------------------------------------------------- incidents


@incidents_app.command("list")
def incidents_list(
    service: Annotated[str | None, typer.Option(help="Only this service")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status")] = None,
    severity: Annotated[str | None, typer.Option(help="Only this severity")] = None,
    runbook: Annotated[str | None, typer.Option(help="Only this runbook id")] = None,
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Incidents, newest first, found through Temporal visibility."""
    query = incident_client.visibility_query(
        service=service, status=status, severity=severity, runbook=runbook
    )
    rows = _with_client(lambda c: incident_client.list_incidents(c, query, limit))
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    table = Table("id", "status", "service", "severity", "runbook", "started")
    for r in rows:
        started = r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else ""
        table.add_row(r.id, r.status, r.service or "", r.severity or "", r.runbook or "", started)
    console.print(table)


@incidents_app.command("show")
def incidents_show(incident_id: str, as_json: JsonOpt = False) -> None:
    """One incident: alerts, matched runbook, and every step with its state and approver."""
    state = _with_client(lambda c: incident_client.get_state(c, incident_id))
    if as_json:
        typer.echo(state.model_dump_json(indent=2))
        return
    _print_state(state)


def _print_state(state: IncidentState) -> None:
    console.print(
        f"[bold]{escape(state.id)}[/bold]  {state.status.value}  "
        f"{escape(f'[{state.severity}]')} {escape(state.service)}"
    )
    console.print(f"  {state.title}")
    console.print(f"  alerts: {len(state.alerts)} (deliveries {state.alert_deliveries})")
    if state.runbook:
        console.print(f"  runbook: {state.runbook} v{state.runbook_version} — {state.match_reason}")
    else:
        console.print(f"  runbook: none — {state.match_reason}")
    if state.missing_variables:
        console.print(f"  [yellow]missing variables:[/yellow] {', '.join(state.missing_variables)}")
    table = Table("step", "risk", "state", "approved by", "exit", "command")
    for s in state.steps:
        table.add_row(
            f"{s.id}\n{s.title}",
            s.risk.value,
            s.state.value,
            s.approved_by or "",
            "" if s.exit_code is None else str(s.exit_code),
            s.command or "(manual)",
        )
    console.print(table)
    for s in state.steps:
        if s.stdout or s.stderr:
            console.print(f"[dim]--- {s.id} output ---[/dim]")
            console.print((s.stdout + s.stderr)[-2000:], markup=False)
    if state.escalations:
        for e in state.escalations:
            console.print(f"  escalated L{e.level} → {e.target}: {e.reason}")
    if state.outcome:
        console.print(f"  outcome: {state.outcome}")


@app.command()
def approve(
    incident_id: str,
    step: str,
    as_: Annotated[str, typer.Option("--as", help="Who approves (recorded in history)")],
    comment: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Approve the step that is waiting for approval."""
    decision = ApprovalDecision(step_id=step, approver=as_, comment=comment, channel="cli")
    result = _with_client(
        lambda c: incident_client.approve_step(c, incident_id, decision), identity=f"cli:{as_}"
    )
    console.print(result)


@app.command()
def reject(
    incident_id: str,
    step: str,
    as_: Annotated[str, typer.Option("--as", help="Who rejects (recorded in history)")],
    comment: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Reject the waiting step: it is skipped and the runbook goes on."""
    decision = ApprovalDecision(
        step_id=step, approver=as_, decision="reject", comment=comment, channel="cli"
    )
    result = _with_client(
        lambda c: incident_client.approve_step(c, incident_id, decision), identity=f"cli:{as_}"
    )
    console.print(result)


@app.command()
def decide(
    incident_id: str,
    step: str,
    action: Annotated[str, typer.Argument(help="retry, skip or abort")],
    as_: Annotated[str, typer.Option("--as", help="Who decides (recorded in history)")],
) -> None:
    """Decide about an interrupted step (its agent died) or a failed rollback."""
    if action not in ("retry", "skip", "abort"):
        raise typer.BadParameter("action must be retry, skip or abort")
    decision = InterruptedStepDecision.model_validate(
        {"step_id": step, "actor": as_, "action": action, "channel": "cli"}
    )
    console.print(
        _with_client(
            lambda c: incident_client.decide_step(c, incident_id, decision), identity=f"cli:{as_}"
        )
    )


def _human(actor: str, reason: str) -> HumanAction:
    return HumanAction(actor=actor, reason=reason, channel="cli")


@app.command()
def abort(
    incident_id: str,
    as_: Annotated[str, typer.Option("--as", help="Who aborts (recorded in history)")] = "cli",
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Abort: stop the running step and roll back every completed step, newest first."""
    action = _human(as_, reason)
    console.print(
        _with_client(lambda c: incident_client.abort(c, incident_id, action), identity=f"cli:{as_}")
    )


@app.command()
def ack(
    incident_id: str,
    as_: Annotated[str, typer.Option("--as", help="Who acknowledges")],
) -> None:
    """Acknowledge: a human is on it."""
    action = _human(as_, "")
    console.print(
        _with_client(
            lambda c: incident_client.acknowledge(c, incident_id, action), identity=f"cli:{as_}"
        )
    )


@app.command()
def resolve(
    incident_id: str,
    as_: Annotated[str, typer.Option("--as", help="Who resolves")],
    reason: Annotated[str, typer.Option(help="What fixed it")] = "",
) -> None:
    """Resolve by hand: stop the runbook, keep what was done."""
    action = _human(as_, reason)
    console.print(
        _with_client(
            lambda c: incident_client.resolve(c, incident_id, action), identity=f"cli:{as_}"
        )
    )


# ----------------------------------------------------------------------------- runbooks


@runbooks_app.command("load")
def runbooks_load(folder: Path) -> None:
    """Load a folder of YAML runbooks; a changed file becomes a new version."""
    from db.engine import create_schema, make_engine
    from db.runbooks import RunbookStore

    async def go() -> None:
        engine = make_engine(Settings().effective_database_url)
        await create_schema(engine)
        report = await RunbookStore(engine).import_dir(folder)
        await engine.dispose()
        for saved in report.saved:
            mark = "new version" if saved.created else "unchanged"
            console.print(f"{saved.runbook.id} v{saved.runbook.version}: {mark}")
        for error in report.errors:
            console.print(f"[red]not loaded:[/red] {escape(error)}")
        if report.errors:
            raise typer.Exit(1)

    asyncio.run(go())


@runbooks_app.command("list")
def runbooks_list(as_json: JsonOpt = False) -> None:
    """The latest version of every runbook in the database."""
    from db.engine import create_schema, make_engine
    from db.runbooks import RunbookStore

    async def go() -> None:
        engine = make_engine(Settings().effective_database_url)
        await create_schema(engine)
        runbooks = await RunbookStore(engine).latest()
        await engine.dispose()
        if as_json:
            typer.echo(json.dumps([r.model_dump(mode="json") for r in runbooks], indent=2))
            return
        table = Table("id", "version", "title", "steps")
        for r in runbooks:
            table.add_row(r.id, str(r.version), r.title, str(len(r.steps)))
        console.print(table)

    asyncio.run(go())


if __name__ == "__main__":
    app()
