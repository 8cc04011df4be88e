"""Escalation side effects: record who is paged next (the paging channel itself plugs in here)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from temporalio import activity

from db.escalations import EscalationStore
from schemas.incident import Escalation

log = logging.getLogger(__name__)


@dataclass
class EscalationActivities:
    store: EscalationStore

    @activity.defn(name="record_escalation")
    async def record_escalation(self, escalation: Escalation) -> Escalation:
        await self.store.record(escalation)
        log.warning(
            "incident %s escalated to level %d (%s): %s",
            escalation.incident_id,
            escalation.level,
            escalation.target,
            escalation.reason,
        )
        return escalation
