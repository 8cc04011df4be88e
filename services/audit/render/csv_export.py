"""The audit chain as CSV: one row per record for spreadsheets, the manifest at the end.

Layout: a header row, one row per record, an empty row, then `# manifest` rows (field, value).
UTF-8 with a byte-order mark so spreadsheets pick the encoding; read it with `utf-8-sig`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from domain.audit.canonical import canonical_json
from domain.audit.manifest import Manifest
from domain.audit.records import summarize

COLUMNS = (
    "seq",
    "at",
    "kind",
    "actor",
    "authenticated_by",
    "channel",
    "summary",
    "hash",
    "prev_hash",
    "data",
    "data_truncated",
)
MANIFEST_MARK = "# manifest"
# Spreadsheets cap a cell at 32,767 characters; the JSONL export keeps the whole record.
MAX_CELL = 32_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> str:
    """Text a spreadsheet shows as text: a leading formula character gets a `'` in front."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _record_row(record: Mapping[str, Any]) -> list[str]:
    fields = record.get("data")
    said = fields if isinstance(fields, Mapping) else {}
    data = canonical_json(fields).decode("utf-8")
    truncated = len(data) > MAX_CELL
    if truncated:
        data = data[:MAX_CELL] + "…"
    return [
        str(record.get("seq", "")),
        str(record.get("at", "")),
        _safe(record.get("kind")),
        _safe(record.get("actor")),
        _safe(said.get("authenticated_by")),
        _safe(said.get("channel")),
        _safe(summarize(record)),
        str(record.get("hash", "")),
        str(record.get("prev_hash", "")),
        _safe(data),
        "true" if truncated else "false",
    ]


def _manifest_rows(manifest: Manifest) -> list[list[str]]:
    dumped = manifest.model_dump(mode="json")
    rows: list[list[str]] = [[MANIFEST_MARK, "field", "value"]]
    for key, value in dumped.items():
        if isinstance(value, dict):
            rows.extend([MANIFEST_MARK, f"{key}.{k}", _safe(v)] for k, v in value.items())
        else:
            rows.append([MANIFEST_MARK, key, _safe(value)])
    rows.append(
        [
            MANIFEST_MARK,
            "how_to_verify",
            "This CSV is a view. Verify the JSON Lines export: ddrun export verify FILE.jsonl",
        ]
    )
    return rows


def render_csv(chain: Sequence[Mapping[str, Any]], manifest: Manifest) -> bytes:
    """CSV bytes (UTF-8 with BOM, CRLF rows): records, an empty row, then the manifest rows."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_record_row(record) for record in chain)
    writer.writerow([])
    writer.writerows(_manifest_rows(manifest))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
