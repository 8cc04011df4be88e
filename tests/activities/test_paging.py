"""Paging through PagerDuty Events API v2, against the stateful stand-in on a real socket.

Why: an escalation nobody hears about is the worst failure the product can have. These tests see
exactly what reaches "PagerDuty" (routing key per level, our dedup key, payload fields and limits)
and how each of its answers becomes a Temporal retry decision: 400 never retried, 429 and 5xx and
a refused connection retried (after `Retry-After` when given), and paging never breaking the
escalation record or the incident.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import paging
from activities.escalation import EscalationActivities
from activities.paging import PagerDutyPager, dedup_key, pagerduty_severity, retry_after
from db.escalations import EscalationStore
from schemas.incident import Escalation, ResolvePages
from schemas.settings import Settings
from tests.standins import load_contract
from tests.standins.pagerduty_events import ROUTING_KEY, PagerDutyStandin
from tests.standins.server import StandinServer

pytestmark = pytest.mark.postgres

#: One PagerDuty service (routing key) per escalation level, 32 characters each.
KEYS = [ROUTING_KEY, "b" * 32, "c" * 32]
API_URL = "https://run.example.com"


@pytest.fixture
def pager(pd_server: StandinServer) -> PagerDutyPager:
    return PagerDutyPager(
        [SecretStr(k) for k in KEYS],
        events_url=f"{pd_server.url}/v2/enqueue",
        incident_url_base=API_URL,
        timeout_s=5,
    )


def escalation(incident_id: str, level: int, **fields: object) -> Escalation:
    values: dict[str, object] = {
        "incident_id": incident_id,
        "level": level,
        "target": ["primary-oncall", "secondary-oncall", "incident-commander"][level - 1],
        "reason": "step 'Restart the pod' not approved within 900s",
        "step_id": "restart",
        "at": datetime(2026, 11, 20, 9, 28, 5, tzinfo=UTC),
    }
    values.update(fields)
    return Escalation.model_validate(values)


def incident() -> str:
    return f"incident-generic-PayLatency-{uuid.uuid4().hex[:12]}"


async def raised(call: Awaitable[object]) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await call
    return info.value


# -- pure helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("critical", "critical"),
        ("P1", "critical"),
        ("page", "critical"),
        ("error", "error"),
        ("high", "error"),
        ("warning", "warning"),
        (" Warn ", "warning"),
        ("info", "info"),
        ("none", "info"),
        ("something-else", "error"),
        (None, "error"),
    ],
)
def test_severity_mapping(given: str | None, expected: str) -> None:
    assert pagerduty_severity(given) == expected


def test_dedup_key_shape_and_limit() -> None:
    assert (
        dedup_key("inc_01JD2Q8ZKX5V3T1R9P7N5M3K1H", 2)
        == load_contract("pagerduty/events-v2/enqueue.trigger.json")["dedup_key"]
    )
    long_id = "incident-alertmanager-" + "X" * 400
    key = dedup_key(long_id, 3)
    assert len(key) <= 255
    assert key == dedup_key(long_id, 3)
    assert key.startswith("dd0c-run/")
    assert key.endswith("/escalation-3")
    assert key != dedup_key(long_id + "Y", 3)


def test_retry_after_parsing() -> None:
    now = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
    assert retry_after("7") == timedelta(seconds=7)
    assert retry_after("Fri, 20 Nov 2026 09:00:30 GMT", now) == timedelta(seconds=30)
    assert retry_after("Fri, 20 Nov 2026 08:00:00 GMT", now) == timedelta(0)
    assert retry_after("86400") == paging.MAX_RETRY_AFTER
    assert retry_after("soon") is None
    assert retry_after(None) is None


def test_pager_from_settings() -> None:
    assert PagerDutyPager.from_settings(Settings()) is None
    built = PagerDutyPager.from_settings(
        Settings(
            pagerduty_routing_keys=[SecretStr(KEYS[0]), SecretStr(KEYS[1])],
            pagerduty_events_url="http://127.0.0.1:1/v2/enqueue",
            api_url="http://ddrun.example:8080/",
        )
    )
    assert built is not None
    assert built.events_url == "http://127.0.0.1:1/v2/enqueue"
    assert built.incident_url("i-1") == "http://ddrun.example:8080/api/incidents/i-1"
    assert [built.key_index(level) for level in (1, 2, 3, 4)] == [0, 1, 1, 1]
    with pytest.raises(ValueError, match="start at 1"):
        built.key_index(0)
    with pytest.raises(ValueError, match="routing key"):
        PagerDutyPager([])


# -- record_escalation pages the level's routing key ------------------------------------------


async def test_each_level_pages_its_own_routing_key_with_our_dedup_key(
    pd: PagerDutyStandin, pager: PagerDutyPager, engine: AsyncEngine
) -> None:
    store = EscalationStore(engine)
    acts = EscalationActivities(store, pager)
    inc = incident()
    env = ActivityEnvironment()
    for level in (1, 2, 3):
        returned = await env.run(acts.record_escalation, escalation(inc, level))
        assert returned.incident_id == inc
        assert returned.level == level
        assert returned.paged is True
        assert returned.page_dedup_key == dedup_key(inc, level)

    assert [e.level for e in await store.for_incident(inc)] == [1, 2, 3]
    assert len(pd.events) == 3
    for level, event in enumerate(pd.events, start=1):
        assert event["routing_key"] == KEYS[level - 1]
        assert event["event_action"] == "trigger"
        assert event["dedup_key"] == f"dd0c-run/{inc}/escalation-{level}"
        payload = event["payload"]
        assert payload["source"] == "dd0c-run"
        assert payload["severity"] in ("critical", "error", "warning", "info")
        assert payload["summary"].startswith(f"[dd0c/run] Escalation L{level} to ")
        assert "not approved within 900s" in payload["summary"]
        assert len(payload["summary"]) <= 1024
        assert payload["timestamp"] == "2026-11-20T09:28:05+00:00"
        details = payload["custom_details"]
        assert details["reason"] == "step 'Restart the pod' not approved within 900s"
        assert details["step"] == "restart"
        assert details["incident"] == f"{API_URL}/api/incidents/{inc}"
        assert details["escalation_level"] == level
        assert event["client_url"] == f"{API_URL}/api/incidents/{inc}"
        assert pd.open_alert(event["dedup_key"], KEYS[level - 1]) is not None
    assert {a.routing_key for a in pd.alerts} == set(KEYS)


async def test_a_retried_escalation_records_once_and_pages_once(
    pd: PagerDutyStandin, pager: PagerDutyPager, engine: AsyncEngine
) -> None:
    store = EscalationStore(engine)
    acts = EscalationActivities(store, pager)
    inc = incident()
    esc = escalation(inc, 1)
    env = ActivityEnvironment()
    await env.run(acts.record_escalation, esc)
    env.info = dataclasses.replace(env.info, attempt=2)
    await env.run(acts.record_escalation, esc)
    assert len(await store.for_incident(inc)) == 1
    key = dedup_key(inc, 1)
    assert [c.outcome for c in pd.calls_for(key)] == ["created", "deduplicated"]
    assert len(pd.alerts_for(key)) == 1
    assert len(pd.incidents) == 1


async def test_without_routing_keys_the_escalation_is_recorded_and_nobody_paged(
    pd: PagerDutyStandin, engine: AsyncEngine
) -> None:
    store = EscalationStore(engine)
    acts = EscalationActivities(store)
    inc = incident()
    esc = escalation(inc, 1)
    assert await ActivityEnvironment().run(acts.record_escalation, esc) == esc
    assert len(await store.for_incident(inc)) == 1
    assert (
        await ActivityEnvironment().run(
            acts.resolve_pages, ResolvePages(incident_id=inc, levels=[1])
        )
        == 0
    )
    assert pd.calls == []


async def test_trigger_maps_severity_and_truncates_the_summary(
    pd: PagerDutyStandin, pager: PagerDutyPager
) -> None:
    inc = incident()
    page = await pager.trigger(
        inc, 2, summary="x" * 3000, severity="P1", component="payment-svc", group="payments"
    )
    assert page == paging.Page(dedup_key=dedup_key(inc, 2), level=2, routing_key_index=1)
    (event,) = pd.events
    assert event["payload"]["severity"] == "critical"
    assert len(event["payload"]["summary"]) == 1024
    assert event["payload"]["component"] == "payment-svc"
    assert event["payload"]["group"] == "payments"
    await pager.trigger(incident(), 1, summary="s", severity="warning")
    await pager.trigger(incident(), 1, summary="s", severity=None)
    assert [e["payload"]["severity"] for e in pd.events] == ["critical", "warning", "error"]


async def test_incident_severity_service_and_title_reach_the_page(
    pd: PagerDutyStandin, pager: PagerDutyPager, engine: AsyncEngine
) -> None:
    acts = EscalationActivities(EscalationStore(engine), pager)
    inc = incident()
    esc = escalation(inc, 1).model_copy(
        update={"severity": "warning", "service": "checkout", "title": "Disk almost full"}
    )
    await ActivityEnvironment().run(acts.record_escalation, esc)
    (event,) = pd.events
    payload = event["payload"]
    assert payload["severity"] == "warning"
    assert payload["component"] == "checkout"
    assert payload["summary"] == (
        "[dd0c/run] Escalation L1 to primary-oncall: [warning] checkout: Disk almost full: "
        "step 'Restart the pod' not approved within 900s"
    )
    assert payload["custom_details"]["service"] == "checkout"
    assert payload["custom_details"]["severity"] == "warning"


# -- PagerDuty's answers become retry decisions -----------------------------------------------


async def test_400_is_not_retried_and_carries_pagerduty_errors(
    pd: PagerDutyStandin, pd_server: StandinServer
) -> None:
    bad = PagerDutyPager(["too-short-key"], events_url=f"{pd_server.url}/v2/enqueue")
    err = await raised(bad.trigger(incident(), 1, summary="s", severity="critical"))
    assert err.non_retryable
    assert err.type == paging.INVALID_EVENT
    assert "should be 32 characters" in str(err)
    assert err.details[0]["status"] == 400
    assert err.details[0]["errors"] == [
        "Length of 'routing_key' is incorrect (should be 32 characters)"
    ]
    assert pd.alerts == []


async def test_a_rejected_page_keeps_the_record_and_does_not_fail_the_activity(
    pd: PagerDutyStandin, pd_server: StandinServer, engine: AsyncEngine
) -> None:
    bad = PagerDutyPager(["too-short-key"], events_url=f"{pd_server.url}/v2/enqueue")
    store = EscalationStore(engine)
    inc = incident()
    esc = escalation(inc, 1)
    returned = await ActivityEnvironment().run(
        EscalationActivities(store, bad).record_escalation, esc
    )
    assert returned.level == 1
    assert returned.paged is False
    assert returned.page_dedup_key is None
    assert len(await store.for_incident(inc)) == 1
    assert [c.status for c in pd.calls] == [400]


@pytest.mark.parametrize("header", [7, None])
async def test_429_is_retried_after_retry_after(
    pd: PagerDutyStandin, pager: PagerDutyPager, header: int | None
) -> None:
    pd.inject("ratelimited", retry_after=header)
    inc = incident()
    err = await raised(pager.trigger(inc, 1, summary="s", severity="critical"))
    assert not err.non_retryable
    assert err.type == paging.THROTTLED
    assert err.next_retry_delay == (timedelta(seconds=header) if header else None)
    assert pd.calls[-1].status == 429
    assert pd.alerts == []
    await pager.trigger(inc, 1, summary="s", severity="critical")  # the retry
    assert len(pd.alerts_for(dedup_key(inc, 1))) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_retried(pd: PagerDutyStandin, pager: PagerDutyPager, status: int) -> None:
    pd.inject("http_status", status=status)
    inc = incident()
    err = await raised(pager.trigger(inc, 1, summary="s", severity="critical"))
    assert not err.non_retryable
    assert err.type == paging.UNAVAILABLE
    assert str(status) in str(err)
    assert err.next_retry_delay is None
    assert pd.alerts == []
    await pager.trigger(inc, 1, summary="s", severity="critical")  # the retry
    assert len(pd.alerts_for(dedup_key(inc, 1))) == 1


async def test_5xx_retry_after_sets_the_next_retry_delay() -> None:
    """The stand-in sends Retry-After only with 429, so a 503 with one is served here."""

    async def overloaded(request: Request) -> Response:
        return PlainTextResponse("overloaded", status_code=503, headers={"Retry-After": "3"})

    app = Starlette(routes=[Route("/v2/enqueue", overloaded, methods=["POST"])])
    async with StandinServer(app) as server:
        pager = PagerDutyPager(KEYS, events_url=f"{server.url}/v2/enqueue", timeout_s=5)
        err = await raised(pager.trigger(incident(), 1, summary="s", severity="critical"))
    assert (err.type, err.non_retryable) == (paging.UNAVAILABLE, False)
    assert err.next_retry_delay == timedelta(seconds=3)
    assert err.details == ("overloaded",)


async def test_pagerduty_down_and_unreachable_are_retried() -> None:
    standin = PagerDutyStandin()
    server = StandinServer(standin)
    await server.start()
    pager = PagerDutyPager(KEYS, events_url=f"{server.url}/v2/enqueue", timeout_s=2)
    try:
        standin.down()
        err = await raised(pager.trigger(incident(), 1, summary="s", severity="critical"))
        assert (err.type, err.non_retryable) == (paging.UNAVAILABLE, False)
        standin.up()
    finally:
        await server.stop()
    err = await raised(pager.trigger(incident(), 1, summary="s", severity="critical"))
    assert (err.type, err.non_retryable) == (paging.UNREACHABLE, False)
    assert standin.alerts == []


async def test_record_escalation_raises_retryable_then_gives_up_paging_after_max_attempts(
    pd: PagerDutyStandin, pager: PagerDutyPager, engine: AsyncEngine
) -> None:
    store = EscalationStore(engine)
    acts = EscalationActivities(store, pager, max_page_attempts=3)
    inc = incident()
    esc = escalation(inc, 1)
    pd.inject("http_status", status=503, times=None)
    env = ActivityEnvironment()
    for attempt in (1, 2):
        env.info = dataclasses.replace(env.info, attempt=attempt)
        err = await raised(env.run(acts.record_escalation, esc))
        assert (err.type, err.non_retryable) == (paging.UNAVAILABLE, False)
    env.info = dataclasses.replace(env.info, attempt=3)
    returned = await env.run(acts.record_escalation, esc)
    assert returned.level == 1
    assert returned.paged is False
    assert returned.page_dedup_key is None
    assert len(await store.for_incident(inc)) == 1
    assert [c.status for c in pd.calls] == [503, 503, 503]


# -- resolve ------------------------------------------------------------------------------------


async def test_resolve_pages_closes_every_paged_level_with_its_own_routing_key(
    pd: PagerDutyStandin, pager: PagerDutyPager, engine: AsyncEngine
) -> None:
    acts = EscalationActivities(EscalationStore(engine), pager)
    inc = incident()
    env = ActivityEnvironment()
    for level in (1, 2):
        await env.run(acts.record_escalation, escalation(inc, level))
    other = incident()
    await env.run(acts.record_escalation, escalation(other, 1))

    resolved = await env.run(
        acts.resolve_pages, ResolvePages(incident_id=inc, levels=[2, 1, 1], summary="resolved")
    )
    assert resolved == 2
    resolves = [e for e in pd.events if e["event_action"] == "resolve"]
    assert resolves == [
        {"routing_key": KEYS[0], "event_action": "resolve", "dedup_key": dedup_key(inc, 1)},
        {"routing_key": KEYS[1], "event_action": "resolve", "dedup_key": dedup_key(inc, 2)},
    ]
    assert set(resolves[0]) == set(load_contract("pagerduty/events-v2/enqueue.resolve.json"))
    outcomes = [c.outcome for c in pd.calls if isinstance(c.body, dict)]
    assert outcomes[-2:] == ["resolved", "resolved"]
    assert pd.open_alert(dedup_key(inc, 1)) is None
    assert pd.open_alert(dedup_key(inc, 2)) is None
    assert pd.open_alert(dedup_key(other, 1)) is not None

    # Resolving again is harmless (PagerDuty accepts and drops it); a retry of the activity.
    assert await env.run(acts.resolve_pages, ResolvePages(incident_id=inc, levels=[1])) == 1
    assert pd.calls[-1].outcome == "dropped"


async def test_resolve_pages_retries_when_throttled(
    pd: PagerDutyStandin, pager: PagerDutyPager, engine: AsyncEngine
) -> None:
    acts = EscalationActivities(EscalationStore(engine), pager)
    inc = incident()
    env = ActivityEnvironment()
    await env.run(acts.record_escalation, escalation(inc, 1))
    pd.inject("ratelimited", retry_after=2)
    err = await raised(env.run(acts.resolve_pages, ResolvePages(incident_id=inc, levels=[1])))
    assert (err.type, err.next_retry_delay) == (paging.THROTTLED, timedelta(seconds=2))
    assert pd.open_alert(dedup_key(inc, 1)) is not None
    assert await env.run(acts.resolve_pages, ResolvePages(incident_id=inc, levels=[1])) == 1
    assert pd.open_alert(dedup_key(inc, 1)) is None
