"""Tests of the offline stand-ins themselves (tests/standins), against the real client libraries.

Why: every Slack/PagerDuty test in the suite trusts these stand-ins, so they must answer like the
vendors do for the clients we ship (slack_sdk's AsyncWebClient and WebClient, httpx), with the
bodies in shared/contracts, and the signing helpers must reproduce the contract signature vectors
byte for byte.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from tests.standins import CONTRACTS, contract_path, load_contract
from tests.standins.pagerduty_events import PD_ACCEPT, REST_TOKEN, ROUTING_KEY, PagerDutyStandin
from tests.standins.server import StandinServer
from tests.standins.signing import (
    FixedClock,
    compact_json,
    interactivity_body,
    pagerduty_signature,
    signed_grafana_webhook,
    signed_interaction,
    signed_pagerduty_webhook,
    signed_slash_command,
    slack_request_is_valid,
    slash_command_body,
)
from tests.standins.slack_api import (
    ALERTS_CHANNEL_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    SlackMessage,
    SlackStandin,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
INC = "inc-4217-checkout-crashloop"


def web(name: str) -> Any:
    return load_contract(f"slack/web-api/{name}")


def error_fixture(name: str) -> Any:
    return load_contract(f"slack/web-api/errors/{name}")


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def client(slack_server: StandinServer) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=f"{slack_server.url}/api/", timeout=5)


@pytest.fixture(scope="module")
def threaded_slack() -> Iterator[tuple[SlackStandin, StandinServer]]:
    standin = SlackStandin()
    with StandinServer(standin) as server:
        yield standin, server


@pytest_asyncio.fixture(loop_scope="session")
async def http(pd_server: StandinServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=pd_server.url, timeout=5) as c:
        yield c


async def open_incident_channel(client: AsyncWebClient) -> str:
    created = await client.conversations_create(name=INC, is_private=False)
    return str(created["channel"]["id"])


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


# -- shared folder -----------------------------------------------------------------------------


def test_contracts_folder_is_found_and_missing_files_fail_loudly() -> None:
    assert CONTRACTS.is_dir()
    assert contract_path("README.md").is_file()
    with pytest.raises(FileNotFoundError, match="contract fixture missing"):
        contract_path("slack/no-such-file.json")


# -- Slack: the product's call chain with the async client -------------------------------------


async def test_incident_chain_with_async_client(
    slack: SlackStandin, client: AsyncWebClient
) -> None:
    me = await client.auth_test()
    assert me.data == web("auth.test.ok.json") | {"user": "dd0c_run"}

    created = await client.conversations_create(**web("conversations.create.request.json"))
    channel = created["channel"]
    assert set(web("conversations.create.ok.json")["channel"]) <= set(channel)
    assert channel["name"] == INC
    assert channel["is_member"] is True
    assert slack.calls_to("conversations.create")[0].arg_sources == ["query"]  # params= on aiohttp

    topic = web("conversations.setTopic.request.json")["topic"]
    set_topic = await client.conversations_setTopic(channel=channel["id"], topic=topic)
    assert set_topic["channel"]["topic"]["value"] == topic
    assert set_topic["channel"]["topic"]["creator"] == BOT_USER_ID

    invited = await client.conversations_invite(
        channel=channel["id"], users=["U07PRIYA01", "U07MARCUS02"]
    )
    assert set(web("conversations.invite.ok.json")) == set(invited.data)
    assert slack.channels[channel["id"]].members == {BOT_USER_ID, "U07PRIYA01", "U07MARCUS02"}

    request = web("chat.postMessage.request.json") | {"channel": channel["id"]}
    posted = await client.chat_postMessage(**request)
    expected = web("chat.postMessage.ok.json")
    assert set(expected) == set(posted.data)
    assert set(expected["message"]) <= set(posted["message"])
    assert posted["message"]["blocks"] == request["blocks"]
    assert slack.calls_to("chat.postMessage")[0].arg_sources == ["json"]
    ts = str(posted["ts"])

    assert (await client.pins_add(channel=channel["id"], timestamp=ts)).data == web(
        "pins.add.ok.json"
    )
    assert slack.channels[channel["id"]].pins == [ts]

    update = web("chat.update.request.json") | {"channel": channel["id"], "ts": ts}
    updated = await client.chat_update(**update)
    assert set(web("chat.update.ok.json")) == set(updated.data)
    assert "ts" not in updated["message"]  # as in the real body
    assert updated["message"]["edited"]["ts"] > ts
    last = slack.last_message(channel["id"])
    assert last is not None
    assert last.ts == ts
    assert last.text == update["text"]
    assert last.blocks == update["blocks"]

    trigger = slack.mint_trigger_id()
    view = web("views.open.request.json")["view"]
    opened = await client.views_open(trigger_id=trigger, view=view)
    assert set(web("views.open.ok.json")["view"]) == set(opened["view"])
    assert opened["view"]["private_metadata"] == view["private_metadata"]
    view_id = str(opened["view"]["id"])
    changed = view | {"title": {"type": "plain_text", "text": "Approved"}}
    re_rendered = await client.views_update(
        view_id=view_id, view=changed, hash=opened["view"]["hash"]
    )
    assert re_rendered["view"]["id"] == view_id
    assert re_rendered["view"]["title"]["text"] == "Approved"

    user = await client.users_info(user="U07MARCUS02")
    assert user["user"]["real_name"] == "Marcus Chen"
    info = await client.conversations_info(channel=channel["id"], include_num_members=True)
    assert info["channel"]["num_members"] == 3
    listed = await client.conversations_list()
    assert {c["name"] for c in listed["channels"]} == {"alerts-prod", INC}
    eph = await client.chat_postEphemeral(channel=channel["id"], user="U07PRIYA01", text="psst")
    assert slack.ephemerals[-1].ts == eph["message_ts"]

    calls = [c.method for c in slack.calls]
    assert calls[:5] == [
        "auth.test",
        "conversations.create",
        "conversations.setTopic",
        "conversations.invite",
        "chat.postMessage",
    ]
    assert all(c.headers["authorization"] == f"Bearer {BOT_TOKEN}" for c in slack.calls)


async def test_ts_values_are_strictly_increasing(
    slack: SlackStandin, client: AsyncWebClient
) -> None:
    stamps = [
        str((await client.chat_postMessage(channel=ALERTS_CHANNEL_ID, text=f"m{i}"))["ts"])
        for i in range(5)
    ]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 5
    assert all(len(s.split(".")[1]) == 6 for s in stamps)
    slack.clock.advance(60)
    later = await client.chat_postMessage(channel=ALERTS_CHANNEL_ID, text="later")
    assert later["ts"] == "1795166060.000000"
    assert later["ts"] > stamps[-1]
    assert [m.text for m in slack.messages_in(ALERTS_CHANNEL_ID)] == [
        "m0",
        "m1",
        "m2",
        "m3",
        "m4",
        "later",
    ]


def test_sync_web_client_against_threaded_server(
    threaded_slack: tuple[SlackStandin, StandinServer],
) -> None:
    slack, server = threaded_slack
    slack.reset()
    client = WebClient(token=BOT_TOKEN, base_url=f"{server.url}/api", timeout=5)
    assert client.auth_test()["user_id"] == BOT_USER_ID
    channel = client.conversations_create(name=INC)["channel"]["id"]
    assert slack.calls_to("conversations.create")[0].arg_sources == ["form"]  # urllib: form body
    client.conversations_setTopic(channel=channel, topic="INC-4217")
    client.conversations_invite(channel=channel, users="U07PRIYA01,U07MARCUS02")
    ts = client.chat_postMessage(channel=channel, text="hello", blocks=[{"type": "divider"}])["ts"]
    client.pins_add(channel=channel, timestamp=ts)
    client.chat_update(channel=channel, ts=ts, text="edited")
    view = web("views.open.request.json")["view"]
    assert client.views_open(trigger_id=slack.mint_trigger_id(), view=view)["view"]["id"]
    assert client.users_info(user="U07PRIYA01")["user"]["name"] == "priya.natarajan"
    message = slack.last_message(channel)
    assert message is not None
    assert message.text == "edited"
    assert message.blocks is None
    with pytest.raises(SlackApiError) as info:
        client.conversations_create(name=INC)
    assert info.value.response["error"] == "name_taken"


# -- Slack: errors fall out of state -----------------------------------------------------------


async def test_auth_errors(slack: SlackStandin, slack_server: StandinServer) -> None:
    base = f"{slack_server.url}/api/"
    err = await api_error(AsyncWebClient(base_url=base).auth_test())
    assert err.response.data == error_fixture("not_authed.json")
    err = await api_error(AsyncWebClient(token="xoxb-nope", base_url=base).auth_test())
    assert err.response.data == error_fixture("invalid_auth.json")
    slack.add_token("xoxb-narrow", scopes=["chat:write", "commands", "pins:write"])
    narrow = AsyncWebClient(token="xoxb-narrow", base_url=base)
    err = await api_error(narrow.conversations_create(name=INC))
    assert err.response.data == error_fixture("missing_scope.json")
    assert slack.channel_named(INC) is None


async def test_state_errors_match_fixture_bodies(
    slack: SlackStandin, client: AsyncWebClient
) -> None:
    channel = await open_incident_channel(client)
    err = await api_error(client.conversations_create(name=INC))
    assert err.response.data == error_fixture("name_taken.json")
    for bad in ("Inc-4217", "inc 4217", "inc#4217", "inc.4217"):
        err = await api_error(client.conversations_create(name=bad))
        assert err.response.data == error_fixture("invalid_name_specials.json"), bad
    err = await api_error(client.conversations_create(name="x" * 81))
    assert err.response["error"] == "invalid_name_maxlength"
    assert (await client.conversations_create(name="y" * 80))["ok"]
    err = await api_error(client.conversations_create(name="---"))
    assert err.response["error"] == "invalid_name_punctuation"

    await client.conversations_invite(channel=channel, users="U07PRIYA01")
    err = await api_error(client.conversations_invite(channel=channel, users="U07PRIYA01"))
    assert err.response.data == error_fixture("already_in_channel.json")
    err = await api_error(
        client.conversations_invite(channel=channel, users=["U07NOSUCH99", BOT_USER_ID])
    )
    assert err.response.data == error_fixture("conversations.invite.per-user-errors.json")

    err = await api_error(client.chat_postMessage(channel="C0NOSUCH000", text="x"))
    assert err.response.data == error_fixture("channel_not_found.json")
    outside = slack.add_channel("somewhere-else", members=["U07PRIYA01"])
    for call in (
        client.chat_postMessage(channel=outside.id, text="x"),
        client.conversations_setTopic(channel=outside.id, topic="x"),
        client.pins_add(channel=outside.id, timestamp="1795166011.428519"),
    ):
        assert (await api_error(call)).response.data == error_fixture("not_in_channel.json")
    assert (await client.conversations_join(channel=outside.id))["channel"]["is_member"]
    joined_again = await client.conversations_join(channel=outside.id)
    assert joined_again["warning"] == "already_in_channel"

    err = await api_error(client.conversations_setTopic(channel=channel, topic="t" * 251))
    assert err.response["error"] == "too_long"
    assert (await client.conversations_setTopic(channel=channel, topic="t" * 250))["ok"]
    with pytest.warns(UserWarning, match="`text` argument is missing"):
        err = await api_error(client.chat_postMessage(channel=channel))
    assert err.response["error"] == "no_text"

    ts = str((await client.chat_postMessage(channel=channel, text="pin me"))["ts"])
    await client.pins_add(channel=channel, timestamp=ts)
    err = await api_error(client.pins_add(channel=channel, timestamp=ts))
    assert err.response.data == error_fixture("already_pinned.json")
    err = await api_error(client.pins_add(channel=channel, timestamp="1700000000.000001"))
    assert err.response.data == error_fixture("message_not_found.json")
    err = await api_error(client.chat_update(channel=channel, ts="1700000000.000001", text="x"))
    assert err.response.data == error_fixture("message_not_found.json")
    slack.add_token("xoxb-other-app", user_id="U07PRIYA01")
    other = AsyncWebClient(token="xoxb-other-app", base_url=client.base_url)
    err = await api_error(other.chat_update(channel=channel, ts=ts, text="hijack"))
    assert err.response.data == error_fixture("cant_update_message.json")

    slack.channels[channel].archived = True
    err = await api_error(client.chat_postMessage(channel=channel, text="x"))
    assert err.response["error"] == "is_archived"
    assert err.response.status_code == 200

    unknown = await api_error(client.api_call("chat.postMessag", json={"text": "typo"}))
    assert unknown.response["error"] == "unknown_method"


async def test_chat_update_block_quirks(slack: SlackStandin, client: AsyncWebClient) -> None:
    blocks = [{"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "hi"}}]
    ts = str(
        (await client.chat_postMessage(channel=ALERTS_CHANNEL_ID, text="t", blocks=blocks))["ts"]
    )
    attachments = [{"text": "a", "fallback": "a"}]
    await client.chat_update(channel=ALERTS_CHANNEL_ID, ts=ts, attachments=attachments)

    def stored() -> SlackMessage:
        return slack.messages[(ALERTS_CHANNEL_ID, ts)]

    assert stored().blocks == blocks
    assert stored().text == "t"
    await client.chat_update(channel=ALERTS_CHANNEL_ID, ts=ts, text="only text")
    assert stored().blocks is None
    assert stored().text == "only text"
    await client.chat_update(channel=ALERTS_CHANNEL_ID, ts=ts, text="x", blocks=blocks)
    with pytest.warns(UserWarning, match="`text` argument is missing"):
        await client.chat_update(channel=ALERTS_CHANNEL_ID, ts=ts, blocks=[])
    assert stored().blocks is None
    assert stored().text == "x"
    assert [c.status for c in slack.calls_to("chat.update")] == [200] * 4


async def test_blocks_without_text_warn(slack: SlackStandin, client: AsyncWebClient) -> None:
    fixture = error_fixture("warning_missing_text.json")
    blocks = fixture["message"]["blocks"]
    # slack_sdk warns too; Slack answers ok with a warning
    with pytest.warns(UserWarning, match="`text` argument is missing"):
        posted = await client.chat_postMessage(channel=ALERTS_CHANNEL_ID, blocks=blocks)
    assert set(posted.data) == set(fixture) - {"_comment"}
    assert posted["warning"] == fixture["warning"]
    assert posted["response_metadata"] == fixture["response_metadata"]


async def test_trigger_ids_are_single_use_and_expire(
    slack: SlackStandin, client: AsyncWebClient
) -> None:
    view = web("views.open.request.json")["view"]
    trigger = slack.mint_trigger_id()
    await client.views_open(trigger_id=trigger, view=view)
    err = await api_error(client.views_open(trigger_id=trigger, view=view))
    assert err.response["error"] == "exchanged_trigger_id"

    late = slack.mint_trigger_id()
    slack.clock.advance(3.1)
    err = await api_error(client.views_open(trigger_id=late, view=view))
    assert err.response.data == error_fixture("expired_trigger_id.json")

    err = await api_error(client.views_open(trigger_id="1.2.3", view=view))
    assert err.response["error"] == "invalid_trigger_id"

    fresh = slack.mint_trigger_id()
    broken = view | {"title": {"type": "plain_text", "text": ""}}
    err = await api_error(client.views_open(trigger_id=fresh, view=broken))
    assert err.response.data == error_fixture("views.open.invalid_arguments.json")
    assert (await client.views_open(trigger_id=fresh, view=view))["ok"]  # not consumed by a 400

    fixture_trigger = load_contract("slack/interactivity/block_actions.json")["trigger_id"]
    slack.register_trigger_id(fixture_trigger)
    assert (await client.views_open(trigger_id=fixture_trigger, view=view))["ok"]


# -- Slack: faults -----------------------------------------------------------------------------


async def test_ratelimited_raises_then_retry_handler_waits_and_succeeds(
    slack: SlackStandin, client: AsyncWebClient, slack_server: StandinServer
) -> None:
    slack.inject("chat.postMessage", "ratelimited", retry_after=1)
    err = await api_error(client.chat_postMessage(channel=ALERTS_CHANNEL_ID, text="x"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "1"
    assert err.response["error"] == "ratelimited"
    assert slack.messages_in(ALERTS_CHANNEL_ID) == []

    slack.inject("chat.postMessage", "ratelimited", retry_after=1)
    patient = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=f"{slack_server.url}/api/",
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    started = time.monotonic()
    posted = await patient.chat_postMessage(channel=ALERTS_CHANNEL_ID, text="y")
    assert time.monotonic() - started >= 1.0
    assert posted["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 429, 200]
    assert [m.text for m in slack.messages_in(ALERTS_CHANNEL_ID)] == ["y"]


async def test_server_errors_and_retry_handler(
    slack: SlackStandin, client: AsyncWebClient, slack_server: StandinServer
) -> None:
    slack.inject("conversations.create", "http_status", status=503)
    err = await api_error(client.conversations_create(name=INC))
    assert err.response.status_code == 503
    assert "<html>" in str(slack.calls_to("conversations.create")[0].response)

    slack.inject("*", "http_status", status=500)
    sturdy = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=f"{slack_server.url}/api/",
        retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=2)],
    )
    assert (await sturdy.conversations_create(name=INC))["ok"]
    assert [c.status for c in slack.calls_to("conversations.create")] == [503, 500, 200]

    slack.inject("*", "error", error="fatal_error", times=2)
    assert (await api_error(client.auth_test())).response["error"] == "fatal_error"
    assert (await api_error(client.users_info(user="U07PRIYA01"))).response["error"] == (
        "fatal_error"
    )
    assert (await client.auth_test())["ok"]


async def test_timeout_fault_withholds_answer_but_applies_call(
    slack: SlackStandin, slack_server: StandinServer
) -> None:
    impatient = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=f"{slack_server.url}/api/",
        timeout=0.3,  # type: ignore[arg-type]  # annotated int; aiohttp takes seconds as float
    )
    slack.inject("chat.postMessage", "timeout", delay=2.0)
    with pytest.raises(asyncio.TimeoutError):
        await impatient.chat_postMessage(channel=ALERTS_CHANNEL_ID, text="did it post?")
    # the request reached "Slack": a blind retry would post twice
    assert [m.text for m in slack.messages_in(ALERTS_CHANNEL_ID)] == ["did it post?"]
    slack.inject("chat.postMessage", "timeout", delay=2.0, process=False)
    with pytest.raises(asyncio.TimeoutError):
        await impatient.chat_postMessage(channel=ALERTS_CHANNEL_ID, text="lost")
    assert len(slack.messages_in(ALERTS_CHANNEL_ID)) == 1


async def test_opt_in_per_channel_post_limit() -> None:
    standin = SlackStandin(post_interval=0.5)
    async with StandinServer(standin) as server:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=f"{server.url}/api/")
        await client.chat_postMessage(channel=ALERTS_CHANNEL_ID, text="one")
        err = await api_error(client.chat_postMessage(channel=ALERTS_CHANNEL_ID, text="two"))
        assert err.response.status_code == 429
        assert err.response.headers["Retry-After"] == "1"
        await asyncio.sleep(0.5)
        assert (await client.chat_postMessage(channel=ALERTS_CHANNEL_ID, text="three"))["ok"]
    assert [m.text for m in standin.messages_in(ALERTS_CHANNEL_ID)] == ["one", "three"]


async def test_down_and_up(slack: SlackStandin, client: AsyncWebClient) -> None:
    slack.down()
    err = await api_error(client.auth_test())
    assert err.response.status_code == 503
    slack.up()
    assert (await client.auth_test())["ok"]


async def test_stopped_server_refuses_connections_then_resumes_on_same_port() -> None:
    standin = SlackStandin()
    server = StandinServer(standin)
    url = await server.start()
    async with httpx.AsyncClient() as http:
        assert (await http.post(f"{url}/api/auth.test")).json()["error"] == "not_authed"
        await server.stop()
        with pytest.raises(httpx.ConnectError):
            await http.post(f"{url}/api/auth.test")
        assert await server.start() == url
        assert (await http.post(f"{url}/api/auth.test")).status_code == 200
    await server.stop()


def test_threaded_server_pause_and_resume(
    threaded_slack: tuple[SlackStandin, StandinServer],
) -> None:
    slack, server = threaded_slack
    slack.reset()
    client = WebClient(token=BOT_TOKEN, base_url=f"{server.url}/api/", timeout=2)
    server.pause()
    try:
        with pytest.raises(OSError, match="refused"):
            client.auth_test()
    finally:
        server.resume()
    assert client.auth_test()["ok"]


# -- Slack: response_url and interaction payloads ---------------------------------------------


async def test_response_url_posts_are_recorded_and_applied(
    slack: SlackStandin, client: AsyncWebClient
) -> None:
    channel = await open_incident_channel(client)
    ts = str((await client.chat_postMessage(channel=channel, text="approve?"))["ts"])
    payload = slack.prepare_interaction(
        load_contract("slack/interactivity/block_actions.json"), channel=channel, message_ts=ts
    )
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    assert payload["response_url"].startswith(f"{slack.url}/response_url/")
    view = web("views.open.request.json")["view"]
    assert (await client.views_open(trigger_id=payload["trigger_id"], view=view))["ok"]

    async with httpx.AsyncClient() as http:
        reply = await http.post(
            payload["response_url"], json={"replace_original": True, "text": "approved"}
        )
        assert reply.json() == {"ok": True}
        message = slack.last_message(channel)
        assert message is not None
        assert message.text == "approved"
        for _ in range(4):
            await http.post(payload["response_url"], json={"text": "fyi"})
        used = await http.post(payload["response_url"], json={"text": "sixth"})
        assert used.status_code == 404
        assert used.json()["error"] == "used_url"
        unknown = await http.post(f"{slack.url}/response_url/nope", json={"text": "x"})
        assert unknown.status_code == 404
    assert len(slack.response_url_posts(payload["response_url"])) == 5
    assert [e.text for e in slack.ephemerals] == ["fyi"] * 4

    fields = slack.prepare_slash_command(
        load_contract("slack/slash-commands/incident.declare.json")
    )
    assert fields["response_url"].startswith(slack.url or "?")
    assert fields["trigger_id"] in slack.triggers


# -- signing -----------------------------------------------------------------------------------


def test_signed_block_actions_verify_and_fail_when_tampered_or_stale() -> None:
    payload = load_contract("slack/interactivity/block_actions.json")
    now = 1795166458
    req = signed_interaction(payload, SECRET, timestamp=now)
    assert req.body.startswith("payload=%7B%22type%22%3A%22block_actions%22")
    assert json.loads(httpx.QueryParams(req.body)["payload"]) == payload
    assert slack_request_is_valid(SECRET, req.body, req.headers, now=now)
    assert slack_request_is_valid(SECRET, req.raw, req.headers, now=now + 300)

    tampered = req.body.replace("U07MARCUS02", "U07MARCUS03", 1)
    assert len(tampered) == len(req.body)
    assert not slack_request_is_valid(SECRET, tampered, req.headers, now=now)
    assert not slack_request_is_valid(SECRET, req.body, req.headers, now=now + 301)
    assert not slack_request_is_valid(SECRET, req.body, req.headers, now=now - 301)
    assert not slack_request_is_valid("another-secret", req.body, req.headers, now=now)


def test_slack_signature_vectors_reproduce() -> None:
    vectors = load_contract("slack/signature-vectors.json")
    secret, now = vectors["signing_secret"], vectors["now_for_test"]
    cases = {c["name"]: c for c in vectors["cases"]}
    fields = load_contract("slack/slash-commands/incident.declare.json")
    bodies = {
        "block_actions": interactivity_body(
            load_contract("slack/interactivity/block_actions.json")
        ),
        "view_submission": interactivity_body(
            load_contract("slack/interactivity/view_submission.json")
        ),
        "slash_command": slash_command_body(fields),
    }
    for name, body in bodies.items():
        case = cases[name]
        assert body == case["raw_body"], name
        ts = case["headers"]["X-Slack-Request-Timestamp"]
        signed = signed_slash_command(fields, secret, ts) if name == "slash_command" else None
        rebuilt = (
            signed_interaction(json.loads(httpx.QueryParams(body)["payload"]), secret, ts)
            if signed is None
            else signed
        )
        assert rebuilt.headers["X-Slack-Signature"] == case["headers"]["X-Slack-Signature"]
    stale = cases["slash_command_stale_timestamp"]
    assert (
        signed_slash_command(fields, secret, stale["headers"]["X-Slack-Request-Timestamp"]).headers[
            "X-Slack-Signature"
        ]
        == stale["headers"]["X-Slack-Signature"]
    )
    clock = FixedClock(now)
    for case in vectors["cases"]:
        valid = slack_request_is_valid(secret, case["raw_body"], case["headers"], clock.now())
        assert valid is case["expect_valid"], case["name"]


def test_pagerduty_signature_vector_reproduces() -> None:
    vector = load_contract("pagerduty/webhooks-v3/signature-vector.json")
    new, old = vector["secrets_active_at_sender"]
    body = compact_json(load_contract("pagerduty/webhooks-v3/incident.triggered.json"))
    assert body == vector["raw_body"]
    signed = signed_pagerduty_webhook(body, [new, old])
    assert signed.headers == vector["headers"]
    header = vector["headers"]["X-PagerDuty-Signature"]
    assert pagerduty_signature([new], body) in header
    assert pagerduty_signature([old], body.encode()) in header
    assert pagerduty_signature(["other"], body) not in header
    reserialised = json.dumps(json.loads(body), indent=2)
    assert pagerduty_signature([new], reserialised) not in header


def test_grafana_signature_vector_reproduces() -> None:
    vector = load_contract("grafana/signature-vector.json")
    body = compact_json(load_contract("grafana/webhook.firing.json"))
    assert body == vector["raw_body"]
    plain = signed_grafana_webhook(body, vector["secret"])
    assert plain.headers == vector["without_timestamp"]["headers"]
    cfg = vector["with_timestamp"]["hmacConfig"]
    expected = vector["with_timestamp"]["headers"]
    timed = signed_grafana_webhook(
        body,
        vector["secret"],
        header=cfg["header"],
        timestamp_header=cfg["timestampHeader"],
        timestamp=expected[cfg["timestampHeader"]],
    )
    assert timed.headers == expected


# -- PagerDuty Events API v2 -------------------------------------------------------------------


def pd_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = load_contract(f"pagerduty/events-v2/enqueue.{name}.json")
    return event


async def test_pagerduty_trigger_ack_resolve_and_dedup(
    pd: PagerDutyStandin, http: httpx.AsyncClient
) -> None:
    trigger = pd_event("trigger")
    first = await http.post("/v2/enqueue", json=trigger)
    assert first.status_code == 202
    assert first.json() == load_contract("pagerduty/events-v2/response.202.json")
    again = await http.post("/v2/enqueue", json=trigger)
    assert again.status_code == 202
    key = trigger["dedup_key"]
    assert len(pd.alerts_for(key)) == 1
    assert [c.outcome for c in pd.calls_for(key)] == ["created", "deduplicated"]

    other_service = pd_event("acknowledge") | {"routing_key": "f" * 32}
    assert (await http.post("/v2/enqueue", json=other_service)).status_code == 202
    assert pd.calls[-1].outcome == "dropped"
    assert (await http.post("/v2/enqueue", json=pd_event("acknowledge"))).status_code == 202
    alert = pd.open_alert(key)
    assert alert is not None
    assert alert.status == "acknowledged"
    assert alert.incident.status == "acknowledged"
    assert alert.incident.number == 4217
    assert (await http.post("/v2/enqueue", json=pd_event("resolve"))).status_code == 202
    assert pd.open_alert(key) is None

    reopened = await http.post("/v2/enqueue", json=trigger)
    assert reopened.status_code == 202
    assert [a.status for a in pd.alerts_for(key)] == ["resolved", "triggered"]
    assert len(pd.incidents) == 2
    assert len(pd.events) == 6

    no_key = {k: v for k, v in trigger.items() if k != "dedup_key"}
    generated = (await http.post("/v2/enqueue", json=no_key)).json()["dedup_key"]
    assert generated
    assert pd.open_alert(generated) is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"routing_key": "short"}, "Length of 'routing_key' is incorrect"),
        ({"event_action": "explode"}, "'event_action' is invalid"),
        ({"payload": None}, "'payload' is missing or blank"),
        ({"dedup_key": "k" * 256}, "'dedup_key' is too long"),
    ],
)
async def test_pagerduty_rejects_invalid_events(
    pd: PagerDutyStandin, http: httpx.AsyncClient, change: dict[str, Any], message: str
) -> None:
    response = await http.post("/v2/enqueue", json=pd_event("trigger") | change)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert body["message"] == "Event object is invalid"
    assert any(message in e for e in body["errors"]), body
    assert pd.alerts == []
    assert pd.calls[-1].outcome == "rejected"


async def test_pagerduty_field_rules(pd: PagerDutyStandin, http: httpx.AsyncClient) -> None:
    short_key = pd_event("trigger") | {"routing_key": "e93facc04764"}
    response = await http.post("/v2/enqueue", json=short_key)
    assert response.json() == load_contract("pagerduty/events-v2/response.400.json")
    trigger = pd_event("trigger")
    no_summary = trigger | {"payload": trigger["payload"] | {"summary": "", "severity": "sev1"}}
    errors = (await http.post("/v2/enqueue", json=no_summary)).json()["errors"]
    assert "'payload.summary' is missing or blank" in errors
    assert any("'payload.severity' is invalid" in e for e in errors)
    no_dedup = {k: v for k, v in pd_event("resolve").items() if k != "dedup_key"}
    assert (await http.post("/v2/enqueue", json=no_dedup)).status_code == 400
    assert (await http.post("/v2/enqueue", content=b"{not json")).status_code == 400
    assert pd.events == []


async def test_pagerduty_faults(pd: PagerDutyStandin, http: httpx.AsyncClient) -> None:
    throttled = load_contract("pagerduty/events-v2/response.429.http.json")
    pd.inject("ratelimited")
    response = await http.post("/v2/enqueue", json=pd_event("trigger"))
    assert response.status_code == throttled["status"] == 429
    assert response.json() == throttled["body"]
    pd.inject("http_status", status=502, times=2)
    assert [
        (await http.post("/v2/enqueue", json=pd_event("trigger"))).status_code for _ in range(3)
    ] == [502, 502, 202]
    assert len(pd.events) == 1

    pd.down()
    assert (await http.post("/v2/enqueue", json=pd_event("trigger"))).status_code == 503
    pd.up()

    pd.inject("timeout", delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        await http.post("/v2/enqueue", json=pd_event("resolve"), timeout=0.2)
    assert pd.alerts[0].status == "resolved"  # processed, answer lost


async def test_pagerduty_rate_limit_per_routing_key(http: httpx.AsyncClient) -> None:
    standin = PagerDutyStandin(rate_limit_per_minute=2)
    async with StandinServer(standin) as server, httpx.AsyncClient(base_url=server.url) as c:
        codes = [(await c.post("/v2/enqueue", json=pd_event("trigger"))).status_code for _ in "abc"]
        other = pd_event("trigger") | {"routing_key": "a" * 32}
        codes.append((await c.post("/v2/enqueue", json=other)).status_code)
    assert codes == [202, 202, 429, 202]


async def test_pagerduty_rest_escalate(pd: PagerDutyStandin, http: httpx.AsyncClient) -> None:
    await http.post("/v2/enqueue", json=pd_event("trigger"))
    incident_id = next(iter(pd.incidents))
    request = load_contract("pagerduty/rest/incident.escalate.request.json")
    body = {"incident": request["incident"]}
    headers = {
        "Authorization": f"Token token={REST_TOKEN}",
        "Accept": PD_ACCEPT,
        "From": "oncall-bot@example.com",
    }
    ok = await http.put(f"/incidents/{incident_id}", json=body, headers=headers)
    assert ok.status_code == 200
    assert ok.json()["incident"]["assignees"][0]["id"] == "PLEVEL2"
    assert pd.incidents[incident_id].escalation_level == 2

    bad_token = headers | {"Authorization": "Token token=wrong"}
    assert (await http.put(f"/incidents/{incident_id}", json=body, headers=bad_token)).status_code
    assert pd.calls[-1].status == 401
    no_from = {k: v for k, v in headers.items() if k != "From"}
    assert (
        await http.put(f"/incidents/{incident_id}", json=body, headers=no_from)
    ).status_code == 400
    missing = await http.put("/incidents/QNOSUCHINCIDNT", json=body, headers=headers)
    assert missing.status_code == 404
    too_far = {"incident": {"type": "incident_reference", "escalation_level": 9}}
    assert (
        await http.put(f"/incidents/{incident_id}", json=too_far, headers=headers)
    ).status_code == 400
    got = await http.get(f"/incidents/{incident_id}", headers=headers)
    assert got.json()["incident"]["incident_key"] == pd_event("trigger")["dedup_key"]
    assert pd.alerts[0].routing_key == ROUTING_KEY
