"""SlackCatchUpWorkflow: the closing Slack sync of an incident, outliving the incident itself.

An incident must close when its work is done even if Slack is down; the channel still deserves
its final state and the resolution summary. The incident starts this as an abandoned child, and
it retries the sync (honouring Retry-After) until Slack answers or a day has passed.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.slack import SlackSyncInput, SlackSyncResult
    from workflows import options

CATCH_UP_FOR = timedelta(hours=24)


@workflow.defn
class SlackCatchUpWorkflow:
    @workflow.run
    async def run(self, inp: SlackSyncInput) -> SlackSyncResult:
        result: SlackSyncResult = await workflow.execute_activity(
            "sync_slack",
            inp,
            result_type=SlackSyncResult,
            start_to_close_timeout=options.SLACK_TIMEOUT,
            schedule_to_close_timeout=CATCH_UP_FOR,
            retry_policy=options.SLACK_RETRY,
            summary="final Slack sync",
        )
        return result
