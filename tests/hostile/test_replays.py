"""A captured, correctly signed request sent again changes nothing (issue #16), on both databases.

The replays are byte-identical copies of requests the product already acted on, with valid
signatures: only the deliveries table (db/deliveries.py) stands between them and the incident.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus

from db.deliveries import DeliveryStore, delivery_digest
from db.tables import DeliveryRecord, KillSwitchRecord
from db.trust import TrustStore
from schemas.identity import Role
from schemas.incident import IncidentStatus
from schemas.trust import KillSwitch, KillSwitchScope
from tests.harness import as_person, running_stack, unique
from tests.standins.signing import signed_slash_command
from tests.standins.slack_api import BOT_TOKEN, SlackStandin
from tests.support import CONTRACTS, assert_eventually

pytestmark = pytest.mark.temporal

PD_DIR = CONTRACTS / "pagerduty" / "webhooks-v3"
PD_SECRET = "pd-replay-secret"
GF_SECRET = "gf-replay-secret"
GF_TS = "X-Grafana-Alerting-Signature-Timestamp"
SLACK_SECRET = "slack-replay-secret-0123456789"
SLASH = json.loads((CONTRACTS / "slack" / "slash-commands" / "incident.declare.json").read_text())


def _hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def pd_event(fixture: str, incident: str) -> bytes:
    """A PagerDuty event about `incident` with a fresh event id, compact as PagerDuty sends it."""
    body = json.loads((PD_DIR / fixture).read_text())
    body["event"]["id"] = unique("01EV")
    data = body["event"]["data"]
    data.get("incident", data)["id"] = incident
    if "title" in data:  # text no runbook matches: other tests' runbooks share the database
        data["title"] = f"{incident} replay probe"
    return json.dumps(body, separators=(",", ":")).encode()


async def _runs(client: Client, incident_id: str) -> list[Any]:
    return [e async for e in client.list_workflows(f'WorkflowId = "{incident_id}"')]


# ------------------------------------------------------------------------------ the store


async def test_a_delivery_is_claimed_once_even_concurrently(engine: AsyncEngine) -> None:
    store = DeliveryStore(engine, retention_s=3600)
    delivery = unique("evt-")
    claims = await asyncio.gather(*(store.claim("pagerduty", delivery) for _ in range(8)))
    assert sorted(claims) == [False] * 7 + [True]
    assert await store.claim("opsgenie", delivery)  # another source's id space
    await store.release("pagerduty", delivery)
    assert await store.claim("pagerduty", delivery)  # released: a retry is handled
    assert not await store.claim("pagerduty", delivery)
    weird = "nul\x00 and \ud800 and " + "é" * 5000  # stored as a digest, never as sent
    assert await store.claim("slack", weird)
    assert not await store.claim("slack", weird)


async def test_expired_claims_are_pruned(engine: AsyncEngine) -> None:
    store = DeliveryStore(engine, retention_s=3600)
    old, fresh = unique("old-"), unique("fresh-")
    async with AsyncSession(engine) as session:
        session.add(
            DeliveryRecord(
                source="pagerduty",
                delivery_id=delivery_digest(old),
                received_at=datetime.now(UTC) - timedelta(hours=2),
            )
        )
        await session.commit()
    assert await store.claim("pagerduty", fresh)
    assert await store.prune() >= 1
    assert await store.claim("pagerduty", old)  # forgotten after the retention
    assert not await store.claim("pagerduty", fresh)  # kept within it
    async with AsyncSession(engine) as session:
        cutoff = datetime.now(UTC) - timedelta(hours=1)
        stale = await session.exec(
            select(func.count()).where(col(DeliveryRecord.received_at) < cutoff)
        )
        assert stale.one() == 0


# ------------------------------------------------------------------------------ PagerDuty


async def test_replayed_pagerduty_events_change_nothing_across_runs(
    client: Client, engine: AsyncEngine
) -> None:
    """Issue #16: a re-sent `incident.resolved` closed a reopened incident, and a re-sent
    `incident.triggered` reopened it again."""
    async with running_stack(
        client, engine, pagerduty_webhook_secret=PD_SECRET, correlation_window_s=0
    ) as stack:
        pd = unique("Q")
        incident_id = f"incident-pagerduty-pagerduty-{pd}"

        async def post(raw: bytes) -> httpx.Response:
            headers = {"X-PagerDuty-Signature": f"v1={_hmac(PD_SECRET, raw)}"}
            return await stack.http.post("/webhooks/pagerduty", content=raw, headers=headers)

        triggered = pd_event("incident.triggered.json", pd)
        resolved = pd_event("incident.resolved.json", pd)
        assert (await post(triggered)).status_code == 202
        assert (await post(resolved)).status_code == 202
        first = await stack.handle(incident_id).result()
        assert first.status is IncidentStatus.RESOLVED

        again = pd_event("incident.triggered.json", pd)  # a real new event: reopens
        answer = await post(again)
        assert answer.status_code == 202, answer.text
        assert answer.json()["alerts"][0]["action"] == "reopened"
        before = await assert_eventually(
            lambda: stack.state(incident_id), lambda s: len(s.alerts) == 1, what="the reopen"
        )

        for replay in (resolved, triggered, again):  # captured bodies, still validly signed
            response = await post(replay)
            assert response.status_code == 200, response.text
            assert response.json()["duplicate"] is True
            assert response.json()["alerts"] == []

        after = await stack.state(incident_id)
        assert after.status == before.status
        assert not after.status.is_closed
        assert after.alert_deliveries == before.alert_deliveries == 1
        assert [a.event_id for a in after.alerts] == [a.event_id for a in before.alerts]
        runs = await _runs(client, incident_id)
        assert len(runs) == 2
        running = [r for r in runs if r.status is WorkflowExecutionStatus.RUNNING]
        assert len(running) == 1

        closing = pd_event("incident.resolved.json", pd)  # a new resolve still works
        assert (await post(closing)).json()["alerts"][0]["action"] == "resolved_sent"
        assert (await stack.handle(incident_id).result()).status is IncidentStatus.RESOLVED


# ------------------------------------------------------------------------- Grafana, Opsgenie


async def test_replayed_grafana_and_opsgenie_deliveries_change_nothing(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(
        client,
        engine,
        grafana_webhook_secret=GF_SECRET,
        grafana_timestamp_header=GF_TS,
        opsgenie_token="opsgenie-replay-token-0123",  # not part of any alias: it would be redacted
        correlation_window_s=0,  # the samples' service may have open incidents of other tests
    ) as stack:
        body = json.loads((CONTRACTS / "grafana" / "webhook.firing.json").read_text())
        name, fingerprint = unique("GfReplay"), unique("fp")
        body["alerts"][0]["labels"]["alertname"] = name
        body["alerts"][0]["fingerprint"] = fingerprint
        raw = json.dumps(body).encode()
        ts = str(int(time.time()))
        headers = {
            GF_TS: ts,
            "X-Grafana-Alerting-Signature": _hmac(GF_SECRET, f"{ts}:".encode() + raw),
        }
        first = await stack.http.post("/webhooks/grafana", content=raw, headers=headers)
        assert first.status_code == 202, first.text
        incident_id = first.json()["incident_id"]
        assert incident_id == f"incident-grafana-{name}-{fingerprint}"
        replay = await stack.http.post("/webhooks/grafana", content=raw, headers=headers)
        assert (replay.status_code, replay.json()["duplicate"]) == (200, True)
        state = await assert_eventually(
            lambda: stack.state(incident_id), lambda s: len(s.alerts) == 1, what="the alert"
        )
        assert state.alert_deliveries == 1

        alias = unique("og-replay-")
        og_id = f"incident-opsgenie-{alias}"

        async def opsgenie(action: str) -> httpx.Response:
            data = json.loads((CONTRACTS / "opsgenie" / f"webhook.{action}.json").read_text())
            data["alert"]["alias"] = alias
            data["alert"]["alertId"] = f"id-{alias}"
            # Text no runbook matches: other tests' runbooks (crash looping...) share the DB,
            # and a matched runbook would wait for an approval instead of closing.
            data["alert"]["message"] = f"{alias} replay probe"
            data["alert"]["description"] = "nothing to see"
            return await stack.http.post(
                "/webhooks/opsgenie",
                content=json.dumps(data),
                headers={"X-Ddrun-Token": "opsgenie-replay-token-0123"},
            )

        assert (await opsgenie("create")).status_code == 202
        assert (await opsgenie("close")).status_code == 202
        assert (await stack.handle(og_id).result()).status is IncidentStatus.RESOLVED
        replayed = await opsgenie("create")  # the captured Create again: no new run
        assert (replayed.status_code, replayed.json()["duplicate"]) == (200, True)
        assert len(await _runs(client, og_id)) == 1


# ------------------------------------------------------------------------------------ Slack


async def _switch_rows(engine: AsyncEngine, service: str) -> int:
    async with AsyncSession(engine) as session:
        rows = await session.exec(
            select(func.count()).where(col(KillSwitchRecord.value) == service)
        )
        return int(rows.one())


async def test_the_same_signed_kill_switch_command_acts_once(
    client: Client, engine: AsyncEngine, slack: SlackStandin
) -> None:
    async with running_stack(
        client,
        engine,
        slack_signing_secret=SLACK_SECRET,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=f"{slack.url}/api/",
    ) as stack:
        await as_person(engine, "marcus.chen", (Role.RESPONDER,), slack="U07MARCUS02")
        service = unique("svc-replay-")
        fields = slack.prepare_slash_command(
            {
                **SLASH,
                "command": "/ddrun",
                "text": f"killswitch engage service {service} captured",
                "user_id": "U07MARCUS02",
                "user_name": "marcus.chen",
            }
        )
        signed = signed_slash_command(fields, SLACK_SECRET, int(time.time()))
        first = await stack.http.post("/slack/commands", content=signed.raw, headers=signed.headers)
        assert first.status_code == 200, first.text
        assert f"`service={service}` engaged" in first.json()["text"]
        assert await _switch_rows(engine, service) == 1

        # Someone lifts it; the captured engage, re-sent within Slack's 5 minutes, must not
        # engage it again.
        trust = TrustStore(engine)
        await trust.set_kill_switch(
            KillSwitch(scope=KillSwitchScope.SERVICE, value=service, engaged=False, actor="ops")
        )
        replay = await stack.http.post(
            "/slack/commands", content=signed.raw, headers=signed.headers
        )
        assert replay.status_code == 200
        answer = replay.json()
        assert answer["response_type"] == "ephemeral"
        assert "already handled" in answer["text"]
        assert answer["duplicate"] is True
        assert await _switch_rows(engine, service) == 2  # the engage and the lift, nothing else
        assert not [s for s in await trust.kill_switches() if s.value == service]
