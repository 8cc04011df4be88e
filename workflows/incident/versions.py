"""Every version of the incident flow, decided once when a run starts.

Each PATCH_* id guards one change: histories recorded before it replay the old path.

A run records its flow version (one marker, FLOW_VERSIONS) first thing in its first workflow
task, and every patch is answered from it. Asked for where each change is used, a patch marker
could land in another task on replay than it did live, and the replay failed (TMPRL1100
"Non-deprecated patch marker encountered"): Temporal's core answers a query delivered with a
workflow task while a local activity's result is pending by completing the task with the
activity's marker and forcing a new task; the workflow sees the result, and runs on, one task
later than the marker, while a replay (after a worker restart or an eviction, or for a query on
an evicted run) hands it the result in the marker's own task. Patches are announced to the
workflow per task, so a patch first asked for in that stretch found no marker in its task.
One marker in the first task cannot move, costs the first task one event rather than one per
patch (about 1 ms each on the dev server), and keeps a run on one version for its whole life.
Runs recorded before FLOW_VERSIONS existed keep asking for each patch where it is used.
"""

from __future__ import annotations

from temporalio import workflow

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
#: Runs recorded before it stored a step's output and then checked the next step's automation
#: in two local activities; new runs take both in one (workflows/incident/gate.py).
PATCH_CHECK_WITH_OUTPUT = "next-check-with-step-output"

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
    PATCH_CHECK_WITH_OUTPUT,
)

#: The flow's versions, oldest first; a new run records the newest. A change after these adds
#: a version here and names it in INTRODUCED_IN.
FLOW_VERSIONS = ("incident-flow-1", "incident-flow-2")
#: The flow version (1-based) that brought each patch: the ones before flow versions came with
#: the first.
INTRODUCED_IN: dict[str, int] = {
    **dict.fromkeys(CURRENT, 1),
    PATCH_CHECK_WITH_OUTPUT: 2,
}


class Versions:
    """One run's versions. Kept on the run's Incident, never as module state: the worker shares
    the workflow modules between runs."""

    def __init__(self) -> None:
        self.flow = 0  # 0: recorded before flow versions; each patch is asked for where used

    def decide(self) -> None:
        """First thing in a run. Live, the newest version answers True and is recorded; on
        replay a version absent from the history answers False and records nothing, so the
        newest version present is the run's."""
        for number in range(len(FLOW_VERSIONS), 0, -1):
            if workflow.patched(FLOW_VERSIONS[number - 1]):
                self.flow = number
                return

    def has(self, patch: str) -> bool:
        """Whether this run takes the change `patch` guards. A run recorded before flow
        versions never takes a change of a later flow version: asked for mid-run, its marker
        could land in another task on replay (the failure described above)."""
        if self.flow == 0:
            return INTRODUCED_IN[patch] == 1 and workflow.patched(patch)
        return INTRODUCED_IN[patch] <= self.flow
