"""Executive notification: a P0/P1 incident is emailed to the configured executives within its
level's deadline (at once, or when the level is raised to one that has a deadline), and its
resolution too. Each is sent once and recorded."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.email import EmailMessageIn
    from workflows.incident import stubs
    from workflows.incident.core import Incident

#: Runs recorded before executives were emailed; their inputs name none, so they never ask.
PATCH_EXECUTIVES = "executive-email"


class Executives:
    def __init__(self, incident: Incident) -> None:
        self._i = incident

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
        if not self._i.inp.executives or "opened" not in st.executives_notified:
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
        said = await stubs.send_email(
            EmailMessageIn(
                to=list(i.inp.executives),
                subject=f"[{level}] {what}: {st.title}"[:300],
                body=body,
                incident_id=st.id,
            )
        )
        st.executives_notified.append(what)
        i.rec.timeline("executives_notified", f"{what}: {said}")
