"""The evidence renderers: a PDF an auditor can read and a CSV a spreadsheet can open.

The PDF is checked by extracting its text (pypdf): the summary, an approver, a command and the
final hash must be there, across many pages, with Unicode and very long output.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from domain.audit import ExportSource, Manifest, build_chain, make_manifest
from domain.audit.records import (
    ApprovalEntry,
    AuditReport,
    CommandEntry,
    EscalationEntry,
    output_digest,
    output_excerpt,
)
from services.audit.render import render_csv, render_pdf
from services.audit.render.csv_export import COLUMNS, MANIFEST_MARK
from services.audit.render.pdf import unicode_font_dir

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
KEY = b"org-export-key"
RECORDS = 200
LONG_OUTPUT = (
    "\n".join(
        f"{i:05d} payments-api-7d9c8b6f5d-x2x9z Back-off restarting failed container api "
        f"ünïcødé ✓ Привет Ωμέγα 東京 " + "x" * (i % 50)
        for i in range(3000)
    )
    + "\nDB password=hunter2\n"
    + "A" * 5000
)  # one unbreakable 5000-character word


def _records() -> list[dict[str, Any]]:
    kinds = ["alert", "step_started", "step_completed", "approval", "escalation", "timer"]
    out: list[dict[str, Any]] = []
    for i in range(1, RECORDS + 1):
        kind = kinds[i % len(kinds)]
        data: dict[str, Any] = {"message": f"{kind} #{i}: Zürich → 東京 ✓ «quoted» — dash"}
        if i == 7:
            data = {"stdout": '=HYPERLINK("http://evil")', "exit_code": 1}
        if i == 8:
            data["stdout"] = LONG_OUTPUT
        out.append(
            {"at": T0 + timedelta(seconds=13 * i), "kind": kind, "actor": "alice", "data": data}
        )
    out[6]["actor"] = "=cmd|' /C calc'!A0"
    return out


@pytest.fixture(scope="module")
def chain() -> list[dict[str, Any]]:
    return build_chain(_records())


@pytest.fixture(scope="module")
def manifest(chain: list[dict[str, Any]]) -> Manifest:
    source = ExportSource(
        namespace="default",
        workflow_id="incident-alertmanager-KubePodCrashLooping-186c9aae249125a2",
        run_id="6f1c2a9e-1b2c-4d5e-8f90-a1b2c3d4e5f6",
        history_length=812,
    )
    return make_manifest(chain, source, KEY, key_id="2024-q2", generated_at=T0)


@pytest.fixture(scope="module")
def report(chain: list[dict[str, Any]], manifest: Manifest) -> AuditReport:
    excerpt, cut = output_excerpt(LONG_OUTPUT)
    return AuditReport(
        incident_id="incident-alertmanager-KubePodCrashLooping-186c9aae249125a2",
        title="payments-api is crash looping in Zürich (東京 replica) ✓",
        service="payments",
        severity="critical",
        status="resolved",
        opened_at=T0,
        acknowledged_at=T0 + timedelta(minutes=3, seconds=12),
        acknowledged_by="alice",
        closed_at=T0 + timedelta(minutes=47, seconds=5),
        runbook_id="k8s-crashloop",
        runbook_title="Kubernetes pod crash loop",
        runbook_version=3,
        match_reason="alertname=KubePodCrashLooping and service=payments",
        outcome="resolved by rollout restart",
        approvals=[
            ApprovalEntry(
                step_id="restart",
                step_title="Restart the deployment",
                approver="Zoë Lindqvist",
                channel="slack",
                at=T0 + timedelta(minutes=5),
                comment="ok to restart, traffic is low",
            ),
            ApprovalEntry(
                step_id="scale",
                approver="bob",
                decision="reject",
                channel="cli",
                at=T0 + timedelta(minutes=9),
            ),
        ],
        commands=[
            CommandEntry(
                step_id="describe",
                step_title="Describe the pod",
                command="kubectl -n payments describe pod payments-api-7d9c8b6f5d-x2x9z",
                exit_code=0,
                started_at=T0 + timedelta(minutes=1),
                finished_at=T0 + timedelta(minutes=1, seconds=2),
                duration_ms=2140,
                agent="agent@eu-west-1",
                outcome="succeeded",
                output_excerpt=excerpt,
                output_truncated=cut,
                output_digest=output_digest(LONG_OUTPUT),
            ),
            CommandEntry(
                step_id="restart",
                step_title="Restart the deployment",
                command="PGPASSWORD=hunter2 kubectl -n payments rollout restart deploy/api",
                exit_code=0,
                outcome="succeeded",
                output_excerpt="deployment.apps/payments-api restarted",
                output_digest=output_digest("deployment.apps/payments-api restarted"),
            ),
            CommandEntry(
                step_id="restart",
                purpose="rollback",
                command="kubectl -n payments rollout undo deploy/payments-api",
                exit_code=1,
                outcome="rollback failed",
                output_excerpt="error: no rollout history found\x1b[31m (red)\x1b[0m\ttab",
            ),
        ],
        escalations=[
            EscalationEntry(
                at=T0 + timedelta(minutes=15),
                level=1,
                target="secondary-oncall",
                reason="no approval within 600 s",
                step_id="scale",
            )
        ],
        records=chain,
        manifest=manifest,
        export_file="incident-186c9aae249125a2.jsonl",
    )


def _pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def _flat(text: str) -> str:
    return "".join(text.split())


def test_pdf_has_the_evidence(report: AuditReport, manifest: Manifest) -> None:
    assert unicode_font_dir() is not None, "install fonts-dejavu-core for Unicode PDF reports"
    data = render_pdf(report)
    assert data.startswith(b"%PDF-")
    text, pages = _pdf_text(data)
    flat = _flat(text)
    assert pages > 5, "200 records and long output span many pages"
    for expected in (
        "Incident audit evidence",
        report.incident_id,
        "payments",
        "critical",
        "resolved",
        "2024-05-01 12:00:00 UTC",
        "3m 12s",  # MTTA
        "47m 05s",  # MTTR
        "k8s-crashloop v3",
        "alertname=KubePodCrashLooping",
        "Zoë Lindqvist",
        "slack",
        "kubectl -n payments describe pod payments-api-7d9c8b6f5d-x2x9z",
        "rollout undo",
        "secondary-oncall",
        manifest.final_hash,
        manifest.source.run_id,
        "812 events",
        "ddrun export verify FILE",
        output_digest(LONG_OUTPUT),
        "Zürich",
        "Привет",
        "Ωμέγα",
        "<U+6771><U+4EAC>",  # CJK is not in DejaVu: spelled as code points, never dropped
    ):
        assert _flat(expected) in flat, expected
    assert "hunter2" not in flat, "commands and output are redacted once more"
    assert "alice" in text
    assert "record" in text


def test_pdf_without_unicode_fonts_still_renders(report: AuditReport) -> None:
    data = render_pdf(report, font_dirs=[Path("/nonexistent")])
    text, pages = _pdf_text(data)
    flat = _flat(text)
    assert pages > 5
    assert _flat(report.incident_id) in flat
    assert "Zürich" in flat, "Latin-1 survives the core fonts"
    assert report.manifest.final_hash in flat
    assert "Zo" in flat


def test_pdf_of_an_empty_incident(manifest: Manifest) -> None:
    empty = AuditReport(
        incident_id="incident-x", opened_at=T0, manifest=manifest.model_copy(), records=[]
    )
    text, _ = _pdf_text(render_pdf(empty))
    assert "No commands ran." in text
    assert "none matched" in text


def test_csv_parses_back(chain: list[dict[str, Any]], manifest: Manifest) -> None:
    data = render_csv(chain, manifest)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == COLUMNS
    blank = rows.index([])
    records = rows[1:blank]
    assert len(records) == len(chain) == RECORDS
    for row, record in zip(records, chain, strict=True):
        assert row[0] == str(record["seq"])
        assert row[COLUMNS.index("hash")] == record["hash"]
        assert row[COLUMNS.index("prev_hash")] == record["prev_hash"]
    assert "Zürich → 東京" in records[0][COLUMNS.index("summary")]
    meta = {row[1]: row[2] for row in rows[blank + 1 :] if row[0] == MANIFEST_MARK}
    assert meta["final_hash"] == manifest.final_hash
    assert meta["record_count"] == str(RECORDS)
    assert meta["source.workflow_id"] == manifest.source.workflow_id
    assert "ddrun export verify" in meta["how_to_verify"]


def test_csv_neutralises_formulas_and_caps_cells(
    chain: list[dict[str, Any]], manifest: Manifest
) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(chain, manifest).decode("utf-8-sig"))))
    seventh = rows[7]
    assert seventh[COLUMNS.index("actor")].startswith("'=")
    eighth = rows[8]
    assert len(eighth[COLUMNS.index("data")]) <= 32_001
    assert eighth[COLUMNS.index("data_truncated")] == "true"
    assert rows[1][COLUMNS.index("data_truncated")] == "false"


def test_output_excerpt_keeps_head_and_tail() -> None:
    excerpt, cut = output_excerpt(LONG_OUTPUT, max_chars=1000, max_lines=20)
    assert cut
    assert excerpt.startswith("00000 ")
    assert excerpt.endswith("A" * 100)
    assert "characters omitted" in excerpt
    assert output_excerpt("short", max_chars=1000) == ("short", False)
