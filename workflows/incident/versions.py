"""Every version of the incident flow, and the rule that a run decides them all when it starts.

Each id guards one change (`workflow.patched`): histories recorded before it replay the old path.

Since PATCH_DECIDED_AT_START a new run asks for every patch in its first workflow task, before
anything else, so all its markers sit in that task. Asked for where the change is used, a marker
could land in a different task on replay than it did live, and the replay failed (TMPRL1100
"Non-deprecated patch marker encountered"): Temporal's core answers a query that was delivered
with a workflow task while a local activity's result is pending by completing the task with the
activity's marker and forcing a new task; the workflow sees the result, and runs on, one task
later than the marker, while a replay (after a worker restart or a cache eviction, or for a query
on an evicted run) hands it the result in the marker's own task. Patches are announced to the
workflow per task, so a patch first asked for in that stretch found no marker in its task.
Deciding at the start also keeps one run on one version for its whole life.
"""

from __future__ import annotations

from temporalio import workflow

#: Runs recorded before this asked for each patch where it was used (see above).
PATCH_DECIDED_AT_START = "patches-decided-at-start"

#: New runs take the hold-open path; histories recorded before it replay the old one.
PATCH_HOLD_OPEN = "hold-open-while-alert-fires"
#: Runs recorded before the lock paged concurrently; they replay without it.
PATCH_ESCALATION_LOCK = "escalation-lock"
#: Runs started before the contextual renderer kept a rollback whatever its captured values;
#: on replay they still do (the refused value stays an inert `{{ name }}`, never the value).
PATCH_ROLLBACK_REFUSES = "rollback-refuses-unsafe-captured-values"
#: Runs recorded before outputs were stored kept them whole in the state; they replay so.
PATCH_STEP_OUTPUTS = "step-output-store"
#: Runs recorded before it never continued as new while they waited.
PATCH_CONTINUE_AS_NEW = "continue-as-new-when-suggested"
#: Runs recorded before the no-runbook timeout waited for a person without a deadline.
PATCH_NO_RUNBOOK_TIMEOUT = "no-runbook-timeout"
#: Runs started before intake claims (db/incident_claims.py) released nothing when they closed.
PATCH_RECORD_CLOSE = "record-incident-close"
#: Runs recorded before the soak closed at once; their inputs carry no soak, so they never ask.
PATCH_SOAK = "soak-period"
#: Runs recorded before SLA timers had none; their inputs carry no SLAs, so they never ask.
PATCH_SLA = "severity-sla"
#: Runs recorded before the reminders had none; their inputs carry no cadence, so never ask.
PATCH_STATUS_CADENCE = "status-cadence"
#: Runs recorded before executives were emailed; their inputs name none, so they never ask.
PATCH_EXECUTIVES = "executive-email"
#: Runs recorded before executives could be told in Slack; their inputs name no channel.
PATCH_EXECUTIVE_SLACK = "executive-slack"
#: Runs recorded before the push had none; their inputs name no page, so they never ask.
PATCH_STATUSPAGE = "statuspage-push"
#: Runs recorded before these updates had none; their inputs name no channel, so never ask.
PATCH_ENGINEERING_UPDATES = "engineering-updates"

#: Every change a new run takes, in the order they were made. A new patch goes here as well.
CURRENT = (
    PATCH_HOLD_OPEN,
    PATCH_ESCALATION_LOCK,
    PATCH_ROLLBACK_REFUSES,
    PATCH_STEP_OUTPUTS,
    PATCH_CONTINUE_AS_NEW,
    PATCH_NO_RUNBOOK_TIMEOUT,
    PATCH_RECORD_CLOSE,
    PATCH_SOAK,
    PATCH_SLA,
    PATCH_STATUS_CADENCE,
    PATCH_EXECUTIVES,
    PATCH_EXECUTIVE_SLACK,
    PATCH_STATUSPAGE,
    PATCH_ENGINEERING_UPDATES,
)


def decide_at_start() -> None:
    """Call first thing in a run. A new run records every patch now; later `workflow.patched`
    calls return the decision. A run recorded before this rule keeps asking where it used to."""
    if workflow.patched(PATCH_DECIDED_AT_START):
        for patch in CURRENT:
            workflow.patched(patch)
