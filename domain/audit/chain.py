"""A SHA-256 hash chain over audit records, and its verification against a manifest or file.

Changing, removing or reordering any record breaks the chain at that record (its `seq`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any, cast

from pydantic import BaseModel, ConfigDict

from domain.audit.canonical import (
    GENESIS_HASH,
    REQUIRED_FIELDS,
    Record,
    record_hash,
)
from domain.audit.jsonl import (
    ExportFileError,
    PathOrFile,
    UnparseableRecord,
    parse_export,
    read_jsonl,
    write_jsonl,
)
from domain.audit.manifest import ExportSource, Manifest, Signature, make_manifest, sign
from domain.audit.redact import Redactor

# One import place for the whole export API (files and manifest live in their own modules).
__all__ = [
    "ExportFileError",
    "ExportSource",
    "Manifest",
    "Signature",
    "VerifyResult",
    "build_chain",
    "make_manifest",
    "read_jsonl",
    "sign",
    "verify",
    "verify_file",
    "write_jsonl",
]

_CHAIN_FIELDS = ("prev_hash", "hash")


class VerifyResult(BaseModel):
    """The outcome of a verification; `first_bad_seq` names the first record that fails."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    first_bad_seq: int | None = None
    reason: str
    record_count: int = 0
    signature_checked: bool = False


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"not JSON-serialisable in an audit record: {type(value).__name__}")


def _clean_strings(value: Any) -> Any:
    """Lone surrogates (undecodable command output) become U+FFFD so records encode as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
        return value
    if isinstance(value, dict):
        return {k: _clean_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_strings(v) for v in value]
    return value


def _normalise(record: Mapping[str, Any]) -> Record:
    plain = json.loads(json.dumps(dict(record), default=_json_default, allow_nan=False))
    cleaned: Record = _clean_strings(plain)
    return cleaned


def build_chain(
    records: Iterable[Mapping[str, Any]], redactor: Redactor | None = None
) -> list[Record]:
    """Records (`seq`, `at`, `kind`, `actor`, `data`) with `prev_hash` and `hash` added.

    A missing `seq` is numbered from 1; a given one must be that number. Values are normalised
    to plain JSON (datetimes to ISO 8601). With `redactor`, `data` and `actor` are redacted first.
    Records should be redacted before they are chained: the hash fixes what the evidence says.
    """
    chain: list[Record] = []
    prev = GENESIS_HASH
    for position, source in enumerate(records, start=1):
        record = {k: v for k, v in source.items() if k not in _CHAIN_FIELDS}
        record.setdefault("seq", position)
        if record["seq"] != position:
            raise ValueError(f"record {position} has seq {record['seq']!r}; seq must be 1, 2, ...")
        missing = [f for f in REQUIRED_FIELDS if f not in record]
        if missing:
            raise ValueError(f"record {position} lacks {', '.join(missing)}")
        if not isinstance(record["data"], Mapping):
            raise ValueError(f"record {position}: data must be a dict")
        if redactor is not None:
            record["data"] = redactor.redact_obj(dict(record["data"]))
            if isinstance(record["actor"], str):
                record["actor"] = redactor.redact(record["actor"])
        normalised = _normalise(record)
        normalised["prev_hash"] = prev
        normalised["hash"] = prev = record_hash(normalised)
        chain.append(normalised)
    return chain


def _check_signature(manifest: Manifest, key: bytes | None) -> VerifyResult | None:
    if key is None:
        return None
    if manifest.signature is None:
        return VerifyResult(ok=False, reason="the manifest is not signed", signature_checked=True)
    expected = hmac.new(key, manifest.signed_bytes(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, manifest.signature.value):
        return VerifyResult(
            ok=False,
            reason="bad manifest signature: the manifest was changed or signed with another key",
            signature_checked=True,
        )
    return None


def _check_record(record: object, seq: int, prev: str) -> str | None:
    """Why record number `seq` is not the expected next link, or None when it is."""
    if isinstance(record, UnparseableRecord):
        return f"record {seq} (line {seq}) was changed: it is not valid JSON ({record.error})"
    if not isinstance(record, Mapping):
        return f"record {seq} is not a JSON object"
    missing = [f for f in (*REQUIRED_FIELDS, *_CHAIN_FIELDS) if f not in record]
    if missing:
        return f"record {seq} lacks {', '.join(missing)}"
    if record["seq"] != seq:
        return f"record {seq} is missing or out of order (found seq {record['seq']!r} in its place)"
    if record["prev_hash"] != prev:
        return f"record {seq} does not link to the record before it (prev_hash differs)"
    try:
        actual = record_hash(record)
    except (TypeError, ValueError) as exc:
        return f"record {seq} cannot be canonicalised: {exc}"
    if actual != record["hash"]:
        return f"record {seq} was changed: its content does not match its hash"
    return None


def verify(chain: Sequence[object], manifest: Manifest, key: bytes | None = None) -> VerifyResult:
    """Check signature (when a key is given), every link, the record count and final hash."""
    bad_signature = _check_signature(manifest, key)
    if bad_signature is not None:
        return bad_signature
    checked = key is not None
    if manifest.genesis_hash != GENESIS_HASH:
        return VerifyResult(ok=False, reason="unknown genesis hash", signature_checked=checked)
    prev = GENESIS_HASH
    for seq, record in enumerate(chain, start=1):
        problem = _check_record(record, seq, prev)
        if problem is not None:
            return VerifyResult(
                ok=False,
                first_bad_seq=seq,
                reason=problem,
                record_count=len(chain),
                signature_checked=checked,
            )
        prev = str(cast(Mapping[str, Any], record)["hash"])
    count = len(chain)
    if count < manifest.record_count:
        return VerifyResult(
            ok=False,
            first_bad_seq=count + 1,
            reason=f"truncated: {count} of {manifest.record_count} records present",
            record_count=count,
            signature_checked=checked,
        )
    if count > manifest.record_count:
        return VerifyResult(
            ok=False,
            first_bad_seq=manifest.record_count + 1,
            reason=f"{count - manifest.record_count} record(s) appended after the manifest's end",
            record_count=count,
            signature_checked=checked,
        )
    if prev != manifest.final_hash:
        return VerifyResult(
            ok=False,
            reason="the chain does not end in the manifest's final hash "
            "(records were rewritten and rehashed, or the manifest belongs to another export)",
            record_count=count,
            signature_checked=checked,
        )
    note = "signature valid" if checked else "signature not checked (no key given)"
    return VerifyResult(
        ok=True,
        reason=f"{count} records intact, final hash matches; {note}",
        record_count=count,
        signature_checked=checked,
    )


def verify_file(src: PathOrFile, key: bytes | None = None) -> VerifyResult:
    """Verify an export file; a line that does not parse is reported as that record."""
    try:
        records, manifest = parse_export(src)
    except ExportFileError as exc:
        return VerifyResult(ok=False, first_bad_seq=exc.seq, reason=str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        return VerifyResult(ok=False, reason=f"cannot read the export: {exc}")
    return verify(records, manifest, key)
