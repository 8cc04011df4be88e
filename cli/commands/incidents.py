"""`ddrun incidents list|show`: read incidents through the API."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.commands.options import JsonOpt, console

incidents_app = typer.Typer(help="List and inspect incidents", no_args_is_help=True)


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
    import json

    from cli.api_client import Api
    from cli.incident_view import incidents_table
    from schemas.incident import IncidentSummary

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
    found = Api().call("GET", "/api/incidents", params=params)
    rows = [IncidentSummary.model_validate(r) for r in found]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    console().print(incidents_table(rows))


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
    from cli.api_client import Api
    from cli.incident_view import is_manual, print_state
    from schemas.incident import IncidentState
    from schemas.runbook import Runbook

    api = Api()
    state = IncidentState.model_validate(api.call("GET", f"/api/incidents/{incident_id}"))
    if as_json:
        typer.echo(state.model_dump_json(indent=2))
        return
    runbook = None
    if state.runbook and any(is_manual(s) for s in state.steps):
        found = api.get_or_none(
            f"/api/runbooks/{state.runbook}", params={"version": str(state.runbook_version)}
        )
        runbook = Runbook.model_validate(found) if found else None
    print_state(console(), state, runbook, timeline)


def register(app: typer.Typer) -> None:
    app.add_typer(incidents_app, name="incidents")
