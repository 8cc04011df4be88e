"""Status updates on a cadence: a timer per level reminds the communications lead (or the
commander) when an update is due, in the war room (timeline); posting an update records it
with the actions taken so far and restarts the timer. Publishing an update on the public status
page is a separate step the communications lead approves.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.status_updates import PublishApproval, StatusUpdate, StatusUpdateIn
    from workflows.incident.core import Incident


#: Timeline kinds that are actions taken (what an update lists under "actions taken").
ACTION_KINDS = ("step_succeeded", "step_failed", "divergence_", "escalated", "rollback_")
_ACTIONS_LISTED = 10


class StatusCadence:
    def __init__(self, incident: Incident) -> None:
        self._i = incident

    def _mark(self) -> tuple[object, ...]:
        st = self._i.state
        return (st.status.is_closed, st.severity_level, len(st.status_updates))

    async def remind(self) -> None:
        st = self._i.state
        while not st.status.is_closed:
            mark = self._mark()
            cadence = (
                self._i.inp.update_cadence_s.get(st.severity_level) if st.severity_level else None
            )
            if not cadence:
                st.update_due_at = None
                await workflow.wait_condition(lambda m=mark: self._mark() != m)  # type: ignore[misc]
                continue
            last = st.status_updates[-1].at if st.status_updates else st.opened_at
            reminded = st.update_reminded_at or st.opened_at
            due = max(last, reminded) + timedelta(seconds=cadence)
            st.update_due_at = due
            try:
                await workflow.wait_condition(
                    lambda m=mark: self._mark() != m,  # type: ignore[misc]
                    timeout=max(due - workflow.now(), timedelta(seconds=1)),
                    timeout_summary=f"status update due ({cadence}s)",
                )
                continue
            except TimeoutError:
                pass
            st.update_reminded_at = workflow.now()
            st.update_reminders += 1
            who = st.comms_lead or st.commander or "the incident commander"
            self._i.rec.timeline(
                "update_due", f"status update due from {who} (every {cadence // 60} min)"
            )

    # ------------------------------------------------------------------------- updates

    def post(self, update: StatusUpdateIn) -> str:
        i = self._i
        actions = [
            f"{e.kind.replace('_', ' ')}: {e.message}"
            for e in i.state.timeline
            if e.kind.startswith(ACTION_KINDS)
        ][-_ACTIONS_LISTED:]
        number = len(i.state.status_updates) + 1
        i.state.status_updates.append(
            StatusUpdate(
                number=number,
                phase=update.phase,
                impact=update.impact,
                root_cause=update.root_cause,
                actions=actions,
                next_steps=update.next_steps,
                eta=update.eta,
                posted_by=update.actor,
                at=workflow.now(),
                public=update.public,
            )
        )
        i.engage(update.actor)
        eta = f" · ETA {update.eta}" if update.eta else ""
        i.rec.timeline(
            "status_update",
            f"#{number} {update.phase.value}: {update.impact}"
            + (f" · next: {update.next_steps}" if update.next_steps else "")
            + eta,
            update.actor,
        )
        public = "; awaiting the comms lead's approval to publish" if update.public else ""
        return f"status update #{number} posted by {update.actor}{public}"

    def validate_post(self, update: StatusUpdateIn) -> None:
        self._i.refuse_if_closed()

    def publish(self, approval: PublishApproval) -> str:
        i = self._i
        update = i.state.status_updates[approval.number - 1]
        update.published_by = approval.actor
        update.published_at = workflow.now()
        i.rec.timeline("status_published", f"update #{approval.number}", approval.actor)
        return f"status update #{approval.number} published by {approval.actor}"

    def validate_publish(self, approval: PublishApproval) -> None:
        st = self._i.state
        if approval.number > len(st.status_updates):
            raise ValueError(f"there is no status update #{approval.number}")
        update = st.status_updates[approval.number - 1]
        if not update.public:
            raise ValueError(f"status update #{approval.number} was not meant to be public")
        if update.published_by is not None:
            raise ValueError(f"status update #{approval.number} is already published")
        if st.comms_lead is None:
            raise ValueError("name a communications lead first: they approve what is published")
        if approval.actor != st.comms_lead:
            raise ValueError(f"only the communications lead ({st.comms_lead}) approves publishing")
