"""What `ddrun match` runs: the product's own matcher over a folder of runbooks (parsed exactly
as `ddrun import` parses them) or over the stack's runbooks and mappings, and how it prints."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.api_client import Api
from cli.failures import read_bytes
from db.runbook_import import MARKDOWN, YAML, runbook_from_source
from domain.alerts.choose import RunbookMatcher
from domain.alerts.match import Mapping
from domain.runbook_yaml import RunbookFileError
from domain.runbooks.errors import RunbookParseError
from schemas.alert import Alert
from schemas.incident import SelectedRunbook
from schemas.runbook import Runbook

console = Console()


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


def stack_runbooks(api: Api) -> tuple[dict[str, Runbook], list[Mapping]]:
    """The running stack's runbooks (latest versions, by id) and mappings, through its API."""
    runbooks = [
        Runbook.model_validate(r) for r in api.call("GET", "/api/runbooks", params={"full": "true"})
    ]
    mappings = [Mapping.model_validate(m) for m in api.call("GET", "/api/mappings")]
    return {r.id: r for r in runbooks}, mappings


def read_payload(alert_file: str) -> bytes:
    if alert_file == "-":
        return sys.stdin.buffer.read()
    return read_bytes(Path(alert_file))


def _key_of(selected: SelectedRunbook, matcher: RunbookMatcher) -> str:
    chosen = selected.runbook
    return next(
        (k for k, r in matcher.runbooks.items() if r is chosen), chosen.id if chosen else ""
    )


def print_choice(alert: Alert, selected: SelectedRunbook, matcher: RunbookMatcher) -> None:
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
