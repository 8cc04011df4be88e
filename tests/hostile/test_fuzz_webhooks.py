"""Hypothesis mutates the contract samples of every webhook and Slack route; no answer is a 5xx.

Each example changes, removes or adds a few fields of a real sample (any JSON value: big and
negative numbers, floats, odd text with lone surrogates and NULs, nesting, time-like strings),
encodes it one of several ways and sometimes damages the bytes; the request is validly signed,
so it reaches the parsers, and is sent to the real app on the real Temporal test server.

Hypothesis drives examples from a worker thread (it is synchronous) while the app runs on the
test's event loop, so a failing example is shrunk and reported like any other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from tests.hostile.crafted import (
    BAD_DATES,
    FAILED,
    FORM,
    OVERSIZED,
    WEBHOOKS,
    Json,
    Sender,
    block_actions,
    containers,
    fresh,
    hostile_app,
    leaves,
    replaced,
    samples,
    slash_fields,
    view_submission,
)
from tests.standins.slack_api import SlackStandin

pytestmark = [
    pytest.mark.temporal,
    # The app's event loop (Temporal client, database pool) may touch `random` while a draw is
    # under way in Hypothesis's thread; that is not the strategy using it.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]
log = logging.getLogger(__name__)

_FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", "\x00", "\ud800", "\udfff", "a\ud83d", "\u202e", "\ufeff", OVERSIZED, *BAD_DATES]
    ),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
)
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**45), max_value=10**45),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=12,
)


def _mutate(data: st.DataObject, doc: Json) -> Json:
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = [p for p, _ in leaves(doc)] + [p for p, _ in containers(doc)]
        path = data.draw(st.sampled_from(paths), label="path")
        op = data.draw(st.sampled_from(["replace", "delete", "add"]), label="op")
        if op == "replace" or not path:
            doc = replaced(doc, path, data.draw(_JSON, label="value"))
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if op == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(_TEXT, label="key")] = data.draw(_JSON, label="value")
        else:
            parent.append(data.draw(_JSON, label="value"))
    return doc


def _encode(data: st.DataObject, doc: Json) -> bytes:
    ascii_only = data.draw(st.booleans(), label="ensure_ascii")
    raw = json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    damage = data.draw(
        st.sampled_from(["none", "none", "none", "truncate", "insert"]), label="damage"
    )
    if damage == "truncate" and raw:
        raw = raw[: data.draw(st.integers(0, len(raw) - 1), label="cut")]
    elif damage == "insert":
        at = data.draw(st.integers(0, len(raw)), label="at")
        raw = raw[:at] + data.draw(st.binary(min_size=1, max_size=8), label="bytes") + raw[at:]
    return raw


def _acceptable(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert isinstance(response.json().get("error"), str), response.text[:500]
    assert FAILED not in response.text, response.text[:500]


def _runner(sender: Sender) -> Callable[[str, bytes, str], httpx.Response]:
    """Send from Hypothesis's thread on the test's event loop, and wait for the answer."""
    loop = asyncio.get_running_loop()

    def send(path: str, raw: bytes, content_type: str) -> httpx.Response:
        future = asyncio.run_coroutine_threadsafe(
            sender.send(path, raw, "fuzzed", content_type), loop
        )
        return future.result(timeout=120)

    return send


async def test_fuzzed_webhook_samples(
    client: Client, engine: AsyncEngine, slack: SlackStandin
) -> None:
    async with hostile_app(client, engine, slack) as sender:
        send = _runner(sender)
        catalogue = samples()

        @_FUZZ
        @given(data=st.data())
        def fuzz(data: st.DataObject) -> None:
            route = data.draw(st.sampled_from(WEBHOOKS), label="route")
            _, sample = data.draw(st.sampled_from(catalogue[route]), label="sample")
            raw = _encode(data, _mutate(data, fresh(route, sample)))
            _acceptable(send(f"/webhooks/{route}", raw, "application/json"))

        await asyncio.to_thread(fuzz)
        log.warning("%d fuzzed requests, statuses %s", len(sender.answers), sender.summary())
        assert len(sender.answers) >= 200
        assert sender.problems() == []


async def test_fuzzed_slack_requests(
    client: Client, engine: AsyncEngine, slack: SlackStandin
) -> None:
    async with hostile_app(client, engine, slack, bot=True) as sender:
        send = _runner(sender)
        interactions: list[Any] = [block_actions(slack), view_submission(slack)]
        field_names = list(slash_fields(slack, "help"))

        @_FUZZ
        @given(data=st.data())
        def fuzz(data: st.DataObject) -> None:
            if data.draw(st.booleans(), label="interaction"):
                sample = data.draw(st.sampled_from(interactions), label="sample")
                payload = _encode(data, _mutate(data, json.loads(json.dumps(sample))))
                raw = b"payload=" + urllib.parse.quote_from_bytes(payload, safe="").encode()
                _acceptable(send("/slack/interactions", raw, FORM))
                return
            # No "global": a global kill switch engaged here would stop other tests' automation.
            words = data.draw(
                st.lists(
                    st.one_of(
                        st.sampled_from(
                            [
                                "killswitch",
                                "engage",
                                "lift",
                                "service",
                                "runbook",
                                "status",
                                "approve",
                                "pause",
                                "abort",
                                "escalate",
                                "search",
                                "incident-generic-x",
                                "help",
                            ]
                        ),
                        _TEXT,
                    ),
                    max_size=6,
                ),
                label="words",
            )
            fields = slash_fields(slack, " ".join(words))
            for name in data.draw(st.lists(st.sampled_from(field_names), max_size=3), label="f"):
                fields[name] = data.draw(_TEXT, label="value")
            body = "&".join(
                f"{k}={urllib.parse.quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
                for k, v in fields.items()
            )
            _acceptable(send("/slack/commands", body.encode(), FORM))

        await asyncio.to_thread(fuzz)
        log.warning("%d fuzzed requests, statuses %s", len(sender.answers), sender.summary())
        assert len(sender.answers) >= 200
        assert sender.problems() == []
