"""Each alert source through the real app and Temporal: what it must prove, what it starts.

Signed PagerDuty and Grafana bodies are signed here with the documented algorithm
(contracts/README.md §1), independently of the verifier under test.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.app import create_app
from api.webhooks import log_unsigned_sources
from db.people import PeopleStore
from schemas.alert import AlertSource
from schemas.identity import PersonIn, Role
from schemas.incident import IncidentState, IncidentStatus
from schemas.settings import Settings
from tests.harness import Stack, corpus_payload, running_stack, unique
from tests.support import CONTRACTS, assert_eventually

pytestmark = pytest.mark.temporal

PD_DIR = CONTRACTS / "pagerduty" / "webhooks-v3"
PD_VECTOR = json.loads((PD_DIR / "signature-vector.json").read_text())
NEW, OLD = PD_VECTOR["secrets_active_at_sender"]
GF_SECRET = "grafana-test-secret"
REMOTE = ("10.1.2.3", 1234)


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _pd_signature(raw: bytes, *secrets: str) -> str:
    return ",".join(f"v1={_hex(s, raw)}" for s in secrets)


def pd_event(fixture: str, incident: str) -> bytes:
    """A contract fixture about our own incident id, compact as PagerDuty sends it; a fresh
    event id, as every real event has (a re-sent event id is a replay, refused)."""
    body = json.loads((PD_DIR / fixture).read_text())
    body["event"]["id"] = unique("01EV")
    data = body["event"]["data"]
    data.get("incident", data)["id"] = incident
    return json.dumps(body, separators=(",", ":")).encode()


def grafana_body(alertname: str) -> tuple[bytes, str]:
    """The firing fixture as a new alert, and the id of the incident it would open."""
    body = json.loads((CONTRACTS / "grafana" / "webhook.firing.json").read_text())
    fingerprint = unique("fp")
    body["alerts"][0]["labels"]["alertname"] = alertname
    body["alerts"][0]["fingerprint"] = fingerprint
    return json.dumps(body).encode(), f"incident-grafana-{alertname}-{fingerprint}"


def opsgenie_body(action: str, alias: str) -> bytes:
    body = json.loads((CONTRACTS / "opsgenie" / f"webhook.{action}.json").read_text())
    body["alert"]["alias"] = alias
    body["alert"]["alertId"] = f"id-{alias}"  # one Opsgenie alert per alias, as in Opsgenie
    return json.dumps(body).encode()


def _basic(userpass: str) -> str:
    return "Basic " + base64.b64encode(userpass.encode()).decode()


@contextlib.asynccontextmanager
async def api_client(
    stack: Stack, peer: tuple[str, int] = ("127.0.0.1", 123), **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Another API over the same stack (same task queues), with other settings or client."""
    settings = Settings.model_validate({**stack.settings.model_dump(), **overrides})
    app = create_app(settings, client=stack.client, engine=stack.engine)
    transport = httpx.ASGITransport(app=app, client=peer)
    async with httpx.AsyncClient(transport=transport, base_url="http://ddrun.test") as http:
        yield http


async def _exists(client: Client, incident_id: str) -> bool:
    """Read from the workflow itself, not from (eventually consistent) visibility."""
    try:
        await client.get_workflow_handle(incident_id).describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


# --------------------------------------------------------------------------------- PagerDuty


async def test_signed_pagerduty_lifecycle_with_rotated_secrets_and_a_replay(
    client: Client, private_engine: AsyncEngine
) -> None:
    # Its own database: the contract's KubePodCrashLooping alert must match no runbook (one
    # another test saved would give it a step, and a failed step holds the incident open).
    secrets = f"{OLD},{NEW}"
    async with running_stack(client, private_engine, pagerduty_webhook_secret=secrets) as stack:
        pd = unique("Q")
        incident_id = f"incident-pagerduty-pagerduty-{pd}"

        async def post(raw: bytes, signature: str, webhook_id: str) -> httpx.Response:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "PagerDuty-Webhook/V3.0",
                "X-Webhook-Id": webhook_id,
                "X-PagerDuty-Signature": signature,
            }
            return await stack.http.post("/webhooks/pagerduty", content=raw, headers=headers)

        triggered = pd_event("incident.triggered.json", pd)
        first = await post(triggered, _pd_signature(triggered, NEW), "wh-1")
        assert first.status_code == 202, first.text
        assert first.json()["incident_id"] == incident_id
        assert first.json()["event_type"] == "incident.triggered"
        assert first.json()["alerts"][0]["action"] == "started_or_attached"

        replay = await post(triggered, _pd_signature(triggered, NEW), "wh-1")
        assert replay.status_code == 200  # PagerDuty stops retrying; nothing reaches the incident
        assert replay.json()["duplicate"] is True
        state = await assert_eventually(
            lambda: stack.state(incident_id), lambda s: len(s.alerts) == 1, what="the alert"
        )
        assert state.alert_deliveries == 1  # the replay never reached the incident

        acked = pd_event("incident.acknowledged.json", pd)
        response = await post(acked, _pd_signature(acked, OLD), "wh-2")  # the old secret
        assert response.status_code == 202, response.text
        assert response.json()["incident_id"] == incident_id

        note = pd_event("incident.annotated.json", pd)
        response = await post(note, _pd_signature(note, NEW, OLD), "wh-3")  # both, rotating
        assert response.status_code == 202, response.text

        resolved = pd_event("incident.resolved.json", pd)
        refused = await post(resolved, _pd_signature(resolved, "not-our-secret"), "wh-4")
        assert refused.status_code == 403
        response = await post(resolved, _pd_signature(resolved, NEW), "wh-4")
        assert response.status_code == 202
        assert response.json()["alerts"][0]["action"] == "resolved_sent"

        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert [a.status.value for a in result.alerts] == [
            "firing",
            "acknowledged",
            "updated",
            "resolved",
        ]
        ack = result.alerts[1]
        assert (ack.actor, ack.source) == ("Marcus Chen", AlertSource.PAGERDUTY)
        assert result.alerts[2].description.startswith("Rolled back checkout-api")
        assert result.alert_deliveries == 4
        runs = [e async for e in client.list_workflows(f'WorkflowId = "{incident_id}"')]
        assert len(runs) == 1


def _pd_with_people(fixture: str, incident: str, assignee: str, agent: str) -> bytes:
    """A contract fixture whose assignee and acting user are the given PagerDuty user ids."""
    body = json.loads(pd_event(fixture, incident))
    for ref in body["event"]["data"].get("assignees") or []:
        ref["id"] = assignee
    body["event"]["agent"]["id"] = agent
    return json.dumps(body, separators=(",", ":")).encode()


async def test_pagerduty_assignee_is_commander_and_acknowledger_a_person_when_mapped(
    client: Client, private_engine: AsyncEngine
) -> None:
    """The PagerDuty incident's assignee (the on-call person) is the commander by default when a
    person carries that PagerDuty user id; who acknowledged there is recorded by handle. An
    unmapped user is no commander: a display name is not an identity."""
    oncall, acker = unique("PUSR"), unique("PUSR")
    priya, marcus = unique("priya-"), unique("marcus-")
    # Its own database: with a runbook for the contract's alert, the two PagerDuty incidents
    # (one service) would be correlated into one.
    engine = private_engine
    people = PeopleStore(engine)
    await people.add(PersonIn(handle=priya, roles=[Role.RESPONDER], pagerduty_user_id=oncall))
    await people.add(PersonIn(handle=marcus, roles=[Role.RESPONDER], pagerduty_user_id=acker))
    async with running_stack(client, engine, pagerduty_webhook_secret=NEW) as stack:

        async def deliver(raw: bytes, pd: str, alerts: int) -> IncidentState:
            """Post a signed event; the incident's state once it holds `alerts` alerts."""
            headers = {"X-PagerDuty-Signature": _pd_signature(raw, NEW)}
            answer = await stack.http.post("/webhooks/pagerduty", content=raw, headers=headers)
            assert answer.status_code == 202, answer.text
            return await assert_eventually(
                lambda: stack.state(f"incident-pagerduty-pagerduty-{pd}"),
                lambda s: len(s.alerts) == alerts,
                what=f"{alerts} alert(s) in {pd}",
            )

        mapped, unmapped, nobody = unique("Q"), unique("Q"), unique("PUSR")
        raw = _pd_with_people("incident.triggered.json", mapped, oncall, "x")
        assert (await deliver(raw, mapped, 1)).commander == priya
        acked = _pd_with_people("incident.acknowledged.json", mapped, oncall, acker)
        assert (await deliver(acked, mapped, 2)).alerts[1].actor == marcus
        raw = _pd_with_people("incident.triggered.json", unmapped, nobody, nobody)
        assert (await deliver(raw, unmapped, 1)).commander is None
        for incident in (mapped, unmapped):
            await stack.handle(f"incident-pagerduty-pagerduty-{incident}").terminate("test done")


async def test_pagerduty_refusals_and_ping(
    client: Client, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_stack(client, engine, pagerduty_webhook_secret=NEW) as stack:
        pd = unique("Q")
        raw = pd_event("incident.triggered.json", pd)

        async def post(content: bytes, headers: dict[str, str]) -> httpx.Response:
            return await stack.http.post("/webhooks/pagerduty", content=content, headers=headers)

        with caplog.at_level(logging.WARNING, logger="api.errors"):
            wrong = await post(raw, {"X-PagerDuty-Signature": _pd_signature(raw, OLD)})
        assert wrong.status_code == 403
        assert "matches none of our secrets" in wrong.json()["error"]
        assert any("/webhooks/pagerduty refused (403)" in r.getMessage() for r in caplog.records)

        missing = await post(raw, {})
        assert missing.status_code == 400
        assert "missing X-PagerDuty-Signature" in missing.json()["error"]

        malformed = await post(raw, {"X-PagerDuty-Signature": _hex(NEW, raw)})  # no v1=
        assert malformed.status_code == 400
        assert "v1=" in malformed.json()["error"]

        empty = await post(b"", {"X-PagerDuty-Signature": _pd_signature(b"{}", NEW)})
        assert empty.status_code == 400
        assert "empty body" in empty.json()["error"]

        pretty = json.dumps(json.loads(raw), indent=2).encode()  # re-encoded: not what was signed
        assert (
            await post(pretty, {"X-PagerDuty-Signature": _pd_signature(raw, NEW)})
        ).status_code == 403

        ping = (PD_DIR / "pagey.ping.json").read_bytes()
        answer = await post(ping, {"X-PagerDuty-Signature": _pd_signature(ping, NEW)})
        assert answer.status_code == 202
        assert answer.json()["incident_id"] is None
        assert answer.json()["alerts"] == []
        unsigned_ping = await post(ping, {})
        assert unsigned_ping.status_code == 400

        assert not await _exists(client, f"incident-pagerduty-pagerduty-{pd}")


# ------------------------------------------------------------------------ no secret configured


async def test_sources_without_a_secret_accept_loopback_only(
    client: Client, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_stack(client, engine) as stack:
        with caplog.at_level(logging.WARNING, logger="api.webhooks"):
            unsigned = log_unsigned_sources(stack.settings)
        assert set(unsigned) == set(AlertSource)
        lines = [r.getMessage() for r in caplog.records if r.name == "api.webhooks"]
        assert any(
            "/webhooks/pagerduty" in line
            and "loopback only" in line
            and "DDRUN_PAGERDUTY_WEBHOOK_SECRET" in line
            for line in lines
        )
        assert len(lines) == 5

        name, pd, alias = unique("Open"), unique("Q"), unique("og-")
        am = corpus_payload("13-default-payments-TargetDown-firing.json", unique("Am"))
        gf_raw, gf_incident = grafana_body(name)
        generic = {"name": name, "dedup_key": name}
        expected = {
            f"incident-pagerduty-pagerduty-{pd}",
            gf_incident,
            f"incident-opsgenie-{alias}",
            f"incident-alertmanager-{am['alerts'][0]['labels']['alertname']}-"
            f"{am['alerts'][0]['fingerprint']}",
            f"incident-generic-{name}",
        }
        bodies: dict[str, tuple[bytes, str]] = {
            "pagerduty": (
                pd_event("incident.triggered.json", pd),
                "DDRUN_PAGERDUTY_WEBHOOK_SECRET",
            ),
            "grafana": (gf_raw, "DDRUN_GRAFANA_WEBHOOK_SECRET"),
            "opsgenie": (opsgenie_body("create", alias), "DDRUN_OPSGENIE_TOKEN"),
            "alertmanager": (json.dumps(am).encode(), "DDRUN_ALERTMANAGER_TOKEN"),
            "generic": (json.dumps(generic).encode(), "DDRUN_GENERIC_WEBHOOK_TOKEN"),
        }
        async with api_client(stack, peer=REMOTE) as remote:
            for path, (raw, setting) in bodies.items():
                response = await remote.post(f"/webhooks/{path}", content=raw)
                assert response.status_code == 403, (path, response.text)
                error = response.json()["error"]
                assert "10.1.2.3" in error
                assert setting in error, (path, error)
        assert not await _exists(client, f"incident-pagerduty-pagerduty-{pd}")
        for incident_id in expected:
            assert not await _exists(client, incident_id), incident_id

        started = set()
        for path, (raw, _) in bodies.items():  # the same bodies from loopback
            response = await stack.http.post(f"/webhooks/{path}", content=raw)
            assert response.status_code == 202, (path, response.text)
            started.add(response.json()["incident_id"])
        assert started == expected
        for incident_id in expected:
            assert await _exists(client, incident_id), incident_id
        async with api_client(stack, peer=("::1", 5555)) as ipv6:
            response = await ipv6.post("/webhooks/generic", content=json.dumps(generic))
            assert response.status_code == 202
            assert response.json()["incident_id"] == f"incident-generic-{name}"


# ------------------------------------------------------------------------------------ Grafana


async def test_grafana_signatures_with_and_without_a_timestamp(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, grafana_webhook_secret=GF_SECRET) as stack:
        name = unique("Gf")
        raw, incident = grafana_body(name)
        header = "X-Grafana-Alerting-Signature"

        unsigned = await stack.http.post("/webhooks/grafana", content=raw)
        assert unsigned.status_code == 401
        assert header in unsigned.json()["error"]
        wrong = await stack.http.post(
            "/webhooks/grafana", content=raw, headers={header: _hex("other", raw)}
        )
        assert wrong.status_code == 403
        assert not await _exists(client, incident)

        signed = await stack.http.post(
            "/webhooks/grafana", content=raw, headers={header: _hex(GF_SECRET, raw)}
        )
        assert signed.status_code == 202, signed.text
        incident_id = signed.json()["incident_id"]
        assert incident_id == incident
        state = await assert_eventually(
            lambda: stack.state(incident_id), lambda s: len(s.alerts) == 1, what="the alert"
        )
        assert state.alerts[0].annotations["rule_uid"] == "fe2k7q1x3abcde"

        ts_header = "X-Grafana-Alerting-Signature-Timestamp"
        async with api_client(
            stack, grafana_timestamp_header=ts_header, webhook_max_skew_s=300
        ) as http:
            name2 = unique("Gt")
            raw2, incident2 = grafana_body(name2)

            def headers(ts: int, sig_ts: int | None = None) -> dict[str, str]:
                signed_ts = ts if sig_ts is None else sig_ts
                message = f"{signed_ts}:".encode() + raw2
                return {ts_header: str(ts), header: _hex(GF_SECRET, message)}

            now = int(time.time())
            stale = await http.post("/webhooks/grafana", content=raw2, headers=headers(now - 900))
            assert stale.status_code == 403
            assert "from our clock" in stale.json()["error"]
            swapped = await http.post(
                "/webhooks/grafana", content=raw2, headers=headers(now, sig_ts=now - 1)
            )
            assert swapped.status_code == 403
            no_ts = await http.post(
                "/webhooks/grafana", content=raw2, headers={header: _hex(GF_SECRET, raw2)}
            )
            assert no_ts.status_code == 401
            assert ts_header in no_ts.json()["error"]
            assert not await _exists(client, incident2)
            fresh = await http.post("/webhooks/grafana", content=raw2, headers=headers(now))
            assert fresh.status_code == 202, fresh.text
            assert fresh.json()["incident_id"] == incident2
            assert await _exists(client, incident2)


# ----------------------------------------------------------------------------------- Opsgenie


async def test_opsgenie_token_header_and_lifecycle(client: Client, engine: AsyncEngine) -> None:
    # The contract's sample names one service; other tests' Opsgenie incidents for it must not
    # absorb this one's alert (correlation is tested in tests/workflows/test_correlation.py).
    async with running_stack(
        client,
        engine,
        opsgenie_token="og-s3cret",
        opsgenie_token_header="X-Og-Token",
        correlation_window_s=0,
    ) as stack:
        alias = unique("checkout-crashloop-")
        incident_id = f"incident-opsgenie-{alias}"

        async def post(action: str, token: str | None) -> httpx.Response:
            headers = {"X-Og-Token": token} if token is not None else {}
            return await stack.http.post(
                "/webhooks/opsgenie", content=opsgenie_body(action, alias), headers=headers
            )

        missing = await post("create", None)
        assert missing.status_code == 401
        assert "X-Og-Token" in missing.json()["error"]
        assert (await post("create", "og-wrong")).status_code == 401
        assert not await _exists(client, incident_id)

        created = await post("create", "og-s3cret")
        assert created.status_code == 202, created.text
        assert created.json()["incident_id"] == incident_id
        assert created.json()["action"] == "Create"
        retry = await post("create", "og-s3cret")  # the same action again: a replay
        assert (retry.status_code, retry.json()["duplicate"]) == (200, True)
        assert (await post("acknowledge", "og-s3cret")).status_code == 202
        closed = await post("close", "og-s3cret")
        assert closed.status_code == 202
        assert closed.json()["alerts"][0]["action"] == "resolved_sent"

        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert [a.status.value for a in result.alerts] == ["firing", "acknowledged", "resolved"]
        assert result.alerts[1].actor == "priya.natarajan@example.com"
        assert result.alert_deliveries == 3

        # The export derives MTTA from the source's acknowledgement, as the workflow did.
        auditor = await stack.person(unique("auditor-og-"), (Role.VIEWER,))
        exported = await stack.http.get(f"/api/incidents/{incident_id}/export", headers=auditor)
        assert exported.status_code == 200, exported.text
    records = [json.loads(line) for line in exported.content.decode().splitlines()][:-1]
    closing = next(r for r in records if r["kind"] == "closed")
    assert result.acknowledged_at is not None
    assert closing["data"]["mtta_s"] == pytest.approx(
        (result.acknowledged_at - result.opened_at).total_seconds(), abs=1.0
    )
    acked = [r for r in records if r["kind"] == "acknowledged"]
    assert [r["actor"] for r in acked] == ["priya.natarajan@example.com via opsgenie"]


async def test_opsgenie_acknowledger_is_recorded_by_handle_when_a_person(
    client: Client, engine: AsyncEngine
) -> None:
    """Mapped by the Opsgenie user id, else by the user's e-mail (Opsgenie's username)."""
    by_id, by_email = unique("og-user-"), unique("og-mail-")
    email = f"{by_email}@example.com"
    people = PeopleStore(engine)
    await people.add(PersonIn(handle=by_id, roles=[Role.RESPONDER], opsgenie_user_id=by_id))
    await people.add(PersonIn(handle=by_email, roles=[Role.RESPONDER], email=email))
    async with running_stack(client, engine, opsgenie_token="og", correlation_window_s=0) as stack:
        for user_id, username, expected in (
            (by_id, "someone@example.com", by_id),
            (unique("og-unknown-"), email.upper(), by_email),
            (unique("og-unknown-"), "nobody@example.com", "nobody@example.com"),
        ):
            alias = unique("og-map-")

            async def post(
                action: str, alias: str = alias, user_id: str = user_id, username: str = username
            ) -> None:
                body = json.loads(opsgenie_body(action, alias))
                body["alert"]["userId"], body["alert"]["username"] = user_id, username
                answer = await stack.http.post(
                    "/webhooks/opsgenie", json=body, headers={"X-Ddrun-Token": "og"}
                )
                assert answer.status_code == 202, answer.text

            await post("create")
            await post("acknowledge")
            state = await assert_eventually(
                lambda alias=alias: stack.state(f"incident-opsgenie-{alias}"),  # type: ignore[misc]
                lambda s: len(s.alerts) == 2,
                what="the acknowledgement",
            )
            assert state.alerts[1].actor == expected
            await stack.handle(f"incident-opsgenie-{alias}").terminate("test done")


# ------------------------------------------------------------------------ Alertmanager, generic


async def test_alertmanager_basic_or_bearer_and_generic_bearer(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(
        client,
        engine,
        alertmanager_token="am-token",
        alertmanager_basic_auth="alertmanager:pa:ss",
        generic_webhook_token="gen-token",
    ) as stack:
        am = json.dumps(corpus_payload("13-default-payments-TargetDown-firing.json", unique("Am")))

        async def post_am(authorization: str | None) -> httpx.Response:
            headers = {"Authorization": authorization} if authorization else {}
            return await stack.http.post("/webhooks/alertmanager", content=am, headers=headers)

        assert (await post_am(None)).status_code == 401
        assert (await post_am("Bearer wrong")).status_code == 401
        assert (await post_am(_basic("alertmanager:wrong"))).status_code == 401
        assert (await post_am("Basic ???")).status_code == 401
        assert (await post_am(_basic("alertmanager:pa:ss"))).status_code == 202
        assert (await post_am("Bearer am-token")).status_code == 202

        async with api_client(
            stack, alertmanager_token=None, alertmanager_basic_auth="alertmanager:pa:ss"
        ) as basic_only:
            response = await basic_only.post(
                "/webhooks/alertmanager", content=am, headers={"Authorization": "Bearer am-token"}
            )
            assert response.status_code == 401
            assert "Basic" in response.json()["error"]

        name = unique("Gen")
        generic = json.dumps({"name": name, "dedup_key": name, "service": "checkout"})
        response = await stack.http.post("/webhooks/generic", content=generic)
        assert response.status_code == 401
        assert not await _exists(client, f"incident-generic-{name}")
        response = await stack.http.post(
            "/webhooks/generic", content=generic, headers={"Authorization": "Bearer gen-token"}
        )
        assert response.status_code == 202
        assert response.json()["incident_id"] == f"incident-generic-{name}"
        assert await _exists(client, f"incident-generic-{name}")


# ------------------------------------------------------------------------------ bad bodies


async def test_oversized_and_template_replaced_bodies_are_refused(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, max_body_bytes=4096) as stack:
        pd = unique("Q")
        big = json.loads(pd_event("incident.triggered.json", pd))
        big["event"]["data"]["title"] = "x" * 10_000
        for path in ("pagerduty", "grafana", "opsgenie", "alertmanager"):
            response = await stack.http.post(f"/webhooks/{path}", content=json.dumps(big))
            assert response.status_code == 413, path
            assert "4096-byte limit" in response.json()["error"]

        # Alertmanager's `payload` / Grafana's `payload.template` replaced the default body.
        templated = json.dumps({"text": "KubePodCrashLooping firing in checkout"})
        for path, reason in (
            ("alertmanager", "`payload` template"),
            ("grafana", "`payload.template`"),
            ("pagerduty", 'no "event" object'),
            ("opsgenie", 'no "action" string'),
        ):
            response = await stack.http.post(f"/webhooks/{path}", content=templated)
            assert response.status_code == 400, path
            assert reason in response.json()["error"], response.json()
        response = await stack.http.post("/webhooks/grafana", content=b'["not", "an object"]')
        assert response.status_code == 400
        assert "got a JSON array" in response.json()["error"]
        grafana_as_am = (CONTRACTS / "grafana" / "webhook.firing.json").read_bytes()
        response = await stack.http.post("/webhooks/alertmanager", content=grafana_as_am)
        assert response.status_code == 400
        assert "version '1'" in response.json()["error"]

        # The right shape with a wrong field is a 422 naming the field.
        bad_raw, bad_incident = grafana_body(unique("Bad"))
        bad = json.loads(bad_raw)
        bad["alerts"][0]["status"] = "exploded"
        response = await stack.http.post("/webhooks/grafana", content=json.dumps(bad))
        assert response.status_code == 422
        assert any(p["loc"] == "alerts.0.status" for p in response.json()["problems"])

        assert not await _exists(client, f"incident-pagerduty-pagerduty-{pd}")
        assert not await _exists(client, bad_incident)
