"""`ddrun export`: audit evidence from the API (one incident, or a period), and `export verify`,
which checks a file on this machine and needs nothing running."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.commands.options import console

#: A period's export can take a while on a big installation: one request, generously timed.
PERIOD_TIMEOUT_S = 600.0


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
    if target == "verify":
        if file is None:
            raise typer.BadParameter("verify needs the export FILE")
        _verify(file)
        return
    if fmt not in ("json", "csv", "pdf"):
        raise typer.BadParameter("format must be json, csv or pdf")
    if target is None:
        if not (since and output):
            raise typer.BadParameter("give INCIDENT, or --since (and --until) and -o DIR")
        _period(since, until, fmt, output)
        return
    if output is None:
        raise typer.BadParameter("-o FILE is required")
    _one(target, run_id, fmt, output)


def _verify(file: Path) -> None:
    from rich.markup import escape

    from cli.api_client import fail
    from domain.audit.chain import verify_file
    from schemas.settings import Settings

    settings = Settings()
    key = settings.export_signing_key
    try:
        # Unreadable is not tampered: open first; decode as verify_file does for a path.
        with file.open(encoding="utf-8", errors="replace", newline="") as opened:
            result = verify_file(opened, key.get_secret_value().encode() if key else None)
    except OSError as err:
        raise fail(f"cannot read {file}: {err.strerror or err}", 2) from None
    if result.ok:
        console().print(f"OK: {escape(result.reason)}")
        return
    where = f" at record {result.first_bad_seq}" if result.first_bad_seq else ""
    console().print(f"[red]TAMPERED{where}:[/red] {escape(result.reason)}")
    raise typer.Exit(1)


def _period(since: str, until: str | None, fmt: str, output: Path) -> None:
    import io
    import json
    import zipfile

    from rich.markup import escape

    from cli.api_client import Api, fail
    from cli.period import period

    start, end = period(since, until)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise fail(f"cannot write to {output}: {err.strerror or err}", 2) from None
    params = {"since": start.isoformat(), "until": end.isoformat(), "format": fmt}
    bundle = Api().call("GET", "/api/exports", params=params, timeout=PERIOD_TIMEOUT_S)
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            for name in archive.namelist():
                (output / Path(name).name).write_bytes(archive.read(name))
        count = json.loads((output / "index.json").read_text(encoding="utf-8"))["count"]
    except OSError as err:
        raise fail(f"cannot write to {output}: {err.strerror or err}", 2) from None
    console().print(
        f"{count} incident(s) started {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} "
        f"UTC exported to {escape(str(output))}"
    )


def _one(incident_id: str, run_id: str | None, fmt: str, output: Path) -> None:
    import io
    import json
    import zipfile

    from cli.api_client import Api, fail

    params = {"format": fmt, **({"run_id": run_id} if run_id else {})}
    bundle = Api().call(
        "GET", f"/api/incidents/{incident_id}/export/bundle", params=params, timeout=120
    )
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        files = [(output, archive.read("export"))]
        if "history.json" in archive.namelist():
            history = output.with_name(output.name + ".history.json")
            files.append((history, archive.read("history.json")))
    try:
        for path, data in files:
            path.write_bytes(data)
    except OSError as err:
        raise fail(f"cannot write {output}: {err.strerror or err}", 2) from None
    console().print(
        f"{manifest['record_count']} records, final hash "
        f"{manifest['final_hash'][:16]}… → {', '.join(str(p) for p, _ in files)}"
    )


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
