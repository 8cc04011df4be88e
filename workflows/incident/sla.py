"""Response SLAs as workflow timers: each deadline of the incident's level is a timer from its
opening. Acknowledging (from the alert source, Slack, the CLI or the API) stops the acknowledge
timer; a person acting stops the engage timer; all-hands and escalate are checkpoints that only
closing meets. A missed deadline is recorded (state and timeline: the timeline posts it to the
incident's channel) and pages the next level nobody was paged at, through the escalation path.
A change of level recomputes what is due.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.severity import Severity, SlaBreach, SlaKind
    from workflows.incident.core import Incident
    from workflows.incident.escalation import Escalator


class SlaWatch:
    def __init__(self, incident: Incident, escalator: Escalator) -> None:
        self._i = incident
        self._escalator = escalator

    def met(self, kind: SlaKind) -> bool:
        st = self._i.state
        if kind is SlaKind.ACKNOWLEDGE:
            return st.acknowledged_by is not None
        if kind is SlaKind.ENGAGE:
            return st.engaged_at is not None
        return False

    def _mark(self) -> tuple[object, ...]:
        st = self._i.state
        return (st.status.is_closed, st.severity_level, st.acknowledged_by, st.engaged_at)

    def _due(self) -> list[tuple[timedelta, SlaKind, int]]:
        """(time left, kind, deadline in seconds) of every deadline not yet met nor breached."""
        st = self._i.state
        level = st.severity_level
        if level is None:
            return []
        breached = {(b.severity, b.kind) for b in st.sla_breaches}
        now = workflow.now()
        return sorted(
            (st.opened_at + timedelta(seconds=within) - now, kind, within)
            for kind, within in self._i.inp.slas.get(level, {}).items()
            if (level, kind) not in breached and not self.met(kind)
        )

    async def watch(self) -> None:
        st = self._i.state
        while not st.status.is_closed:
            mark = self._mark()
            due = self._due()
            if not due:  # nothing left at this level: wait for a change of level, or the end
                await workflow.wait_condition(lambda m=mark: self._mark() != m)  # type: ignore[misc]
                continue
            left, kind, within = due[0]
            level = st.severity_level
            try:
                await workflow.wait_condition(
                    lambda m=mark: self._mark() != m,  # type: ignore[misc]
                    timeout=max(left, timedelta(seconds=1)),
                    timeout_summary=f"{level} {kind.value} SLA",
                )
                continue  # acknowledged, engaged, level changed or closed: recompute
            except TimeoutError:
                pass
            if level is not None and not self.met(kind):
                await self._breach(level, kind, within)

    async def _breach(self, level: Severity, kind: SlaKind, within: int) -> None:
        i = self._i
        i.state.sla_breaches.append(
            SlaBreach(kind=kind, severity=level, within_s=within, at=workflow.now())
        )
        why = f"{level} {kind.value.replace('_', ' ')} deadline of {within}s missed"
        i.rec.timeline("sla_breach", why)
        levels = i.inp.escalation.levels
        paged = len({e.level for e in i.state.escalations})
        if paged < len(levels):
            await self._escalator.escalate(paged, levels[paged], f"SLA: {why}", None)
