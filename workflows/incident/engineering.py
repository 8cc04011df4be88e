"""Engineering-wide updates: while an incident of a level with a cadence is open (by default
P0, hourly), a timer posts an update to the configured engineering-wide Slack channel: the
latest status update (phase, impact, next steps, ETA) or, with none yet, a summary prefilled
from the record (level, service, title, status, commander, time open, the last actions). Each
post is recorded; a change of level recomputes what is due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.incident import IncidentState
    from schemas.slack import SlackPostInput
    from workflows.incident import stubs
    from workflows.incident.cadence import ACTION_KINDS
    from workflows.incident.core import Incident
    from workflows.incident_record import describe_failure

_ACTIONS_SHOWN = 5


def _elapsed(since: datetime, now: datetime) -> str:
    minutes = max(int((now - since).total_seconds() // 60), 0)
    return f"{minutes // 60}h {minutes % 60:02d}m"


def engineering_text(st: IncidentState, number: int, now: datetime) -> str:
    """The post: a header line, the incident's facts, then its latest update or a summary."""
    level = st.severity_level.value if st.severity_level else st.severity
    lines = [
        f"[{level}] Engineering update #{number}: {st.title}",
        f"Incident {st.id} · service {st.service} · status {st.status.value} · "
        f"commander {st.commander or 'not named yet'} · open for {_elapsed(st.opened_at, now)}",
    ]
    if st.status_updates:
        update = st.status_updates[-1]
        lines.append(
            f"Latest status update #{update.number} ({update.phase.value}, by "
            f"{update.posted_by} at {update.at:%H:%M} UTC):"
        )
        lines.append(f"Impact: {update.impact}")
        if update.root_cause:
            lines.append(f"Root cause so far: {update.root_cause}")
        lines.append(f"Next steps: {update.next_steps or 'not stated'}")
        lines.append(f"ETA: {update.eta or 'unknown'}")
    else:
        actions = [
            f"• {e.kind.replace('_', ' ')}: {e.message}"
            for e in st.timeline
            if e.kind.startswith(ACTION_KINDS)
        ][-_ACTIONS_SHOWN:]
        lines.append("No status update posted yet.")
        lines.append("Last actions:" if actions else "Last actions: none yet")
        lines.extend(actions)
    return "\n".join(lines)[:39_000]


class EngineeringUpdates:
    def __init__(self, incident: Incident) -> None:
        self._i = incident

    def _mark(self) -> tuple[object, ...]:
        st = self._i.state
        return (st.status.is_closed, st.severity_level)

    async def post_on_cadence(self) -> None:
        i = self._i
        st = i.state
        channel = i.inp.engineering_channel
        if channel is None:
            return
        while not st.status.is_closed:
            mark = self._mark()
            level = st.severity_level
            cadence = i.inp.engineering_update_s.get(level) if level else None
            if not cadence:
                st.engineering_update_due_at = None
                await workflow.wait_condition(lambda m=mark: self._mark() != m)  # type: ignore[misc]
                continue
            due = (st.engineering_update_at or st.opened_at) + timedelta(seconds=cadence)
            st.engineering_update_due_at = due
            try:
                await workflow.wait_condition(
                    lambda m=mark: self._mark() != m,  # type: ignore[misc]
                    timeout=max(due - workflow.now(), timedelta(seconds=1)),
                    timeout_summary=f"engineering-wide update due ({cadence}s)",
                )
                continue  # level changed or closed: recompute
            except TimeoutError:
                pass
            await self._post(channel)

    async def _post(self, channel: str) -> None:
        i = self._i
        st = i.state
        now = workflow.now()
        st.engineering_update_at = now
        number = st.engineering_updates + 1
        try:
            said = await stubs.post_slack_message(
                SlackPostInput(
                    incident_id=st.id,
                    channel=channel,
                    text=engineering_text(st, number, now),
                    purpose="engineering-wide update",
                    setting="DDRUN_ENGINEERING_CHANNEL",
                )
            )
        except ActivityError as err:
            i.rec.timeline(
                "engineering_update_failed", f"#{number} to {channel}: {describe_failure(err)}"
            )
            return
        st.engineering_updates = number
        i.rec.timeline("engineering_update", f"#{number}: {said}")
