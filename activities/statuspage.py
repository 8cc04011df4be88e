"""`push_statuspage`: one approved status update to an Atlassian Statuspage-compatible API.

The first push of an incident creates the page's incident
(`POST {base}/v1/pages/{page_id}/incidents`), later ones update it
(`PATCH {base}/v1/pages/{page_id}/incidents/{id}`); both carry `{"incident": {...}}` and the
API key as `Authorization: OAuth <key>`. The key lives here (worker settings), never in the
workflow's input or history, and is never logged.

Failures as Temporal errors: 429 (with its Retry-After) and 5xx or an unreachable page are
retried; any other 4xx is `StatuspageRejected`, non-retryable, with a message saying what to
fix (a wrong key, an unknown page or component): no retry changes the answer.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from schemas.settings import Settings
from schemas.statuspage import StatuspagePush, StatuspagePushed

log = logging.getLogger(__name__)

REJECTED = "StatuspageRejected"
UNAVAILABLE = "StatuspageUnavailable"
NOT_CONFIGURED = "StatuspageNotConfigured"
_WHY = {
    401: "the API key (DDRUN_STATUSPAGE_API_KEY) was refused",
    403: "the API key (DDRUN_STATUSPAGE_API_KEY) may not change this page",
    404: "no such page or incident (check DDRUN_STATUSPAGE_PAGE_ID)",
    422: "the page refused the incident (check the component ids, DDRUN_STATUSPAGE_COMPONENTS)",
}


class StatuspageActivities:
    def __init__(self, base_url: str, api_key: str | None, timeout_s: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        self._key = api_key
        self._timeout = timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> StatuspageActivities:
        key = settings.statuspage_api_key
        return cls(
            settings.statuspage_api_url,
            key.get_secret_value() if key is not None else None,
            settings.statuspage_timeout_s,
        )

    @activity.defn(name="push_statuspage")
    async def push_statuspage(self, push: StatuspagePush) -> StatuspagePushed:
        if not self._key:
            raise ApplicationError(
                "Statuspage push not configured on this worker: set DDRUN_STATUSPAGE_API_KEY",
                type=NOT_CONFIGURED,
                non_retryable=True,
            )
        incident: dict[str, Any] = {
            "status": push.status.value,
            "body": push.body,
            "component_ids": list(push.component_ids),
            "components": dict.fromkeys(push.component_ids, push.component_status.value),
        }
        pages = f"{self._base}/v1/pages/{push.page_id}/incidents"
        if push.statuspage_incident_id is None:
            method, url = "POST", pages
            incident["name"] = push.name
        else:
            method, url = "PATCH", f"{pages}/{push.statuspage_incident_id}"
        headers = {"Authorization": f"OAuth {self._key}", "Accept": "application/json"}
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                response = await http.request(
                    method, url, json={"incident": incident}, headers=headers
                )
        except httpx.HTTPError as err:
            raise ApplicationError(
                f"Statuspage {method} unreachable: {type(err).__name__}", type=UNAVAILABLE
            ) from err
        self._raise_for(method, push, response)
        try:
            data: Any = response.json()
            found = str(data["id"])
        except (ValueError, KeyError, TypeError) as err:
            raise ApplicationError(
                f"Statuspage {method} answered HTTP {response.status_code} without an incident id",
                type=UNAVAILABLE,
            ) from err
        log.info(
            "statuspage %s incident %s for %s update #%d",
            method,
            found,
            push.incident_id,
            push.number,
        )
        return StatuspagePushed(
            statuspage_incident_id=found,
            shortlink=str(data["shortlink"]) if data.get("shortlink") else None,
            status=str(data.get("status") or ""),
            created=push.statuspage_incident_id is None,
        )

    @staticmethod
    def _raise_for(method: str, push: StatuspagePush, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        where = f"Statuspage {method} for update #{push.number}"
        if status == 429:
            delay = _retry_after(response.headers.get("Retry-After"))
            raise ApplicationError(
                f"{where}: rate limited, retry after {delay.total_seconds():g}s",
                type=UNAVAILABLE,
                next_retry_delay=delay,
            )
        if status >= 500:
            raise ApplicationError(f"{where}: HTTP {status} (unavailable)", type=UNAVAILABLE)
        said = _error_text(response)
        why = _WHY.get(status, "the request was refused")
        raise ApplicationError(
            f"{where}: HTTP {status}: {why}" + (f" ({said})" if said else ""),
            type=REJECTED,
            non_retryable=True,
        )


def _retry_after(value: str | None) -> timedelta:
    try:
        return timedelta(seconds=max(float(value or ""), 1.0))
    except ValueError:
        return timedelta(seconds=1)


def _error_text(response: httpx.Response) -> str:
    """The page's own words (`{"error": ...}`), bounded; never echoes the request."""
    try:
        data: Any = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict):
        error = data.get("error") or data.get("message") or ""
        if isinstance(error, list):
            error = "; ".join(str(e) for e in error)
        return str(error)[:300]
    return ""
