"""`ddrun import DIR`: Markdown and YAML runbooks, a new version only when a file changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.runbook_import import SourceStore, import_folder, runbook_id_for
from db.runbooks import RunbookStore
from tests.harness import unique
from tests.support import CORPUS

pytestmark = pytest.mark.postgres


async def test_import_versions_only_changed_files(engine: AsyncEngine, tmp_path: Path) -> None:
    folder = tmp_path / unique("docs")
    (folder / "node").mkdir(parents=True)
    for name in ("NodeClockNotSynchronising.md", "NodeFilesystemSpaceFillingUp.md"):
        shutil.copy(CORPUS / "prometheus-operator-runbooks" / "node" / name, folder / "node")
    shutil.copy(Path(__file__).resolve().parents[2] / "runbooks" / "target-down.yml", folder)
    first = await import_folder(engine, folder)
    assert first.errors == []
    assert sorted(f.status for f in first.files) == ["new", "new", "new"]
    again = await import_folder(engine, folder)
    assert [f.status for f in again.files] == ["unchanged"] * 3

    edited = folder / "node" / "NodeClockNotSynchronising.md"
    edited.write_text(edited.read_text() + "\n- Restart chrony: `systemctl restart chronyd`\n")
    third = await import_folder(engine, folder)
    statuses = {f.path: (f.status, f.version) for f in third.files}
    assert statuses["node/NodeClockNotSynchronising.md"] == ("changed", 2)
    assert statuses["target-down.yml"] == ("unchanged", 1)

    rid = runbook_id_for(Path("node/NodeClockNotSynchronising.md"))
    source = await SourceStore(engine).latest(rid)
    assert source is not None
    assert "+- Restart chrony" in source.diff
    latest = await RunbookStore(engine).get(rid)
    assert latest is not None
    assert latest.version == 2
    assert any(s.command == "systemctl restart chronyd" for s in latest.steps)
