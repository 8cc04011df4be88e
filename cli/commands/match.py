"""`ddrun match` (which runbook would this alert get, and how sure) and `ddrun mappings`.

`match` reads a raw payload of any supported source and runs the product's own matcher over a
folder of runbooks or over the running stack's runbooks and mappings (read through its API).
`mappings` manages the explicit rules that win over any inference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.commands.options import JsonOpt, console, escape
from schemas.enums import AlertSource

mappings_app = typer.Typer(
    help="Explicit alert → runbook mappings (they win over every inference)",
    no_args_is_help=True,
)


def _errors() -> Any:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def match_command(
    alert_file: Annotated[
        str, typer.Argument(help="Raw alert payload of any supported source (- for stdin)")
    ],
    runbooks: Annotated[
        Path | None,
        typer.Option(
            "--runbooks",
            help="Folder of Markdown/YAML runbooks (default: the stack's runbooks and mappings)",
            file_okay=False,
        ),
    ] = None,
    source: Annotated[
        AlertSource | None,
        typer.Option("--source", help="The payload's source (default: detected)"),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            min=0.0,
            max=1.0,
            help="Below this confidence no runbook matched (default: DDRUN_MATCH_THRESHOLD)",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Which runbook an alert payload gets, how sure the matcher is, and the runners-up.

    --json prints {"runbook": <path relative to DIR, or the runbook id>, "confidence", "candidates":
    [{"runbook", "score", "reasons"}]}; a payload with several alerts prints one such object
    per alert, one per line.
    """
    import json
    from datetime import UTC, datetime

    from cli.api_client import Api
    from cli.match import print_choice, read_payload, runbooks_in, stack_runbooks
    from domain.alerts.choose import RunbookMatcher
    from domain.alerts.detect import AlertPayloadError, normalize_any
    from domain.alerts.match import Mapping
    from schemas.alert import AlertSource as Source
    from schemas.settings import Settings

    errors = _errors()
    settings = Settings()
    cut = settings.match_threshold if threshold is None else threshold
    raw = read_payload(alert_file)
    try:
        alerts = normalize_any(raw, Source(source) if source else None, datetime.now(UTC))
    except AlertPayloadError as err:
        errors.print(f"[red]not an alert payload:[/red] {escape(str(err))}")
        raise typer.Exit(2) from None
    if not alerts:
        errors.print("[red]the payload holds no alerts[/red]")
        raise typer.Exit(2)
    mappings: list[Mapping] = []
    if runbooks is not None:
        if not runbooks.is_dir():
            errors.print(f"[red]no such folder:[/red] {escape(str(runbooks))}")
            raise typer.Exit(2)
        keyed, problems = runbooks_in(runbooks)
        for problem in problems:
            errors.print(f"[yellow]skipped[/yellow] {escape(problem)}")
        if not keyed:
            errors.print(f"[red]no runbooks found under {escape(str(runbooks))}[/red]")
            raise typer.Exit(1)
    else:
        keyed, mappings = stack_runbooks(Api())
    matcher = RunbookMatcher(keyed)
    for alert in alerts:
        if as_json:
            result = matcher.match(alert, mappings=mappings, threshold=cut)
            out: dict[str, Any] = {
                "runbook": result.runbook,
                "confidence": result.confidence,
                "candidates": [c.model_dump(mode="json") for c in result.candidates],
            }
            typer.echo(json.dumps(out))
        else:
            print_choice(alert, matcher.choose(alert, mappings=mappings, threshold=cut), matcher)


@mappings_app.command("list")
def mappings_list(as_json: JsonOpt = False) -> None:
    """Every mapping, oldest first."""
    import json

    from rich.table import Table

    from cli.api_client import Api
    from domain.alerts.match import Mapping, selector_text

    found = [Mapping.model_validate(m) for m in Api().call("GET", "/api/mappings")]
    if as_json:
        typer.echo(json.dumps([m.model_dump(mode="json") for m in found], indent=2))
        return
    table = Table("id", "selector", "runbook", "by", "note")
    for m in found:
        table.add_row(
            str(m.id),
            escape(selector_text(m.selector)),
            escape(m.runbook),
            escape(m.created_by),
            escape(m.note),
        )
    console().print(table)


def _labels(pairs: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _errors().print(
                f"[red]--label takes NAME=VALUE (or NAME=~REGEX), got {escape(pair)!r}[/red]"
            )
            raise typer.Exit(2)
        labels[key] = value
    return labels


@mappings_app.command("add")
def mappings_add(
    runbook: Annotated[str, typer.Argument(help="The runbook id alerts should get")],
    alertname: Annotated[str | None, typer.Option(help="Alert name, exactly")] = None,
    service: Annotated[str | None, typer.Option(help="Service, exactly")] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="NAME=VALUE or NAME=~REGEX (repeatable)"),
    ] = None,
    note: Annotated[str, typer.Option(help="Why")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Send alerts matching the selector to RUNBOOK, whatever the matcher would infer
    (recorded as added by the person whose token the CLI holds)."""
    from cli.api_client import Api
    from db.mappings import checked_selector
    from domain.alerts.match import Mapping, selector_text

    labels = _labels(label or [])
    try:
        checked_selector(alertname, service, labels)
    except ValueError as err:
        _errors().print(f"[red]invalid selector:[/red] {escape(str(err))}")
        raise typer.Exit(2) from None
    selector = {"alertname": alertname, "service": service, "labels": labels}
    body = {"selector": selector, "runbook": runbook, "note": note}
    outcome = Mapping.model_validate(Api().call("POST", "/api/mappings", json=body))
    if as_json:
        typer.echo(outcome.model_dump_json(indent=2))
        return
    console().print(
        f"mapping #{outcome.id}: {escape(selector_text(outcome.selector))} → "
        f"{escape(outcome.runbook)}"
    )


@mappings_app.command("remove")
def mappings_remove(mapping_id: Annotated[int, typer.Argument(help="The mapping's id")]) -> None:
    """Delete one mapping."""
    from cli.api_client import Api
    from domain.alerts.match import Mapping, selector_text

    removed = Mapping.model_validate(Api().call("DELETE", f"/api/mappings/{mapping_id}"))
    console().print(
        f"removed mapping #{mapping_id}: {escape(selector_text(removed.selector))} → "
        f"{escape(removed.runbook)}"
    )


def register(app: typer.Typer) -> None:
    app.command("match")(match_command)
    app.add_typer(mappings_app, name="mappings")
