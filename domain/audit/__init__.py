"""Audit evidence: redact secrets, chain records into a tamper-evident export, and verify it.

Pure (stdlib and pydantic only): the Temporal history is read elsewhere and handed in as records.
"""

from domain.audit.canonical import GENESIS_HASH, canonical_json, record_hash
from domain.audit.chain import VerifyResult, build_chain, verify, verify_file
from domain.audit.jsonl import ExportFileError, read_jsonl, write_jsonl
from domain.audit.manifest import ExportSource, Manifest, Signature, make_manifest, sign
from domain.audit.records import (
    ApprovalEntry,
    AuditReport,
    CommandEntry,
    EscalationEntry,
    output_digest,
    output_excerpt,
    summarize,
)
from domain.audit.redact import DEFAULT_REPLACEMENT, Redactor, is_sensitive_key

__all__ = [
    "DEFAULT_REPLACEMENT",
    "GENESIS_HASH",
    "ApprovalEntry",
    "AuditReport",
    "CommandEntry",
    "EscalationEntry",
    "ExportFileError",
    "ExportSource",
    "Manifest",
    "Redactor",
    "Signature",
    "VerifyResult",
    "build_chain",
    "canonical_json",
    "is_sensitive_key",
    "make_manifest",
    "output_digest",
    "output_excerpt",
    "read_jsonl",
    "record_hash",
    "sign",
    "summarize",
    "verify",
    "verify_file",
    "write_jsonl",
]
