"""Expected failures of the commands that reach a service or a file directly.

A person at 3am who mistyped an address or an id needs one line that says what is wrong and
what to do, and a non-zero exit; a hundred lines of traceback bury that line. Each helper here
turns the failures the environment can cause (service down, unreadable file, bad DSN) into
`cli.api_client.fail`'s one line. Anything else is a bug and keeps its traceback.

Imported by commands when they run: the database driver's errors are imported on first use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import typer

from cli.api_client import fail
from schemas.settings import Settings


def database_errors() -> tuple[type[BaseException], ...]:
    """What the database driver raises when the server is away or the DSN is wrong: connection
    refused (OSError), no such host, bad credentials, a URL sqlalchemy cannot parse or load."""
    from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

    return (OSError, OperationalError, InterfaceError, ArgumentError, NoSuchModuleError)


def temporal_down(settings: Settings, detail: str) -> typer.Exit:
    return fail(
        f"Temporal is not reachable at {settings.temporal_address} ({detail}). Is the stack "
        "running (`make run`)? Set DDRUN_TEMPORAL_ADDRESS if it is elsewhere."
    )


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:200]


def _connect_detail(err: BaseException) -> str:
    """The SDK's connect error is a Rust debug dump; the cause a person can act on is short."""
    text = str(err)
    for needle, said in (
        ("ConnectionRefused", "connection refused"),
        ("dns error", "unknown host"),
        ("timed out", "timed out"),
    ):
        if needle.lower() in text.lower():
            return said
    return _first_line(err)


def is_connect_failure(err: BaseException) -> bool:
    """Temporal's client raises a bare RuntimeError when it cannot connect."""
    return isinstance(err, RuntimeError) and str(err).startswith("Failed client connect")


def run_service(main: Coroutine[Any, Any, None]) -> None:
    """A long-running process (worker, agent): Temporal or the database unreachable is one
    line (the supervisor of `ddrun dev` shows a crash-looping part's last lines)."""
    settings = Settings()
    try:
        asyncio.run(main)
    except RuntimeError as err:
        if not is_connect_failure(err):
            raise
        raise temporal_down(settings, _connect_detail(err)) from None
    except database_errors() as err:
        raise database_down(settings.effective_database_url, err) from None


def _safe_url(url: str) -> str:
    """The DSN without its password, fit to print."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def database_down(url: str, err: BaseException) -> typer.Exit:
    return fail(
        f"the database is not reachable at {_safe_url(url)} ({_first_line(err)}). "
        "Set DDRUN_DATABASE_URL (default: SQLite under DDRUN_DATA_DIR)."
    )


def read_bytes(path: Path) -> bytes:
    """A file's bytes, or exit 2 with `cannot read FILE: why`."""
    try:
        return path.read_bytes()
    except OSError as err:
        raise fail(f"cannot read {path}: {err.strerror or err}", 2) from None


def read_text(path: Path) -> str:
    """A UTF-8 file's text, or exit 2 with `cannot read FILE: why`."""
    data = read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise fail(f"cannot read {path}: not UTF-8 text ({err.reason})", 2) from None


def folder(path: Path) -> Path:
    """A folder that exists, or exit 2 naming it."""
    if not path.is_dir():
        raise fail(f"no such folder: {path}", 2)
    return path
