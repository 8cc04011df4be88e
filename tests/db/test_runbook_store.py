"""Runbook versions on SQLite and PostgreSQL: a change is a new version, no change is none."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.runbooks import RunbookStore
from domain.runbook_yaml import RunbookFileError, runbook_from_yaml
from schemas.runbook import Runbook
from tests.harness import unique
from tests.support import REPO

pytestmark = pytest.mark.postgres


def _runbook(rid: str, command: str = "echo a") -> Runbook:
    return Runbook.model_validate(
        {
            "id": rid,
            "title": "T",
            "selectors": [{"alertname": rid}],
            "steps": [{"id": "s", "title": "S", "command": command, "risk": "safe"}],
        }
    )


async def test_saving_unchanged_content_makes_no_new_version(engine: AsyncEngine) -> None:
    store = RunbookStore(engine)
    rid = unique("rb-")
    first = await store.save(_runbook(rid))
    same = await store.save(_runbook(rid))
    changed = await store.save(_runbook(rid, "echo b"))
    assert (first.created, first.runbook.version) == (True, 1)
    assert (same.created, same.runbook.version) == (False, 1)
    assert (changed.created, changed.runbook.version) == (True, 2)
    latest = await store.get(rid)
    assert latest is not None
    assert latest.version == 2
    assert latest.steps[0].command == "echo b"
    old = await store.get(rid, 1)
    assert old is not None
    assert old.steps[0].command == "echo a"
    assert rid in [r.id for r in await store.latest()]


async def test_concurrent_saves_get_distinct_versions(engine: AsyncEngine) -> None:
    store = RunbookStore(engine)
    rid = unique("race-")
    saved = await asyncio.gather(*(store.save(_runbook(rid, f"echo {i}")) for i in range(5)))
    assert sorted(s.runbook.version for s in saved) == [1, 2, 3, 4, 5]


async def test_example_runbooks_import_idempotently(private_engine: AsyncEngine) -> None:
    store = RunbookStore(private_engine)
    folder = REPO / "runbooks"
    first = await store.import_dir(folder)
    again = await store.import_dir(folder)
    assert len(first.saved) >= 4
    assert first.errors == again.errors == []
    assert not any(s.created for s in again.saved)


async def test_a_broken_file_is_reported_and_the_rest_still_load(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    rid = unique("good-")
    (tmp_path / "good.yml").write_text(
        f"id: {rid}\ntitle: Good\nsteps:\n  - {{id: a, title: A, command: echo a}}\n"
    )
    (tmp_path / "bad.yaml").write_text("id: bad\ntitle: [unclosed\n")
    report = await RunbookStore(engine).import_dir(tmp_path)
    assert [s.runbook.id for s in report.saved] == [rid]
    assert len(report.errors) == 1
    assert "bad.yaml" in report.errors[0]


def test_bad_yaml_names_the_file_and_the_field(tmp_path: Path) -> None:
    with pytest.raises(RunbookFileError, match=r"x.yml: steps.0.risk"):
        runbook_from_yaml(
            "id: x\ntitle: X\nsteps:\n  - {id: a, title: A, risk: reckless}\n", "x.yml"
        )
    with pytest.raises(RunbookFileError, match="duplicate step ids"):
        runbook_from_yaml(
            "id: x\ntitle: X\nsteps:\n  - {id: a, title: A}\n  - {id: a, title: B}\n", "x.yml"
        )


async def test_hot_path_cache_reuses_the_latest_set_for_its_freshness_window(
    engine: AsyncEngine,
) -> None:
    writer = RunbookStore(engine)
    cached = RunbookStore(engine, fresh_for_s=3600)
    first = unique("cache-")
    await writer.save(_runbook(first))
    assert first in [r.id for r in await cached.latest()]
    second = unique("cache-")
    await writer.save(_runbook(second))
    assert second not in [r.id for r in await cached.latest()]  # within the window: no query
    assert second in [r.id for r in await RunbookStore(engine).latest()]
