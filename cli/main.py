"""`ddrun`: run the stack and act on incidents from a terminal.

This module and `cli/commands/` import only typer and plain enums at the top: each command
imports what it needs when it runs, so `ddrun --help` answers without loading the product
(database engine, Temporal client, matcher, LLM client). `bench/cli_startup.py` measures it;
`tests/cli/test_startup.py` keeps it so.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.commands import (
    actions,
    authoring,
    database,
    demo,
    export,
    identity,
    incident_command,
    incidents,
    killswitch,
    match,
    processes,
    runbooks,
)

HELP = (
    "dd0c/run: runbook automation and incident response.\n\n"
    "Every command that reads or writes the product's data talks to the running stack's HTTP "
    "API as the person whose token it holds; only dev, worker, agent, api, db and "
    "`users bootstrap-admin` reach Temporal or the database directly.\n\n"
    "One setting finds a `ddrun dev` stack: --stack DIR or DDRUN_DATA_DIR (default .ddrun), "
    "whose stack.json says where its API and Temporal listen.\n\n"
    "Settings: DDRUN_API_URL (default http://127.0.0.1:8080); DDRUN_TOKEN, else the token "
    "`ddrun login` saved, else DDRUN_DATA_DIR/admin.token (DDRUN_DATA_DIR defaults to .ddrun; "
    "`ddrun dev` writes it) for a loopback API; DDRUN_TEMPORAL_ADDRESS and DDRUN_DATABASE_URL "
    "for the processes and `ddrun db`."
)
app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _ddrun_version() -> str:
    from importlib.metadata import version

    return f"ddrun {version('ddrun')}"


def _version(show: bool) -> None:
    if show:
        typer.echo(_ddrun_version())
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


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(_ddrun_version())


for group in (
    processes,
    incidents,
    incident_command,
    actions,
    killswitch,
    runbooks,
    export,
    authoring,
    match,
    database,
    identity,
    demo,
):
    group.register(app)


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
