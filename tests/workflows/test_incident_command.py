"""Issue 17, incident command: severity P0-P3 declared by a person or derived from the alert,
changed only with a reason (recorded), a false positive closed with its reason kept, a duplicate
linked to its parent instead of kept open."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.incident import IncidentState, IncidentStatus
from schemas.severity import Severity
from tests.harness import Stack, generic_alert, running_stack, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


async def _declare(stack: Stack, headers: dict[str, str], **body: Any) -> str:
    response = await stack.http.post("/api/incidents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    incident_id: str = response.json()["incident_id"]
    stack.touched.add(incident_id)
    return incident_id


async def _opened(stack: Stack, incident_id: str) -> IncidentState:
    return await assert_eventually(
        lambda: stack.state(incident_id), lambda s: s is not None, what="incident opened"
    )


async def _closed(stack: Stack, incident_id: str) -> IncidentState:
    return await stack.handle(incident_id).result()


async def test_a_person_declares_an_incident_with_a_severity(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        dana = await stack.person(unique("dana-"))
        refused = await stack.http.post(
            "/api/incidents",
            json={"severity": "P1", "title": "x", "actor": "someone-else"},
            headers=dana,
        )
        assert refused.status_code == 422
        bad_level = await stack.http.post(
            "/api/incidents", json={"severity": "P7", "title": "x"}, headers=dana
        )
        assert bad_level.status_code == 422
        service = unique("checkout-")
        incident = await _declare(
            stack, dana, severity="P1", title="Payments delayed in EU", service=service
        )
        state = await _opened(stack, incident)
        assert state.severity_level is Severity.P1
        assert state.declared_by is not None
        assert state.declared_by.startswith("dana-")
        assert state.service == service
        assert state.title == "Payments delayed in EU"
        declared = [e for e in state.timeline if e.kind == "declared"]
        assert declared
        assert declared[0].actor == state.declared_by
        assert "P1" in declared[0].message


async def test_the_severity_is_derived_from_the_alert_by_the_mapping(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(
        client,
        engine,
        severity_policy={"default": "P3", "mapping": {"warning": "P2", "critical": "P1"}},
    ) as stack:
        cases = [
            (generic_alert(unique("Derive"), service=unique("d-"), severity="warning"), "P2"),
            (generic_alert(unique("Derive"), service=unique("d-"), severity="critical"), "P1"),
            (generic_alert(unique("Derive"), service=unique("d-"), severity="whatever"), "P3"),
            (
                generic_alert(unique("Derive"), service=unique("d-"), labels={"priority": "P0"}),
                "P0",
            ),
        ]
        for body, level in cases:
            response = await stack.post_generic(body)
            assert response.status_code == 202, response.text
            incident = response.json()["incident_id"]
            state = await _opened(stack, incident)
            assert state.severity_level == level, (body, state.severity_level)
            assert state.severity == body["severity"]  # the alert's own word is kept


async def test_changing_the_severity_needs_a_reason_and_is_recorded(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        erin = await stack.person(unique("erin-"))
        incident = await _declare(
            stack, erin, severity="P2", title="Search slow", service=unique("search-")
        )
        await _opened(stack, incident)
        url = f"/api/incidents/{incident}/severity"
        no_reason = await stack.http.post(url, json={"severity": "P0"}, headers=erin)
        assert no_reason.status_code == 422
        same = await stack.http.post(url, json={"severity": "P2", "reason": "x"}, headers=erin)
        assert same.status_code == 409, same.text
        assert "already P2" in same.text
        changed = await stack.http.post(
            url, json={"severity": "P0", "reason": "checkout is down too"}, headers=erin
        )
        assert changed.status_code == 200, changed.text
        state = await stack.state(incident)
        assert state.severity_level is Severity.P0
        [record] = state.severity_changes
        assert (record.before, record.after) == (Severity.P2, Severity.P0)
        assert record.reason == "checkout is down too"
        assert record.actor.startswith("erin-")
        assert any(
            e.kind == "severity" and "P2 → P0" in e.message and e.actor == record.actor
            for e in state.timeline
        )
        assert state.engaged_at is not None


async def test_a_false_positive_closes_with_its_reason_kept(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        fay = await stack.person(unique("fay-"))
        response = await stack.post_generic(generic_alert(unique("Noisy"), service=unique("n-")))
        incident = response.json()["incident_id"]
        await _opened(stack, incident)
        url = f"/api/incidents/{incident}/false-positive"
        assert (await stack.http.post(url, json={}, headers=fay)).status_code == 422
        marked = await stack.http.post(
            url, json={"reason": "threshold too tight for batch jobs"}, headers=fay
        )
        assert marked.status_code == 200, marked.text
        state = await _closed(stack, incident)
        assert state.status is IncidentStatus.RESOLVED
        assert state.false_positive is not None
        assert state.false_positive.reason == "threshold too tight for batch jobs"
        assert state.false_positive.actor.startswith("fay-")
        assert "false positive" in state.outcome


async def test_a_duplicate_is_linked_to_its_parent_instead_of_kept_open(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, correlation_window_s=0) as stack:
        gus = await stack.person(unique("gus-"))
        service = unique("dup-")
        parent = (
            await stack.post_generic(generic_alert(unique("Parent"), service=service))
        ).json()["incident_id"]
        child_body = generic_alert(unique("Child"), service=service)
        child = (await stack.post_generic(child_body)).json()["incident_id"]
        await _opened(stack, parent)
        child_state = await _opened(stack, child)
        url = f"/api/incidents/{child}/parent"
        itself = await stack.http.post(url, json={"parent": child}, headers=gus)
        assert itself.status_code == 409, itself.text
        linked = await stack.http.post(
            url, json={"parent": parent, "reason": "same outage"}, headers=gus
        )
        assert linked.status_code == 200, linked.text
        closed = await _closed(stack, child)
        assert closed.status is IncidentStatus.RESOLVED
        assert closed.parent_incident == parent
        assert f"duplicate of {parent}" in closed.outcome
        key = child_state.alerts[0].dedup_key
        state = await assert_eventually(
            lambda: stack.state(parent),
            lambda s: key in s.related_alerts,
            what="the child's alert joined the parent",
        )
        assert state.status is not IncidentStatus.RESOLVED
