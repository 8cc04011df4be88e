"""Every command that reaches Temporal, the database, the API or a file directly, run against a
closed port, a bad DSN or a missing file: one line saying what to do, a non-zero exit, and no
traceback (issue #19, item 6). Real processes, real sockets; nothing is mocked.

Commands on the product's data go through the API (issue #13), so an unreachable API is what
they report; only the processes, `ddrun db` and `users bootstrap-admin` reach a service
directly."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from tests.harness import run_cli
from tests.support import CORPUS, REPO

ALERT = CORPUS / "alertmanager-webhooks" / "15-default-payments-KubePodCrashLooping-firing.json"


def _closed_port() -> int:
    """A port nothing listens on: bound once to get a free number, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _ddrun(env: dict[str, str], *args: str) -> tuple[int, str]:
    code, out, err = await run_cli(*args, env=env, stderr_apart=True)
    return code, out + err


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    port = _closed_port()
    return {
        **os.environ,
        "DDRUN_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "DDRUN_API_URL": f"http://127.0.0.1:{port}",
        "DDRUN_DATABASE_URL": database_url,
        "DDRUN_DATA_DIR": str(tmp_path / "data"),
        "DDRUN_TOKEN": "ddr_x_y",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "COLUMNS": "80",  # narrow: a message must not be hard-wrapped into several lines
    }


def _assert_one_line(code: int, output: str, expected: str, what: str) -> None:
    assert "Traceback" not in output, f"{what}: {output}"
    assert code != 0, f"{what} exited 0: {output}"
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, f"{what}: expected one line, got {lines}"
    assert expected in lines[0], f"{what}: {lines[0]!r} lacks {expected!r}"


async def test_unreachable_services_are_one_line_each(tmp_path: Path) -> None:
    down = f"postgresql+asyncpg://nobody@127.0.0.1:{_closed_port()}/nothing"
    env = _env(tmp_path, down)
    runbooks = str(REPO / "runbooks")
    cases: list[tuple[tuple[str, ...], str]] = [
        (("db", "current"), "DDRUN_DATABASE_URL"),
        (("db", "upgrade"), "DDRUN_DATABASE_URL"),
        (("export", "incident-x", "-o", str(tmp_path / "x.jsonl")), "DDRUN_API_URL"),
        (("export", "--since", "7d", "-o", str(tmp_path / "q")), "DDRUN_API_URL"),
        (("worker",), "is not reachable"),
        (("agent",), "DDRUN_TEMPORAL_ADDRESS"),
        (("runbooks", "list"), "DDRUN_API_URL"),
        (("runbooks", "load", runbooks), "DDRUN_API_URL"),
        (("import", runbooks), "DDRUN_API_URL"),
        (("match", str(ALERT)), "DDRUN_API_URL"),
        (("users", "bootstrap-admin"), "DDRUN_DATABASE_URL"),
        (("incidents", "show", "incident-x"), "DDRUN_API_URL"),
        (("incidents", "list"), "DDRUN_API_URL"),
        (("approve", "incident-x", "fix"), "DDRUN_API_URL"),
        (("run", "rb", "--dry-run", "--alert", str(ALERT)), "DDRUN_API_URL"),
        (
            ("run", runbooks + "/demo-disk-full.yml", "--dry-run", "--alert", str(ALERT)),
            "DDRUN_API_URL",
        ),
    ]
    results = await asyncio.gather(*(_ddrun(env, *args) for args, _ in cases))
    for (args, expected), (code, output) in zip(cases, results, strict=True):
        _assert_one_line(code, output, expected, " ".join(args))
    assert "nobody@127.0.0.1" in results[0][1]  # names the database it tried
    assert "nobody@127.0.0.1" in results[1][1]


@pytest.mark.parametrize(
    "database_url", ["not a url", "nosuchdriver://x/y", "sqlite+aiosqlite:////proc/none/x.db"]
)
async def test_bad_database_urls_are_one_line(tmp_path: Path, database_url: str) -> None:
    code, output = await _ddrun(_env(tmp_path, database_url), "db", "current")
    _assert_one_line(code, output, "DDRUN_DATABASE_URL", database_url)


async def test_unreadable_files_are_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/db.sqlite")
    missing = str(tmp_path / "missing.jsonl")
    cases: list[tuple[tuple[str, ...], str]] = [
        (("export", "verify", missing), f"cannot read {missing}"),
        (("export", "verify", str(tmp_path)), f"cannot read {tmp_path}"),
        (("parse", missing), f"cannot read {missing}"),
        (("match", missing, "--runbooks", str(REPO / "runbooks")), f"cannot read {missing}"),
        (("runbooks", "load", missing), f"no such folder: {missing}"),
        (("import", missing), f"no such folder: {missing}"),
    ]
    results = await asyncio.gather(*(_ddrun(env, *args) for args, _ in cases))
    for (args, expected), (code, output) in zip(cases, results, strict=True):
        _assert_one_line(code, output, expected, " ".join(args))
        assert code == 2, f"{args}: {code}"
        assert "TAMPERED" not in output
