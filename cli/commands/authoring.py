"""`ddrun parse` and `ddrun classify`: authoring aids that work on text on this machine (no stack
needed; `parse` may ask the configured LLM)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.commands.options import JsonOpt, console


def parse(
    file: Annotated[str, typer.Argument(help="Markdown/prose runbook file, or - for stdin")],
    as_json: JsonOpt = False,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Deterministic parser only")] = False,
) -> None:
    """Turn a prose or Markdown runbook into structured, risk-classified steps."""
    import asyncio
    import json
    import sys
    from pathlib import Path

    from rich.markup import escape

    from cli import failures
    from domain.runbooks.errors import RunbookParseError
    from schemas.settings import Settings
    from services.parsing import parse_text

    text = sys.stdin.read() if file == "-" else failures.read_text(Path(file))
    name = None if file == "-" else Path(file).name
    try:
        parsed = asyncio.run(
            parse_text(text, source_name=name, settings=Settings(), use_llm=not no_llm)
        )
    except RunbookParseError as err:
        console().print(f"[red]cannot parse:[/red] {escape(str(err))}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(parsed.to_json_dict(), indent=2))
        return
    out = console()
    rb = parsed.result.runbook
    colour = {"safe": "green", "caution": "yellow", "dangerous": "red"}
    out.print(f"[bold]{escape(rb.title)}[/bold]  ({escape(parsed.llm.message)})")
    for number, step in enumerate(rb.steps, 1):
        risk = step.risk.value
        out.print(f"\n{number}. [{colour[risk]}]{risk.upper()}[/] {escape(step.title)}")
        if step.source_lines:
            first, last = step.source_lines
            where = f"line {first}" if first == last else f"lines {first}-{last}"
            out.print(f"   [dim]from {where} of the text[/dim]")
        if step.condition:
            out.print(f"   [dim]only if:[/dim] {escape(step.condition)}")
        if step.require_approval:
            out.print("   [dim]needs approval (the runbook says so)[/dim]")
        out.print(f"   $ {escape(step.command)}" if step.command else "   (manual step)")
        if step.rollback:
            note = " [dim](suggested, not in the text)[/dim]" if step.rollback_inferred else ""
            out.print(f"   [dim]rollback:[/dim] {escape(step.rollback)}{note}")
        if step.risk_reasons:
            out.print(f"   [dim]why: {escape('; '.join(step.risk_reasons[:3]))}[/dim]")
    if rb.prerequisites:
        out.print("\n[bold]Prerequisites[/bold]: " + escape(", ".join(rb.prerequisites)))
    if rb.variables:
        names = [f"{v.name} ← {v.source or '?'}" for v in rb.variables]
        out.print("[bold]Variables[/bold]: " + escape(", ".join(names)))
    for amb in parsed.result.ambiguities:
        where = f"{amb.step_id}: " if amb.step_id else ""
        out.print(f"[yellow]ambiguous[/yellow] {escape(where + amb.message)}")


def classify(command: str, as_json: JsonOpt = False) -> None:
    """The risk of one shell command, with the reasons."""
    import json

    from rich.markup import escape

    from domain.runbooks.risk import classify as assess

    verdict = assess(command)
    if as_json:
        typer.echo(json.dumps(verdict.model_dump(mode="json")))
        return
    console().print(f"{verdict.risk.value.upper()}: {escape(command)}")
    for reason in verdict.reasons:
        console().print(f"  - {escape(reason)}")


def register(app: typer.Typer) -> None:
    app.command()(parse)
    app.command()(classify)
