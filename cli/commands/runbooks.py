"""`ddrun import`, `ddrun runbooks …` and `ddrun run RUNBOOK --dry-run`, all through the API: the
runbooks the running stack sees are the ones these commands read and write."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.commands.options import AsOpt, JsonOpt, console
from schemas.enums import Mode

if TYPE_CHECKING:
    from cli.api_client import Api
    from schemas.incident import IncidentState

runbooks_app = typer.Typer(help="Manage the stack's runbooks", no_args_is_help=True)
#: How long one request waits for a dry run's end before asking again.
RESULT_WAIT_S = 20


def import_dir(folder: Path) -> None:
    """Import a folder of Markdown (parsed) and YAML runbooks: a changed file is a new version."""
    from rich.markup import escape

    from cli import failures
    from cli.api_client import Api
    from cli.uploads import batches, runbook_files

    files = runbook_files(failures.folder(folder))  # a wrong path is told before any request
    api = Api()
    failed = False
    for batch in batches(files):
        report = api.call("POST", "/api/runbooks/import", json={"files": batch})
        for item in report["files"]:
            note = f" ({item['ambiguities']} ambiguities)" if item["ambiguities"] else ""
            console().print(
                f"{escape(item['path'])} → {item['runbook_id']} v{item['version']}: "
                f"{item['status']}{note}"
            )
        for error in report["errors"]:
            console().print(f"[red]not imported:[/red] {escape(error)}")
        failed = failed or bool(report["errors"])
    raise typer.Exit(1 if failed else 0)


@runbooks_app.command("load")
def runbooks_load(folder: Path) -> None:
    """Load a folder of YAML runbooks; a changed file becomes a new version."""
    from rich.markup import escape

    from cli import failures
    from cli.api_client import Api
    from cli.uploads import batches, runbook_files

    source = failures.folder(folder)  # a wrong path is told before any request
    files = [{**f, "path": str(source / f["path"])} for f in runbook_files(source, yaml_only=True)]
    api = Api()
    failed = False
    for batch in batches(files):
        report = api.call("POST", "/api/runbooks/load", json={"files": batch})
        for saved in report["saved"]:
            mark = "new version" if saved["created"] else "unchanged"
            console().print(f"{saved['id']} v{saved['version']}: {mark}")
        for error in report["errors"]:
            console().print(f"[red]not loaded:[/red] {escape(error)}")
        failed = failed or bool(report["errors"])
    raise typer.Exit(1 if failed else 0)


@runbooks_app.command("list")
def runbooks_list(as_json: JsonOpt = False) -> None:
    """The latest version of every runbook the stack holds."""
    import json

    from rich.table import Table

    from cli.api_client import Api

    runbooks = Api().call("GET", "/api/runbooks", params={"full": "true"})
    if as_json:
        typer.echo(json.dumps(runbooks, indent=2))
        return
    table = Table("id", "version", "title", "steps")
    for r in runbooks:
        table.add_row(r["id"], str(r["version"]), r["title"], str(len(r["steps"])))
    console().print(table)


@runbooks_app.command("trust")
def runbooks_trust(runbook: str, as_json: JsonOpt = False) -> None:
    """A runbook's mode, an open promotion suggestion, and every change with who and why."""
    import json

    from rich.markup import escape

    from cli.api_client import Api

    view = Api().call("GET", f"/api/runbooks/{runbook}/trust")
    if as_json:
        typer.echo(json.dumps(view, indent=2))
        return
    trust = view["trust"]
    console().print(f"{escape(runbook)}: {trust['mode']} — {escape(trust['reason'])}")
    if trust.get("suggestion"):
        console().print(f"[yellow]suggestion:[/yellow] {escape(trust['suggestion'])}")
    for change in view["history"]:
        console().print(
            f"  {change['at']} {change['kind']} → {change['mode']} by "
            f"{escape(change['actor'])}: {escape(change['reason'])}"
        )


def _trust(runbook: str, body: dict[str, str], as_: str | None) -> str:
    from rich.markup import escape

    from cli.api_client import Api

    view = Api(actor=as_).call("POST", f"/api/runbooks/{runbook}/trust", json=body)
    return escape(str(view["history"][-1]["actor"]) if view["history"] else "?")


@runbooks_app.command("promote")
def runbooks_promote(
    runbook: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Promote a runbook to autopilot (admins): safe and caution steps run on their own."""
    who = _trust(runbook, {"action": "promote", "reason": reason}, as_)
    console().print(f"{_escape(runbook)} promoted to autopilot by {who}")


@runbooks_app.command("decline")
def runbooks_decline(
    runbook: str,
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Decline the open promotion suggestion."""
    who = _trust(runbook, {"action": "decline", "reason": reason}, as_)
    console().print(f"promotion of {_escape(runbook)} declined by {who}")


@runbooks_app.command("set-mode")
def runbooks_set_mode(
    runbook: str,
    new_mode: Annotated[Mode, typer.Argument(metavar="MODE", help="read-along or copilot")],
    as_: AsOpt = None,
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Set a runbook to read-along or copilot (autopilot only by promotion)."""
    who = _trust(runbook, {"action": "set", "mode": new_mode.value, "reason": reason}, as_)
    console().print(f"{_escape(runbook)} set to {new_mode.value} by {who}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _is_file(runbook: str) -> bool:
    """A runbook argument names a file when one exists there or it ends like a runbook file."""
    from domain.runbook_files import is_runbook_file

    return Path(runbook).is_file() or is_runbook_file(runbook)


def run(
    runbook: Annotated[str, typer.Argument(help="A runbook id, or a runbook file (.md, .yml)")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Execute nothing")] = False,
    alert: Annotated[Path | None, typer.Option(help="Alert payload (any source)")] = None,
    incident: Annotated[str | None, typer.Option(help="Use a live incident's alert")] = None,
    with_safe_reads: Annotated[
        bool, typer.Option("--with-safe-reads", help="Dry run: safe reads run for real")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Walk a runbook with an alert's values through the incident workflow, executing nothing.

    RUNBOOK is one of the stack's runbook ids, or a runbook file (.md, .yml) not imported yet.
    """
    from rich.markup import escape

    from cli import failures
    from cli.api_client import Api

    if not dry_run:
        raise typer.BadParameter("only --dry-run is supported: real runs start from alerts")
    if (alert is None) == (incident is None):
        raise typer.BadParameter("give exactly one of --alert FILE or --incident ID")
    api = Api()
    if _is_file(runbook):
        path = Path(runbook)
        body = {
            "runbook_path": path.name,
            "runbook_text": failures.read_text(path),
            "alert_payload": failures.read_text(alert) if alert is not None else None,
            "incident": incident,
            "with_safe_reads": with_safe_reads,
        }
        started = api.call("POST", "/api/runbooks/dry-run", json=body)
    else:
        params: dict[str, str] = {"with_safe_reads": str(with_safe_reads).lower()}
        content = b""
        if incident is not None:
            params["incident"] = incident
        elif alert is not None:
            content = failures.read_bytes(alert)
        started = api.call(
            "POST", f"/api/runbooks/{runbook}/dry-run", params=params, content=content
        )
    state = _result(api, started["incident_id"])
    if as_json:
        typer.echo(state.model_dump_json(indent=2))
        return
    console().print(f"[bold]DRY RUN[/bold] {escape(state.id)} — mode {state.mode.value}")
    for number, s in enumerate(state.steps, 1):
        console().print(f"{number}. [{s.risk.value}] {escape(s.title)}: {escape(s.note)}")


def _result(api: Api, incident_id: str) -> IncidentState:
    """The workflow's result, asked for again while it runs."""
    from schemas.incident import IncidentState

    while True:
        answer = api.call(
            "GET", f"/api/incidents/{incident_id}/result", params={"wait_s": str(RESULT_WAIT_S)}
        )
        if answer["done"]:
            return IncidentState.model_validate(answer["state"])


def register(app: typer.Typer) -> None:
    app.command("import")(import_dir)
    app.add_typer(runbooks_app, name="runbooks")
    app.command()(run)
