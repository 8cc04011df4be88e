"""Redact the raw history that travels with a JSON export (`<file>.history.json`).

Its payloads are base64 in protobuf JSON, so a plain text search neither finds nor hides what
they say: each JSON payload is decoded, redacted and encoded again, and the other strings
(failure messages, stack traces) are redacted as text. A payload that needs no change keeps
its exact bytes. The chain pins the digest of the redacted file, so it still verifies.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from domain.audit.redact import Redactor

_JSON_ENCODINGS = frozenset({"json/plain", "json/protobuf"})
# Fields Temporal fills with its own identifiers and digests: nothing a sender chose.
_OPAQUE_KEYS = frozenset(
    {
        "runId",
        "originalExecutionRunId",
        "firstExecutionRunId",
        "requestId",
        "updateId",
        "protocolInstanceId",
        "buildId",
        "binaryChecksum",
        "eventTime",
        "workflowId",
    }
)


def _decode_b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _payload(obj: dict[str, Any], redactor: Redactor) -> dict[str, Any] | None:
    """A redacted copy of a payload (`{"metadata": {...}, "data": <b64>}`), None for anything
    else. Only JSON payloads can be read; the others (null, still encrypted) are opaque and
    kept whole, metadata included (its base64 values would look like tokens)."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not set(obj) <= {"metadata", "data", "externalPayloads"}:
        return None
    data = obj.get("data")
    raw = _decode_b64(str(metadata.get("encoding", "")))
    if raw is None or raw.decode(errors="replace") not in _JSON_ENCODINGS:
        return obj
    body = _decode_b64(data) if isinstance(data, str) else None
    if body is None:
        return obj
    try:
        value = json.loads(body)
    except ValueError:
        text = body.decode(errors="replace")
        clean_text = redactor.redact(text)
        if clean_text == text:
            return obj
        return {**obj, "data": base64.b64encode(clean_text.encode()).decode()}
    clean = redactor.redact_obj(value)
    if clean == value:
        return obj
    encoded = json.dumps(clean, separators=(",", ":"), ensure_ascii=False).encode()
    return {**obj, "data": base64.b64encode(encoded).decode()}


def redact_history(obj: Any, redactor: Redactor) -> Any:
    """A copy of a protobuf-JSON history (or any part of it) with every secret redacted."""
    if isinstance(obj, dict):
        payload = _payload(obj, redactor)
        if payload is not None:
            return payload
        return {
            key: value if key in _OPAQUE_KEYS else redact_history(value, redactor)
            for key, value in obj.items()
        }
    if isinstance(obj, list):
        return [redact_history(item, redactor) for item in obj]
    if isinstance(obj, str):
        return redactor.redact(obj)
    return obj
