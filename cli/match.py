"""`ddrun match` (which runbook would this alert get, and how sure) and `ddrun mappings`.

`match` reads a raw payload of any supported source and runs the product's own matcher over a
folder of runbooks (parsed exactly as `ddrun import` parses them) or over the database's
runbooks and mappings. `mappings` manages the explicit rules that win over any inference.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from cli.api_client import Api
from cli.failures import read_bytes, with_database
from db.mappings import MappingStore, checked_selector
from db.runbook_import import MARKDOWN, YAML, runbook_from_source
from db.runbooks import RunbookStore
from domain.alerts.choose import RunbookMatcher
from domain.alerts.detect import AlertPayloadError, normalize_any
from domain.alerts.match import Mapping, selector_text
from domain.runbook_yaml import RunbookFileError
from domain.runbooks.errors import RunbookParseError
from schemas.alert import Alert, AlertSource
from schemas.incident import SelectedRunbook
from schemas.runbook import Runbook
from schemas.settings import Settings

console = Console()
errors = Console(stderr=True, soft_wrap=True)
mappings_app = typer.Typer(
    help="Explicit alert → runbook mappings (they win over every inference)",
    no_args_is_help=True,
)

T = TypeVar("T")
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output")]


def runbooks_in(folder: Path) -> tuple[dict[str, Runbook], list[str]]:
    """Every Markdown (parsed) and YAML runbook under `folder`, keyed by its relative path, and
    a message per file that could not be read as a runbook (skipped, never fatal)."""
    found: dict[str, Runbook] = {}
    problems: list[str] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (*MARKDOWN, *YAML):
            continue
        relative = path.relative_to(folder)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
            runbook, _ = runbook_from_source(text, relative)
        except (RunbookFileError, RunbookParseError, ValueError, OSError) as err:
            message = str(err).removeprefix(f"{relative}:").strip().splitlines()
            problems.append(f"{relative.as_posix()}: {(message or ['unreadable'])[0][:160]}")
            continue
        found[relative.as_posix()] = runbook
    return found, problems


async def _database_runbooks(engine: AsyncEngine) -> tuple[dict[str, Runbook], list[Mapping]]:
    runbooks = await RunbookStore(engine).latest()
    mappings = await MappingStore(engine).list()
    return {r.id: r for r in runbooks}, mappings


def _read_payload(alert_file: str) -> bytes:
    if alert_file == "-":
        return sys.stdin.buffer.read()
    return read_bytes(Path(alert_file))


def match_command(
    alert_file: Annotated[
        str, typer.Argument(help="Raw alert payload of any supported source (- for stdin)")
    ],
    runbooks: Annotated[
        Path | None,
        typer.Option(
            "--runbooks",
            help="Folder of Markdown/YAML runbooks (default: the database's runbooks and mappings)",
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
    settings = Settings()
    cut = settings.match_threshold if threshold is None else threshold
    raw = _read_payload(alert_file)
    try:
        alerts = normalize_any(raw, source, datetime.now(UTC))
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
        keyed, mappings = with_database(_database_runbooks)
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
            _print_choice(alert, matcher.choose(alert, mappings=mappings, threshold=cut), matcher)


def _key_of(selected: SelectedRunbook, matcher: RunbookMatcher) -> str:
    chosen = selected.runbook
    return next(
        (k for k, r in matcher.runbooks.items() if r is chosen), chosen.id if chosen else ""
    )


def _print_choice(alert: Alert, selected: SelectedRunbook, matcher: RunbookMatcher) -> None:
    console.print(
        f"[bold]{escape(alert.name)}[/bold] ({alert.source.value}, {alert.status.value}) "
        f"{escape(alert.title)}"
    )
    confidence = f"{selected.confidence:.2f}" if selected.confidence is not None else "-"
    if selected.runbook is None:
        console.print(f"  [yellow]no runbook[/yellow]  confidence {confidence}")
    else:
        console.print(
            f"  runbook [green]{escape(_key_of(selected, matcher))}[/green]  "
            f"confidence {confidence} ({selected.method})"
        )
    console.print(f"  [dim]{escape(selected.reason)}[/dim]")
    if selected.runbook is not None:
        filled = ", ".join(f"{k}={v}" for k, v in selected.variables.items()) or "none"
        console.print(f"  variables filled: {escape(filled)}")
        if selected.missing_variables:
            missing = ", ".join(selected.missing_variables)
            console.print(f"  [yellow]variables missing:[/yellow] {escape(missing)}")
    if selected.candidates:
        table = Table("candidate", "score", "why", box=None, padding=(0, 2))
        for candidate in selected.candidates:
            table.add_row(
                escape(candidate.runbook),
                f"{candidate.score:.2f}",
                escape("; ".join(candidate.reasons)),
            )
        console.print(table)


# ----------------------------------------------------------------------------- mappings


def _describe(mapping: Mapping) -> str:
    return selector_text(mapping.selector)


@mappings_app.command("list")
def mappings_list(as_json: JsonOpt = False) -> None:
    """Every mapping, oldest first."""
    found = [Mapping.model_validate(m) for m in Api().call("GET", "/api/mappings")]
    if as_json:
        typer.echo(json.dumps([m.model_dump(mode="json") for m in found], indent=2))
        return
    table = Table("id", "selector", "runbook", "by", "note")
    for m in found:
        table.add_row(
            str(m.id), escape(_describe(m)), escape(m.runbook), escape(m.created_by), escape(m.note)
        )
    console.print(table)


def _labels(pairs: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            errors.print(
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
    labels = _labels(label or [])
    try:
        checked_selector(alertname, service, labels)
    except ValueError as err:
        errors.print(f"[red]invalid selector:[/red] {escape(str(err))}")
        raise typer.Exit(2) from None
    selector = {"alertname": alertname, "service": service, "labels": labels}
    body = {"selector": selector, "runbook": runbook, "note": note}
    outcome = Mapping.model_validate(Api().call("POST", "/api/mappings", json=body))
    if as_json:
        typer.echo(outcome.model_dump_json(indent=2))
        return
    console.print(
        f"mapping #{outcome.id}: {escape(_describe(outcome))} → {escape(outcome.runbook)}"
    )


@mappings_app.command("remove")
def mappings_remove(mapping_id: Annotated[int, typer.Argument(help="The mapping's id")]) -> None:
    """Delete one mapping."""
    removed = Mapping.model_validate(Api().call("DELETE", f"/api/mappings/{mapping_id}"))
    console.print(
        f"removed mapping #{mapping_id}: {escape(_describe(removed))} → {escape(removed.runbook)}"
    )
