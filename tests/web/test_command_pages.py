"""Incident command on the live incident page (issue 17): the panel (severity and its history,
the response deadlines, roles, status updates) and its actions over HTTP as the browser sends
them, each through the API's own function with the person from the session on the web channel.
A viewer reads; only a responder acts; the workflow's refusals are shown with its reason."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.auth import route_table
from schemas.identity import Role
from schemas.incident import IncidentState
from schemas.roles import IncidentRole
from schemas.severity import Severity
from tests.harness import Stack, running_stack, unique
from tests.support import assert_eventually
from tests.web.support import Browser, sign_in

pytestmark = pytest.mark.temporal


async def declared(stack: Stack, severity: str = "P2", title: str = "Checkout slow") -> str:
    """An incident declared by hand (no runbook: it stays open until a person closes it)."""
    headers = await stack.person(unique("wdecl-"))
    service = unique("wcmdsvc-")
    answer = await stack.http.post(
        "/api/incidents",
        json={"severity": severity, "title": title, "service": service},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    incident_id: str = answer.json()["incident_id"]
    stack.touched.add(incident_id)
    await assert_eventually(
        lambda: stack.state(incident_id), lambda s: s is not None, what="incident opened"
    )
    return incident_id


def panel(page: str) -> str:
    """The live panel's part of a page (the forms outside it prefill from the record)."""
    start = page.index('id="command-panel"')
    return page[start : page.index("</section>", start)]


async def test_command_routes_are_registered_before_the_incidents_catch_all(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, web_cookie_secure=False) as stack:
        app = stack.http._transport.app  # type: ignore[attr-defined]
        posts = [path for method, path, _ in route_table(app) if method == "POST"]
        catch_all = posts.index("/web/incidents/{incident_id}/{action}")
        for path in ("severity", "roles", "false-positive", "parent", "status-updates"):
            assert posts.index(f"/web/incidents/{{incident_id}}/{path}") < catch_all, path


async def test_severity_change_from_the_page(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine, web_cookie_secure=False, sla_timers=True) as stack:
        incident_id = await declared(stack, "P2")
        viewer = await sign_in(stack, unique("wcview-"), (Role.VIEWER,))
        responder = await sign_in(stack, unique("wcresp-"), (Role.RESPONDER,))
        url = f"/web/incidents/{incident_id}/severity"

        page = await viewer.get(f"/web/incidents/{incident_id}")
        assert page.status_code == 200, page.text
        shown = panel(page.text)
        assert "Incident command" in shown
        assert 'id="severity-level">P2<' in shown
        assert 'data-sla="acknowledge"' in shown  # P2: acknowledge within 15 min
        assert "<b>due</b> <small>in 1" in shown  # 14 or 15 min
        assert f'hx-post="{url}"' in page.text
        assert "unchanged since it opened" in shown

        # A viewer is refused before anything reaches the incident.
        refused = await viewer.post(url, {"severity": "P1", "reason": "worse"})
        assert refused.status_code == 403
        assert "respond" in refused.text
        # Without a reason: refused, saying so (not the catch-all's "no action").
        no_reason = await responder.post(url, {"severity": "P1", "reason": "  "})
        assert no_reason.status_code == 422
        assert "a change of severity needs a reason" in no_reason.text
        bad = await responder.post(url, {"severity": "P7", "reason": "x"})
        assert bad.status_code == 422
        assert "choose a severity level" in bad.text
        assert (await stack.state(incident_id)).severity_changes == []

        # A responder changes it; a name in the form is not who acts: the session is.
        reason = "EU payments failing <b>too</b>"
        done = await responder.post(
            url, {"severity": "P1", "reason": reason, "actor": "someone-else"}
        )
        assert done.status_code == 200, done.text
        assert "Severity P1" in done.text
        assert responder.handle in done.text
        state: IncidentState = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.severity_level is Severity.P1,
            what="severity P1",
        )
        [change] = state.severity_changes
        assert (change.before, change.after, change.reason) == (Severity.P2, Severity.P1, reason)
        assert change.actor == responder.handle

        shown = panel((await viewer.get(f"/web/incidents/{incident_id}")).text)
        assert 'id="severity-level">P1<' in shown
        assert html.escape(reason, quote=False) in shown  # autoescaped, not markup
        assert "<b>too</b>" not in shown
        assert responder.handle in shown
        assert 'class="sla-met" data-sla="engage"' in shown  # acting engaged the responder
        assert 'data-sla="escalate"' in shown  # a P1 deadline

        # The audit export has the change, by the session's person, on the web channel.
        audit = await viewer.get(f"/web/incidents/{incident_id}/export", params={"format": "json"})
        [record] = [
            r
            for r in map(json.loads, audit.text.splitlines())
            if r.get("kind") == "severity_changed"
        ]
        assert record["actor"] == responder.handle
        assert record["data"]["channel"] == "web"
        assert record["data"]["authenticated_by"].startswith("web-session ")

        # The same level again: the workflow's own refusal, with its reason.
        again = await responder.post(url, {"severity": "P1", "reason": "still"})
        assert again.status_code == 409
        assert "already P1" in again.text

        for b in (viewer, responder):
            await b.aclose()


async def test_roles_and_status_updates_published_by_the_comms_lead(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(
        client, engine, web_cookie_secure=False, status_update_reminders=True
    ) as stack:
        incident_id = await declared(stack, "P1", "Logins failing")
        ic = await sign_in(stack, unique("wcic-"), (Role.RESPONDER,))
        comms = await sign_in(stack, unique("wccomms-"), (Role.RESPONDER,))
        viewer = await sign_in(stack, unique("wcv-"), (Role.VIEWER,))
        base = f"/web/incidents/{incident_id}"

        async def role(who: Browser, role: IncidentRole, person: str, remove: bool = False) -> str:
            data = {"role": role.value, "person": person}
            if remove:
                data["remove"] = "true"
            answer = await who.post(f"{base}/roles", data)
            assert answer.status_code == 200, answer.text
            return answer.text

        assert (
            await viewer.post(f"{base}/roles", {"role": "scribe", "person": ic.handle})
        ).status_code == 403
        assert f"{comms.handle} is comms lead" in await role(
            ic, IncidentRole.COMMS_LEAD, comms.handle
        )
        await role(ic, IncidentRole.SCRIBE, viewer.handle)
        await role(ic, IncidentRole.RESPONDER, ic.handle)
        await role(ic, IncidentRole.SCRIBE, viewer.handle, remove=True)
        unknown = await ic.post(f"{base}/roles", {"role": "scribe", "person": unique("nobody-")})
        assert unknown.status_code == 404
        assert "no person" in unknown.text
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.comms_lead == comms.handle and s.responders == [ic.handle],
            what="roles",
        )
        shown = panel((await viewer.get(base)).text)
        assert f'data-role="comms_lead">{comms.handle}<' in shown
        assert f'data-role="responder">{ic.handle}<' in shown
        assert 'data-role="scribe">—<' in shown
        assert f"{viewer.handle} relieved" in shown  # the scribe's change, kept
        assert re.search(r'id="update-due">next status update in 5\d min', shown)  # P1: hourly

        # The form is prefilled from the record's draft.
        page = (await ic.get(base)).text
        assert 'value="P1 ' in page
        assert "Logins failing" in page
        assert 'id="form-status-update"' in page

        impact = f"Logins failing for some EU users {incident_id}"
        posted = await ic.post(
            f"{base}/status-updates",
            {
                "phase": "identified",
                "impact": impact,
                "root_cause": "expired certificate",
                "next_steps": "rotate it",
                "eta": "30 min",
                "public": "true",
            },
        )
        assert posted.status_code == 200, posted.text
        assert "status update #1 posted" in posted.text
        empty = await ic.post(f"{base}/status-updates", {"phase": "identified", "impact": ""})
        assert empty.status_code == 422
        assert "needs its impact" in empty.text
        await assert_eventually(
            lambda: stack.state(incident_id), lambda s: len(s.status_updates) == 1, what="posted"
        )
        shown = panel((await ic.get(base)).text)
        assert 'id="status-update-1"' in shown
        assert impact in shown
        assert "30 min" in shown
        assert "awaiting the comms lead" in shown
        assert "Publish #1" not in shown  # only offered to the comms lead
        assert "Publish #1" in panel((await comms.get(base)).text)

        publish = f"{base}/status-updates/1/publish"
        assert (await viewer.post(publish)).status_code == 403
        not_lead = await ic.post(publish)
        assert not_lead.status_code == 409
        assert "only the communications lead" in not_lead.text
        assert all(
            i["id"] != incident_id
            for i in (await stack.http.get("/status.json")).json()["incidents"]
        )
        published = await comms.post(publish)
        assert published.status_code == 200, published.text
        assert f"published by {comms.handle}" in published.text

        status = (await stack.http.get("/status.json")).json()
        [listed] = [i for i in status["incidents"] if i["id"] == incident_id]
        assert [u["message"] for u in listed["updates"]] == [impact]
        shown = panel((await viewer.get(base)).text)
        assert f"published by {comms.handle}" in shown
        for b in (ic, comms, viewer):
            await b.aclose()


async def test_false_positive_parent_link_and_handoff(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine, web_cookie_secure=False) as stack:
        parent = await declared(stack, "P1", "Database down")
        child = await declared(stack, "P2", "Orders failing")
        noise = await declared(stack, "P3", "Disk warning")
        responder = await sign_in(stack, unique("wcfp-"), (Role.RESPONDER,))
        viewer = await sign_in(stack, unique("wcfpv-"), (Role.VIEWER,))

        handoff = await viewer.get(f"/web/incidents/{parent}/handoff")
        assert handoff.status_code == 200, handoff.text
        assert f"# Handoff: {parent}" in handoff.text
        assert "## Key contacts" in handoff.text
        assert "Database down" in handoff.text
        assert (
            f'href="/web/incidents/{parent}/handoff"'
            in (await viewer.get(f"/web/incidents/{parent}")).text
        )
        missing = await viewer.get(f"/web/incidents/{unique('nope-')}/handoff")
        assert missing.status_code == 404

        fp = f"/web/incidents/{noise}/false-positive"
        assert (await viewer.post(fp, {"reason": "noise"})).status_code == 403
        no_reason = await responder.post(fp, {"reason": ""})
        assert no_reason.status_code == 422
        assert "a false positive needs a reason" in no_reason.text
        done = await responder.post(fp, {"reason": "disk alert threshold too low"})
        assert done.status_code == 200, done.text
        state = await stack.handle(noise).result()
        assert state.status.is_closed
        assert state.false_positive is not None
        assert state.false_positive.reason == "disk alert threshold too low"
        assert state.false_positive.actor == responder.handle
        page = await viewer.get(f"/web/incidents/{noise}")
        assert 'id="false-positive"' in page.text
        assert "disk alert threshold too low" in page.text
        assert 'id="form-severity"' not in page.text  # closed: no actions offered
        closed = await responder.post(fp, {"reason": "again"})
        assert closed.status_code == 409

        link = f"/web/incidents/{child}/parent"
        own = await responder.post(link, {"parent": child})
        assert own.status_code == 409
        assert "cannot be its own parent" in own.text
        linked = await responder.post(link, {"parent": parent, "reason": "same outage"})
        assert linked.status_code == 200, linked.text
        state = await stack.handle(child).result()
        assert state.parent_incident == parent
        page = await viewer.get(f"/web/incidents/{child}")
        assert f'href="/web/incidents/{parent}"' in page.text
        for b in (viewer, responder):
            await b.aclose()
