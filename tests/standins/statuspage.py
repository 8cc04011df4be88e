"""A stateful stand-in for the Atlassian Statuspage REST API (the incident endpoints).

Speaks the shapes of https://developer.statuspage.io: `POST /v1/pages/{page_id}/incidents` and
`PATCH /v1/pages/{page_id}/incidents/{incident_id}` with a `{"incident": {...}}` body (`name`,
`status`, `body`, `component_ids`, `components: {id: status}`), `GET` of one incident, and
`Authorization: OAuth <api key>`. It keeps pages with their components, incidents with their
`incident_updates`, and answers with the real incident object (`id`, `shortlink`, `status`,
`incident_updates`, `components`, timestamps). A wrong key is 401, an unknown page or incident
404, an unknown component or status 422 (`{"error": ...}` bodies). Every call is recorded;
faults (429 + Retry-After, 5xx) are injected per method.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .server import Fault, FaultBook, FaultKind

Json = dict[str, Any]

API_KEY = "sp-standin-api-key-6f1e"
PAGE_ID = "kctbh9vrtdwd"
COMPONENTS = {"8kbf7d35c070": "Checkout", "vtnh60py4yd7": "API", "1r0mwwx9wl8v": "Website"}
INCIDENT_STATUSES = frozenset({"investigating", "identified", "monitoring", "resolved"})
COMPONENT_STATUSES = frozenset(
    {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
)
IMPACT = {
    "major_outage": "critical",
    "partial_outage": "major",
    "degraded_performance": "minor",
}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Call:
    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class Page:
    id: str
    components: dict[str, Json] = field(default_factory=dict)


@dataclass
class SpIncident:
    id: str
    page_id: str
    name: str
    status: str
    shortlink: str
    created_at: str
    updated_at: str
    component_ids: list[str] = field(default_factory=list)
    updates: list[Json] = field(default_factory=list)
    monitoring_at: str | None = None
    resolved_at: str | None = None


class StatuspageStandin:
    """The Statuspage API for one account. An ASGI app: pass it to `StandinServer`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.url: str | None = None
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/v1/pages/{page_id}/incidents", self._create, methods=["POST"]),
                Route(
                    "/v1/pages/{page_id}/incidents/{incident_id}",
                    self._one,
                    methods=["GET", "PATCH", "PUT"],
                ),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def bind_url(self, url: str) -> None:
        self.url = url

    def reset(self) -> None:
        with self._lock:
            self.api_keys = {API_KEY}
            self.pages: dict[str, Page] = {}
            self.incidents: dict[str, SpIncident] = {}
            self.calls: list[Call] = []
            self.faults = FaultBook()
            self._ids = itertools.count(1)
            self.add_page(PAGE_ID, COMPONENTS)

    def add_page(self, page_id: str, components: dict[str, str]) -> Page:
        page = Page(
            page_id,
            {
                cid: {
                    "id": cid,
                    "page_id": page_id,
                    "name": name,
                    "status": "operational",
                    "group_id": None,
                    "showcase": True,
                }
                for cid, name in components.items()
            },
        )
        self.pages[page_id] = page
        return page

    def inject(
        self, method: str, kind: FaultKind, *, times: int | None = 1, status: int = 503
    ) -> Fault:
        """Make the next `times` POST/PATCH ("*" = any) fail: `ratelimited` (429 with
        Retry-After: 1) or `http_status` (`status`, an HTML error page)."""
        with self._lock:
            return self.faults.add(Fault(method, kind, times, 1, status))

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def component_status(self, component_id: str, page_id: str = PAGE_ID) -> str:
        return str(self.pages[page_id].components[component_id]["status"])

    # -- HTTP ----------------------------------------------------------------------------

    async def _create(self, request: Request) -> Response:
        return await self._handle(request, None)

    async def _one(self, request: Request) -> Response:
        return await self._handle(request, request.path_params["incident_id"])

    async def _handle(self, request: Request, incident_id: str | None) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        auth = request.headers.get("authorization")
        with self._lock:
            self.calls.append(Call(request.method, request.url.path, auth, body))
            fault = self.faults.take(request.method)
            if fault is not None:
                if fault.kind == "ratelimited":
                    return JSONResponse(
                        {"error": "Rate limit exceeded"},
                        status_code=429,
                        headers={"Retry-After": str(fault.retry_after)},
                    )
                return Response(
                    "<html><body><h1>We're sorry, but something went wrong.</h1></body></html>",
                    status_code=fault.status,
                    media_type="text/html",
                )
            if not auth or not auth.startswith("OAuth ") or auth[6:] not in self.api_keys:
                return JSONResponse({"error": "Could not authenticate"}, status_code=401)
            page = self.pages.get(request.path_params["page_id"])
            if page is None:
                return JSONResponse({"error": "Not found"}, status_code=404)
            if request.method == "GET":
                found = self.incidents.get(incident_id or "")
                if found is None or found.page_id != page.id:
                    return JSONResponse({"error": "Not found"}, status_code=404)
                return JSONResponse(self._api(found, page))
            try:
                if incident_id is None:
                    return JSONResponse(self._new(page, body), status_code=201)
                return JSONResponse(self._change(page, incident_id, body))
            except _Refused as refused:
                return JSONResponse({"error": refused.errors}, status_code=refused.status)

    # -- state ---------------------------------------------------------------------------

    def _fields(self, page: Page, body: Any) -> tuple[Json, dict[str, str]]:
        incident = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(incident, dict):
            raise _Refused(["incident is missing"], 400)
        status = incident.get("status")
        if status is not None and status not in INCIDENT_STATUSES:
            raise _Refused([f"Status {status} is not included in the list"])
        ids = incident.get("component_ids") or []
        states = incident.get("components") or {}
        if not isinstance(ids, list) or not isinstance(states, dict):
            raise _Refused(["component_ids must be a list and components an object"])
        unknown = [c for c in [*ids, *states] if c not in page.components]
        if unknown:
            raise _Refused([f"Component {c} not found" for c in unknown])
        bad = [s for s in states.values() if s not in COMPONENT_STATUSES]
        if bad:
            raise _Refused([f"Component status {s} is invalid" for s in bad])
        changed = {str(c): str(s) for c, s in states.items()}
        return incident, changed

    def _new(self, page: Page, body: Any) -> Json:
        incident, changed = self._fields(page, body)
        name = incident.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _Refused(["Name can't be blank"])
        n = next(self._ids)
        now = _now()
        found = SpIncident(
            id=f"p31zjtct{n:04d}",
            page_id=page.id,
            name=name,
            status=str(incident.get("status") or "investigating"),
            shortlink=f"https://stspg.io/{n:04d}abcd",
            created_at=now,
            updated_at=now,
            component_ids=[str(c) for c in incident.get("component_ids") or []],
        )
        self.incidents[found.id] = found
        self._update(page, found, incident, changed)
        return self._api(found, page)

    def _change(self, page: Page, incident_id: str, body: Any) -> Json:
        found = self.incidents.get(incident_id)
        if found is None or found.page_id != page.id:
            raise _Refused("Not found", 404)
        incident, changed = self._fields(page, body)
        if incident.get("name"):
            found.name = str(incident["name"])
        for c in incident.get("component_ids") or []:
            if c not in found.component_ids:
                found.component_ids.append(str(c))
        if incident.get("status"):
            found.status = str(incident["status"])
        found.updated_at = _now()
        self._update(page, found, incident, changed)
        return self._api(found, page)

    def _update(
        self, page: Page, found: SpIncident, incident: Json, changed: dict[str, str]
    ) -> None:
        now = _now()
        if found.status == "monitoring" and found.monitoring_at is None:
            found.monitoring_at = now
        if found.status == "resolved":
            found.resolved_at = now
        affected = []
        for cid, status in changed.items():
            component = page.components[cid]
            affected.append(
                {
                    "code": cid,
                    "name": component["name"],
                    "old_status": component["status"],
                    "new_status": status,
                }
            )
            component["status"] = status
            component["updated_at"] = now
        found.updates.insert(
            0,
            {
                "id": f"upd{next(self._ids):09d}",
                "incident_id": found.id,
                "status": found.status,
                "body": str(incident.get("body") or ""),
                "created_at": now,
                "updated_at": now,
                "display_at": now,
                "affected_components": affected,
                "deliver_notifications": bool(incident.get("deliver_notifications", True)),
                "custom_tweet": None,
                "tweet_id": None,
            },
        )

    def _api(self, found: SpIncident, page: Page) -> Json:
        statuses = [page.components[c]["status"] for c in found.component_ids]
        worst = next(
            (
                IMPACT[s]
                for s in ("major_outage", "partial_outage", "degraded_performance")
                if s in statuses
            ),
            "none",
        )
        return {
            "id": found.id,
            "components": [dict(page.components[c]) for c in found.component_ids],
            "created_at": found.created_at,
            "impact": worst,
            "impact_override": None,
            "incident_updates": [dict(u) for u in found.updates],
            "metadata": {},
            "monitoring_at": found.monitoring_at,
            "name": found.name,
            "page_id": found.page_id,
            "postmortem_body": None,
            "resolved_at": found.resolved_at,
            "shortlink": found.shortlink,
            "started_at": found.created_at,
            "status": found.status,
            "updated_at": found.updated_at,
        }


class _Refused(Exception):
    def __init__(self, errors: list[str] | str, status: int = 422) -> None:
        super().__init__(str(errors))
        self.errors, self.status = errors, status
