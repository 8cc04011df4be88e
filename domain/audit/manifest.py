"""The export manifest: record count, final hash and source workflow, signed with HMAC-SHA256.

The signature covers the canonical manifest without its `signature`, so it proves who exported.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.audit.canonical import FORMAT_VERSION, GENESIS_HASH, canonical_json


class ExportSource(BaseModel):
    """Where the records came from: the incident workflow execution (filled by the caller)."""

    model_config = ConfigDict(extra="forbid")

    namespace: str
    workflow_id: str
    run_id: str
    history_length: int = Field(ge=0, description="Events in the workflow history")


class Signature(BaseModel):
    """HMAC-SHA256 (hex) over the canonical manifest without its `signature`."""

    model_config = ConfigDict(extra="forbid")

    algorithm: Literal["hmac-sha256"] = "hmac-sha256"
    key_id: str | None = Field(default=None, description="Which configured key signed (not signed)")
    value: str


class Manifest(BaseModel):
    """What an export claims: how many records, the last hash, and where they came from."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["ddrun-audit-export"] = "ddrun-audit-export"
    format_version: int = FORMAT_VERSION
    hash_algorithm: Literal["sha256"] = "sha256"
    genesis_hash: str = GENESIS_HASH
    final_hash: str
    record_count: int = Field(ge=0)
    source: ExportSource
    generated_at: datetime
    exporter: str
    signature: Signature | None = None

    def signed_bytes(self) -> bytes:
        """The canonical bytes the signature covers: everything but the signature itself."""
        return canonical_json(self.model_dump(mode="json", exclude={"signature"}))


def exporter_version() -> str:
    try:
        return f"ddrun {metadata.version('ddrun')}"
    except metadata.PackageNotFoundError:
        return "ddrun (unknown version)"


def sign(manifest: Manifest, key: bytes, key_id: str | None = None) -> Manifest:
    """The manifest with an HMAC-SHA256 signature by `key`."""
    if not key:
        raise ValueError("signing key must not be empty")
    value = hmac.new(key, manifest.signed_bytes(), hashlib.sha256).hexdigest()
    return manifest.model_copy(update={"signature": Signature(key_id=key_id, value=value)})


def make_manifest(
    chain: Sequence[Mapping[str, Any]],
    source: ExportSource,
    key: bytes | None = None,
    *,
    key_id: str | None = None,
    generated_at: datetime | None = None,
    exporter: str | None = None,
) -> Manifest:
    """The manifest of a built chain; signed when a key is given."""
    manifest = Manifest(
        final_hash=str(chain[-1]["hash"]) if chain else GENESIS_HASH,
        record_count=len(chain),
        source=source,
        generated_at=generated_at or datetime.now(UTC),
        exporter=exporter or exporter_version(),
    )
    return sign(manifest, key, key_id) if key is not None else manifest
