"""A runbook folder on this machine, read for upload to the API (`ddrun import`, `runbooks load`).

Files travel in batches of at most 128 KiB, well under the API's body limit (DDRUN_MAX_BODY_BYTES,
1 MiB by default); a file larger than a batch travels alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from domain.runbook_files import is_runbook_file, is_yaml_file

BATCH_BYTES = 128 * 1024


def runbook_files(folder: Path, *, yaml_only: bool = False) -> list[dict[str, str]]:
    """Every runbook file under `folder` (Markdown and YAML, or YAML only), sorted, as
    {"path": relative POSIX path, "text": its text}."""
    keep = is_yaml_file if yaml_only else is_runbook_file
    return [
        {
            "path": path.relative_to(folder).as_posix(),
            "text": path.read_text(encoding="utf-8", errors="replace"),
        }
        for path in sorted(folder.rglob("*"))
        if path.is_file() and keep(path.name)
    ]


def batches(
    files: list[dict[str, str]], limit: int = BATCH_BYTES
) -> Iterator[list[dict[str, str]]]:
    batch: list[dict[str, str]] = []
    size = 0
    for file in files:
        cost = len(json.dumps(file).encode("utf-8"))
        if batch and size + cost > limit:
            yield batch
            batch, size = [], 0
        batch.append(file)
        size += cost
    if batch:
        yield batch
