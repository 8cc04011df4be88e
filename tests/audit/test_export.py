"""Audit export from workflow history: matches history, tamper-evident, readable, secret-free."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from domain.audit.chain import verify_file
from schemas.identity import Role
from schemas.incident import IncidentStatus
from services.audit.export import export_incident, export_period, write_export
from tests.harness import Stack, generic_alert, history_events, running_stack, token_of, unique
from tests.support import REPO, assert_eventually

pytestmark = pytest.mark.temporal

SECRET = "hunter2-Zq9"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
#: The responder who approves in these tests; the export names her as the database does.
ALICE = "alice"


def _runbook(name: str) -> dict[str, Any]:
    return {
        "id": unique("audit-"),
        "title": "Audited runbook",
        "selectors": [{"alertname": name}],
        "on_failure": "rollback",
        "variables": [{"name": "log", "source": "label:log"}],
        "steps": [
            {
                "id": "leak",
                "title": "Print config",
                "command": f"echo db_password={SECRET}; echo aws_access_key_id={AWS_KEY}",
                "risk": "safe",
            },
            {
                "id": "change",
                "title": "Change",
                "command": "echo change >> {{ log }}",
                "rollback": "echo undo >> {{ log }}",
                "risk": "caution",
            },
            {"id": "verify", "title": "Verify", "command": "exit 3", "risk": "caution"},
        ],
    }


async def _incident(stack: Stack, tmp_path: Path, alice: dict[str, str]) -> str:
    """An incident whose caution steps the holder of the `alice` headers approves."""
    name = unique("Audit")
    await stack.add_runbook(_runbook(name))
    body = generic_alert(
        name, labels={"log": str(tmp_path / "log")}, annotations={"note": f"token={SECRET}"}
    )
    incident_id = str((await stack.post_generic(body)).json()["incident_id"])
    for step in ("change", "verify"):
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s, step=step: (
                s.current_step == step and s.status is IncidentStatus.AWAITING_APPROVAL
            ),
            what=f"{step} waiting",
        )
        approved = await stack.http.post(
            f"/api/incidents/{incident_id}/steps/{step}/approval", json={}, headers=alice
        )
        assert approved.status_code == 200, approved.text
    return incident_id


async def test_export_is_derived_from_history_and_verifiable(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with running_stack(client, engine) as stack:
        alice = await stack.person(ALICE, (Role.RESPONDER,))
        incident_id = await _incident(stack, tmp_path, alice)
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.ROLLED_BACK
        events = await history_events(stack.handle(incident_id))
        raw_history = (await stack.handle(incident_id).fetch_history()).to_json()
        auditor = await stack.person("auditor", (Role.VIEWER,))  # exports take reading only
        response = await stack.http.get(f"/api/incidents/{incident_id}/export", headers=auditor)
        assert response.status_code == 200, response.text
        csv_bytes = (
            await stack.http.get(f"/api/incidents/{incident_id}/export?format=csv", headers=auditor)
        ).content
        pdf_bytes = (
            await stack.http.get(f"/api/incidents/{incident_id}/export?format=pdf", headers=auditor)
        ).content

    # Secrets never land in history, nor in any export.
    assert SECRET not in raw_history
    assert AWS_KEY not in raw_history
    for blob in (response.content, csv_bytes, pdf_bytes):
        assert SECRET.encode() not in blob
        assert AWS_KEY.encode() not in blob

    export_file = tmp_path / "export.jsonl"
    export_file.write_bytes(response.content)
    assert verify_file(export_file).ok
    lines = [json.loads(line) for line in response.content.decode().splitlines()]
    records, manifest = lines[:-1], lines[-1]
    assert manifest["source"]["workflow_id"] == incident_id
    assert manifest["source"]["history_length"] == len(events)
    assert manifest["record_count"] == len(records)
    assert manifest["final_hash"] == records[-1]["hash"]

    kinds = [r["kind"] for r in records]
    accepted_approvals = [
        e
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        == "approve_step"
    ]
    commands = [
        e
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "run_command"
    ]
    assert kinds.count("approval") == len(accepted_approvals) == 2
    assert kinds.count("command_ran") + kinds.count("rollback_ran") == len(commands) == 4
    assert kinds.count("rollback_ran") == 1
    assert kinds.count("step_proposed") == 3
    assert kinds[0] == "incident_opened"
    assert "alert_received" in kinds
    assert kinds[-2] == "closed"
    assert kinds[-1] == "history_attached"
    approvals = [r for r in records if r["kind"] == "approval"]
    # Who approved is the token's person, and how she proved it is recorded with it.
    assert {r["actor"] for r in approvals} == {ALICE}
    alice_token = f"api-token {token_of(alice).split('_')[1]}"
    assert {r["data"]["authenticated_by"] for r in approvals} == {alice_token}
    leak = next(r for r in records if r["kind"] == "command_ran" and r["data"]["step_id"] == "leak")
    assert leak["data"]["exit_code"] == 0
    assert leak["data"]["output_digest"].startswith("sha256:")
    assert "[REDACTED]" in leak["data"]["output_excerpt"]
    closed = next(r for r in records if r["kind"] == "closed")
    assert closed["data"]["status"] == "rolled_back"
    assert closed["data"]["mtta_s"] is not None
    assert closed["data"]["mttr_s"] >= closed["data"]["mtta_s"]

    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert rows[0][:5] == ["seq", "at", "kind", "actor", "authenticated_by"]
    assert {row[4] for row in rows[1:] if row and row[2] == "approval"} == {alice_token}
    assert sum(1 for row in rows[1:] if row and row[0].isdigit()) == len(records)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)
    assert incident_id[:30] in text.replace("\n", "")
    assert ALICE in text
    assert "Audited runbook" in text
    assert manifest["final_hash"][:16] in text.replace("\n", "")


async def test_one_changed_byte_is_found_and_named(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with running_stack(client, engine) as stack:
        alice = await stack.person(ALICE, (Role.RESPONDER,))
        incident_id = await _incident(stack, tmp_path, alice)
        await stack.handle(incident_id).result()
        export = await export_incident(client, incident_id, signing_key=b"audit-key")
    path = tmp_path / "incident.jsonl"
    written = write_export(export, "json", path)
    assert written[1].name == "incident.jsonl.history.json"
    assert verify_file(path, b"audit-key").ok
    assert not verify_file(path, b"other-key").ok
    original = path.read_text().splitlines()
    for k in (1, 5, len(original) - 1):
        lines = list(original)
        record = json.loads(lines[k - 1])
        field = "kind"
        value = record[field]
        record[field] = value[:-1] + ("x" if value[-1] != "x" else "y")  # one byte
        lines[k - 1] = json.dumps(record, separators=(",", ":"), sort_keys=True)
        path.write_text("\n".join(lines) + "\n")
        result = verify_file(path, b"audit-key")
        assert not result.ok
        assert result.first_bad_seq == k
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        "export",
        "verify",
        str(path),
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 1
    assert f"record {len(original) - 1}" in out.decode()


async def test_running_incident_and_a_period_export_with_an_index(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    async with running_stack(client, engine) as stack:
        name = unique("Period")
        runbook = _runbook(name)
        await stack.add_runbook(runbook)
        ids = []
        for i in range(2):
            body = generic_alert(
                name,
                labels={"log": str(tmp_path / f"log{i}")},
                dedup_key=f"{name}-{i}",
                service=f"payment-svc-{i}",  # another service: not correlated into the first
            )
            ids.append((await stack.post_generic(body)).json()["incident_id"])
        assert len(set(ids)) == 2, ids
        for incident_id in ids:
            await assert_eventually(
                lambda incident_id=incident_id: stack.state(incident_id),
                lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
                what="waiting",
            )
        running = await export_incident(client, ids[0])
        assert running.chain[-1]["data"]["running"] is True
        assert [r["kind"] for r in running.chain].count("closed") == 0
        index = await export_period(
            client, since, datetime.now(UTC) + timedelta(seconds=1), tmp_path / "period"
        )
        responder = await stack.person(ALICE, (Role.RESPONDER,))
        for incident_id in ids:
            aborted = await stack.http.post(
                f"/api/incidents/{incident_id}/abort", headers=responder
            )
            assert aborted.status_code == 200, aborted.text
            await stack.handle(incident_id).result()
    listed = {e["incident_id"]: e for e in index["incidents"]}
    assert set(ids) <= set(listed)
    for incident_id in ids:
        file = tmp_path / "period" / listed[incident_id]["file"]
        assert verify_file(file).ok
        assert (file.parent / (file.name + ".history.json")).exists()
    on_disk = json.loads((tmp_path / "period" / "index.json").read_text())
    assert on_disk["count"] == len(index["incidents"])


async def test_export_after_continue_as_new_spans_every_run(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    """A long incident continues in new runs; its export is still one incident: every run."""
    repeats = 150
    async with running_stack(client, engine, continue_as_new_after_events=100) as stack:
        response = await stack.post_generic(generic_alert(unique("Chatty")))
        incident_id = response.json()["incident_id"]
        first = await assert_eventually(
            lambda: stack.state(incident_id), lambda s: s.alert_deliveries == 1, what="opened"
        )
        template = first.alerts[0]
        handle = stack.handle(incident_id)
        for start in range(0, repeats, 50):
            await asyncio.gather(
                *(
                    handle.signal(
                        "alert_received",
                        template.model_copy(update={"event_id": f"{template.event_id}-{n}"}),
                    )
                    for n in range(start, start + 50)
                )
            )
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.alert_deliveries == repeats + 1,
            timeout=60,
            what="every alert counted",
        )
        alice = await stack.person(ALICE, (Role.RESPONDER,))
        resolved = await stack.http.post(
            f"/api/incidents/{incident_id}/resolve", json={}, headers=alice
        )
        assert resolved.status_code == 200, resolved.text
        await stack.handle(incident_id).result()
        runs = [e.run_id async for e in client.list_workflows(f'WorkflowId = "{incident_id}"')]
        total = 0
        for run_id in runs:
            history = await client.get_workflow_handle(incident_id, run_id=run_id).fetch_history()
            total += len(history.events)
        export = await export_incident(client, incident_id)
        written = write_export(export, "json", tmp_path / "incident.jsonl")

    assert len(runs) >= 2
    kinds = [r["kind"] for r in export.chain]
    assert kinds[0] == "incident_opened"
    assert kinds.count("run_continued") == len(runs) - 1
    assert kinds.count("alert_received") == repeats + 1  # every alert, from every run
    assert kinds.count("resolve_requested") == 1
    attached = export.chain[-1]["data"]
    assert sorted(attached["runs"]) == sorted(runs)
    assert attached["events"] == total == export.manifest.source.history_length
    assert export.report.status == "resolved"
    assert len(json.loads(written[1].read_text())["runs"]) == len(runs)
    assert verify_file(written[0]).ok
