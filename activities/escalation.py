"""Escalation side effects: record who is paged next, then page them through PagerDuty.

The record comes first and is idempotent, so a retry caused by PagerDuty being throttled or down
writes nothing twice; the page is idempotent too (our dedup key per incident and level). Paging
must never break the incident: an event PagerDuty rejects (400, a bad routing key) and a
PagerDuty that stays down past `max_page_attempts` are logged as errors and the escalation is
returned unpaged, so the workflow goes on waiting for a human instead of failing or blocking.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.paging import Page, PagerDutyPager
from db.escalations import EscalationStore
from schemas.incident import Escalation, ResolvePages

log = logging.getLogger(__name__)


@dataclass
class EscalationActivities:
    store: EscalationStore
    pager: PagerDutyPager | None = None
    #: Attempts of `record_escalation` that may fail on a retryable PagerDuty error; after
    #: that the escalation is returned unpaged (logged) so the incident is not held up.
    max_page_attempts: int = 8

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
        if self.pager is None:
            log.info(
                "no PagerDuty routing keys configured: escalation of %s recorded, nobody paged",
                escalation.incident_id,
            )
            return escalation
        try:
            page = await self._page(self.pager, escalation)
        except ApplicationError as err:
            attempt = activity.info().attempt
            if not err.non_retryable and attempt < self.max_page_attempts:
                raise
            log.error(
                "incident %s: level %d (%s) NOT paged after %d attempt(s): %s %s",
                escalation.incident_id,
                escalation.level,
                escalation.target,
                attempt,
                err,
                list(err.details),
            )
            return with_page(escalation, None)
        log.warning(
            "incident %s: paged level %d (%s) through PagerDuty routing key #%d, dedup key %s",
            escalation.incident_id,
            escalation.level,
            escalation.target,
            page.routing_key_index + 1,
            page.dedup_key,
        )
        return with_page(escalation, page)

    @activity.defn(name="resolve_pages")
    async def resolve_pages(self, req: ResolvePages) -> int:
        """Resolve the page of every level in `req.levels`; returns how many PagerDuty accepted.

        A level PagerDuty rejects is logged and skipped (the others still close); a throttled or
        unavailable PagerDuty raises so the activity is retried (resolving twice is harmless).
        """
        if self.pager is None:
            return 0
        accepted = 0
        for level in sorted(set(req.levels)):
            if level < 1:
                log.warning("incident %s: no page for level %d", req.incident_id, level)
                continue
            try:
                await self.pager.resolve(req.incident_id, level)
            except ApplicationError as err:
                if not err.non_retryable:
                    raise
                log.error(
                    "incident %s: resolving the level %d page was rejected: %s",
                    req.incident_id,
                    level,
                    err,
                )
                continue
            accepted += 1
        log.info(
            "incident %s: resolved %d of %d PagerDuty page(s)%s",
            req.incident_id,
            accepted,
            len(set(req.levels)),
            f" ({req.summary})" if req.summary else "",
        )
        return accepted

    @staticmethod
    async def _page(pager: PagerDutyPager, escalation: Escalation) -> Page:
        severity, service, title = escalation.severity, escalation.service, escalation.title
        what = (f"[{severity}] " if severity else "") + (f"{service}: " if service else "")
        summary = (
            f"[dd0c/run] Escalation L{escalation.level} to {escalation.target}: "
            f"{what}{title or escalation.incident_id}: {escalation.reason}"
        )
        details: dict[str, Any] = {
            "incident_id": escalation.incident_id,
            "escalation_level": escalation.level,
            "target": escalation.target,
            "reason": escalation.reason,
            "step": escalation.step_id,
            "incident": pager.incident_url(escalation.incident_id),
            "escalated_at": escalation.at.isoformat(),
        }
        if service:
            details["service"] = service
        if severity:
            details["severity"] = severity
        return await pager.trigger(
            escalation.incident_id,
            escalation.level,
            summary=summary,
            severity=severity,
            custom_details=details,
            timestamp=escalation.at,
            component=service,
            event_class="escalation",
        )


def with_page(escalation: Escalation, page: Page | None) -> Escalation:
    """The escalation saying whether it paged, and under which dedup key."""
    return escalation.model_copy(
        update={"paged": page is not None, "page_dedup_key": page.dedup_key if page else None}
    )
