"""The export file: JSON Lines, one canonical record per line, the manifest as the last line.

A line that no longer parses stands in as its record, so verification still names it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from domain.audit.canonical import Record, canonical_json
from domain.audit.manifest import Manifest

PathOrFile = str | os.PathLike[str] | IO[str]


def write_jsonl(dest: PathOrFile, chain: Sequence[Mapping[str, Any]], manifest: Manifest) -> None:
    """Write records (one canonical JSON per line) and the manifest as the last line."""
    lines = [canonical_json(dict(r)).decode("utf-8") for r in chain]
    lines.append(canonical_json(manifest.model_dump(mode="json")).decode("utf-8"))
    text = "".join(line + "\n" for line in lines)
    if isinstance(dest, (str, os.PathLike)):
        Path(dest).write_text(text, encoding="utf-8", newline="\n")
    else:
        dest.write(text)


@dataclass(frozen=True)
class UnparseableRecord:
    """A file line that is not JSON; it stands in for its record so earlier ones are checked."""

    error: str


class ExportFileError(ValueError):
    """The file is not a readable export; `seq` is the record (= line) at fault, if any."""

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


def _read_text(src: PathOrFile) -> str:
    if isinstance(src, (str, os.PathLike)):
        return Path(src).read_bytes().decode("utf-8", errors="replace")
    return src.read()


def parse_export(src: PathOrFile) -> tuple[list[object], Manifest]:
    """Each record line parsed (or an UnparseableRecord), and the manifest from the last line."""
    text = _read_text(src)
    # Split on "\n" only: canonical JSON keeps U+2028 and friends raw inside strings.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ExportFileError("empty file: no records and no manifest")
    try:
        manifest = Manifest.model_validate_json(lines[-1])
    except ValidationError as exc:
        raise ExportFileError(
            f"the last line is not a valid manifest (file truncated or not an export): {exc}"
        ) from exc
    records: list[object] = []
    for line in lines[:-1]:
        try:
            records.append(json.loads(line))
        except ValueError as exc:
            records.append(UnparseableRecord(str(exc)))
    return records, manifest


def read_jsonl(src: PathOrFile) -> tuple[list[Record], Manifest]:
    """Records and manifest of an export file (raises ExportFileError when unreadable)."""
    records, manifest = parse_export(src)
    for number, record in enumerate(records, start=1):
        if isinstance(record, UnparseableRecord):
            raise ExportFileError(f"line {number} is not valid JSON: {record.error}", number)
        if not isinstance(record, dict):
            raise ExportFileError(f"line {number} is not a JSON object", number)
    return [r for r in records if isinstance(r, dict)], manifest
