"""The `push_statuspage` activity against the Statuspage stand-in on a real socket: the
answers a retry can change (429 with Retry-After, 5xx, unreachable) are retryable errors, the
ones it cannot (unknown page, unknown component) are non-retryable with what to fix, and the
key is never in an error message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from activities.statuspage import REJECTED, UNAVAILABLE, StatuspageActivities
from schemas.statuspage import ComponentStatus, StatuspagePush, StatuspageStatus
from tests.standins.statuspage import API_KEY, PAGE_ID, StatuspageStandin


def _push(**changes: object) -> StatuspagePush:
    values: dict[str, object] = {
        "incident_id": "incident-x",
        "number": 1,
        "page_id": PAGE_ID,
        "name": "Checkout failing",
        "status": StatuspageStatus.INVESTIGATING,
        "body": "Some payments fail",
        "component_ids": ["8kbf7d35c070"],
        "component_status": ComponentStatus.MAJOR_OUTAGE,
    }
    values.update(changes)
    return StatuspagePush.model_validate(values)


async def test_create_then_update_answers_the_incident_id_and_shortlink(
    statuspage: StatuspageStandin,
) -> None:
    assert statuspage.url is not None
    push = StatuspageActivities(statuspage.url, API_KEY).push_statuspage
    created = await push(_push())
    assert created.created
    assert created.shortlink is not None
    assert created.shortlink.startswith("https://stspg.io/")
    updated = await push(
        _push(
            number=2,
            statuspage_incident_id=created.statuspage_incident_id,
            status=StatuspageStatus.RESOLVED,
            component_status=ComponentStatus.OPERATIONAL,
        )
    )
    assert not updated.created
    assert updated.statuspage_incident_id == created.statuspage_incident_id
    assert updated.status == "resolved"
    assert statuspage.component_status("8kbf7d35c070") == "operational"


async def test_rate_limits_and_outages_are_retryable(statuspage: StatuspageStandin) -> None:
    assert statuspage.url is not None
    push = StatuspageActivities(statuspage.url, API_KEY).push_statuspage
    statuspage.inject("POST", "ratelimited")
    with pytest.raises(ApplicationError) as limited:
        await push(_push())
    assert limited.value.type == UNAVAILABLE
    assert not limited.value.non_retryable
    assert limited.value.next_retry_delay == timedelta(seconds=1)
    statuspage.inject("POST", "http_status", status=502)
    with pytest.raises(ApplicationError) as down:
        await push(_push())
    assert down.value.type == UNAVAILABLE
    assert not down.value.non_retryable
    assert statuspage.incidents == {}
    closed = StatuspageActivities("http://127.0.0.1:9", API_KEY, timeout_s=2).push_statuspage
    with pytest.raises(ApplicationError) as unreachable:
        await closed(_push())
    assert not unreachable.value.non_retryable


@pytest.mark.parametrize(
    ("changes", "key", "said"),
    [
        ({}, "sp-wrong-key", "HTTP 401: the API key (DDRUN_STATUSPAGE_API_KEY) was refused"),
        ({"page_id": "nosuchpage"}, API_KEY, "HTTP 404: no such page or incident"),
        ({"component_ids": ["nope"]}, API_KEY, "HTTP 422: the page refused the incident"),
        ({"statuspage_incident_id": "gone"}, API_KEY, "HTTP 404"),
    ],
)
async def test_refusals_are_final_and_say_what_to_fix(
    statuspage: StatuspageStandin, changes: dict[str, object], key: str, said: str
) -> None:
    assert statuspage.url is not None
    push = StatuspageActivities(statuspage.url, key).push_statuspage
    with pytest.raises(ApplicationError) as refused:
        await push(_push(**changes))
    assert refused.value.type == REJECTED
    assert refused.value.non_retryable
    assert said in str(refused.value)
    assert key not in str(refused.value)
