"""A stateful stand-in for PagerDuty's Events API v2 (`POST /v2/enqueue`) and the one REST call
we may use to escalate (`PUT /incidents/{id}`), as a Starlette ASGI app.

Why: paging the next on-call is the product's last line of defence, so tests must see exactly
what it sends and how it copes with PagerDuty's answers: 202 accepted, 400 invalid event (never
retry), 429 throttled and 5xx (retry with backoff). The bodies follow
`shared/contracts/pagerduty/events-v2/` and README section 4. State gives the dedup semantics
for free: a `trigger` whose `(routing_key, dedup_key)` alert is still open joins that alert,
`acknowledge` and `resolve` act only on an open alert with the *same* routing key (others are
accepted and dropped, as PagerDuty does), and a `trigger` after `resolve` opens a new alert and
incident.

Approximations (not documented by PagerDuty): the exact 400 `errors[]` wording except the
routing_key length message from the fixture; `summary` over 1024 characters is rejected here
(PagerDuty documents the limit; being strict catches our bug earlier); REST error codes/bodies.
The official `pagerduty` client refuses `http://` base URLs, so drive this with plain httpx (or
pass that client an httpx transport).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .server import Fault, FaultBook, FaultKind, WaitGate

Json = dict[str, Any]

ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6"
REST_TOKEN = "standin-rest-api-key"
PD_ACCEPT = "application/vnd.pagerduty+json;version=2"
SEVERITIES = ("critical", "error", "warning", "info")
ACTIONS = ("trigger", "acknowledge", "resolve")
THROTTLED: Json = {
    "status": "throttle event",
    "message": "Requests for this service are arriving too quickly.  Please retry later.",
}
_BASE = "https://acme-prod.pagerduty.com"


@dataclass
class PdIncident:
    id: str
    number: int
    title: str
    incident_key: str
    urgency: str
    created_at: float
    status: str = "triggered"
    escalation_level: int = 1

    def to_api(self) -> Json:
        level_user = f"PLEVEL{self.escalation_level}"
        assignees = (
            []
            if self.status == "resolved"
            else [
                {
                    "id": level_user,
                    "type": "user_reference",
                    "summary": f"On-call level {self.escalation_level}",
                    "self": f"https://api.pagerduty.com/users/{level_user}",
                    "html_url": f"{_BASE}/users/{level_user}",
                }
            ]
        )
        return {
            "id": self.id,
            "type": "incident",
            "summary": f"[#{self.number}] {self.title}",
            "self": f"https://api.pagerduty.com/incidents/{self.id}",
            "html_url": f"{_BASE}/incidents/{self.id}",
            "number": self.number,
            "status": self.status,
            "incident_key": self.incident_key,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created_at)),
            "title": self.title,
            "urgency": self.urgency,
            "assignments": [{"assignee": a} for a in assignees],
            "assignees": assignees,
            "escalation_policy": {"id": "P8HJ3LM", "type": "escalation_policy_reference"},
        }


@dataclass
class PdAlert:
    """One alert: what a `(routing_key, dedup_key)` pair points at until it is resolved."""

    routing_key: str
    dedup_key: str
    incident: PdIncident
    status: str = "triggered"
    events: list[Json] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.status != "resolved"


@dataclass
class PdCall:
    """One request as received, with the answer and what it did to the state."""

    path: str
    http_method: str
    body: Json | str
    headers: dict[str, str]
    status: int = 0
    response: Json | str = ""
    outcome: str = ""  # created / deduplicated / acknowledged / resolved / dropped / rejected / …
    fault: str | None = None


def _event_errors(event: Any) -> list[str]:
    if not isinstance(event, dict):
        return ["Event object must be a JSON object"]
    errors: list[str] = []
    key = event.get("routing_key")
    if not key or not isinstance(key, str):
        errors.append("'routing_key' is missing or blank")
    elif len(key) != 32:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = event.get("event_action")
    if not action:
        errors.append("'event_action' is missing or blank")
    elif action not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("Length of 'dedup_key' is too long (maximum is 255 characters)")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is missing or blank")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            return [*errors, "'payload' is missing or blank"]
        for name in ("summary", "source", "severity"):
            if not payload.get(name) or not isinstance(payload.get(name), str):
                errors.append(f"'payload.{name}' is missing or blank")
        if len(str(payload.get("summary", ""))) > 1024:
            errors.append("Length of 'payload.summary' is too long (maximum is 1024 characters)")
        if payload.get("severity") and payload["severity"] not in SEVERITIES:
            errors.append(
                "'payload.severity' is invalid (must be one of: critical, error, warning, info)"
            )
    return errors


class PagerDutyStandin:
    """PagerDuty as the product sees it. An ASGI app: pass it to `StandinServer`."""

    def __init__(
        self,
        *,
        first_incident_number: int = 4217,
        rest_tokens: tuple[str, ...] = (REST_TOKEN,),
        escalation_levels: int = 3,
        rate_limit_per_minute: int | None = None,
    ) -> None:
        self.first_incident_number = first_incident_number
        self.rest_tokens = set(rest_tokens)
        self.escalation_levels = escalation_levels
        self.rate_limit_per_minute = rate_limit_per_minute
        self._lock = threading.RLock()
        self._gate = WaitGate()
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/v2/enqueue", self._enqueue, methods=["POST"]),
                Route("/incidents/{incident_id}", self._incident, methods=["GET", "PUT"]),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def reset(self) -> None:
        with self._lock:
            self.calls: list[PdCall] = []
            self.alerts: list[PdAlert] = []
            self.incidents: dict[str, PdIncident] = {}
            self.faults = FaultBook()
            self.is_down = False
            self._numbers = itertools.count(self.first_incident_number)
            self._sent: defaultdict[str, deque[float]] = defaultdict(deque)

    def release_waiters(self) -> None:
        self._gate.release()

    def rearm_waiters(self) -> None:
        self._gate.rearm()

    # -- faults ---------------------------------------------------------------------------

    def inject(
        self,
        kind: FaultKind,
        *,
        path: str = "/v2/enqueue",
        times: int | None = 1,
        status: int = 503,
        retry_after: int | None = None,
        delay: float = 10.0,
        process: bool = True,
    ) -> Fault:
        """`ratelimited` (429, fixture body), `http_status` (5xx), `error` (400), `timeout`.

        `path` is "/v2/enqueue", "/incidents/<id>" or "*" for any.

        PagerDuty documents no Retry-After on 429; pass `retry_after` to add one anyway.
        """
        fault = Fault(path, kind, times, retry_after or 0, status, "", delay, process)
        with self._lock:
            return self.faults.add(fault)

    def down(self) -> None:
        self.is_down = True

    def up(self) -> None:
        self.is_down = False

    # -- assertion helpers ----------------------------------------------------------------

    @property
    def events(self) -> list[Json]:
        """Bodies of the enqueue calls that were accepted (202), in order."""
        return [
            c.body
            for c in self.calls
            if c.path == "/v2/enqueue" and c.status == 202 and isinstance(c.body, dict)
        ]

    def calls_for(self, dedup_key: str) -> list[PdCall]:
        return [
            c
            for c in self.calls
            if isinstance(c.body, dict) and c.body.get("dedup_key") == dedup_key
        ]

    def alerts_for(self, dedup_key: str) -> list[PdAlert]:
        return [a for a in self.alerts if a.dedup_key == dedup_key]

    def open_alert(self, dedup_key: str, routing_key: str | None = None) -> PdAlert | None:
        return next(
            (
                a
                for a in self.alerts
                if a.open and a.dedup_key == dedup_key and routing_key in (None, a.routing_key)
            ),
            None,
        )

    # -- HTTP -----------------------------------------------------------------------------

    def _finish(
        self,
        call: PdCall,
        status: int,
        body: Json | str,
        outcome: str,
        headers: dict[str, str] | None = None,
    ) -> Response:
        call.status, call.response, call.outcome = status, body, outcome
        if isinstance(body, str):
            return PlainTextResponse(body, status_code=status, headers=headers)
        return JSONResponse(body, status_code=status, headers=headers)

    async def _read(self, request: Request, path: str) -> tuple[PdCall, Any]:
        raw = (await request.body()).decode("utf-8", errors="replace")
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            parsed: Any = json.loads(raw)
        except json.JSONDecodeError:
            parsed = None
        call = PdCall(path, request.method, parsed if isinstance(parsed, dict) else raw, headers)
        self.calls.append(call)
        return call, parsed

    async def _answer(self, call: PdCall, process: Callable[[], Response]) -> Response:
        """Apply an outage or injected fault, else `process()` the request."""
        if self.is_down:
            call.fault = "down"
            return self._finish(call, 503, "503 Service Unavailable", "rejected")
        with self._lock:
            fault = self.faults.take(call.path)
        if fault is None:
            return process()
        call.fault = fault.kind
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
        if fault.kind == "ratelimited":
            return self._finish(call, 429, dict(THROTTLED), "throttled", headers)
        if fault.kind == "http_status":
            return self._finish(call, fault.status, f"{fault.status} Server Error", "rejected")
        if fault.kind == "error":
            body = {"status": "invalid event", "message": fault.error, "errors": [fault.error]}
            return self._finish(call, 400, body, "rejected")
        response = process() if fault.process else None
        await self._gate.sleep(fault.delay)
        return response or self._finish(call, 504, "timeout", "dropped")

    async def _enqueue(self, request: Request) -> Response:
        call, event = await self._read(request, "/v2/enqueue")
        return await self._answer(call, lambda: self._process(call, event))

    def _process(self, call: PdCall, event: Any) -> Response:
        errors = _event_errors(event)
        if errors:
            body = {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": errors,
            }
            return self._finish(call, 400, body, "rejected")
        with self._lock:
            key = str(event["routing_key"])
            if self.rate_limit_per_minute is not None:
                sent, now = self._sent[key], time.monotonic()
                while sent and now - sent[0] > 60:
                    sent.popleft()
                if len(sent) >= self.rate_limit_per_minute:
                    return self._finish(call, 429, dict(THROTTLED), "throttled")
                sent.append(now)
            dedup_key, outcome = self._apply(event)
        body = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
        return self._finish(call, 202, body, outcome)

    def _apply(self, event: Json) -> tuple[str, str]:
        key, action = str(event["routing_key"]), str(event["event_action"])
        dedup_key = str(event.get("dedup_key") or f"{next(self._numbers):032x}")
        alert = self.open_alert(dedup_key, key)
        if action == "trigger":
            if alert is not None:
                alert.events.append(event)
                return dedup_key, "deduplicated"
            payload = event["payload"]
            severity = str(payload["severity"])
            incident = PdIncident(
                id=f"Q{next(self._numbers):013d}",
                number=len(self.incidents) + self.first_incident_number,
                title=str(payload["summary"]),
                incident_key=dedup_key,
                urgency="high" if severity in ("critical", "error") else "low",
                created_at=time.time(),
            )
            self.incidents[incident.id] = incident
            self.alerts.append(PdAlert(key, dedup_key, incident, events=[event]))
            return dedup_key, "created"
        if alert is None:
            return dedup_key, "dropped"  # unknown, resolved, or sent with another routing key
        alert.events.append(event)
        if action == "acknowledge":
            alert.status = alert.incident.status = "acknowledged"
            return dedup_key, "acknowledged"
        alert.status = alert.incident.status = "resolved"
        return dedup_key, "resolved"

    # -- REST: GET / PUT /incidents/{id} --------------------------------------------------

    async def _incident(self, request: Request) -> Response:
        incident_id = request.path_params["incident_id"]
        call, body = await self._read(request, f"/incidents/{incident_id}")
        return await self._answer(call, lambda: self._rest(call, request.method, incident_id, body))

    def _rest(self, call: PdCall, verb: str, incident_id: str, body: Any) -> Response:
        auth = call.headers.get("authorization", "")
        token = auth.removeprefix("Token token=") if auth.startswith("Token token=") else None
        if token not in self.rest_tokens:
            return self._finish(call, 401, _rest_error("Unauthorized", 2006), "rejected")
        if PD_ACCEPT not in call.headers.get("accept", "").replace(" ", ""):
            return self._finish(call, 406, _rest_error("Not Acceptable", 2001), "rejected")
        with self._lock:
            incident = self.incidents.get(incident_id)
            if incident is None:
                return self._finish(call, 404, _rest_error("Not Found", 2100), "rejected")
            if verb == "GET":
                return self._finish(call, 200, {"incident": incident.to_api()}, "read")
            problem = self._update_incident(incident, body, call.headers.get("from", ""))
            if problem:
                err = _rest_error("Invalid Input Provided", 2001, [problem])
                return self._finish(call, 400, err, "rejected")
            return self._finish(call, 200, {"incident": incident.to_api()}, "updated")

    def _update_incident(self, incident: PdIncident, body: Any, requester: str) -> str | None:
        if "@" not in requester:
            return "The From header is required and must be a valid user's email"
        update = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(update, dict) or update.get("type") not in (
            "incident",
            "incident_reference",
        ):
            return "incident.type must be 'incident' or 'incident_reference'"
        level = update.get("escalation_level")
        status = update.get("status")
        if level is not None and (
            not isinstance(level, int) or not 1 <= level <= self.escalation_levels
        ):
            return f"escalation_level must be between 1 and {self.escalation_levels}"
        if status is not None and status not in ("acknowledged", "resolved"):
            return "status must be 'acknowledged' or 'resolved'"
        if incident.status == "resolved":
            return "Incident Already Resolved"
        if level is not None:
            incident.escalation_level = level
            incident.status = "triggered"
        if status is not None:
            incident.status = status
            for alert in self.alerts:
                if alert.incident is incident and alert.open:
                    alert.status = status
        return None


def _rest_error(message: str, code: int, errors: list[str] | None = None) -> Json:
    body: Json = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return {"error": body}
