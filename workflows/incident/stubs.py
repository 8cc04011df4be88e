"""The activities the incident workflow calls, by name: importing the workflow loads no I/O code.

Each stub states its activity's name, input and result type, and its failure behaviour (see
`workflows.options`); the implementations live in `activities/` and are registered under the
same names by the workers. A name here is a contract: recorded histories hold it.
"""

from __future__ import annotations

from temporalio import workflow

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


async def post_slack_message(message: SlackPostInput) -> str:
    """A composed message to a configured channel; patient like every Slack call."""
    result: str = await workflow.execute_activity(
        POST_SLACK_MESSAGE,
        message,
        result_type=str,
        start_to_close_timeout=options.SLACK_TIMEOUT,
        retry_policy=options.SLACK_RETRY,
        summary=f"Slack {message.purpose}"[:100],
    )
    return result


async def push_statuspage(push: StatuspagePush) -> StatuspagePushed:
    """Create or update the Statuspage incident; a refusal raises at once (non-retryable)."""
    verb = "create" if push.statuspage_incident_id is None else "update"
    result: StatuspagePushed = await workflow.execute_activity(
        PUSH_STATUSPAGE,
        push,
        result_type=StatuspagePushed,
        start_to_close_timeout=options.STATUSPAGE_TIMEOUT,
        schedule_to_close_timeout=options.STATUSPAGE_GIVE_UP,
        retry_policy=options.STATUSPAGE_RETRY,
        summary=f"Statuspage {verb} (update #{push.number})",
    )
    return result


async def send_email(message: EmailMessageIn) -> str:
    """Retried until the SMTP server takes it (a notification is worth waiting for)."""
    result: str = await workflow.execute_activity(
        SEND_EMAIL,
        message,
        result_type=str,
        start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
        retry_policy=options.CONTROL_PLANE_RETRY,
        summary=f"email {message.subject}"[:100],
    )
    return result


async def select_runbook(request: SelectRunbookInput) -> SelectedRunbook:
    """A short database read (local activity) for a client that did not choose before start."""
    result: SelectedRunbook = await workflow.execute_local_activity(
        SELECT_RUNBOOK,
        request,
        result_type=SelectedRunbook,
        start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
        retry_policy=options.CONTROL_PLANE_RETRY,
        summary="select runbook",
    )
    return result


async def check_automation(request: SlotRequest) -> SlotGrant:
    result: SlotGrant = await workflow.execute_local_activity(
        CHECK_AUTOMATION,
        request,
        result_type=SlotGrant,
        start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
        retry_policy=options.CONTROL_PLANE_RETRY,
        summary="automation check",
    )
    return result


async def release_automation_slot(incident_id: str) -> None:
    await workflow.execute_local_activity(
        RELEASE_AUTOMATION_SLOT,
        incident_id,
        start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
        retry_policy=options.CONTROL_PLANE_RETRY,
        summary="release blast-radius slot",
    )


async def record_incident_close(closed: IncidentClosed) -> None:
    """Release the intake's correlation claim (db/incident_claims.py): a later alert for the
    same group now reopens this run or starts a new incident."""
    await workflow.execute_local_activity(
        RECORD_INCIDENT_CLOSE,
        closed,
        start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
        retry_policy=options.CONTROL_PLANE_RETRY,
        summary="release intake claim",
    )


async def record_run_outcome(outcome: RunOutcome) -> str:
    result: str = await workflow.execute_activity(
        RECORD_RUN_OUTCOME,
        outcome,
        result_type=str,
        start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
        retry_policy=options.CONTROL_PLANE_RETRY,
        summary="record run outcome for trust",
    )
    return result


async def record_escalation(escalation: Escalation) -> Escalation:
    result: Escalation = await workflow.execute_activity(
        RECORD_ESCALATION,
        escalation,
        result_type=Escalation,
        start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
        retry_policy=options.CONTROL_PLANE_RETRY,
        summary=f"escalate to {escalation.target}",
    )
    return result


async def resolve_pages(request: ResolvePages) -> None:
    await workflow.execute_activity(
        RESOLVE_PAGES,
        request,
        result_type=int,
        start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
        retry_policy=options.CONTROL_PLANE_RETRY,
        summary="resolve pages",
    )


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


async def sync_slack(request: SlackSyncInput) -> None:
    await workflow.execute_activity(
        SYNC_SLACK,
        request,
        start_to_close_timeout=options.SLACK_TIMEOUT,
        retry_policy=options.SLACK_RETRY,
        summary="sync Slack",
    )


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


STORE_STEP_OUTPUT = "store_step_output"


async def store_step_output(output: StepOutput) -> None:
    """The full output into the product's store (a local activity: a short database write)."""
    await workflow.execute_local_activity(
        STORE_STEP_OUTPUT,
        output,
        start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
        retry_policy=options.CONTROL_PLANE_RETRY,
        summary=f"store output of {output.purpose} {output.step_id}",
    )
