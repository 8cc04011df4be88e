"""Canonical JSON and record hashing: the exact bytes an export's hashes and signature cover.

Sorted keys, no whitespace, UTF-8, no NaN; the first record links to 64 zeros (genesis).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

FORMAT = "ddrun-audit-export"
FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64
REQUIRED_FIELDS = ("seq", "at", "kind", "actor", "data")

Record = dict[str, Any]


def canonical_json(value: object) -> bytes:
    """Sorted keys, no whitespace, UTF-8, no NaN: the exact bytes that are hashed and signed."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the record's canonical JSON without its `hash` field."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body)).hexdigest()
