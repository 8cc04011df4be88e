"""Several processes opening one fresh database at once all get the schema (CLI commands run
side by side on a new stack raced on create_all: "table runbook_versions already exists")."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.conftest import _drop_postgres_database, _postgres_database

REPO = Path(__file__).resolve().parents[2]
CREATE = (
    "import asyncio, sys\n"
    "from db.engine import create_schema, make_engine\n"
    "async def main():\n"
    "    engine = make_engine(sys.argv[1])\n"
    "    await create_schema(engine)\n"
    "    await engine.dispose()\n"
    "asyncio.run(main())\n"
)


async def _create_in_processes(url: str, n: int) -> list[tuple[int, str]]:
    async def one() -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CREATE, url,
            cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode(errors="replace")

    return await asyncio.gather(*(one() for _ in range(n)))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_concurrent_schema_creation_on_a_fresh_database(backend: str, tmp_path: Path) -> None:
    for round_ in range(2):  # the race is a window, so open it a few times
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path}/fresh-{round_}.db"
        else:
            url = await _postgres_database()
        try:
            results = await _create_in_processes(url, 8)
        finally:
            if backend == "postgres":
                await _drop_postgres_database(url)
        failed = [out for code, out in results if code != 0]
        assert not failed, failed[0]
