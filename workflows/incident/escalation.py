"""Escalation: page the next level when a step waits too long, when nobody acknowledges, when the
incident stays open too long, or when a person asks. One page at a time, behind a lock.

Escalation is reachable from the step waits, the incident-level timers and the `escalate`
update; they interleave at every await, so two of them could read the same "next level" and
page it twice. The lock serialises them: each decides its level only after the previous page
was recorded. (temporalio 1.35 has no `workflow.Lock`; `asyncio.Lock` runs on the workflow's
deterministic event loop, as in the SDK's safe-message-handlers sample.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas import search_attributes as sa
    from schemas.incident import Escalation, HumanAction, IncidentStatus, StepView
    from schemas.runbook import Step
    from workflows.incident import stubs
    from workflows.incident.core import Incident
    from workflows.incident.versions import PATCH_ESCALATION_LOCK
    from workflows.incident.waiting import Waits


class Escalator:
    def __init__(self, incident: Incident, waits: Waits) -> None:
        self._i = incident
        self._waits = waits
        self._lock = asyncio.Lock()
        carried = incident.inp.continued
        #: Incident-level deadlines already escalated (carried across continue-as-new).
        self.ack_level = carried.ack_level if carried else 0
        self.resolve_level = carried.resolve_level if carried else 0

    async def escalating_wait(self, view: StepView, step: Step, done: Callable[[], bool]) -> None:
        """Wait for a human about `view`; each missed deadline pages the next level."""
        levels = self._i.inp.escalation.levels
        level = 0
        while True:
            timeout = timedelta(seconds=step.approval_timeout_s) if level < len(levels) else None
            if await self._waits.wait(
                done, what=f"approval deadline: {view.title}", within=timeout
            ):
                return
            await self.escalate(
                level,
                levels[level],
                f"step '{view.title}' not approved within {step.approval_timeout_s}s",
                view.id,
            )
            level += 1

    async def escalate_now(self, action: HumanAction) -> str:
        """A person asked: page the level after the highest one paged so far."""
        levels = self._i.inp.escalation.levels
        why = f"escalated by {action.actor}" + (f": {action.reason}" if action.reason else "")
        if not self._i.versions.has(PATCH_ESCALATION_LOCK):
            level = self._next_manual_level()
            await self._page(level, levels[level], why, None, skip_paged=False)
            return f"escalated to level {level + 1} ({levels[level]})"
        async with self._lock:
            level = self._next_manual_level()
            level = await self._page(level, levels[level], why, None, skip_paged=True)
        return f"escalated to level {level + 1} ({levels[level]})"

    def _next_manual_level(self) -> int:
        levels = self._i.inp.escalation.levels
        highest = max((e.level for e in self._i.state.escalations), default=0)
        return min(highest, len(levels) - 1)

    async def escalate(self, level: int, target: str, reason: str, step_id: str | None) -> None:
        """One page at a time; a level somebody was already paged at is not paged again (the
        next one is), whichever of the step wait, the timers or a person asked first."""
        if not self._i.versions.has(PATCH_ESCALATION_LOCK):
            await self._page(level, target, reason, step_id, skip_paged=False)
            return
        async with self._lock:
            await self._page(level, target, reason, step_id, skip_paged=True)

    async def _page(
        self, level: int, target: str, reason: str, step_id: str | None, *, skip_paged: bool
    ) -> int:
        """Page `level`, or the next level nobody was paged at yet: a step timeout and an
        acknowledgement timeout must not both wake the same person for one incident. Returns
        the level paged. (Runs before the lock skipped paged levels only with incident timers.)
        """
        i = self._i
        levels = i.inp.escalation.levels
        timers = i.inp.notifications.ack_timeout_s or i.inp.notifications.resolve_timeout_s
        if skip_paged or timers:
            paged = len({e.level for e in i.state.escalations})
            level = min(max(level, paged), len(levels) - 1)
            target = levels[level]
        i.rec.set_status(IncidentStatus.ESCALATED)
        workflow.upsert_search_attributes([sa.ESCALATED.value_set(True)])
        escalation = await stubs.record_escalation(
            Escalation(
                incident_id=i.state.id,
                level=level + 1,
                target=target,
                reason=reason,
                step_id=step_id,
                at=workflow.now(),
                severity=i.state.severity,
                service=i.state.service,
                title=i.state.title,
            )
        )
        i.state.escalations.append(escalation)
        i.rec.timeline("escalated", f"level {level + 1} ({target}): {reason}")
        return level

    async def watch_timers(self) -> None:
        """Escalate an incident nobody acknowledges, or that stays open too long, level by level."""
        i = self._i
        notify = i.inp.notifications
        levels = i.inp.escalation.levels
        opened = i.state.opened_at
        while not i.state.status.is_closed:
            ack_level, resolve_level = self.ack_level, self.resolve_level
            deadlines: list[tuple[timedelta, str]] = []
            if notify.ack_timeout_s and i.state.acknowledged_by is None and ack_level < len(levels):
                due = opened + timedelta(seconds=notify.ack_timeout_s * (ack_level + 1))
                deadlines.append((due - workflow.now(), "ack"))
            if notify.resolve_timeout_s and resolve_level < len(levels):
                due = opened + timedelta(seconds=notify.resolve_timeout_s * (resolve_level + 1))
                deadlines.append((due - workflow.now(), "resolve"))
            if not deadlines:
                return
            wait, kind = min(deadlines)
            acked = i.state.acknowledged_by
            try:
                await workflow.wait_condition(
                    lambda a=acked: (  # type: ignore[misc]
                        i.state.status.is_closed or i.state.acknowledged_by != a
                    ),
                    timeout=max(wait, timedelta(seconds=1)),
                    timeout_summary=f"{kind} deadline",
                )
                continue  # closed, or acknowledged: recompute what is still due
            except TimeoutError:
                pass
            if kind == "ack":
                level, self.ack_level = ack_level, ack_level + 1
                why = f"not acknowledged within {(notify.ack_timeout_s or 0) * self.ack_level}s"
            else:
                level, self.resolve_level = resolve_level, resolve_level + 1
                why = f"not resolved within {(notify.resolve_timeout_s or 0) * self.resolve_level}s"
            await self.escalate(level, levels[level], why, None)
