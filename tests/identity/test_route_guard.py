"""Every route is authenticated unless it is on the short public list, and each role can do
exactly what it should: generated from the app's own route table, not a hand list."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.auth import FailureLimiter, is_public, required_scope, route_table, unguarded_routes
from api.deps import State
from schemas.identity import ROLE_SCOPES, Role, Scope
from tests.harness import running_stack, unique

pytestmark = pytest.mark.temporal

#: What the product promises each kind of action needs (the issue's list, and the rest).
EXPECTED: dict[tuple[str, str], Scope | str] = {
    ("GET", "/api/incidents"): Scope.READ,
    ("GET", "/api/incidents/{incident_id}"): Scope.READ,
    ("GET", "/api/incidents/{incident_id}/export"): Scope.READ,
    ("GET", "/api/incidents/{incident_id}/export/bundle"): Scope.READ,
    ("GET", "/api/incidents/{incident_id}/result"): Scope.READ,
    ("GET", "/api/exports"): Scope.READ,
    ("POST", "/api/incidents/{incident_id}/steps/{step_id}/approval"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/steps/{step_id}/decision"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/steps/{step_id}/report"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/steps/{step_id}/skip"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/steps/{step_id}/undo"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/acknowledge"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/abort"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/resolve"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/pause"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/resume"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/take-over"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/escalate"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/mode"): Scope.RESPOND,
    ("GET", "/api/killswitch"): Scope.READ,
    ("POST", "/api/killswitch"): Scope.RESPOND,
    ("POST", "/api/runbooks/parse"): Scope.AUTHOR,
    ("POST", "/api/runbooks"): Scope.AUTHOR,
    ("GET", "/api/runbooks"): Scope.READ,
    ("GET", "/api/runbooks/{runbook_id}"): Scope.READ,
    ("GET", "/api/runbooks/{runbook_id}/versions"): Scope.READ,
    ("GET", "/api/runbooks/{runbook_id}/trust"): Scope.READ,
    ("POST", "/api/runbooks/{runbook_id}/trust"): Scope.AUTHOR,  # promote: admin, in the route
    ("POST", "/api/runbooks/{runbook_id}/dry-run"): Scope.RESPOND,
    ("POST", "/api/runbooks/dry-run"): Scope.RESPOND,
    ("POST", "/api/runbooks/import"): Scope.AUTHOR,
    ("POST", "/api/runbooks/load"): Scope.AUTHOR,
    ("GET", "/api/mappings"): Scope.READ,
    ("GET", "/api/mappings/{mapping_id}"): Scope.READ,
    ("POST", "/api/mappings"): Scope.AUTHOR,
    ("DELETE", "/api/mappings/{mapping_id}"): Scope.AUTHOR,
    ("POST", "/codec/decode"): Scope.READ,
    ("POST", "/codec/encode"): Scope.READ,
    ("GET", "/api/me"): "authenticated",
    ("GET", "/api/users"): Scope.ADMIN,
    ("POST", "/api/users"): Scope.ADMIN,
    ("GET", "/api/users/{handle}"): "authenticated",
    ("PATCH", "/api/users/{handle}"): Scope.ADMIN,
    ("GET", "/api/tokens"): "authenticated",
    ("POST", "/api/tokens"): "authenticated",
    ("DELETE", "/api/tokens/{token_id}"): "authenticated",
    ("GET", "/api/openapi.json"): Scope.READ,
    ("PUT", "/api/users/{handle}/password"): "authenticated",  # others' password: admin, in it
    ("GET", "/api/incidents/{incident_id}/steps/{step_id}/output"): Scope.READ,
    ("GET", "/api/webhooks/admission"): Scope.READ,
    ("POST", "/api/match"): Scope.READ,
    ("GET", "/api/rules"): Scope.READ,
    ("POST", "/api/rules/import"): Scope.AUTHOR,
    # Incident command: declaring and running an incident is a responder's; reading, a reader's.
    ("POST", "/api/incidents"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/severity"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/false-positive"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/parent"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/roles"): Scope.RESPOND,
    ("GET", "/api/incidents/{incident_id}/handoff"): Scope.READ,
    ("GET", "/api/incidents/{incident_id}/status-updates/draft"): Scope.READ,
    ("POST", "/api/incidents/{incident_id}/status-updates"): Scope.RESPOND,
    ("POST", "/api/incidents/{incident_id}/status-updates/{number}/publish"): Scope.RESPOND,
}
#: The web app's pages: a session (not a token) with these scopes (tests/web checks each role).
WEB: dict[tuple[str, str], Scope | str] = {
    ("GET", "/web"): "authenticated",
    ("GET", "/web/"): "authenticated",
    ("POST", "/web/logout"): "authenticated",
    ("GET", "/web/incidents"): Scope.READ,
    ("GET", "/web/incidents/{incident_id}"): Scope.READ,
    ("GET", "/web/incidents/{incident_id}/live"): Scope.READ,
    ("GET", "/web/incidents/{incident_id}/export"): Scope.READ,
    ("POST", "/web/incidents/{incident_id}/steps/{step_id}/approval"): Scope.RESPOND,
    ("POST", "/web/incidents/{incident_id}/steps/{step_id}/decision"): Scope.RESPOND,
    ("POST", "/web/incidents/{incident_id}/steps/{step_id}/skip"): Scope.RESPOND,
    ("POST", "/web/incidents/{incident_id}/steps/{step_id}/report"): Scope.RESPOND,
    ("POST", "/web/incidents/{incident_id}/{action}"): Scope.RESPOND,
    # Incident command on the live page: reading (the handoff) a viewer's, acting a responder's.
    ("POST", "/web/incidents/{incident_id}/severity"): Scope.RESPOND,
    ("POST", "/web/incidents/{incident_id}/roles"): Scope.RESPOND,
    ("POST", "/web/incidents/{incident_id}/false-positive"): Scope.RESPOND,
    ("POST", "/web/incidents/{incident_id}/parent"): Scope.RESPOND,
    ("POST", "/web/incidents/{incident_id}/status-updates"): Scope.RESPOND,
    ("POST", "/web/incidents/{incident_id}/status-updates/{number}/publish"): Scope.RESPOND,
    ("GET", "/web/incidents/{incident_id}/handoff"): Scope.READ,
    ("GET", "/web/parse"): Scope.AUTHOR,
    ("POST", "/web/parse/preview"): Scope.AUTHOR,
    ("POST", "/web/parse/save"): Scope.AUTHOR,
    ("GET", "/web/runbooks"): Scope.READ,
    ("GET", "/web/runbooks/{runbook_id}"): Scope.READ,
    ("POST", "/web/runbooks/{runbook_id}"): Scope.AUTHOR,
    ("GET", "/web/runbooks/-/import"): Scope.AUTHOR,
    ("POST", "/web/runbooks/-/import/folder"): Scope.ADMIN,
    ("POST", "/web/runbooks/-/import/git"): Scope.ADMIN,
    ("POST", "/web/runbooks/-/import/upload"): Scope.AUTHOR,
    ("GET", "/web/mappings"): Scope.READ,
    ("GET", "/web/mappings/suggestions"): Scope.READ,
    ("POST", "/web/mappings"): Scope.AUTHOR,
    ("POST", "/web/mappings/{mapping_id}/delete"): Scope.AUTHOR,
    ("POST", "/web/mappings/test"): Scope.READ,
    ("GET", "/web/dashboard"): Scope.READ,
    ("GET", "/web/account"): "authenticated",  # one's own password
    ("POST", "/web/account/password"): "authenticated",
    ("GET", "/web/people"): Scope.ADMIN,  # others' passwords
    ("POST", "/web/people/{handle}/password"): Scope.ADMIN,
    ("POST", "/web/runbooks/{runbook_id}/trust"): Scope.AUTHOR,  # promotion: admin, in it
}
PUBLIC = {
    ("POST", "/webhooks/alertmanager"),
    ("POST", "/webhooks/pagerduty"),
    ("POST", "/webhooks/grafana"),
    ("POST", "/webhooks/opsgenie"),
    ("POST", "/webhooks/generic"),
    ("POST", "/slack/interactions"),
    ("POST", "/slack/commands"),
    ("GET", "/healthz"),
    ("OPTIONS", "/codec/decode"),
    ("OPTIONS", "/codec/encode"),
    ("GET", "/web/login"),  # the sign-in form (login CSRF: a nonce cookie and field)
    ("POST", "/web/login"),
    ("GET", "/web/login/oidc"),  # single sign-on: state, nonce and PKCE
    ("GET", "/web/login/oidc/callback"),
    ("*", "/web/static"),  # vendored htmx and the stylesheet
    ("GET", "/status"),  # the public status page: only updates the comms lead published
    ("GET", "/status.json"),
}


#: Open to every authenticated caller for their own record; someone else's takes an admin.
SOMEONE_ELSES = {("GET", "/api/users/{handle}")}


def _concrete(path: str) -> str:
    """Route parameters filled with names that exist nowhere (so nothing real is touched)."""
    return re.sub(r"\{[^}]+\}", lambda m: f"nothing-{m.group(0)[1:-1]}", path)


async def test_every_route_is_public_by_name_or_guarded(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        app = stack.http._transport.app  # type: ignore[attr-defined]
        table = {(m, p): r for m, p, r in route_table(app)}
        assert unguarded_routes(app) == []
        public = {key for key in table if is_public(key[1], key[0])}
        assert public == PUBLIC, "the public list changed: " + repr(public ^ PUBLIC)
        guarded = {key: required_scope(route) for key, route in table.items() if key not in public}
        assert guarded == {**EXPECTED, **WEB}


async def test_each_route_refuses_no_credential_and_wrong_roles(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        app = stack.http._transport.app  # type: ignore[attr-defined]
        app.state.auth_failures = FailureLimiter(limit=10_000)  # this test sends many bad tokens
        tokens = {role: await stack.person(unique(f"{role.value}-"), (role,)) for role in Role}
        bad = {"Authorization": "Bearer ddr_0123456789ab_" + "x" * 43}
        checked = 0
        for method, path, _route in route_table(app):
            if is_public(path, method):
                continue
            url = _concrete(path)
            # An invalid body: a permitted caller gets a 4xx about the body or the missing
            # object, never an action; the check here is only 401/403 or not.
            send = {"json": {"__not_a_field__": 1}} if method in ("POST", "PATCH") else {}
            anonymous = await stack.http.request(method, url, **send)  # type: ignore[arg-type]
            if (method, path) in WEB:  # pages send the anonymous to the sign-in page
                assert anonymous.status_code in (303, 401), (method, path, anonymous.text)
                if anonymous.status_code == 303:
                    assert anonymous.headers["location"].startswith("/web/login?next=")
                with_token = await stack.http.request(
                    method,
                    url,
                    headers=tokens[Role.ADMIN],
                    **send,  # type: ignore[arg-type]
                )
                assert with_token.status_code in (303, 401), "a token is not a web session"
                continue
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            forged = await stack.http.request(method, url, headers=bad, **send)  # type: ignore[arg-type]
            assert forged.status_code == 401, (method, path, forged.text)
            needed = EXPECTED[(method, path)]
            for role, headers in tokens.items():
                response = await stack.http.request(method, url, headers=headers, **send)  # type: ignore[arg-type]
                if (method, path) in SOMEONE_ELSES:
                    needed = Scope.ADMIN
                allowed = needed == "authenticated" or needed in ROLE_SCOPES[role]
                if allowed:
                    assert response.status_code not in (401, 403), (
                        role,
                        method,
                        path,
                        response.text,
                    )
                else:
                    assert response.status_code == 403, (role, method, path, response.text)
                    assert needed in response.json()["error"]
                checked += 1
        assert checked == len(EXPECTED) * len(Role)


async def test_promotion_to_autopilot_takes_an_admin(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine) as stack:
        runbook = await stack.add_runbook(
            {
                "id": unique("promo-"),
                "title": "P",
                "steps": [{"id": "a", "title": "A", "command": "true"}],
            }
        )
        author = await stack.person(unique("author-"), (Role.AUTHOR,))
        admin = await stack.person(unique("admin-"), (Role.ADMIN,))
        path = f"/api/runbooks/{runbook.id}/trust"
        refused = await stack.http.post(path, json={"action": "promote"}, headers=author)
        assert refused.status_code == 403
        assert "admin" in refused.json()["error"]
        lowered = await stack.http.post(
            path, json={"action": "set", "mode": "read-along"}, headers=author
        )
        assert lowered.status_code == 200, lowered.text
        promoted = await stack.http.post(path, json={"action": "promote"}, headers=admin)
        assert promoted.status_code == 200, promoted.text
        assert promoted.json()["trust"]["mode"] == "autopilot"
        who = promoted.json()["history"][-1]["actor"]
        me = (await stack.http.get("/api/me", headers=admin)).json()["handle"]
        assert who == me


def test_state_dependency_is_not_a_guard() -> None:
    """The guard is `require`, not merely reading app state: a route with only `State` would
    be reported as unguarded (the start-up check depends on this)."""
    assert State is not None
