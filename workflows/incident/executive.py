"""Executive notification: a P0/P1 incident is told to the configured executives within its
level's deadline (at once, or when the level is raised to one that has a deadline), and its
resolution too, by email and/or in a Slack channel (either may be configured alone). Each is
sent once per way and recorded."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.email import EmailMessageIn
    from schemas.slack import SlackPostInput
    from workflows.incident import stubs
    from workflows.incident.core import Incident
    from workflows.incident.versions import PATCH_EXECUTIVE_SLACK
    from workflows.incident_record import describe_failure


class Executives:
    def __init__(self, incident: Incident) -> None:
        self._i = incident

    def configured(self) -> bool:
        inp = self._i.inp
        return bool(inp.executives) or inp.executive_channel is not None

    def _due(self) -> bool:
        st = self._i.state
        level = st.severity_level
        return level is not None and level in self._i.inp.executive_deadline_s

    async def watch(self) -> None:
        """Tell them once the incident is (or becomes) of a level they hear about."""
        i = self._i
        if "opened" in i.state.executives_notified:  # told by an earlier run (continue-as-new)
            return
        await workflow.wait_condition(lambda: self._due() or i.state.status.is_closed)
        if i.state.status.is_closed:
            return
        await self._send("opened", self._summary())

    async def on_close(self) -> None:
        st = self._i.state
        if not self.configured() or "opened" not in st.executives_notified:
            return
        await self._send("resolved", f"{self._summary()}\n\nOutcome: {st.outcome}")

    def _summary(self) -> str:
        st = self._i.state
        level = st.severity_level.value if st.severity_level else st.severity
        return (
            f"{level} incident {st.id}\nService: {st.service}\n{st.title}\n"
            f"Status: {st.status.value}\nCommander: {st.commander or 'not named yet'}\n"
            f"Opened: {st.opened_at:%Y-%m-%d %H:%M} UTC"
        )

    async def _send(self, what: str, body: str) -> None:
        i = self._i
        st = i.state
        level = st.severity_level.value if st.severity_level else st.severity
        subject = f"[{level}] {what}: {st.title}"[:300]
        if i.inp.executives:
            said = await stubs.send_email(
                EmailMessageIn(
                    to=list(i.inp.executives), subject=subject, body=body, incident_id=st.id
                )
            )
            i.rec.timeline("executives_notified", f"{what}: {said}")
        channel = i.inp.executive_channel
        if channel is not None and self._i.versions.has(PATCH_EXECUTIVE_SLACK):
            i.rec.timeline(
                "executives_notified", f"{what}: {await self._post(channel, subject, body)}"
            )
        st.executives_notified.append(what)

    async def _post(self, channel: str, subject: str, body: str) -> str:
        try:
            return await stubs.post_slack_message(
                SlackPostInput(
                    incident_id=self._i.state.id,
                    channel=channel,
                    text=f"{subject}\n{body}",
                    purpose="executive notification",
                    setting="DDRUN_EXECUTIVE_SLACK_CHANNEL",
                )
            )
        except ActivityError as err:  # a channel Slack refuses (non-retryable): said, not lost
            return f"not posted in Slack {channel}: {describe_failure(err)}"
