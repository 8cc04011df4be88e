"""The audit timeline of one incident, derived from its Temporal event history alone.

Nothing here reads a separate log: every record is an event the server stored (workflow input,
signals, accepted updates with their payload and caller identity, activity inputs and results,
search-attribute changes, timers, the result), so the timeline cannot disagree with history.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from domain.audit.records import (
    ApprovalEntry,
    CommandEntry,
    EscalationEntry,
    output_digest,
    output_excerpt,
)
from domain.audit.redact import Redactor
from schemas.human_actions import AUDIT_KINDS

_STATUS_KEYS = {
    "IncidentStatus": "status",
    "IncidentMode": "mode",
    "IncidentEscalated": "escalated",
}


def decode(payload: Payload) -> Any:
    """Our payloads are JSON (pydantic converter); a binary/null payload decodes to None."""
    encoding = payload.metadata.get("encoding", b"").decode()
    if encoding.startswith("json"):
        return json.loads(payload.data) if payload.data else None
    return None


def _args(payloads: Payloads) -> list[Any]:
    return [decode(p) for p in payloads.payloads]


def _at(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime().replace(tzinfo=UTC)


@dataclass
class Timeline:
    """Records in history order, plus what the evidence report summarises."""

    records: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[ApprovalEntry] = field(default_factory=list)
    commands: list[CommandEntry] = field(default_factory=list)
    escalations: list[EscalationEntry] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def add(self, at: datetime, kind: str, actor: str | None, data: dict[str, Any]) -> None:
        self.records.append({"at": at, "kind": kind, "actor": actor, "data": data})


@dataclass
class _Scheduled:
    activity: str
    args: list[Any]
    summary: str
    started_at: datetime | None = None
    attempt: int = 1


def derive(events: Iterable[HistoryEvent], redactor: Redactor) -> Timeline:
    """Walk the history once, in order, and say what each meaningful event means."""
    t = Timeline()
    scheduled: dict[int, _Scheduled] = {}
    titles: dict[str, str] = {}
    seen_alerts: set[str] = set()
    for event in events:
        at = _at(event)
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            scheduled.clear()  # a continued run numbers its events from 1 again
            _started(t, at, event, titles, seen_alerts, redactor)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            _signaled(t, at, event, seen_alerts, redactor)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            _update(t, at, event, titles)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = _Scheduled(
                activity=attrs.activity_type.name,
                args=_args(attrs.input),
                summary=str(decode(event.user_metadata.summary) or ""),
            )
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs_s = event.activity_task_started_event_attributes
            if attrs_s.scheduled_event_id in scheduled:
                scheduled[attrs_s.scheduled_event_id].started_at = at
                scheduled[attrs_s.scheduled_event_id].attempt = attrs_s.attempt
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attrs_c = event.activity_task_completed_event_attributes
            item = scheduled.get(attrs_c.scheduled_event_id)
            if item is not None:
                result = _args(attrs_c.result)
                _activity_done(t, at, item, result[0] if result else None, None, titles, redactor)
        elif kind in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
            EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
        ):
            _activity_failed(t, at, event, scheduled, titles, redactor)
        elif kind == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            for key, payload in fields.indexed_fields.items():
                if key in _STATUS_KEYS:
                    value = decode(payload)
                    t.add(at, _STATUS_KEYS[key], None, {key: value})
                    if key == "IncidentStatus":
                        t.summary["status"] = value
        elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
            t.add(
                at, "deadline_passed", None, {"timer": event.timer_fired_event_attributes.timer_id}
            )
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            result = _args(event.workflow_execution_completed_event_attributes.result)
            _closed(t, at, result[0] if result else None)
        elif kind in (
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        ):
            name = EventType.Name(kind).removeprefix("EVENT_TYPE_WORKFLOW_EXECUTION_").lower()
            t.add(at, "closed", None, {"execution": name})
            t.summary["closed_at"] = at
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            t.add(at, "continued_as_new", None, {})
    return t


def _started(
    t: Timeline,
    at: datetime,
    event: HistoryEvent,
    titles: dict[str, str],
    seen_alerts: set[str],
    redactor: Redactor,
) -> None:
    attrs = event.workflow_execution_started_event_attributes
    args = _args(attrs.input)
    inp: dict[str, Any] = args[0] if args and isinstance(args[0], dict) else {}
    continued = inp.get("continued")
    if isinstance(continued, dict):  # the same incident, continued in a new run
        t.summary["runs"] = int(t.summary.get("runs", 1)) + 1
        t.add(
            at,
            "run_continued",
            None,
            {
                "previous_run_id": attrs.continued_execution_run_id or None,
                "phase": continued.get("phase"),
            },
        )
        return
    alert = inp.get("alert") or {}
    t.summary.update(
        incident_id=inp.get("incident_id", ""),
        title=alert.get("title", ""),
        service=alert.get("service", ""),
        severity=alert.get("severity", ""),
        opened_at=at,
        status="triggered",
        dry_run=bool(inp.get("dry_run")),
    )
    t.add(
        at,
        "incident_opened",
        attrs.identity or None,
        {
            "incident_id": inp.get("incident_id"),
            "mode": inp.get("mode"),
            "mode_reason": inp.get("mode_reason"),
            "dry_run": inp.get("dry_run", False),
            "kill_switches": inp.get("kill_switches", []),
        },
    )
    if alert:
        seen_alerts.add(str(alert.get("event_id")))
        t.add(at, "alert_received", None, _alert_data(alert, redactor))
    selected = inp.get("selected") or {}
    runbook = selected.get("runbook")
    if runbook:
        _runbook_matched(t, at, selected, runbook, titles)


def _alert_data(alert: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    data = {
        k: alert.get(k)
        for k in (
            "source",
            "name",
            "title",
            "status",
            "service",
            "severity",
            "dedup_key",
            "event_id",
            "payload_digest",
            "starts_at",
            "received_at",
            "generator_url",
        )
    }
    data["labels"] = alert.get("labels") or {}
    data["annotations"] = alert.get("annotations") or {}
    # Again here, though alerts are redacted before they start an incident: history recorded
    # before that (or by another client) must not carry a name, title or URL's secret out.
    return redactor.redact_obj(data)


def _runbook_matched(
    t: Timeline,
    at: datetime,
    selected: dict[str, Any],
    runbook: dict[str, Any],
    titles: dict[str, str],
) -> None:
    t.summary.update(
        runbook_id=runbook.get("id"),
        runbook_title=runbook.get("title"),
        runbook_version=runbook.get("version"),
        match_reason=selected.get("reason", ""),
    )
    t.add(
        at,
        "runbook_matched",
        None,
        {
            "runbook_id": runbook.get("id"),
            "version": runbook.get("version"),
            "reason": selected.get("reason"),
            "variables": selected.get("variables", {}),
            "missing_variables": selected.get("missing_variables", []),
        },
    )
    rendered = {r["step_id"]: r for r in selected.get("rendered", [])}
    for step in runbook.get("steps", []):
        titles[step["id"]] = step.get("title", step["id"])
        r = rendered.get(step["id"], {})
        t.add(
            at,
            "step_proposed",
            None,
            {
                "step_id": step["id"],
                "title": step.get("title"),
                "risk": step.get("risk"),
                "command": r.get("command"),
                "rollback": r.get("rollback"),
                "condition": step.get("condition"),
            },
        )


def _signaled(
    t: Timeline, at: datetime, event: HistoryEvent, seen: set[str], redactor: Redactor
) -> None:
    attrs = event.workflow_execution_signaled_event_attributes
    args = _args(attrs.input)
    body = args[0] if args and isinstance(args[0], dict) else {}
    if attrs.signal_name == "alert_received":
        _alert_signal(t, at, body, seen, redactor)
    elif attrs.signal_name == "alerts_received":  # a batch: each alert as if signalled alone
        for alert in args[0] if args and isinstance(args[0], list) else []:
            _alert_signal(t, at, alert if isinstance(alert, dict) else {}, seen, redactor)
    elif attrs.signal_name == "kill_switch":
        verb = "kill_switch_engaged" if body.get("engaged") else "kill_switch_lifted"
        t.add(at, verb, body.get("actor"), body)
    else:
        t.add(at, f"signal_{attrs.signal_name}", attrs.identity or None, body)


def _alert_signal(
    t: Timeline, at: datetime, body: dict[str, Any], seen: set[str], redactor: Redactor
) -> None:
    event_id = str(body.get("event_id"))
    kind = "alert_repeated" if event_id in seen else "alert_received"
    t.add(at, kind, None, _alert_data(body, redactor))
    if event_id not in seen and body.get("status") == "acknowledged":
        # The workflow's rule (IncidentWorkflow on an acknowledged alert): the source's
        # acknowledgement is the incident's, by "<who> via <source>", once.
        who = f"{body.get('actor') or 'someone'} via {body.get('source')}"
        t.add(at, "acknowledged", who, {"by": who, "source": body.get("source")})
        _acknowledge(t, at, who)
    seen.add(event_id)


def _update(t: Timeline, at: datetime, event: HistoryEvent, titles: dict[str, str]) -> None:
    request = event.workflow_execution_update_accepted_event_attributes.accepted_request
    name = request.input.name
    args = _args(request.input.args)
    body: dict[str, Any] = args[0] if args and isinstance(args[0], dict) else {}
    actor = body.get("approver") or body.get("actor")
    data = {**body, "identity": request.meta.identity, "update_id": request.meta.update_id}
    t.add(at, AUDIT_KINDS.get(name, f"update_{name}"), actor, data)
    if name == "approve_step":
        t.approvals.append(
            ApprovalEntry(
                step_id=body.get("step_id", ""),
                step_title=titles.get(body.get("step_id", ""), ""),
                approver=str(actor),
                decision=body.get("decision", "approve"),
                channel=body.get("channel", "api"),
                at=at,
                comment=body.get("comment", ""),
                authenticated_by=body.get("authenticated_by"),
            )
        )
        _acknowledge(t, at, str(actor))
    elif name == "decide_step":
        t.approvals.append(
            ApprovalEntry(
                step_id=body.get("step_id", ""),
                step_title=titles.get(body.get("step_id", ""), ""),
                approver=str(actor),
                decision=body.get("action", "retry"),
                channel=body.get("channel", "api"),
                at=at,
                comment=body.get("comment", ""),
                authenticated_by=body.get("authenticated_by"),
            )
        )
    elif name in ("acknowledge", "report_step"):
        _acknowledge(t, at, str(actor))


def _acknowledge(t: Timeline, at: datetime, actor: str) -> None:
    if "acknowledged_at" not in t.summary:
        t.summary["acknowledged_at"] = at
        t.summary["acknowledged_by"] = actor


def _activity_done(
    t: Timeline,
    at: datetime,
    item: _Scheduled,
    result: Any,
    failure: str | None,
    titles: dict[str, str],
    redactor: Redactor,
) -> None:
    arg = item.args[0] if item.args and isinstance(item.args[0], dict) else {}
    if item.activity == "run_command":
        _command(t, at, item, arg, result, failure, titles, redactor)
    elif item.activity == "record_escalation" and isinstance(result, dict):
        entry = EscalationEntry(
            at=at,
            level=int(result.get("level", 0)),
            target=str(result.get("target", "")),
            reason=str(result.get("reason", "")),
            step_id=result.get("step_id"),
        )
        t.escalations.append(entry)
        t.add(at, "escalation", "ddrun", entry.model_dump(mode="json"))
    elif item.activity == "record_run_outcome":
        if result:
            t.add(at, "trust", "ddrun", {"message": result})
    else:
        t.add(at, f"activity_{item.activity}", None, {"summary": item.summary, "failure": failure})


def _command(
    t: Timeline,
    at: datetime,
    item: _Scheduled,
    arg: dict[str, Any],
    result: Any,
    failure: str | None,
    titles: dict[str, str],
    redactor: Redactor,
) -> None:
    outcome: dict[str, Any] = result if isinstance(result, dict) else {}
    output = redactor.redact(str(outcome.get("stdout", "")) + str(outcome.get("stderr", "")))
    excerpt, cut = output_excerpt(output)
    purpose = str(arg.get("purpose", "step"))
    if item.summary.startswith("capture "):
        purpose = "capture"
    entry = CommandEntry(
        step_id=str(arg.get("step_id", "")),
        step_title=titles.get(str(arg.get("step_id", "")), ""),
        purpose="rollback" if purpose == "rollback" else "step",
        command=redactor.redact(str(arg.get("command", ""))),
        exit_code=outcome.get("exit_code"),
        started_at=item.started_at,
        finished_at=at,
        duration_ms=outcome.get("duration_ms"),
        attempt=item.attempt,
        agent=str(outcome.get("agent", "")),
        outcome="succeeded" if failure is None else failure,
        output_excerpt=excerpt,
        output_digest=output_digest(output),
        output_truncated=cut or bool(outcome.get("stdout_truncated")),
    )
    if purpose != "capture":
        t.commands.append(entry)
    kind = {"rollback": "rollback_ran", "capture": "value_captured"}.get(purpose, "command_ran")
    t.add(at, kind, entry.agent or None, {**entry.model_dump(mode="json"), "mode": arg.get("mode")})


def _activity_failed(
    t: Timeline,
    at: datetime,
    event: HistoryEvent,
    scheduled: dict[int, _Scheduled],
    titles: dict[str, str],
    redactor: Redactor,
) -> None:
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        attrs = event.activity_task_failed_event_attributes
        failure = attrs.failure
        result = None
        info = failure.application_failure_info
        if info.details.payloads:
            details = _args(info.details)
            result = details[0] if details else None
        reason = f"{info.type or 'failed'}: {failure.message}"
        item = scheduled.get(attrs.scheduled_event_id)
    elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        attrs_t = event.activity_task_timed_out_event_attributes
        reason = f"timed out: {attrs_t.failure.message}"
        result = None
        item = scheduled.get(attrs_t.scheduled_event_id)
    else:
        attrs_c = event.activity_task_canceled_event_attributes
        reason = "cancelled"
        result = None
        item = scheduled.get(attrs_c.scheduled_event_id)
    if item is not None:
        _activity_done(t, at, item, result, reason, titles, redactor)


_CLOSED_STATUSES = frozenset({"resolved", "rolled_back", "aborted"})


def phase_seconds(t: Timeline, opened: datetime, closed_at: datetime) -> dict[str, float]:
    """Seconds spent in each status (phase) between opening and closing, summed over every
    stay, read from the status changes the workflow recorded (search-attribute upserts)."""
    spent: dict[str, float] = {}
    current, since = "triggered", opened
    for record in t.records:
        if record["kind"] != "status":
            continue
        value = record["data"].get("IncidentStatus")
        if not isinstance(value, str) or value == current:
            continue
        spent[current] = spent.get(current, 0.0) + (record["at"] - since).total_seconds()
        current, since = value, record["at"]
    if current not in _CLOSED_STATUSES:
        spent[current] = spent.get(current, 0.0) + (closed_at - since).total_seconds()
    return spent


def _closed(t: Timeline, at: datetime, result: Any) -> None:
    state: dict[str, Any] = result if isinstance(result, dict) else {}
    t.summary.update(
        status=state.get("status", t.summary.get("status")),
        outcome=state.get("outcome", ""),
        closed_at=at,
    )
    opened = t.summary.get("opened_at")
    acked = t.summary.get("acknowledged_at")
    t.add(
        at,
        "closed",
        None,
        {
            "status": state.get("status"),
            "outcome": state.get("outcome"),
            "clean": state.get("clean"),
            "mtta_s": (acked - opened).total_seconds() if acked and opened else None,
            "mttr_s": (at - opened).total_seconds() if opened else None,
            "phases_s": phase_seconds(t, opened, at) if opened else {},
        },
    )
