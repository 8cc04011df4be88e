"""Issue 17, roles: the incident commander handed over (API, recorded), comms lead, scribe and
responders; P0 changes approved by the commander, P1 changes by the commander and one other
engineer (the two-person rule driven by the IC role); the handoff document on demand."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.incident import IncidentStatus, StepState
from schemas.roles import IncidentRole
from tests.harness import Stack, generic_alert, running_stack, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


async def _open(stack: Stack, **fields: Any) -> str:
    name = unique("Roles")
    await stack.add_runbook(
        {
            "id": unique("roles-"),
            "title": "Roles",
            "selectors": [{"alertname": name}],
            "steps": [
                {"id": "look", "title": "Look", "command": "echo look", "risk": "safe"},
                {"id": "fix", "title": "Restart", "command": "echo fixed", "risk": "caution"},
            ],
        }
    )
    body = generic_alert(name, service=unique("roles-"), **fields)
    response = await stack.post_generic(body)
    assert response.status_code == 202, response.text
    incident: str = response.json()["incident_id"]
    stack.touched.add(incident)
    await assert_eventually(
        lambda: stack.state(incident),
        lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
        what="waiting for approval",
    )
    return incident


async def _people(stack: Stack, *prefixes: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for prefix in prefixes:
        handle = unique(prefix)
        out.append((handle, await stack.person(handle)))
    return out


async def _role(
    stack: Stack, incident: str, who: dict[str, str], role: str, person: str, **extra: Any
) -> Any:
    return await stack.http.post(
        f"/api/incidents/{incident}/roles",
        json={"role": role, "person": person, **extra},
        headers=who,
    )


async def _approve(stack: Stack, incident: str, who: dict[str, str]) -> Any:
    return await stack.http.post(
        f"/api/incidents/{incident}/steps/fix/approval", json={}, headers=who
    )


async def test_roles_are_handed_over_recorded_and_in_the_handoff_document(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        (ann, a), (ben, b), (cy, _), (dee, _) = await _people(stack, "ann-", "ben-", "cy-", "dee-")
        incident = await _open(stack, severity="warning")
        ack = await stack.http.post(f"/api/incidents/{incident}/acknowledge", headers=a)
        assert ack.status_code == 200
        assert (await stack.state(incident)).commander == ann  # the first to acknowledge

        unknown = await _role(stack, incident, a, "commander", "nobody-" + unique(""))
        assert unknown.status_code == 404
        handed = await _role(stack, incident, a, "commander", ben)
        assert handed.status_code == 200, handed.text
        same = await _role(stack, incident, b, "commander", ben)
        assert same.status_code == 409
        assert "already commander" in same.text
        for role, person in (("comms_lead", cy), ("scribe", dee), ("responder", ann)):
            response = await _role(stack, incident, b, role, person)
            assert response.status_code == 200, response.text
        removed = await _role(stack, incident, b, "scribe", dee, remove=True)
        assert removed.status_code == 200, removed.text
        no_ic = await _role(stack, incident, b, "commander", ben, remove=True)
        assert no_ic.status_code == 409

        state = await stack.state(incident)
        assert (state.commander, state.comms_lead, state.scribe) == (ben, cy, None)
        assert state.responders == [ann]
        changes = [(r.role, r.person, r.before, r.actor) for r in state.role_changes]
        assert changes == [
            (IncidentRole.COMMANDER, ann, None, ann),
            (IncidentRole.COMMANDER, ben, ann, ann),
            (IncidentRole.COMMS_LEAD, cy, None, ben),
            (IncidentRole.SCRIBE, dee, None, ben),
            (IncidentRole.RESPONDER, ann, None, ben),
            (IncidentRole.SCRIBE, None, dee, ben),
        ]

        doc = await stack.http.get(f"/api/incidents/{incident}/handoff", headers=a)
        assert doc.status_code == 200
        text = doc.text
        for heading in ("## Status", "## Actions taken", "## Open hypotheses", "## Next steps"):
            assert heading in text
        assert f"- Incident commander: {ben}" in text
        assert f"- Communications lead: {cy}" in text
        assert f"- Responders: {ann}" in text
        assert "Scribe" not in text
        assert "- fix: Restart (awaiting approval, caution)" in text
        assert "P2 · awaiting_approval" in text
        assert f"{ben} is commander ({ann})" in text  # the handover, under actions taken


async def test_a_p1_change_needs_the_commander_and_one_other_engineer(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, ic_approvals=True) as stack:
        (ic, i), (eve, e), (_flo, f) = await _people(stack, "ic-", "eve-", "flo-")
        incident = await _open(stack, severity="critical")  # critical -> P1
        assert (await stack.state(incident)).severity_level == "P1"
        assert (await _role(stack, incident, e, "commander", ic)).status_code == 200

        first = await _approve(stack, incident, e)
        assert first.status_code == 200, first.text
        assert "needs" in first.json()["result"]
        without_ic = await _approve(stack, incident, f)
        assert without_ic.status_code == 409, without_ic.text
        assert f"needs the incident commander ({ic})" in without_ic.text
        second = await _approve(stack, incident, i)
        assert second.status_code == 200, second.text
        result = await stack.handle(incident).result()
        fix = next(v for v in result.steps if v.id == "fix")
        assert fix.state is StepState.SUCCEEDED
        assert sorted(a.approver for a in fix.approvals) == sorted([eve, ic])


async def test_a_p0_change_is_approved_by_the_commander(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, ic_approvals=True) as stack:
        (ic, i), (_gil, g) = await _people(stack, "ic0-", "gil-")
        incident = await _open(stack, labels={"priority": "P0"})
        assert (await _role(stack, incident, g, "commander", ic)).status_code == 200
        refused = await _approve(stack, incident, g)
        assert refused.status_code == 409, refused.text
        assert f"needs the incident commander ({ic})" in refused.text
        approved = await _approve(stack, incident, i)
        assert approved.status_code == 200, approved.text
        result = await stack.handle(incident).result()
        assert next(v for v in result.steps if v.id == "fix").state is StepState.SUCCEEDED


async def test_without_the_ic_rule_a_p1_change_follows_the_runbook_policy(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, ic_approvals=False) as stack:
        (_hal, h), (ic, _i) = await _people(stack, "hal-", "icx-")
        incident = await _open(stack, severity="critical")
        assert (await _role(stack, incident, h, "commander", ic)).status_code == 200
        approved = await _approve(stack, incident, h)
        assert approved.status_code == 200, approved.text
        result = await stack.handle(incident).result()
        assert next(v for v in result.steps if v.id == "fix").state is StepState.SUCCEEDED
