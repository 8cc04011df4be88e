"""Options several command groups share, and the console they print to (made on first use)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output")]
AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Only when the server runs with authentication off (local development): who acts. "
        "Otherwise the actor is the person your token belongs to.",
    ),
]


@cache
def console() -> Console:
    from rich.console import Console

    return Console()


def say(text: str) -> None:
    """Print text as it is (no rich markup read into it)."""
    from rich.markup import escape

    console().print(escape(text))


def escape(text: str) -> str:
    """`text` safe to print through rich (its markup characters escaped)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)
