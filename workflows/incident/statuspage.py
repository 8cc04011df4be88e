"""Pushing what the communications lead approved to an Atlassian Statuspage-compatible page:
each published update, in order, by an activity; the first creates the page's incident (its
id is kept in the state), later ones update it, and a resolved update gives the components
back (operational). A refused push (a wrong key, an unknown page) is recorded in the timeline
and the incident goes on: the update stays published on our own status page, nothing is lost.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.status_updates import StatusUpdate
    from schemas.statuspage import (
        ComponentStatus,
        StatuspagePush,
        StatuspageRecord,
        StatuspageStatus,
        StatuspageTarget,
    )
    from workflows.incident import stubs
    from workflows.incident.core import Incident
    from workflows.incident_record import describe_failure


def body_of(update: StatusUpdate) -> str:
    """The public text of an update: impact, then what is known and what comes next."""
    parts = [update.impact]
    if update.root_cause:
        parts.append(f"Cause: {update.root_cause}")
    if update.next_steps:
        parts.append(f"Next: {update.next_steps}")
    if update.eta:
        parts.append(f"ETA: {update.eta}")
    return "\n\n".join(parts)


class StatuspageSync:
    def __init__(self, incident: Incident) -> None:
        self._i = incident
        self._busy = False
        self.started = False

    def pending(self) -> StatusUpdate | None:
        """The oldest published update not pushed (nor refused) yet."""
        st = self._i.state
        done = {r.number for r in st.statuspage_pushes}
        return next(
            (u for u in st.status_updates if u.published_at is not None and u.number not in done),
            None,
        )

    async def push_published(self) -> None:
        """Background: push each update once it is published (runs until the incident ends)."""
        target = self._i.inp.statuspage
        if target is None:
            return
        self.started = True
        while True:
            await workflow.wait_condition(lambda: self.pending() is not None)
            update = self.pending()
            if update is not None:
                await self._push(target, update)

    async def settle(self) -> None:
        """At close: what was published before it is pushed before the incident ends."""
        if not self.started:
            return
        await workflow.wait_condition(lambda: not self._busy and self.pending() is None)

    async def _push(self, target: StatuspageTarget, update: StatusUpdate) -> None:
        i = self._i
        st = i.state
        status = StatuspageStatus.of(update.phase)
        push = StatuspagePush(
            incident_id=st.id,
            number=update.number,
            page_id=target.page_id,
            statuspage_incident_id=st.statuspage_incident_id,
            name=st.title[:300],
            status=status,
            body=body_of(update),
            component_ids=list(target.component_ids),
            component_status=ComponentStatus.of(st.severity_level, status),
        )
        self._busy = True
        try:
            pushed = await stubs.push_statuspage(push)
        except ActivityError as err:
            detail = describe_failure(err)
            st.statuspage_pushes.append(
                StatuspageRecord(number=update.number, ok=False, detail=detail)
            )
            i.rec.timeline(
                "statuspage_failed",
                f"update #{update.number} not pushed to Statuspage: {detail} "
                "(it stays published on our status page)",
            )
            return
        finally:
            self._busy = False
        st.statuspage_incident_id = pushed.statuspage_incident_id
        if pushed.shortlink:
            st.statuspage_shortlink = pushed.shortlink
        verb = "created" if pushed.created else "updated"
        link = f" {pushed.shortlink}" if pushed.shortlink else ""
        said = (
            f"update #{update.number} {verb} Statuspage incident "
            f"{pushed.statuspage_incident_id}{link} ({status.value})"
        )
        st.statuspage_pushes.append(StatuspageRecord(number=update.number, ok=True, detail=said))
        i.rec.timeline("statuspage", said)
