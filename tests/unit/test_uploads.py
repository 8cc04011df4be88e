"""What `ddrun import` / `runbooks load` upload: the runbook files of a folder, relative paths,
in batches that stay under the limit (one oversized file alone), nothing lost or reordered."""

from __future__ import annotations

import json
from pathlib import Path

from cli.uploads import batches, runbook_files


def test_runbook_files_are_relative_sorted_and_filtered(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "b.md").write_text("# b")
    (tmp_path / "a.yml").write_text("id: a")
    (tmp_path / "c.YAML").write_text("id: c")
    (tmp_path / "notes.txt").write_text("not a runbook")
    assert [f["path"] for f in runbook_files(tmp_path)] == ["a.yml", "c.YAML", "team/b.md"]
    assert [f["path"] for f in runbook_files(tmp_path, yaml_only=True)] == ["a.yml", "c.YAML"]


def test_batches_stay_under_the_limit_and_keep_every_file_in_order() -> None:
    files = [{"path": f"{n}.md", "text": "x" * (50 * n)} for n in range(1, 40)]
    files.insert(10, {"path": "huge.md", "text": "y" * 5000})
    limit = 1000
    sent = list(batches(files, limit))
    assert [f for batch in sent for f in batch] == files
    for batch in sent:
        size = sum(len(json.dumps(f)) for f in batch)
        assert size <= limit or len(batch) == 1, batch
    assert ["huge.md"] in [[f["path"] for f in batch] for batch in sent]  # alone
