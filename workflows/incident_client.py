"""Typed client-side calls to IncidentWorkflow, shared by the API, the CLI and the tests.

Alerts reach an incident by signal-with-start: one atomic server call that either starts the
incident or signals the running one, durable once it returns and independent of any worker
being up, with no limit on concurrent deliveries (unlike updates).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError, RPCStatusCode

from domain.incident_ids import incident_id_for
from schemas.alert import Alert, AlertStatus
from schemas.incident import (
    AlertAccepted,
    ApprovalDecision,
    EscalationPolicy,
    HumanAction,
    IncidentInput,
    IncidentState,
    IncidentStatus,
    IncidentSummary,
    InterruptedStepDecision,
    ModeChange,
    SelectedRunbook,
    StepAction,
    StepReport,
)
from schemas.settings import Settings
from schemas.trust import KillSwitch, Mode
from workflows import search_attributes as sa
from workflows.incident import IncidentWorkflow

ALERT_SIGNAL = "alert_received"
KILL_SWITCH_SIGNAL = "kill_switch"


class IncidentNotFoundError(LookupError):
    pass


def _summary(alert: Alert) -> str:
    return f"[{alert.severity}] {alert.service}: {alert.title}"[:400]


def _details(alert: Alert) -> str:
    labels = "\n".join(f"- `{k}` = `{v}`" for k, v in sorted(alert.labels.items()))
    return f"**{alert.name}** from {alert.source.value}\n\n{alert.description}\n\n{labels}"[:4000]


async def deliver_alert(
    client: Client,
    settings: Settings,
    alert: Alert,
    selected: SelectedRunbook | None = None,
    *,
    mode: Mode = Mode.COPILOT,
    mode_reason: str = "default for a new runbook",
    kill_switches: Sequence[KillSwitch] = (),
) -> AlertAccepted:
    """Start the incident for a firing alert or signal the open one; tell it when it resolves.

    `selected` is the runbook chosen before start; without it the workflow chooses.
    """
    incident_id = incident_id_for(alert)
    if alert.status is AlertStatus.RESOLVED:
        try:
            await client.get_workflow_handle(incident_id).signal(ALERT_SIGNAL, alert)
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            return AlertAccepted(
                incident_id=None,
                dedup_key=alert.dedup_key,
                status=alert.status.value,
                action="ignored",
                detail="no open incident for this alert",
            )
        return AlertAccepted(
            incident_id=incident_id,
            dedup_key=alert.dedup_key,
            status=alert.status.value,
            action="resolved_sent",
        )
    incident = IncidentInput(
        incident_id=incident_id,
        alert=alert,
        agent_task_queue=settings.agent_task_queue,
        escalation=EscalationPolicy(levels=list(settings.escalation_levels)),
        selected=selected,
        mode=mode,
        mode_reason=mode_reason,
        kill_switches=list(kill_switches),
        blast_radius=settings.blast_radius,
    )
    await client.start_workflow(
        IncidentWorkflow.run,
        incident,
        id=incident_id,
        task_queue=settings.orchestrator_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        start_signal=ALERT_SIGNAL,
        start_signal_args=[alert],
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.SERVICE, alert.service),
                SearchAttributePair(sa.SEVERITY, alert.severity),
                SearchAttributePair(sa.STATUS, IncidentStatus.TRIGGERED.value),
                SearchAttributePair(sa.SOURCE, alert.source.value),
                SearchAttributePair(sa.ESCALATED, False),
                SearchAttributePair(sa.AUTOMATED, False),
                SearchAttributePair(sa.MODE, mode.value),
                SearchAttributePair(sa.KIND, "incident"),
                *_runbook_attributes(selected),
            ]
        ),
        static_summary=_summary(alert),
        static_details=_details(alert),
    )
    return AlertAccepted(
        incident_id=incident_id,
        dedup_key=alert.dedup_key,
        status=alert.status.value,
        action="started_or_attached",
    )


def _runbook_attributes(selected: SelectedRunbook | None) -> list[SearchAttributePair[Any]]:
    if selected is None or selected.runbook is None:
        return []
    return [
        SearchAttributePair(sa.RUNBOOK_ID, selected.runbook.id),
        SearchAttributePair(sa.RUNBOOK_VERSION, selected.runbook.version),
    ]


def _summary_row(execution: WorkflowExecution) -> IncidentSummary:
    attrs = execution.typed_search_attributes
    status = attrs.get(sa.STATUS) or "unknown"
    return IncidentSummary(
        id=execution.id,
        run_id=execution.run_id,
        status=status,
        service=attrs.get(sa.SERVICE),
        severity=attrs.get(sa.SEVERITY),
        runbook=attrs.get(sa.RUNBOOK_ID),
        execution_status=execution.status.name if execution.status else "UNKNOWN",
        started_at=execution.start_time,
        closed_at=execution.close_time,
    )


def visibility_query(
    *,
    service: str | None = None,
    status: str | None = None,
    severity: str | None = None,
    runbook: str | None = None,
    since: datetime | None = None,
) -> str:
    """A visibility query over our search attributes; values are quoted, never spliced raw."""
    clauses = ['WorkflowType = "IncidentWorkflow"', 'IncidentKind != "dry-run"']
    for key, value in (
        ("IncidentService", service),
        ("IncidentStatus", status),
        ("IncidentSeverity", severity),
        ("RunbookId", runbook),
    ):
        if value is not None:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            clauses.append(f'{key} = "{escaped}"')
    if since is not None:
        clauses.append(f'StartTime >= "{since.isoformat()}"')
    return " AND ".join(clauses)


async def list_incidents(client: Client, query: str, limit: int = 50) -> list[IncidentSummary]:
    rows: list[IncidentSummary] = []
    async for execution in client.list_workflows(query, limit=limit):
        rows.append(_summary_row(execution))
    return rows


async def get_state(client: Client, incident_id: str) -> IncidentState:
    """The live state by query; for a closed incident with no worker up, its recorded result."""
    handle = client.get_workflow_handle_for(IncidentWorkflow.run, incident_id)
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise IncidentNotFoundError(incident_id) from err
        raise
    if description.status is WorkflowExecutionStatus.COMPLETED:
        return await handle.result()
    return await handle.query(IncidentWorkflow.state)


def incident_handle(
    client: Client, incident_id: str
) -> WorkflowHandle[IncidentWorkflow, IncidentState]:
    return client.get_workflow_handle_for(IncidentWorkflow.run, incident_id)


async def approve_step(client: Client, incident_id: str, decision: ApprovalDecision) -> str:
    return await incident_handle(client, incident_id).execute_update(
        IncidentWorkflow.approve_step, decision
    )


async def decide_step(client: Client, incident_id: str, decision: InterruptedStepDecision) -> str:
    return await incident_handle(client, incident_id).execute_update(
        IncidentWorkflow.decide_step, decision
    )


async def abort(client: Client, incident_id: str, action: HumanAction) -> str:
    return await incident_handle(client, incident_id).execute_update(IncidentWorkflow.abort, action)


async def acknowledge(client: Client, incident_id: str, action: HumanAction) -> str:
    return await incident_handle(client, incident_id).execute_update(
        IncidentWorkflow.acknowledge, action
    )


async def resolve(client: Client, incident_id: str, action: HumanAction) -> str:
    return await incident_handle(client, incident_id).execute_update(
        IncidentWorkflow.resolve, action
    )


async def report_step(client: Client, incident_id: str, report: StepReport) -> str:
    return await incident_handle(client, incident_id).execute_update(
        IncidentWorkflow.report_step, report
    )


async def skip_step(client: Client, incident_id: str, action: StepAction) -> str:
    return await incident_handle(client, incident_id).execute_update(
        IncidentWorkflow.skip_step, action
    )


async def undo_step(client: Client, incident_id: str, action: StepAction) -> str:
    return await incident_handle(client, incident_id).execute_update(
        IncidentWorkflow.undo_step, action
    )


async def pause(client: Client, incident_id: str, action: HumanAction) -> str:
    return await incident_handle(client, incident_id).execute_update(IncidentWorkflow.pause, action)


async def resume(client: Client, incident_id: str, action: HumanAction) -> str:
    return await incident_handle(client, incident_id).execute_update(
        IncidentWorkflow.resume, action
    )


async def take_over(client: Client, incident_id: str, action: HumanAction) -> str:
    return await incident_handle(client, incident_id).execute_update(
        IncidentWorkflow.take_over, action
    )


async def set_mode(client: Client, incident_id: str, change: ModeChange) -> str:
    return await incident_handle(client, incident_id).execute_update(
        IncidentWorkflow.set_mode, change
    )


async def broadcast_kill_switch(client: Client, switch: KillSwitch) -> list[str]:
    """Tell every running incident the switch covers; returns their ids."""
    query = 'WorkflowType = "IncidentWorkflow" AND ExecutionStatus = "Running"'
    if switch.value is not None and switch.scope.value != "global":
        key = "IncidentService" if switch.scope.value == "service" else "RunbookId"
        escaped = switch.value.replace("\\", "\\\\").replace('"', '\\"')
        query += f' AND {key} = "{escaped}"'
    told: list[str] = []
    async for execution in client.list_workflows(query):
        try:
            await client.get_workflow_handle(execution.id).signal(KILL_SWITCH_SIGNAL, switch)
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            continue
        told.append(execution.id)
    return told


async def start_dry_run(
    client: Client,
    settings: Settings,
    alert: Alert,
    selected: SelectedRunbook,
    *,
    mode: Mode,
    mode_reason: str,
    with_safe_reads: bool = False,
) -> str:
    """A dry run is its own workflow, marked as such everywhere (id, kind, summary)."""
    runbook_id = selected.runbook.id if selected.runbook else "none"
    dry_id = f"dryrun-{runbook_id}-{uuid.uuid4().hex[:12]}"
    await client.start_workflow(
        IncidentWorkflow.run,
        IncidentInput(
            incident_id=dry_id,
            alert=alert,
            agent_task_queue=settings.agent_task_queue,
            escalation=EscalationPolicy(levels=[]),
            selected=selected,
            mode=mode,
            mode_reason=mode_reason,
            blast_radius=0,
            dry_run=True,
            with_safe_reads=with_safe_reads,
        ),
        id=dry_id,
        task_queue=settings.orchestrator_task_queue,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.SERVICE, alert.service),
                SearchAttributePair(sa.SEVERITY, alert.severity),
                SearchAttributePair(sa.STATUS, IncidentStatus.TRIGGERED.value),
                SearchAttributePair(sa.SOURCE, alert.source.value),
                SearchAttributePair(sa.MODE, mode.value),
                SearchAttributePair(sa.KIND, "dry-run"),
                *_runbook_attributes(selected),
            ]
        ),
        static_summary=f"[DRY RUN] {_summary(alert)}"[:400],
        static_details=_details(alert),
    )
    return dry_id
