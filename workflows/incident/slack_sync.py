"""Keep the incident's Slack channel in step with its state, one coalesced sync at a time."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, CancelledError

with workflow.unsafe.imports_passed_through():
    from schemas.slack import SlackSyncInput
    from workflows.incident import stubs
    from workflows.incident.core import Incident
    from workflows.incident_record import describe_failure


class SlackSync:
    def __init__(self, incident: Incident) -> None:
        self._i = incident

    def _mark(self) -> tuple[object, ...]:
        """Changes whenever anything Slack shows changes; cheap enough to evaluate every wake."""
        st = self._i.state
        return (
            len(st.timeline) + st.timeline_omitted,
            st.status,
            st.paused,
            st.mode,
            st.acknowledged_by,
            st.commander,
            tuple((v.state, len(v.approvals), v.command, v.rollback) for v in st.steps),
        )

    async def loop(self) -> None:
        """The sync activity reads the state itself (a query), so calls carry no payload and a
        sync that waited out a Slack outage posts the latest state, not a backlog."""
        st = self._i.state
        synced: tuple[object, ...] | None = None
        failures = 0
        while True:
            await workflow.wait_condition(lambda s=synced: self._mark() != s)  # type: ignore[misc]
            mark = self._mark()
            try:
                await stubs.sync_slack(SlackSyncInput(incident_id=st.id, run_id=st.run_id))
            except ActivityError as err:
                if isinstance(err.cause, CancelledError):  # the incident closed: not an outage
                    return
                failures += 1
                if failures == 1:  # e.g. a revoked token: say so once, keep the incident going
                    self._i.rec.timeline("slack_unavailable", describe_failure(err))
            synced = mark

    async def catch_up(self) -> None:
        """The final sync (summary, MTTR), by an abandoned child that outlives the incident."""
        st = self._i.state
        await stubs.start_slack_catch_up(
            SlackSyncInput(incident_id=st.id, run_id=st.run_id, final=True), st.id
        )
