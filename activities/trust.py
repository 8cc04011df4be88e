"""Trust bookkeeping: blast-radius slots, and promotion or downgrade from incident history.

Promotion figures are read back from closed incidents' own search attributes (written by each
incident's workflow from its history), not from a counter that could drift.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from db.trust import TrustStore
from domain.trust import slot_scopes
from schemas import search_attributes as sa
from schemas.trust import Mode, RunOutcome, SlotGrant, SlotRequest

log = logging.getLogger(__name__)


@dataclass
class TrustActivities:
    store: TrustStore
    client: Client | None = None
    promote_after: int = 10

    @activity.defn(name="check_automation")
    async def check_automation(self, request: SlotRequest) -> SlotGrant:
        """Right before an automatic step: the kill switches now, and a blast-radius slot."""
        if request.limit <= 0:
            return SlotGrant(granted=True, kill_switches=await self.store.kill_switches())
        scopes = slot_scopes(request.runbook_id, request.service)
        # One transaction: the switches are read in the same call that takes the slots.
        switches, granted, reason = await self.store.check_automation(
            request.incident_id, scopes, request.limit
        )
        if not granted and await self._release_ended_holders(scopes, request.incident_id):
            granted, reason = await self.store.acquire_slots(
                request.incident_id, scopes, request.limit
            )
        return SlotGrant(granted=granted, reason=reason, kill_switches=switches)

    async def _release_ended_holders(self, scopes: list[str], asking: str) -> bool:
        """Free the slots of incidents that no longer run: one terminated, or whose closing
        never reached `release_automation_slot`, would otherwise hold its slot for
        `SLOT_STALE_AFTER` and send every later incident of its runbook to a human."""
        if self.client is None:
            return False
        freed = False
        holders = {h for scope in scopes for h in await self.store.holders(scope)} - {asking}
        for holder in sorted(holders):
            try:
                described = await self.client.get_workflow_handle(holder).describe()
            except RPCError as err:
                if err.status is not RPCStatusCode.NOT_FOUND:
                    raise
                running = False
            else:
                running = described.status is WorkflowExecutionStatus.RUNNING
            if not running:
                log.warning("blast-radius slot of ended incident %s freed", holder)
                await self.store.release(holder)
                freed = True
        return freed

    @activity.defn(name="release_automation_slot")
    async def release_automation_slot(self, incident_id: str) -> None:
        await self.store.release(incident_id)

    @activity.defn(name="record_run_outcome")
    async def record_run_outcome(self, outcome: RunOutcome) -> str:
        trust = await self.store.get(outcome.runbook_id)
        if outcome.mode is Mode.AUTOPILOT and trust.mode is Mode.AUTOPILOT and outcome.failed:
            reason = f"incident {outcome.incident_id} ended {outcome.status} under autopilot"
            await self.store.change(
                outcome.runbook_id,
                kind="downgraded",
                mode=Mode.COPILOT,
                actor="ddrun",
                reason=reason,
            )
            return f"runbook {outcome.runbook_id} downgraded to copilot: {reason}"
        if (
            outcome.mode is not Mode.COPILOT
            or trust.mode is not Mode.COPILOT
            or trust.suggestion
            or self.client is None
        ):
            return ""
        streak = await self._clean_streak(outcome, trust.changed_at)
        if streak < self.promote_after:
            return ""
        suggestion = (
            f"{streak} consecutive clean copilot runs (no step edited, skipped or rolled back): "
            "promote its safe and caution steps to autopilot?"
        )
        await self.store.change(
            outcome.runbook_id,
            kind="suggested",
            mode=Mode.AUTOPILOT,
            actor="ddrun",
            reason=suggestion,
            suggestion=suggestion,
            keep_mode=True,
        )
        return f"runbook {outcome.runbook_id}: {suggestion}"

    async def _clean_streak(self, outcome: RunOutcome, since: object) -> int:
        """Consecutive clean copilot runs, newest first, this one included."""
        if self.client is None or not outcome.clean:
            return 0
        escaped = outcome.runbook_id.replace('"', '\\"')
        query = (
            f'RunbookId = "{escaped}" AND IncidentMode = "copilot" '
            f'AND IncidentKind = "incident" AND ExecutionStatus = "Completed"'
        )
        if since is not None:
            query += f' AND CloseTime > "{since.isoformat()}"'  # type: ignore[attr-defined]
        streak = 1
        async for execution in self.client.list_workflows(query, limit=self.promote_after * 2):
            if execution.run_id == outcome.run_id:
                continue
            if execution.typed_search_attributes.get(sa.CLEAN) is not True:
                break
            streak += 1
        return streak
