"""The approval rules bind authenticated people: one token cannot be two approvers under two
names, a second token of the same person is the same person, and history and exports show who
really acted, with which credential and through which channel. No token reaches either."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.identity import Role
from schemas.incident import IncidentStatus, StepState
from tests.harness import generic_alert, running_stack, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


def _step(state: object, step_id: str) -> object:
    return next(s for s in state.steps if s.id == step_id)  # type: ignore[attr-defined]


async def test_two_people_means_two_authenticated_people(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack:
        name = unique("TwoPeople")
        await stack.add_runbook(
            {
                "id": unique("two-"),
                # Words no other test's alert uses: the library is shared by the whole suite.
                "title": "Promote the standby replica",
                "selectors": [{"alertname": name}],
                "steps": [
                    {
                        "id": "failover",
                        "title": "Promote the standby replica",
                        "command": "echo over",
                        "risk": "dangerous",
                    },
                ],
            }
        )
        incident_id = (
            await stack.post_generic(
                generic_alert(name, severity="critical", service=unique("two-svc-"))
            )
        ).json()["incident_id"]
        await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            what="waiting for approval",
        )
        alice_handle, bob_handle = unique("alice-"), unique("bob-")
        alice = await stack.person(alice_handle)
        alice_again = await stack.person(alice_handle)  # a second token of the same person
        bob = await stack.person(bob_handle)
        viewer = await stack.person(unique("vic-"), (Role.VIEWER,))
        path = f"/api/incidents/{incident_id}/steps/failover/approval"
        body = {"confirm": "failover"}

        refused = await stack.http.post(path, json=body, headers=viewer)
        assert refused.status_code == 403

        first = await stack.http.post(path, json=body, headers=alice)
        assert first.status_code == 200, first.text
        assert "needs" in first.json()["result"]

        # The same token cannot approve again under another name...
        named = await stack.http.post(path, json={**body, "approver": "bob"}, headers=alice)
        assert named.status_code == 422
        assert "credential" in named.text
        # ...nor as itself, nor through the person's other token.
        for headers in (alice, alice_again):
            again = await stack.http.post(path, json=body, headers=headers)
            assert again.status_code == 409, again.text
            assert "already approved" in again.json()["error"]
        state = await stack.state(incident_id)
        assert _step(state, "failover").state is StepState.AWAITING_APPROVAL  # type: ignore[attr-defined]

        second = await stack.http.post(path, json=body, headers=bob)
        assert second.status_code == 200, second.text
        done = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: _step(s, "failover").state is StepState.SUCCEEDED,  # type: ignore[attr-defined]
            what="the step ran",
        )
        approvals = _step(done, "failover").approvals  # type: ignore[attr-defined]
        assert [a.approver for a in approvals] == [alice_handle, bob_handle]
        assert all(a.authenticated_by.startswith("api-token ") for a in approvals)
        assert {a.channel for a in approvals} == {"api"}

        # History holds the person and credential of each accepted approval; no token secret.
        history = await stack.handle(incident_id).fetch_history()
        raw = history.to_json()
        for headers in (alice, alice_again, bob, viewer):
            secret = headers["Authorization"].split(" ", 1)[1]
            assert secret not in raw
            assert secret.split("_", 2)[2] not in raw  # the part after ddr_<id>_
        accepted = [
            e
            for e in history.events
            if e.HasField("workflow_execution_update_accepted_event_attributes")
        ]
        payloads = [
            json.loads(
                e.workflow_execution_update_accepted_event_attributes.accepted_request.input.args.payloads[
                    0
                ].data
            )
            for e in accepted
        ]
        assert [p["approver"] for p in payloads] == [alice_handle, bob_handle]
        assert all(p["authenticated_by"].startswith("api-token ") for p in payloads)

        # The audit export shows each human action's person, credential and channel.
        me = (await stack.http.get("/api/me", headers=bob)).json()
        export = await stack.http.get(
            f"/api/incidents/{incident_id}/export", params={"format": "json"}, headers=bob
        )
        assert export.status_code == 200, export.text
        records = [json.loads(line) for line in export.text.splitlines() if line.strip()]
        approvals_out = [r for r in records if r.get("kind") == "approval"]
        assert [r["actor"] for r in approvals_out] == [alice_handle, bob_handle]
        assert approvals_out[1]["data"]["authenticated_by"] == f"api-token {me['credential_id']}"
        assert approvals_out[1]["data"]["channel"] == "api"
        csv = await stack.http.get(
            f"/api/incidents/{incident_id}/export", params={"format": "csv"}, headers=bob
        )
        assert f"api-token {me['credential_id']}" in csv.text
        for headers in (alice, bob):
            secret = headers["Authorization"].split(" ", 1)[1]
            assert secret not in export.text
            assert secret not in csv.text
