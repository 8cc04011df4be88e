"""The incident pages over HTTP: list with filters, the live page, approving a waiting step (a
viewer may not; a responder may, recorded as them on the web channel), the stream, exports."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.identity import Role
from schemas.incident import IncidentStatus, StepState
from tests.harness import Stack, generic_alert, running_stack, unique
from tests.support import assert_eventually
from tests.web.support import sign_in

pytestmark = pytest.mark.temporal


async def waiting_incident(stack: Stack, prefix: str) -> tuple[str, str]:
    """An incident whose runbook's first (safe) step ran and whose second waits for approval."""
    name = unique(prefix)
    service = unique(f"{prefix.lower()}svc-")
    await stack.add_runbook(
        {
            "id": unique(f"{prefix.lower()}rb-"),
            "title": "Web approval",
            "selectors": [{"alertname": name}],
            "steps": [
                {"id": "look", "title": "Look", "command": "echo looked", "risk": "safe"},
                {
                    "id": "fix",
                    "title": "Fix it",
                    "command": "echo fixed-by-web",
                    "risk": "caution",
                },
            ],
        }
    )
    answer = await stack.post_generic(generic_alert(name, severity="warning", service=service))
    incident_id = answer.json()["incident_id"]
    await assert_eventually(
        lambda: stack.state(incident_id),
        lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
        what="awaiting approval",
    )
    return incident_id, service


async def test_incident_list_page_approval_rules_and_stream(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, web_cookie_secure=False) as stack:
        incident_id, service = await waiting_incident(stack, "WebInc")
        viewer = await sign_in(stack, unique("wview-"), (Role.VIEWER,))
        responder = await sign_in(stack, unique("wresp-"), (Role.RESPONDER,))

        listed = await assert_eventually(
            lambda: viewer.get("/web/incidents", params={"service": service}),
            lambda r: incident_id in r.text,
            what="incident listed",
        )
        assert "awaiting_approval" in listed.text
        other = await viewer.get("/web/incidents", params={"service": unique("nosvc-")})
        assert incident_id not in other.text

        page = await viewer.get(f"/web/incidents/{incident_id}")
        assert page.status_code == 200
        assert 'id="step-fix"' in page.text
        assert "echo fixed-by-web" in page.text
        assert "looked" in page.text  # the safe step's output
        assert f"/workflows/{incident_id}" in page.text  # the Temporal UI link
        assert f'sse-connect="/web/incidents/{incident_id}/live"' in page.text
        assert "You are signed in as a viewer" in page.text

        # A viewer cannot approve: refused before anything reaches the incident.
        path = f"/web/incidents/{incident_id}/steps/fix/approval"
        refused = await viewer.post(path, {"decision": "approve"})
        assert refused.status_code == 403
        assert "respond" in refused.text
        assert (await stack.state(incident_id)).status is IncidentStatus.AWAITING_APPROVAL

        # A responder can; the step runs; the audit names them, on the web channel.
        approved = await responder.post(path, {"decision": "approve", "comment": "from web"})
        assert approved.status_code == 200, approved.text
        assert "Approved fix" in approved.text
        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.steps[1].state is StepState.SUCCEEDED,
            what="approved step ran",
        )
        assert state.steps[1].approved_by == responder.handle
        approval = state.steps[1].approvals[0]
        assert approval.channel == "web"
        assert approval.authenticated_by.startswith("web-session ")

        # The same step twice: the workflow's own refusal, shown as such.
        again = await responder.post(path, {"decision": "approve"})
        assert again.status_code == 409

        # The stream sends the rendered state, and ends once the incident has closed.
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status.is_closed,
            what="closed",
        )
        async with viewer.http.stream("GET", f"/web/incidents/{incident_id}/live") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            body = "".join([chunk async for chunk in stream.aiter_text()])
        assert "event: state" in body
        assert "fixed-by-web" in body
        assert "event: closed" in body

        # Exports through the session (the API's export, a PDF for the postmortem).
        pdf = await viewer.get(f"/web/incidents/{incident_id}/export", params={"format": "pdf"})
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        jsonl = await viewer.get(f"/web/incidents/{incident_id}/export", params={"format": "json"})
        assert responder.handle in jsonl.text

        missing = await viewer.get(f"/web/incidents/{unique('nope-')}")
        assert missing.status_code == 404
        for b in (viewer, responder):
            await b.aclose()


async def test_incident_wide_actions_from_the_page(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine, web_cookie_secure=False) as stack:
        incident_id, _ = await waiting_incident(stack, "WebAct")
        responder = await sign_in(stack, unique("wact-"), (Role.RESPONDER,))
        viewer = await sign_in(stack, unique("wactv-"), (Role.VIEWER,))
        assert (await viewer.post(f"/web/incidents/{incident_id}/pause")).status_code == 403
        paused = await responder.post(f"/web/incidents/{incident_id}/pause", {"reason": "look"})
        assert paused.status_code == 200, paused.text
        await assert_eventually(lambda: stack.state(incident_id), lambda s: s.paused, what="paused")
        unknown = await responder.post(f"/web/incidents/{incident_id}/explode")
        assert unknown.status_code == 404
        resumed = await responder.post(f"/web/incidents/{incident_id}/resume")
        assert resumed.status_code == 200, resumed.text
        await assert_eventually(
            lambda: stack.state(incident_id), lambda s: not s.paused, what="resumed"
        )
        aborted = await responder.post(f"/web/incidents/{incident_id}/abort", {"reason": "test"})
        assert aborted.status_code == 200, aborted.text
        state = await assert_eventually(
            lambda: stack.state(incident_id), lambda s: s.status.is_closed, what="closed"
        )
        assert any(t.actor == responder.handle for t in state.timeline)
        closed = await responder.post(f"/web/incidents/{incident_id}/resume")
        assert closed.status_code == 409
        for b in (viewer, responder):
            await b.aclose()


async def test_history_refresh_reads_only_what_changed(client: Client, engine: AsyncEngine) -> None:
    """After the first full read, a refresh picks up new incidents and closes (the dashboard's
    and library's source), asking only for running and recently closed ones."""
    from api.web.history import IncidentHistory

    async with running_stack(client, engine, web_cookie_secure=False) as stack:
        history = IncidentHistory(client)
        history.prefetch()  # what the sign-in page does: the first read starts at once
        history.prefetch()  # … once
        before = {r.id for r in await history.rows()}
        assert history.generation == 1
        incident_id, _ = await waiting_incident(stack, "WebHist")
        assert incident_id not in before

        async def row() -> object:
            rows = await history.refresh()
            return next((r for r in rows if r.id == incident_id), None)

        found = await assert_eventually(row, lambda r: r is not None, what="new incident read")
        assert found.closed_at is None  # type: ignore[attr-defined]
        await stack.http.post(
            f"/api/incidents/{incident_id}/abort",
            json={"reason": "history test"},
            headers=await stack.person(unique("whist-")),
        )
        closed = await assert_eventually(
            row,
            lambda r: r is not None and r.closed_at is not None,
            what="close read",  # type: ignore[attr-defined]
        )
        assert closed.status == "aborted"  # type: ignore[attr-defined]
        assert before <= {r.id for r in await history.rows()}  # nothing older was dropped
