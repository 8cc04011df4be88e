"""What an audit report says about one incident, ready to render (PDF, CSV) without I/O.

The caller fills `AuditReport` from the workflow history; the chain and manifest come from
`domain.audit.chain`, so the report and the verifiable export describe the same records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.audit.manifest import Manifest

_SUMMARY_KEYS = ("summary", "message", "reason", "title", "description", "outcome")


class ApprovalEntry(BaseModel):
    """One human decision on a step: who, what, when and through which channel."""

    model_config = ConfigDict(extra="forbid")

    step_id: str
    step_title: str = ""
    approver: str
    decision: Literal["approve", "reject", "retry", "skip", "abort"] = "approve"
    channel: str = "api"
    at: datetime
    comment: str = ""
    authenticated_by: str | None = Field(
        default=None,
        description="How the person proved who they are (api-token <id>, slack <user id>)",
    )


class CommandEntry(BaseModel):
    """One command that ran (a step or a rollback) and how it ended; output already redacted."""

    model_config = ConfigDict(extra="forbid")

    step_id: str
    step_title: str = ""
    purpose: Literal["step", "rollback"] = "step"
    command: str
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: int | None = None
    attempt: int = 1
    agent: str = ""
    outcome: str = Field(default="", description="e.g. succeeded, failed, interrupted")
    output_excerpt: str = Field(default="", description="Redacted, possibly shortened output")
    output_digest: str = Field(default="", description="sha256:<hex> of the full output")
    output_truncated: bool = False


class EscalationEntry(BaseModel):
    """One escalation: who would be paged, why and when."""

    model_config = ConfigDict(extra="forbid")

    at: datetime
    level: int
    target: str
    reason: str = ""
    step_id: str | None = None


class AuditReport(BaseModel):
    """Everything the evidence report shows: the incident summary, its records and manifest."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str
    title: str = ""
    service: str = ""
    severity: str = ""
    status: str = ""
    opened_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    closed_at: datetime | None = None
    runbook_id: str | None = None
    runbook_title: str | None = None
    runbook_version: int | None = None
    match_reason: str = ""
    outcome: str = ""
    approvals: list[ApprovalEntry] = Field(default_factory=list)
    commands: list[CommandEntry] = Field(default_factory=list)
    escalations: list[EscalationEntry] = Field(default_factory=list)
    records: list[dict[str, Any]] = Field(default_factory=list, description="The built chain")
    manifest: Manifest
    export_file: str | None = Field(default=None, description="Name of the JSONL export")

    @property
    def mtta(self) -> timedelta | None:
        """Time to acknowledge: opened → acknowledged."""
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at - self.opened_at

    @property
    def mttr(self) -> timedelta | None:
        """Time to resolve: opened → closed."""
        if self.closed_at is None:
            return None
        return self.closed_at - self.opened_at

    @property
    def step_commands(self) -> list[CommandEntry]:
        return [c for c in self.commands if c.purpose == "step"]

    @property
    def rollbacks(self) -> list[CommandEntry]:
        return [c for c in self.commands if c.purpose == "rollback"]


def output_digest(output: str) -> str:
    """`sha256:<hex>` of the output's UTF-8 bytes (undecodable characters escaped)."""
    data = output.encode("utf-8", errors="surrogateescape")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def output_excerpt(output: str, max_chars: int = 4000, max_lines: int = 60) -> tuple[str, bool]:
    """The head and tail of a long output, and whether anything was cut out of the middle."""
    lines = output.splitlines()
    if len(output) <= max_chars and len(lines) <= max_lines:
        return output, False
    half_lines = max(1, max_lines // 2)
    head = "\n".join(lines[:half_lines])[: max_chars // 2]
    tail = "\n".join(lines[-half_lines:])[-(max_chars // 2) :]
    if len(lines) <= 1:
        head, tail = output[: max_chars // 2], output[-(max_chars // 2) :]
    cut = max(0, len(output) - len(head) - len(tail))
    return f"{head}\n… [{cut} characters omitted] …\n{tail}", True


def summarize(record: Mapping[str, Any], max_chars: int = 300) -> str:
    """One line for a record: its data's summary/message field, else its data as compact JSON."""
    data = record.get("data")
    text = ""
    if isinstance(data, Mapping):
        for key in _SUMMARY_KEYS:
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                text = value
                break
        else:
            text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    elif data is not None:
        text = str(data)
    text = " ".join(text.split())
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"
