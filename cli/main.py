"""`ddrun`: run the stack and act on incidents from a terminal."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from cli import failures
from cli.api_client import Api, fail
from cli.commands.incident_command import incident_app
from cli.demo import demo_app
from cli.identity import login, logout, tokens_app, users_app, whoami
from cli.match import mappings_app, match_command
from cli.period import period
from schemas.incident import (
    IncidentState,
    IncidentSummary,
)
from schemas.settings import Settings
from schemas.trust import Mode
from workflows import incident_client

HELP = (
    "dd0c/run: runbook automation and incident response.\n\n"
    "Every command but dev, worker, agent, api, parse, classify, match, import, runbooks "
    "load|list and export "
    "talks to the running stack's HTTP API as the person whose token it holds.\n\n"
    "One setting finds a `ddrun dev` stack: --stack DIR or DDRUN_DATA_DIR (default .ddrun), "
    "whose stack.json says where its API and Temporal listen.\n\n"
    "Settings: DDRUN_API_URL (default http://127.0.0.1:8080); DDRUN_TOKEN, else the token "
    "`ddrun login` saved, else DDRUN_DATA_DIR/admin.token (DDRUN_DATA_DIR defaults to .ddrun; "
    "`ddrun dev` writes it) for a loopback API; DDRUN_TEMPORAL_ADDRESS and DDRUN_DATABASE_URL "
    "for those."
)
app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        typer.echo(f"ddrun {version('ddrun')}")
        raise typer.Exit()


@app.callback()
def _options(
    _show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version"),
    ] = False,
    stack: Annotated[
        Path | None,
        typer.Option(
            "--stack",
            help="The data folder of the `ddrun dev` stack to talk to (as DDRUN_DATA_DIR): "
            "its API, Temporal, database and admin token are found there",
        ),
    ] = None,
) -> None:
    """dd0c/run: runbook automation and incident response."""
    if stack is not None:
        os.environ["DDRUN_DATA_DIR"] = str(stack)


incidents_app = typer.Typer(help="List and inspect incidents", no_args_is_help=True)
runbooks_app = typer.Typer(help="Manage runbooks in the database", no_args_is_help=True)
killswitch_app = typer.Typer(help="Stop all automatic execution", no_args_is_help=True)
app.add_typer(incidents_app, name="incidents")
app.add_typer(incident_app, name="incident")
app.add_typer(runbooks_app, name="runbooks")
app.add_typer(killswitch_app, name="killswitch")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(demo_app, name="demo")
app.command()(login)
app.command()(logout)
app.command()(whoami)
console = Console()
T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output")]


def _with_client(fn: Callable[[Client], Awaitable[T]], identity: str = "ddrun-cli") -> T:
    """Temporal directly (export, dry-run results): expected failures are one line."""
    return failures.with_temporal(fn, identity)


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

    failures.run_service(orchestrator.run(Settings()))


@app.command()
def agent() -> None:
    """Run the agent worker: executes runbook commands, needs only Temporal access."""
    from workers import agent as agent_worker

    failures.run_service(agent_worker.run(Settings()))


@app.command()
def api() -> None:
    """Run the HTTP API (webhooks, incidents)."""
    import uvicorn

    from api.app import create_app
    from api.auth import InsecureBindError, check_bind
    from infra.telemetry import setup_logging, setup_tracing

    settings = Settings()
    setup_logging()
    try:
        check_bind(settings)
    except InsecureBindError as err:
        console.print(f"[red]error:[/red] {escape(str(err))}")
        raise typer.Exit(2) from None
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
    params = {
        k: v
        for k, v in {
            "service": service,
            "status": status,
            "severity": severity,
            "runbook": runbook,
            "limit": str(limit),
        }.items()
        if v is not None
    }
    rows = [IncidentSummary.model_validate(r) for r in _api("GET", "/api/incidents", params=params)]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    from cli.incident_view import incidents_table

    console.print(incidents_table(rows))


@incidents_app.command("show")
def incidents_show(
    incident_id: str,
    as_json: JsonOpt = False,
    timeline: Annotated[
        bool, typer.Option("--timeline", help="The whole timeline, not only the last entries")
    ] = False,
) -> None:
    """One incident: what it waits for and the next command, mode and pause, every step, the
    manual steps' instructions, and the timeline."""
    from cli.incident_view import is_manual, print_state
    from schemas.runbook import Runbook

    state = IncidentState.model_validate(_api("GET", f"/api/incidents/{incident_id}"))
    if as_json:
        typer.echo(state.model_dump_json(indent=2))
        return
    runbook = None
    if state.runbook and any(is_manual(s) for s in state.steps):
        found = Api().get_or_none(
            f"/api/runbooks/{state.runbook}", params={"version": str(state.runbook_version)}
        )
        runbook = Runbook.model_validate(found) if found else None
    print_state(console, state, runbook, timeline)


AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Only when the server runs with authentication off (local development): who acts. "
        "Otherwise the actor is the person your token belongs to.",
    ),
]


def _act(incident_id: str, path: str, body: dict[str, Any], as_: str | None) -> None:
    """POST one human action to the API; the server records who from the credential."""
    result = Api(actor=as_).call("POST", f"/api/incidents/{incident_id}/{path}", json=body)
    _print(result["result"])


@app.command()
def approve(
    incident_id: str,
    step: str,
    as_: AsOpt = None,
    comment: Annotated[str, typer.Option(help="Why")] = "",
    edit: Annotated[
        str | None, typer.Option(help="Run this command instead (recorded as a divergence)")
    ] = None,
    confirm: Annotated[
        str | None, typer.Option(help="Dangerous steps: type the step's id or title")
    ] = None,
) -> None:
    """Approve the step that is waiting for approval."""
    body = {"decision": "approve", "comment": comment, "command": edit, "confirm": confirm}
    _act(incident_id, f"steps/{step}/approval", body, as_)


@app.command()
def reject(
    incident_id: str,
    step: str,
    as_: AsOpt = None,
    comment: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Reject the waiting step: it is skipped and the runbook goes on."""
    _act(incident_id, f"steps/{step}/approval", {"decision": "reject", "comment": comment}, as_)


@app.command()
def decide(
    incident_id: str,
    step: str,
    action: Annotated[str, typer.Argument(help="retry, skip, rollback or abort")],
    as_: AsOpt = None,
    comment: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Decide about an interrupted step (its agent died) or a failed rollback."""
    if action not in ("retry", "skip", "rollback", "abort"):
        raise typer.BadParameter("action must be retry, skip, rollback or abort")
    _act(incident_id, f"steps/{step}/decision", {"action": action, "comment": comment}, as_)


@app.command()
def abort(
    incident_id: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Abort: stop the running step and roll back every completed step, newest first."""
    _act(incident_id, "abort", {"reason": reason}, as_)


@app.command()
def ack(incident_id: str, as_: AsOpt = None) -> None:
    """Acknowledge: a human is on it."""
    _act(incident_id, "acknowledge", {}, as_)


@app.command()
def resolve(
    incident_id: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="What fixed it")] = "",
) -> None:
    """Resolve by hand: stop the runbook, keep what was done."""
    _act(incident_id, "resolve", {"reason": reason}, as_)


@app.command()
def pause(
    incident_id: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Pause: the current step finishes, nothing new starts."""
    _act(incident_id, "pause", {"reason": reason}, as_)


@app.command()
def resume(incident_id: str, as_: AsOpt = None) -> None:
    """Resume a paused incident."""
    _act(incident_id, "resume", {}, as_)


@app.command()
def takeover(
    incident_id: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Take manual control: the rest of the runbook becomes read-along."""
    _act(incident_id, "take-over", {"reason": reason}, as_)


@app.command()
def escalate(
    incident_id: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Escalate now: page the next level."""
    _act(incident_id, "escalate", {"reason": reason}, as_)


@app.command()
def mode(
    incident_id: str,
    new_mode: Annotated[Mode, typer.Argument(metavar="MODE", help="read-along|copilot|autopilot")],
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Override the mode for the rest of one incident."""
    _act(incident_id, "mode", {"mode": new_mode.value, "reason": reason}, as_)


@app.command()
def skip(
    incident_id: str,
    step: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Skip a step that has not run yet."""
    _act(incident_id, f"steps/{step}/skip", {"reason": reason}, as_)


@app.command()
def undo(
    incident_id: str,
    step: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Undo one completed step now, with the exact values it ran with."""
    _act(incident_id, f"steps/{step}/undo", {"reason": reason}, as_)


@app.command()
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
    _act(incident_id, f"steps/{step}/report", {"outcome": outcome, "note": note}, as_)


def _print(text: str) -> None:
    console.print(escape(text))


def _api(method: str, path: str, as_: str | None = None, **kwargs: Any) -> Any:
    """The HTTP API at DDRUN_API_URL, with the CLI's credential."""
    return Api(actor=as_).call(method, path, **kwargs)


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
    switches = _api("GET", "/api/killswitch")
    if not switches:
        console.print("no kill switch engaged")
    for s in switches:
        where = s["scope"] if s["scope"] == "global" else f"{s['scope']}={s['value']}"
        console.print(f"{escape(where)}: {escape(s['reason'])} ({escape(s['actor'])}, {s['at']})")


def _killswitch(
    engaged: bool, actor: str | None, reason: str, service: str | None, runbook: str | None
) -> None:
    scope, value = ("global", None)
    if service:
        scope, value = "service", service
    elif runbook:
        scope, value = "runbook", runbook
    result = _api(
        "POST",
        "/api/killswitch",
        actor,
        json={"scope": scope, "value": value, "engaged": engaged, "reason": reason},
    )
    verb = "engaged" if engaged else "lifted"
    console.print(
        f"kill switch {scope}{'=' + value if value else ''} {verb} by "
        f"{escape(result['switch']['actor'])}; {len(result['incidents'])} running incident(s) told"
    )


@app.command()
def run(
    runbook: str,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Execute nothing")] = False,
    alert: Annotated[Path | None, typer.Option(help="Alert payload (any source)")] = None,
    incident: Annotated[str | None, typer.Option(help="Use a live incident's alert")] = None,
    with_safe_reads: Annotated[
        bool, typer.Option("--with-safe-reads", help="Dry run: safe reads run for real")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Walk a runbook with an alert's values through the incident workflow, executing nothing."""
    if not dry_run:
        raise typer.BadParameter("only --dry-run is supported: real runs start from alerts")
    if (alert is None) == (incident is None):
        raise typer.BadParameter("give exactly one of --alert FILE or --incident ID")
    params: dict[str, str] = {"with_safe_reads": str(with_safe_reads).lower()}
    content = b""
    if incident is not None:
        params["incident"] = incident
    elif alert is not None:
        content = failures.read_bytes(alert)
    started = _api("POST", f"/api/runbooks/{runbook}/dry-run", params=params, content=content)
    state = _with_client(
        lambda c: incident_client.incident_handle(c, started["incident_id"]).result()
    )
    if as_json:
        typer.echo(state.model_dump_json(indent=2))
        return
    console.print(f"[bold]DRY RUN[/bold] {escape(state.id)} — mode {state.mode.value}")
    for number, s in enumerate(state.steps, 1):
        console.print(f"{number}. [{s.risk.value}] {escape(s.title)}: {escape(s.note)}")


@runbooks_app.command("trust")
def runbooks_trust(runbook: str, as_json: JsonOpt = False) -> None:
    """A runbook's mode, an open promotion suggestion, and every change with who and why."""
    view = _api("GET", f"/api/runbooks/{runbook}/trust")
    if as_json:
        typer.echo(json.dumps(view, indent=2))
        return
    trust = view["trust"]
    console.print(f"{escape(runbook)}: {trust['mode']} — {escape(trust['reason'])}")
    if trust.get("suggestion"):
        console.print(f"[yellow]suggestion:[/yellow] {escape(trust['suggestion'])}")
    for change in view["history"]:
        console.print(
            f"  {change['at']} {change['kind']} → {change['mode']} by "
            f"{escape(change['actor'])}: {escape(change['reason'])}"
        )


def _trust(runbook: str, body: dict[str, str], as_: str | None) -> str:
    view = _api("POST", f"/api/runbooks/{runbook}/trust", as_, json=body)
    return str(view["history"][-1]["actor"]) if view["history"] else "?"


@runbooks_app.command("promote")
def runbooks_promote(
    runbook: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Promote a runbook to autopilot (admins): safe and caution steps run on their own."""
    who = _trust(runbook, {"action": "promote", "reason": reason}, as_)
    console.print(f"{escape(runbook)} promoted to autopilot by {escape(who)}")


@runbooks_app.command("decline")
def runbooks_decline(
    runbook: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Decline the open promotion suggestion."""
    who = _trust(runbook, {"action": "decline", "reason": reason}, as_)
    console.print(f"promotion of {escape(runbook)} declined by {escape(who)}")


@runbooks_app.command("set-mode")
def runbooks_set_mode(
    runbook: str,
    new_mode: Annotated[Mode, typer.Argument(metavar="MODE", help="read-along or copilot")],
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Set a runbook to read-along or copilot (autopilot only by promotion)."""
    who = _trust(runbook, {"action": "set", "mode": new_mode.value, "reason": reason}, as_)
    console.print(f"{escape(runbook)} set to {new_mode.value} by {escape(who)}")


@app.command("export")
def export_cmd(
    target: Annotated[
        str | None, typer.Argument(help="INCIDENT id, or `verify` to check an export FILE")
    ] = None,
    file: Annotated[Path | None, typer.Argument(help="With verify: the export to check")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json (JSON Lines), csv or pdf")] = "json",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File or folder")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Period start: ISO date/time (UTC), or a span back from now: 24h, 7d"),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Period end, exclusive (default: now); same forms")
    ] = None,
    run_id: Annotated[str | None, typer.Option(help="A specific run of the incident")] = None,
) -> None:
    """Evidence from workflow history: one incident, every incident of a period, or verify."""
    from audit.export import export_incident, export_period, write_export
    from domain.audit.chain import verify_file
    from domain.audit.known_secrets import redactor_for

    settings = Settings()
    key = (
        settings.export_signing_key.get_secret_value().encode()
        if (settings.export_signing_key)
        else None
    )
    if target == "verify":
        if file is None:
            raise typer.BadParameter("verify needs the export FILE")
        try:
            # Unreadable is not tampered: open first; decode as verify_file does for a path.
            with file.open(encoding="utf-8", errors="replace", newline="") as opened:
                result = verify_file(opened, key)
        except OSError as err:
            raise fail(f"cannot read {file}: {err.strerror or err}", 2) from None
        if result.ok:
            console.print(f"OK: {escape(result.reason)}")
            return
        where = f" at record {result.first_bad_seq}" if result.first_bad_seq else ""
        console.print(f"[red]TAMPERED{where}:[/red] {escape(result.reason)}")
        raise typer.Exit(1)
    if fmt not in ("json", "csv", "pdf"):
        raise typer.BadParameter("format must be json, csv or pdf")
    redactor = redactor_for(settings, os.environ, settings.redact_patterns)
    if target is None:
        if not (since and output):
            raise typer.BadParameter("give INCIDENT, or --since (and --until) and -o DIR")
        start, end = period(since, until)
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise fail(f"cannot write to {output}: {err.strerror or err}", 2) from None
        index = _with_client(
            lambda c: export_period(
                c,
                start,
                end,
                output,
                fmt=fmt,  # type: ignore[arg-type]
                redactor=redactor,
                signing_key=key,
            )
        )
        console.print(
            f"{index['count']} incident(s) started {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} "
            f"UTC exported to {escape(str(output))}"
        )
        return
    if output is None:
        raise typer.BadParameter("-o FILE is required")
    result_export = _with_client(
        lambda c: export_incident(c, target, run_id=run_id, redactor=redactor, signing_key=key)
    )
    try:
        written = write_export(result_export, fmt, output)  # type: ignore[arg-type]
    except OSError as err:
        raise fail(f"cannot write {output}: {err.strerror or err}", 2) from None
    console.print(
        f"{result_export.manifest.record_count} records, final hash "
        f"{result_export.manifest.final_hash[:16]}… → {', '.join(str(p) for p in written)}"
    )


@app.command()
def parse(
    file: Annotated[str, typer.Argument(help="Markdown/prose runbook file, or - for stdin")],
    as_json: JsonOpt = False,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Deterministic parser only")] = False,
) -> None:
    """Turn a prose or Markdown runbook into structured, risk-classified steps."""

    from activities.parsing import parse_text
    from domain.runbooks.errors import RunbookParseError

    text = sys.stdin.read() if file == "-" else failures.read_text(Path(file))
    name = None if file == "-" else Path(file).name
    try:
        parsed = asyncio.run(
            parse_text(text, source_name=name, settings=Settings(), use_llm=not no_llm)
        )
    except RunbookParseError as err:
        console.print(f"[red]cannot parse:[/red] {escape(str(err))}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(parsed.to_json_dict(), indent=2))
        return
    rb = parsed.result.runbook
    colour = {"safe": "green", "caution": "yellow", "dangerous": "red"}
    console.print(f"[bold]{escape(rb.title)}[/bold]  ({escape(parsed.llm.message)})")
    for number, step in enumerate(rb.steps, 1):
        risk = step.risk.value
        console.print(f"\n{number}. [{colour[risk]}]{risk.upper()}[/] {escape(step.title)}")
        if step.condition:
            console.print(f"   [dim]only if:[/dim] {escape(step.condition)}")
        console.print(f"   $ {escape(step.command)}" if step.command else "   (manual step)")
        if step.rollback:
            console.print(f"   [dim]rollback:[/dim] {escape(step.rollback)}")
        if step.risk_reasons:
            console.print(f"   [dim]why: {escape('; '.join(step.risk_reasons[:3]))}[/dim]")
    if rb.prerequisites:
        console.print("\n[bold]Prerequisites[/bold]: " + escape(", ".join(rb.prerequisites)))
    if rb.variables:
        names = [f"{v.name} ← {v.source or '?'}" for v in rb.variables]
        console.print("[bold]Variables[/bold]: " + escape(", ".join(names)))
    for amb in parsed.result.ambiguities:
        where = f"{amb.step_id}: " if amb.step_id else ""
        console.print(f"[yellow]ambiguous[/yellow] {escape(where + amb.message)}")


@app.command()
def classify(command: str, as_json: JsonOpt = False) -> None:
    """The risk of one shell command, with the reasons."""
    from domain.runbooks.risk import classify as assess

    verdict = assess(command)
    if as_json:
        typer.echo(json.dumps(verdict.model_dump(mode="json")))
        return
    console.print(f"{verdict.risk.value.upper()}: {escape(command)}")
    for reason in verdict.reasons:
        console.print(f"  - {escape(reason)}")


@app.command("import")
def import_dir(folder: Path) -> None:
    """Import a folder of Markdown (parsed) and YAML runbooks: a changed file is a new version."""
    from db.runbook_import import import_folder

    source = failures.folder(folder)  # a wrong path is told before the database is opened

    async def go(engine: AsyncEngine) -> int:
        report = await import_folder(engine, source)
        for item in report.files:
            note = f" ({item.ambiguities} ambiguities)" if item.ambiguities else ""
            console.print(
                f"{escape(item.path)} → {item.runbook_id} v{item.version}: {item.status}{note}"
            )
        for error in report.errors:
            console.print(f"[red]not imported:[/red] {escape(error)}")
        return 1 if report.errors else 0

    raise typer.Exit(failures.with_database(go))


# ----------------------------------------------------------------------------- runbooks


@runbooks_app.command("load")
def runbooks_load(folder: Path) -> None:
    """Load a folder of YAML runbooks; a changed file becomes a new version."""
    from db.runbooks import RunbookStore

    source = failures.folder(folder)  # a wrong path is told before the database is opened

    async def go(engine: AsyncEngine) -> int:
        report = await RunbookStore(engine).import_dir(source)
        for saved in report.saved:
            mark = "new version" if saved.created else "unchanged"
            console.print(f"{saved.runbook.id} v{saved.runbook.version}: {mark}")
        for error in report.errors:
            console.print(f"[red]not loaded:[/red] {escape(error)}")
        return 1 if report.errors else 0

    raise typer.Exit(failures.with_database(go))


@runbooks_app.command("list")
def runbooks_list(as_json: JsonOpt = False) -> None:
    """The latest version of every runbook in the database."""
    from db.runbooks import RunbookStore

    runbooks = failures.with_database(lambda engine: RunbookStore(engine).latest())
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in runbooks], indent=2))
        return
    table = Table("id", "version", "title", "steps")
    for r in runbooks:
        table.add_row(r.id, str(r.version), r.title, str(len(r.steps)))
    console.print(table)


# ----------------------------------------------------------------------------- matching

app.command("match")(match_command)
app.add_typer(mappings_app, name="mappings")


def main() -> None:
    """The `ddrun` entry point: run the command, then leave without interpreter finalisation.

    A short-lived process that used a Temporal client can abort in CPython's finalisation, when
    the client's native (Rust) threads release the GIL after it is gone (temporalio/sdk-python
    #300): a command that succeeded would then exit with SIGABRT. So output and logs are flushed
    and the process ends with the command's own exit code.
    """
    code: int = 0
    try:
        app()
    except SystemExit as done:
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
            code = 1
        else:
            code = done.code or 0
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
