"""Page a person through PagerDuty's Events API v2: one routing key (service) per escalation level.

Why plain httpx and not the official `pagerduty` client: that client refuses `http://` base URLs
(so it cannot be pointed at a local stand-in) and retries 429 without limit on its own. Here every
answer is turned into a Temporal error instead, so the activity's retry policy (and PagerDuty's
`Retry-After`, when sent) decides what happens next, visibly in history:

- 202: accepted.
- 400 (and other 4xx): the event is invalid; retrying cannot help, so non-retryable, with
  PagerDuty's `errors[]`.
- 429, 408, 5xx, connection errors and timeouts: retryable; `next_retry_delay` follows
  `Retry-After`.

Every event carries our own `dedup_key` (`dd0c-run/<incident>/escalation-<level>`), so a retried
trigger joins the alert it already opened instead of paging twice, and `resolve` closes exactly it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from schemas.settings import Settings

log = logging.getLogger(__name__)

PdSeverity = Literal["critical", "error", "warning", "info"]

SOURCE = "dd0c-run"
CLIENT = "dd0c/run"
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255
MAX_RETRY_AFTER = timedelta(minutes=10)

#: Error types, for retry policies' `non_retryable_error_types` and for tests.
INVALID_EVENT = "PagerDutyInvalidEvent"
THROTTLED = "PagerDutyThrottled"
UNAVAILABLE = "PagerDutyUnavailable"
UNREACHABLE = "PagerDutyUnreachable"

_SEVERITIES: dict[str, PdSeverity] = {
    **dict.fromkeys(
        ("critical", "crit", "fatal", "emergency", "page", "p0", "p1", "sev0", "sev1", "disaster"),
        "critical",
    ),
    **dict.fromkeys(("error", "err", "high", "major", "p2", "sev2"), "error"),
    **dict.fromkeys(("warning", "warn", "medium", "average", "minor", "p3", "sev3"), "warning"),
    **dict.fromkeys(
        ("info", "informational", "notice", "low", "none", "ok", "p4", "p5", "sev4", "sev5"),
        "info",
    ),
}


def pagerduty_severity(severity: str | None) -> PdSeverity:
    """Map an incident's severity (any source's spelling) onto PagerDuty's four values.

    Unknown or missing: "error", so the page is high-urgency without claiming a critical outage.
    """
    return _SEVERITIES.get((severity or "").strip().lower(), "error")


def dedup_key(incident_id: str, level: int) -> str:
    """Our key for the page of one escalation level of one incident (stable across retries)."""
    key = f"dd0c-run/{incident_id}/escalation-{level}"
    if len(key) <= MAX_DEDUP_KEY:
        return key
    digest = hashlib.sha256(incident_id.encode()).hexdigest()
    return f"dd0c-run/{digest}/escalation-{level}"


def retry_after(value: str | None, now: datetime | None = None) -> timedelta | None:
    """`Retry-After` as seconds or an HTTP date; None when absent or unreadable; capped."""
    if not value:
        return None
    value = value.strip()
    delay: timedelta | None
    if value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        delay = max(when - (now or datetime.now(UTC)), timedelta(0))
    return min(delay, MAX_RETRY_AFTER)


def truncate(text: str, limit: int = MAX_SUMMARY) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Page:
    """What one trigger said, for the escalation record (never the routing key itself)."""

    dedup_key: str
    level: int
    routing_key_index: int


class PagerDutyPager:
    """Events API v2 client for the escalation levels, in order.

    `routing_keys[0]` pages level 1, `[1]` level 2, and so on; levels beyond the list use the last
    key (the top tier keeps being paged rather than nobody).
    """

    def __init__(
        self,
        routing_keys: Sequence[SecretStr | str],
        *,
        events_url: str = "https://events.pagerduty.com/v2/enqueue",
        incident_url_base: str | None = None,
        timeout_s: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if not routing_keys:
            raise ValueError("at least one routing key is required to page")
        self._keys = [SecretStr(k) if isinstance(k, str) else k for k in routing_keys]
        self.events_url = events_url
        self.incident_url_base = incident_url_base.rstrip("/") if incident_url_base else None
        self._timeout = timeout_s
        self._http = http

    @classmethod
    def from_settings(cls, settings: Settings) -> PagerDutyPager | None:
        """None when no routing key is configured: escalations are then recorded, not paged."""
        if not settings.pagerduty_routing_keys:
            return None
        return cls(
            settings.pagerduty_routing_keys,
            events_url=settings.pagerduty_events_url,
            incident_url_base=settings.api_url,
        )

    def key_index(self, level: int) -> int:
        """0-based routing key index for a 1-based escalation level."""
        if level < 1:
            raise ValueError(f"escalation levels start at 1, got {level}")
        return min(level, len(self._keys)) - 1

    def incident_url(self, incident_id: str) -> str | None:
        if self.incident_url_base is None:
            return None
        return f"{self.incident_url_base}/api/incidents/{incident_id}"

    async def trigger(
        self,
        incident_id: str,
        level: int,
        *,
        summary: str,
        severity: str | None,
        custom_details: Mapping[str, Any] | None = None,
        timestamp: datetime | None = None,
        component: str | None = None,
        group: str | None = None,
        event_class: str | None = None,
    ) -> Page:
        """Open (or, on a retry, join) the page for `level`."""
        index = self.key_index(level)
        key = dedup_key(incident_id, level)
        payload: dict[str, Any] = {
            "summary": truncate(summary or f"dd0c/run incident {incident_id}"),
            "source": SOURCE,
            "severity": pagerduty_severity(severity),
            "custom_details": dict(custom_details or {}),
        }
        if timestamp is not None:
            payload["timestamp"] = timestamp.isoformat()
        for name, value in (("component", component), ("group", group), ("class", event_class)):
            if value:
                payload[name] = value
        event: dict[str, Any] = {
            "routing_key": self._keys[index].get_secret_value(),
            "event_action": "trigger",
            "dedup_key": key,
            "payload": payload,
            "client": CLIENT,
        }
        url = self.incident_url(incident_id)
        if url is not None:
            event["client_url"] = url
            event["links"] = [{"href": url, "text": "dd0c/run incident"}]
        await self._send(event)
        return Page(dedup_key=key, level=level, routing_key_index=index)

    async def resolve(self, incident_id: str, level: int) -> str:
        """Close the page for `level` (a no-op at PagerDuty when it is already closed)."""
        key = dedup_key(incident_id, level)
        await self._send(
            {
                "routing_key": self._keys[self.key_index(level)].get_secret_value(),
                "event_action": "resolve",
                "dedup_key": key,
            }
        )
        return key

    async def _send(self, event: dict[str, Any]) -> None:
        action = event["event_action"]
        try:
            if self._http is not None:
                response = await self._http.post(self.events_url, json=event, timeout=self._timeout)
            else:
                async with httpx.AsyncClient(timeout=self._timeout) as http:
                    response = await http.post(self.events_url, json=event)
        except httpx.TransportError as err:
            raise ApplicationError(
                f"PagerDuty unreachable ({type(err).__name__}: {err}); will retry",
                type=UNREACHABLE,
            ) from err
        status = response.status_code
        if 200 <= status < 300:  # 202 is what PagerDuty sends
            log.info("pagerduty %s accepted: %s", action, event["dedup_key"])
            return
        body = _json_or_text(response)
        delay = retry_after(response.headers.get("retry-after"))
        if status == 429:
            raise ApplicationError(
                f"PagerDuty throttled the {action} (429); will retry",
                body,
                type=THROTTLED,
                next_retry_delay=delay,
            )
        if status >= 500 or status == 408:
            raise ApplicationError(
                f"PagerDuty answered {status} to the {action}; will retry",
                body,
                type=UNAVAILABLE,
                next_retry_delay=delay,
            )
        errors = body.get("errors") if isinstance(body, dict) else None
        raise ApplicationError(
            f"PagerDuty rejected the {action} ({status}): {errors or body}",
            {"status": status, "errors": errors or [], "body": body},
            type=INVALID_EVENT,
            non_retryable=True,
        )


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]
