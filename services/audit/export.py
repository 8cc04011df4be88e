"""Export an incident (or every incident of a period) as tamper-evident evidence.

Reads the workflow history through the Temporal client, derives the timeline from it, chains
the records (each carries the previous record's hash), pins the chain in a manifest naming the
exact execution (namespace, workflow id, run id, history length), and writes JSON Lines, CSV or
PDF. The raw history travels with the JSON export, and its digest is the chain's last record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory

from domain.audit.chain import ExportSource, Manifest, build_chain, make_manifest, write_jsonl
from domain.audit.records import ApprovalEntry, AuditReport, CommandEntry, EscalationEntry
from domain.audit.redact import Redactor
from infra.codec import EncryptionCodec
from services.audit.decrypt import decrypt_message
from services.audit.history import Timeline, derive
from services.audit.history_redaction import redact_history
from services.audit.render.csv_export import render_csv
from services.audit.render.pdf import render_pdf

Format = Literal["json", "csv", "pdf"]
#: A guard against a malformed chain of runs (each continued run names its predecessor).
_MAX_RUNS = 10_000
EntryT = TypeVar("EntryT", ApprovalEntry, CommandEntry, EscalationEntry)


@dataclass
class IncidentExport:
    chain: list[dict[str, Any]]
    manifest: Manifest
    report: AuditReport
    history_json: str
    timeline: Timeline

    def render(self, fmt: Format) -> bytes:
        if fmt == "csv":
            return render_csv(self.chain, self.manifest)
        if fmt == "pdf":
            return render_pdf(self.report)
        return self.jsonl()

    def jsonl(self) -> bytes:
        from io import StringIO

        buffer = StringIO()
        write_jsonl(buffer, self.chain, self.manifest)
        return buffer.getvalue().encode("utf-8")


async def export_incident(
    client: Client,
    incident_id: str,
    *,
    run_id: str | None = None,
    redactor: Redactor | None = None,
    signing_key: bytes | None = None,
) -> IncidentExport:
    """The export of one incident run (the latest when `run_id` is None), running or closed,
    with every earlier run it continued (continue-as-new): one incident, one timeline."""
    redactor = redactor or Redactor()
    handle = client.get_workflow_handle(incident_id, run_id=run_id)
    description = await handle.describe()
    histories = await _runs_of(client, incident_id, run_id)
    events = [event for history in histories for event in history.events]
    codec = client.data_converter.payload_codec
    if isinstance(codec, EncryptionCodec):
        for event in events:
            decrypt_message(event, codec.decrypt)
    timeline = derive(events, redactor)
    # Protobuf JSON does not fix map order; the canonical form makes the digest reproducible.
    # The raw history is redacted like everything else derived from it (defence in depth).
    # A continued incident's raw history is the list of its runs' histories, oldest first.
    raws = [redact_history(json.loads(h.to_json()), redactor) for h in histories]
    raw_history: Any = raws[0] if len(raws) == 1 else {"runs": raws}
    history_json = json.dumps(raw_history, sort_keys=True, indent=1)
    records = list(timeline.records)
    last_at = records[-1]["at"] if records else description.start_time
    records.append(
        {
            "at": last_at,
            "kind": "history_attached",
            "actor": None,
            "data": {
                "sha256": hashlib.sha256(history_json.encode()).hexdigest(),
                "events": len(events),
                "runs": [h.run_id for h in histories],
                "running": description.close_time is None,
            },
        }
    )
    chain = build_chain(records, redactor)
    manifest = make_manifest(
        chain,
        ExportSource(
            namespace=client.namespace,
            workflow_id=incident_id,
            run_id=description.run_id,
            history_length=len(events),
        ),
        signing_key,
    )
    s = redactor.redact_obj(timeline.summary)
    report = AuditReport(
        incident_id=incident_id,
        title=s.get("title", ""),
        service=s.get("service", ""),
        severity=s.get("severity", ""),
        status=str(s.get("status", "")),
        opened_at=s.get("opened_at") or description.start_time,
        acknowledged_at=s.get("acknowledged_at"),
        acknowledged_by=s.get("acknowledged_by"),
        closed_at=s.get("closed_at"),
        runbook_id=s.get("runbook_id"),
        runbook_title=s.get("runbook_title"),
        runbook_version=s.get("runbook_version"),
        match_reason=s.get("match_reason", ""),
        outcome=s.get("outcome", ""),
        approvals=[_redacted(a, redactor) for a in timeline.approvals],
        commands=[_redacted(c, redactor) for c in timeline.commands],
        escalations=[_redacted(e, redactor) for e in timeline.escalations],
        records=chain,
        manifest=manifest,
        export_file=f"{_safe_name(incident_id, description.run_id)}.jsonl",
    )
    return IncidentExport(chain, manifest, report, history_json, timeline)


@dataclass
class _Run:
    run_id: str
    history: WorkflowHistory

    @property
    def events(self) -> list[HistoryEvent]:
        return list(self.history.events)

    def to_json(self) -> str:
        return self.history.to_json()


async def _runs_of(client: Client, incident_id: str, run_id: str | None) -> list[_Run]:
    """The run asked for and the runs it continued, oldest first (each run's first event
    names the run it continues)."""
    runs: list[_Run] = []
    current: str | None = run_id
    while True:
        handle = client.get_workflow_handle(incident_id, run_id=current)
        history = await handle.fetch_history()
        if current is None:
            current = (await handle.describe()).run_id
        runs.append(_Run(current, history))
        first = history.events[0] if history.events else None
        if first is None or first.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            break
        previous = first.workflow_execution_started_event_attributes.continued_execution_run_id
        if not previous or len(runs) >= _MAX_RUNS:
            break
        current = previous
    return list(reversed(runs))


def _redacted(entry: EntryT, redactor: Redactor) -> EntryT:
    """The report's entries are shown in the PDF: redacted again, like the chain's records."""
    return type(entry).model_validate(redactor.redact_obj(entry.model_dump(mode="json")))


def write_export(export: IncidentExport, fmt: Format, path: Path) -> list[Path]:
    """Write the export; JSON also writes the raw history beside it (`<file>.history.json`)."""
    path.write_bytes(export.render(fmt))
    written = [path]
    if fmt == "json":
        raw = path.with_name(path.name + ".history.json")
        raw.write_text(export.history_json, encoding="utf-8")
        written.append(raw)
    return written


def period_query(since: datetime, until: datetime) -> str:
    return (
        'WorkflowType = "IncidentWorkflow" AND IncidentKind = "incident" '
        f'AND StartTime >= "{since.isoformat()}" AND StartTime < "{until.isoformat()}"'
    )


async def export_period(
    client: Client,
    since: datetime,
    until: datetime,
    folder: Path,
    *,
    fmt: Format = "json",
    redactor: Redactor | None = None,
    signing_key: bytes | None = None,
) -> dict[str, Any]:
    """Every incident run started in [since, until), found through visibility, with an index."""
    _ensure_folder(folder)
    entries: list[dict[str, Any]] = []
    async for execution in client.list_workflows(period_query(since, until)):
        if execution.status is WorkflowExecutionStatus.CONTINUED_AS_NEW:
            continue  # exported with the run that continued it (the incident's latest run)
        export = await export_incident(
            client,
            execution.id,
            run_id=execution.run_id,
            redactor=redactor,
            signing_key=signing_key,
        )
        name = f"{_safe_name(execution.id, execution.run_id)}.{'jsonl' if fmt == 'json' else fmt}"
        write_export(export, fmt, folder / name)
        entries.append(
            {
                "incident_id": execution.id,
                "run_id": execution.run_id,
                "status": export.report.status,
                "service": export.report.service,
                "opened_at": export.report.opened_at.isoformat(),
                "closed_at": export.report.closed_at.isoformat()
                if export.report.closed_at
                else None,
                "file": name,
                "records": export.manifest.record_count,
                "final_hash": export.manifest.final_hash,
            }
        )
    index = {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "query": period_query(since, until),
        "count": len(entries),
        "incidents": sorted(entries, key=lambda e: e["opened_at"]),
    }
    (folder / "index.json").write_text(json.dumps(index, indent=2), encoding="utf-8")
    return index


def _ensure_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)


def _safe_name(incident_id: str, run_id: str | None) -> str:
    keep = "".join(c if c.isalnum() or c in "._-" else "_" for c in incident_id)
    return f"{keep}__{run_id}" if run_id else keep
