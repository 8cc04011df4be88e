"""Typed client-side calls to IncidentWorkflow, shared by the API, the CLI and the tests.

Alerts reach an incident by signal-with-start: one atomic server call that either starts the
incident or signals the running one, durable once it returns and independent of any worker
being up, with no limit on concurrent deliveries (unlike updates). Which incident a firing alert
belongs to is decided before that call by one atomic claim in the product's database, not by
a visibility query (db/incident_claims.py): one Temporal call on the hot path.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar

from opentelemetry import trace
from pydantic import BaseModel
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

from db.incident_claims import Claim, IncidentClaimStore, group_key
from domain.incident_ids import incident_id_for
from domain.policy import PolicyError, commander_for, rules_for, timers_for
from domain.severity import derive_severity
from infra.policy_file import current_policy
from schemas import search_attributes as sa
from schemas.alert import Alert, AlertStatus
from schemas.human_actions import BY_UPDATE
from schemas.incident import (
    AlertAccepted,
    ApprovalDecision,
    ApprovalRule,
    CommanderChange,
    EscalationPolicy,
    HumanAction,
    IncidentInput,
    IncidentState,
    IncidentStatus,
    IncidentSummary,
    InterruptedStepDecision,
    ModeChange,
    Notifications,
    PreviousRun,
    SelectedRunbook,
    StepAction,
    StepReport,
)
from schemas.policy import ApprovalPolicy
from schemas.runbook import StepRisk
from schemas.settings import Settings
from schemas.severity import Severity
from schemas.statuspage import StatuspageTarget
from schemas.trust import KillSwitch, Mode
from workflows.incident import IncidentWorkflow
from workflows.incident_record import closed_message, when

log = logging.getLogger(__name__)
tracer = trace.get_tracer("ddrun.api")

ALERT_SIGNAL = "alert_received"
KILL_SWITCH_SIGNAL = "kill_switch"
#: How long an alert waits for the holder of its correlation group to appear in Temporal (the
#: holder claimed first and is starting) before the claim is treated as lost.
STARTING_GRACE = timedelta(seconds=5)


class Intake(Protocol):
    """Where webhooks hand firing alerts (services/intake.Intake)."""

    async def accept(
        self, incident: IncidentInput, group: str | None, *, read_opening: bool = False
    ) -> AlertAccepted: ...


class IncidentNotFoundError(LookupError):
    pass


class IncidentClosedError(Exception):
    """A human input reached an incident whose workflow has ended; the message says when, by
    whom and how (read from its recorded result), instead of Temporal's "already completed"."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _policy_or_defaults(settings: Settings) -> ApprovalPolicy | None:
    """The approval policy as the file says now; None: the defaults.

    The API validates the file at start-up; a file broken later keeps the defaults for new
    incidents (logged), rather than refusing to open an incident at 3am.
    """
    try:
        return current_policy(settings.approval_policy_file)
    except PolicyError as err:
        log.error("%s: using the default approval rules", err)
        return None


def _summary(alert: Alert) -> str:
    return f"[{alert.severity}] {alert.service}: {alert.title}"[:400]


def _details(alert: Alert) -> str:
    labels = "\n".join(f"- `{k}` = `{v}`" for k, v in sorted(alert.labels.items()))
    return f"**{alert.name}** from {alert.source.value}\n\n{alert.description}\n\n{labels}"[:4000]


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


async def deliver_alert(
    client: Client,
    settings: Settings,
    alert: Alert,
    selected: SelectedRunbook | None = None,
    *,
    mode: Mode = Mode.COPILOT,
    mode_reason: str = "default for a new runbook",
    kill_switches: Sequence[KillSwitch] = (),
    approval_rules: Mapping[StepRisk, ApprovalRule] | None = None,
    commander: str | None = None,
    on_call: str | None = None,
    claims: IncidentClaimStore | None = None,
    severity: Severity | None = None,
    declared_by: str | None = None,
    intake: Intake | None = None,
    read_opening: bool = False,
) -> AlertAccepted:
    """Start the incident for a firing alert, or attach it to the open one; pass on what the
    source says later (acknowledged, resolved, updated).

    Where a firing alert goes is one atomic database claim (`claims`, db/incident_claims.py),
    then one Temporal call: a repeat of the same dedup key reaches its incident by
    signal-with-start on the id derived from the key; a different key for the same service
    and runbook, while an incident holds that group within the correlation window, is
    signalled to it as a related alert; a key whose incident closed within the reopen window
    starts a new run linked to the old. `selected` is the runbook chosen before start; without
    it the workflow chooses.
    With `intake` (services/intake.py, the webhooks) the claim also queues the alert, and the
    answer may come before Temporal has it (`queued`); without it the answer waits for Temporal.
    With `read_opening` (needs `intake`) the mode is the runbook's, unless a kill switch covers
    it, read in the claim's transaction: `mode`, `mode_reason` and `kill_switches` are not used.
    `severity` is a level a person declared; without it the level is derived from the alert.
    The commander is the one the approval policy names for the service, else `on_call` (the
    source's assignee, mapped to a person by services/source_people.py).
    """
    incident_id = incident_id_for(alert)
    if alert.status is not AlertStatus.FIRING:
        return await _pass_on(client, incident_id, alert)
    runbook_id = selected.runbook.id if selected and selected.runbook else None
    with tracer.start_as_current_span("read_policy"):
        policy = _policy_or_defaults(settings)
        if approval_rules is None:
            approval_rules = rules_for(policy, alert.service, runbook_id, alert.severity)
        if commander is None:
            commander = commander_for(policy, alert.service) or on_call
        timers = timers_for(policy, alert.service)
    level = severity or derive_severity(alert, settings.severity_policy)
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
        hold_open_while_firing=settings.hold_open_while_firing,
        no_runbook_timeout_s=settings.no_runbook_timeout_s,
        continue_after_events=settings.continue_as_new_after_events,
        approval_rules=dict(approval_rules),
        commander=commander,
        severity_level=level,
        declared_by=declared_by,
        slas=dict(settings.severity_policy.slas) if settings.sla_timers else {},
        ic_approvals=settings.ic_approvals,
        soak_s=dict(settings.severity_policy.soak_s) if settings.soak_period else {},
        executives=list(settings.executive_emails),
        executive_deadline_s=dict(settings.severity_policy.executive_deadline_s),
        executive_channel=settings.executive_slack_channel or None,
        statuspage=statuspage_target(settings, alert.service),
        engineering_channel=settings.engineering_channel or None,
        engineering_update_s=(
            dict(settings.severity_policy.engineering_update_s)
            if settings.engineering_channel
            else {}
        ),
        update_cadence_s=(
            dict(settings.severity_policy.update_cadence_s)
            if settings.status_update_reminders
            else {}
        ),
        notifications=Notifications(
            slack=settings.slack_bot_token is not None,
            ack_timeout_s=timers.ack_timeout_s or settings.ack_timeout_s,
            resolve_timeout_s=timers.resolve_timeout_s or settings.resolve_timeout_s,
        ),
    )
    group = group_key(alert.service, runbook_id) if runbook_id is not None else None
    if intake is not None:
        return await intake.accept(incident, group, read_opening=read_opening)
    if read_opening:
        raise TypeError("the opening is read in the intake claim: pass `intake`")
    if claims is None:
        raise TypeError("a firing alert needs the intake claims (IncidentClaimStore)")
    return await start_or_join(client, settings, claims, incident, group)


async def start_or_join(
    client: Client,
    settings: Settings,
    claims: IncidentClaimStore,
    incident: IncidentInput,
    group: str | None,
) -> AlertAccepted:
    """Claim, then the one Temporal call, answering once Temporal has the alert."""
    claim = await _claim(client, claims, settings, incident.incident_id, incident.alert, group)
    if claim.action != "joined":
        try:
            await start_incident(client, settings, with_reopens(incident, claim))
        except Exception:
            await claims.abandon(claim)  # Temporal refused or is down: the retry decides afresh
            raise
    return accepted(claim, incident.alert, incident.selected)


def with_reopens(incident: IncidentInput, claim: Claim) -> IncidentInput:
    """The input as the claim decided: linked to the run it reopens, if any."""
    if claim.reopens is None:
        return incident
    previous = PreviousRun(
        incident_id=incident.incident_id,
        run_id=claim.reopens.run_id,
        closed_at=claim.reopens.closed_at,
        status=claim.reopens.status,
    )
    return incident.model_copy(update={"reopens": previous})


def accepted(
    claim: Claim, alert: Alert, selected: SelectedRunbook | None, *, queued: bool = False
) -> AlertAccepted:
    """The webhook's answer for a firing alert, from its claim."""
    runbook_id = selected.runbook.id if selected and selected.runbook else None
    if claim.action == "joined":
        return AlertAccepted(
            incident_id=claim.incident_id,
            dedup_key=alert.dedup_key,
            status=alert.status.value,
            action="correlated",
            detail=f"joined open incident for {alert.service} / {runbook_id}",
            queued=queued,
        )
    return AlertAccepted(
        incident_id=claim.incident_id,
        dedup_key=alert.dedup_key,
        status=alert.status.value,
        action="reopened" if claim.reopens is not None else "started_or_attached",
        detail=f"reopens run {claim.reopens.run_id}" if claim.reopens is not None else "",
        queued=queued,
    )


def statuspage_target(settings: Settings, service: str) -> StatuspageTarget | None:
    """Where this service's published updates are pushed; None when no page (or no API key)
    is configured. The key itself stays with the worker: it never enters history."""
    if not settings.statuspage_page_id or settings.statuspage_api_key is None:
        return None
    components = settings.statuspage_components
    return StatuspageTarget(
        page_id=settings.statuspage_page_id,
        component_ids=list(components.get(service, components.get("*", []))),
    )


async def _claim(
    client: Client,
    claims: IncidentClaimStore,
    settings: Settings,
    incident_id: str,
    alert: Alert,
    group: str | None,
) -> Claim:
    """The claim for a firing alert; a `joined` one has had its alert signalled.

    A group holder Temporal does not know yet may still be starting (its claim came first, or
    its start waits in the intake queue): the alert waits for it. One Temporal does not run
    (terminated, or its start was lost with its process) is forgotten after `STARTING_GRACE`
    (`IncidentClaimStore.forget_gone`), and the alert claims afresh.
    """
    while True:
        with tracer.start_as_current_span("incident_claim"):
            claim = await claims.claim(
                incident_id,
                group,
                correlation_window_s=settings.correlation_window_s,
                reopen_window_s=settings.reopen_window_s,
            )
        if claim.action != "joined" or await signal_alert(client, claim.incident_id, alert):
            return claim
        if not await claims.forget_gone(claim.incident_id, claim.since, STARTING_GRACE):
            await asyncio.sleep(0.02)  # still starting: its start is on its way


async def start_incident(client: Client, settings: Settings, incident: IncidentInput) -> None:
    """Signal-with-start: starts the run, or signals it when it is already running."""
    alert, selected = incident.alert, incident.selected
    await client.start_workflow(
        IncidentWorkflow.run,
        incident,
        id=incident.incident_id,
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
                SearchAttributePair(sa.MODE, incident.mode.value),
                SearchAttributePair(sa.KIND, "incident"),
                SearchAttributePair(sa.ALERT_KEYS, [alert.dedup_key]),
                *_runbook_attributes(selected),
            ]
        ),
        static_summary=_summary(alert),
        static_details=_details(alert),
    )


async def signal_alert(client: Client, incident_id: str, alert: Alert) -> bool:
    """Signal the alert to a running incident; False when it is not running (closed or absent)."""
    try:
        await client.get_workflow_handle(incident_id).signal(ALERT_SIGNAL, alert)
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True


async def _pass_on(client: Client, incident_id: str, alert: Alert) -> AlertAccepted:
    """Acknowledged / resolved / updated at the source: tell the open incident that has it."""
    action: Literal["resolved_sent", "acknowledged", "updated"] = (
        "acknowledged"
        if alert.status is AlertStatus.ACKNOWLEDGED
        else ("resolved_sent" if alert.status is AlertStatus.RESOLVED else "updated")
    )
    if await signal_alert(client, incident_id, alert):
        return AlertAccepted(
            incident_id=incident_id,
            dedup_key=alert.dedup_key,
            status=alert.status.value,
            action=action,
        )
    # Not its own incident: maybe it joined another one as a related alert.
    query = (
        'WorkflowType = "IncidentWorkflow" AND ExecutionStatus = "Running" '
        f"AND IncidentAlertKeys = {_quoted(alert.dedup_key)}"
    )
    async for execution in client.list_workflows(query, limit=5):
        if await signal_alert(client, execution.id, alert):
            return AlertAccepted(
                incident_id=execution.id,
                dedup_key=alert.dedup_key,
                status=alert.status.value,
                action=action,
            )
    return AlertAccepted(
        incident_id=None,
        dedup_key=alert.dedup_key,
        status=alert.status.value,
        action="ignored",
        detail="no open incident for this alert",
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
            clauses.append(f"{key} = {_quoted(value)}")
    if since is not None:
        clauses.append(f'StartTime >= "{since.isoformat()}"')
    return " AND ".join(clauses)


async def list_incidents(client: Client, query: str, limit: int = 50) -> list[IncidentSummary]:
    rows: list[IncidentSummary] = []
    async for execution in client.list_workflows(query, limit=limit):
        rows.append(_summary_row(execution))
    return rows


async def readable_states(
    client: Client, incident_ids: Sequence[str], timeout_s: float = 3.0
) -> list[IncidentState]:
    """The states of these incidents that answer within `timeout_s`, in order. A running
    incident answers a query only through a worker: one whose worker is down (or a run left by
    a stopped stack) must not hold up a page that lists many."""

    async def one(incident_id: str) -> IncidentState | None:
        try:
            return await asyncio.wait_for(get_state(client, incident_id), timeout_s)
        except Exception:
            log.warning("incident %s could not be read within %ss", incident_id, timeout_s)
            return None

    found = await asyncio.gather(*(one(i) for i in incident_ids))
    return [s for s in found if s is not None]


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


async def act(
    client: Client, incident_id: str, update: str, arg: BaseModel, request_id: str | None = None
) -> str:
    """Send one human action (a workflow update by name). The same `request_id` sent twice is
    one action: Temporal answers the second with the first's result, nothing is done again.
    An incident that has ended raises IncidentClosedError saying when and by whom; an action
    the registry does not list, or with the wrong input, is a programming error (TypeError)."""
    spec = BY_UPDATE.get(update)
    if spec is None or not isinstance(arg, spec.input):
        raise TypeError(f"{update}({type(arg).__name__}) is not a human action of the registry")
    try:
        result: str = await incident_handle(client, incident_id).execute_update(
            update, arg, id=request_id, result_type=str
        )
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        raise await _closed_or_missing(client, incident_id) from err
    return result


_In = TypeVar("_In", bound=BaseModel)


def _action(update: str, _input: type[_In]) -> Callable[[Client, str, _In], Awaitable[str]]:
    """A named, typed call for one human action of the registry (`act` checks both)."""

    async def call(client: Client, incident_id: str, arg: _In) -> str:
        return await act(client, incident_id, update, arg)

    call.__name__ = call.__qualname__ = update
    return call


# One named call per human action, each through `act` and so through the registry
# (schemas/human_actions.py): `incident_client.pause(client, id, action)`.
approve_step = _action("approve_step", ApprovalDecision)
decide_step = _action("decide_step", InterruptedStepDecision)
report_step = _action("report_step", StepReport)
skip_step = _action("skip_step", StepAction)
undo_step = _action("undo_step", StepAction)
abort = _action("abort", HumanAction)
acknowledge = _action("acknowledge", HumanAction)
pause = _action("pause", HumanAction)
resume = _action("resume", HumanAction)
take_over = _action("take_over", HumanAction)
escalate = _action("escalate", HumanAction)
set_mode = _action("set_mode", ModeChange)
assign_commander = _action("assign_commander", CommanderChange)


async def resolve(client: Client, incident_id: str, action: HumanAction) -> str:
    """Resolve by hand. Refused (WorkflowUpdateFailedError) while a decision is pending; an
    incident already closed raises IncidentClosedError saying when and by whom."""
    return await act(client, incident_id, "resolve", action)


async def _closed_or_missing(client: Client, incident_id: str) -> Exception:
    """Why an update found no running workflow: the incident is closed (say how), or absent."""
    handle = incident_handle(client, incident_id)
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return IncidentNotFoundError(incident_id)
        return err
    status = description.status
    if status is WorkflowExecutionStatus.RUNNING:  # closed and reopened in between: rare
        return IncidentClosedError(f"incident {incident_id} changed meanwhile; retry")
    if status is WorkflowExecutionStatus.COMPLETED:
        return IncidentClosedError(closed_message(await handle.result()))
    ended = status.name.lower().replace("_", " ") if status is not None else "closed"
    return IncidentClosedError(
        f"incident {incident_id} already closed at {when(description.close_time)}: "
        f"its workflow was {ended}"
    )


async def broadcast_kill_switch(client: Client, switch: KillSwitch) -> list[str]:
    """Tell every running incident the switch covers; returns their ids."""
    query = 'WorkflowType = "IncidentWorkflow" AND ExecutionStatus = "Running"'
    if switch.value is not None and switch.scope.value != "global":
        key = "IncidentService" if switch.scope.value == "service" else "RunbookId"
        query += f" AND {key} = {_quoted(switch.value)}"
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
