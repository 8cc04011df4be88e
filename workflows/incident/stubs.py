"""The activities the incident workflow calls, by name: importing the workflow loads no I/O code.

Each stub states its activity's name, input and result type, and its failure behaviour (see
`workflows.options`); the implementations live in `activities/` and are registered under the
same names by the workers. A name here is a contract: recorded histories hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schemas.email import EmailMessageIn
    from schemas.incident import (
        Escalation,
        ResolvePages,
        RunCommandInput,
        RunCommandResult,
        SelectedRunbook,
        SelectRunbookInput,
        StepOutput,
        StepOutputThenCheck,
    )
    from schemas.incident_runs import IncidentClosed
    from schemas.runbook import StepRisk
    from schemas.slack import SlackPostInput, SlackSyncInput
    from schemas.statuspage import StatuspagePush, StatuspagePushed
    from schemas.trust import RunOutcome, SlotGrant, SlotRequest
    from workflows import options

SELECT_RUNBOOK = "select_runbook"
CHECK_AUTOMATION = "check_automation"
RELEASE_AUTOMATION_SLOT = "release_automation_slot"
RECORD_RUN_OUTCOME = "record_run_outcome"
RECORD_INCIDENT_CLOSE = "record_incident_close"
RECORD_ESCALATION = "record_escalation"
RESOLVE_PAGES = "resolve_pages"
RUN_COMMAND = "run_command"
SYNC_SLACK = "sync_slack"
SLACK_CATCH_UP_WORKFLOW = "SlackCatchUpWorkflow"
SEND_EMAIL = "send_email"
POST_SLACK_MESSAGE = "post_slack_message"
PUSH_STATUSPAGE = "push_statuspage"
STORE_STEP_OUTPUT = "store_step_output"
STORE_OUTPUT_THEN_CHECK = "store_step_output_then_check"

_T = TypeVar("_T")


@dataclass(frozen=True)
class _Patience:
    """How long one attempt may take, how it is retried, and when to give up."""

    timeout: timedelta
    retry: RetryPolicy
    give_up: timedelta | None = None


#: The product's own store and services: short, retried until they answer.
_CONTROL = _Patience(options.CONTROL_PLANE_TIMEOUT, options.CONTROL_PLANE_RETRY)
_SLACK = _Patience(options.SLACK_TIMEOUT, options.SLACK_RETRY)
_STATUSPAGE = _Patience(
    options.STATUSPAGE_TIMEOUT, options.STATUSPAGE_RETRY, options.STATUSPAGE_GIVE_UP
)


async def _call(
    name: str,
    arg: object,
    result_type: type[_T],
    summary: str,
    patience: _Patience = _CONTROL,
    *,
    local: bool = False,
) -> _T:
    """One activity by name (a local activity for a short database call on the worker)."""
    result: _T
    if local:
        result = await workflow.execute_local_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=patience.timeout,
            retry_policy=patience.retry,
            summary=summary,
        )
        return result
    result = await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=patience.timeout,
        schedule_to_close_timeout=patience.give_up,
        retry_policy=patience.retry,
        summary=summary,
    )
    return result


# ------------------------------------------------------------------ the product's own store


async def select_runbook(request: SelectRunbookInput) -> SelectedRunbook:
    """A short database read for a client that did not choose before start."""
    return await _call(SELECT_RUNBOOK, request, SelectedRunbook, "select runbook", local=True)


async def check_automation(request: SlotRequest) -> SlotGrant:
    return await _call(CHECK_AUTOMATION, request, SlotGrant, "automation check", local=True)


async def release_automation_slot(incident_id: str) -> None:
    await _call(
        RELEASE_AUTOMATION_SLOT, incident_id, object, "release blast-radius slot", local=True
    )


async def record_incident_close(closed: IncidentClosed) -> None:
    """Release the intake's correlation claim (db/incident_claims.py): a later alert for the
    same group now reopens this run or starts a new incident."""
    await _call(RECORD_INCIDENT_CLOSE, closed, object, "release intake claim", local=True)


async def store_step_output(output: StepOutput) -> None:
    """The full output into the product's store (a short database write)."""
    summary = f"store output of {output.purpose} {output.step_id}"
    await _call(STORE_STEP_OUTPUT, output, object, summary, local=True)


async def store_output_then_check(request: StepOutputThenCheck) -> SlotGrant:
    """Between two automatic steps: the output stored, then the kill switches, in one call."""
    summary = f"store output of step {request.output.step_id}, then automation check"
    return await _call(STORE_OUTPUT_THEN_CHECK, request, SlotGrant, summary, local=True)


async def record_run_outcome(outcome: RunOutcome) -> str:
    return await _call(RECORD_RUN_OUTCOME, outcome, str, "record run outcome for trust")


async def record_escalation(escalation: Escalation) -> Escalation:
    summary = f"escalate to {escalation.target}"
    return await _call(RECORD_ESCALATION, escalation, Escalation, summary)


async def resolve_pages(request: ResolvePages) -> None:
    await _call(RESOLVE_PAGES, request, int, "resolve pages")


# ------------------------------------------------------------------- people and the outside


async def send_email(message: EmailMessageIn) -> str:
    """Retried until the SMTP server takes it (a notification is worth waiting for)."""
    return await _call(SEND_EMAIL, message, str, f"email {message.subject}"[:100])


async def sync_slack(request: SlackSyncInput) -> None:
    await _call(SYNC_SLACK, request, object, "sync Slack", _SLACK)


async def post_slack_message(message: SlackPostInput) -> str:
    """A composed message to a configured channel; patient like every Slack call."""
    summary = f"Slack {message.purpose}"[:100]
    return await _call(POST_SLACK_MESSAGE, message, str, summary, _SLACK)


async def push_statuspage(push: StatuspagePush) -> StatuspagePushed:
    """Create or update the Statuspage incident; a refusal raises at once (non-retryable)."""
    verb = "create" if push.statuspage_incident_id is None else "update"
    summary = f"Statuspage {verb} (update #{push.number})"
    return await _call(PUSH_STATUSPAGE, push, StatuspagePushed, summary, _STATUSPAGE)


# --------------------------------------------------------------------------- the agent


async def run_command(
    request: RunCommandInput, *, task_queue: str, risk: StepRisk, summary: str
) -> RunCommandResult:
    """On the agent's queue; a step that changes state runs at most once, so does a rollback.

    Cancelling waits for the agent to stop the command (an abort must not race the rollback).
    """
    result: RunCommandResult = await workflow.execute_activity(
        RUN_COMMAND,
        request,
        result_type=RunCommandResult,
        task_queue=task_queue,
        start_to_close_timeout=options.command_timeout(request.timeout_s),
        heartbeat_timeout=options.COMMAND_HEARTBEAT_TIMEOUT,
        retry_policy=options.command_retry(risk)
        if request.purpose != "rollback"
        else options.AT_MOST_ONCE,
        cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        summary=summary,
    )
    return result


async def start_slack_catch_up(request: SlackSyncInput, incident_id: str) -> None:
    """The final sync as an abandoned child: it must not keep the incident open while Slack
    is down, and retries until Slack answers."""
    await workflow.start_child_workflow(
        SLACK_CATCH_UP_WORKFLOW,
        request,
        id=f"{incident_id}-slack-{workflow.info().run_id}",
        task_queue=workflow.info().task_queue,
        parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        static_summary=f"Slack catch-up for {incident_id}",
    )
