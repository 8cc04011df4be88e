"""Issue 17: executives are told in a Slack channel (the stand-in), besides or instead of email:
with only the channel configured, a P1's opening and its resolution are posted there and
recorded; a channel Slack refuses is recorded too, and the incident goes on."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.incident import HumanAction
from services import incidents as incident_client
from tests.harness import Stack, generic_alert, running_stack, unique
from tests.standins.slack_api import BOT_TOKEN, SlackStandin
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


async def _open(stack: Stack, severity: str) -> str:
    response = await stack.post_generic(
        generic_alert(unique("ExSl"), service=unique("exs-"), severity=severity, title="Cart down")
    )
    incident: str = response.json()["incident_id"]
    stack.touched.add(incident)
    await assert_eventually(lambda: stack.state(incident), lambda s: s is not None, what="open")
    return incident


async def _texts(slack: SlackStandin, channel: str) -> list[str]:
    return [m.text for m in slack.messages_in(channel)]


async def test_executives_hear_of_a_p1_and_its_resolution_in_their_slack_channel(
    client: Client, engine: AsyncEngine, slack: SlackStandin
) -> None:
    channel = slack.add_channel(unique("execs-")).id
    async with running_stack(
        client,
        engine,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=f"{slack.url}/api/",
        executive_slack_channel=channel,
        correlation_window_s=0,
    ) as stack:
        p1 = await _open(stack, "critical")
        p2 = await _open(stack, "warning")
        [opened] = await assert_eventually(
            lambda: _texts(slack, channel), lambda t: len(t) == 1, what="the P1 post"
        )
        assert opened.startswith("[P1] opened: Cart down")
        assert p1 in opened
        state = await assert_eventually(
            lambda: stack.state(p1), lambda s: s.executives_notified == ["opened"], what="noted"
        )
        [entry] = [e for e in state.timeline if e.kind == "executives_notified"]
        assert f"opened: posted in Slack {channel}" in entry.message
        assert (await stack.state(p2)).executives_notified == []

        await incident_client.resolve(client, p1, HumanAction(actor="zoe", reason="rolled back"))
        final = await stack.handle(p1).result()
        texts = await _texts(slack, channel)
        assert len(texts) == 2
        assert texts[1].startswith("[P1] resolved: Cart down")
        assert "Outcome: resolved by zoe: rolled back" in texts[1]
        assert final.executives_notified == ["opened", "resolved"]
        assert all(p2 not in t for t in texts)
        await incident_client.resolve(client, p2, HumanAction(actor="zoe"))
        await stack.handle(p2).result()


async def test_a_channel_slack_refuses_is_recorded_and_the_incident_goes_on(
    client: Client, engine: AsyncEngine, slack: SlackStandin
) -> None:
    async with running_stack(
        client,
        engine,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=f"{slack.url}/api/",
        executive_slack_channel="C0NOSUCHCHAN",
        correlation_window_s=0,
    ) as stack:
        p0 = await _open(stack, "p0")
        state = await assert_eventually(
            lambda: stack.state(p0), lambda s: s.executives_notified == ["opened"], what="tried"
        )
        [entry] = [e for e in state.timeline if e.kind == "executives_notified"]
        assert "not posted in Slack C0NOSUCHCHAN" in entry.message
        assert "channel_not_found" in entry.message
        assert "DDRUN_EXECUTIVE_SLACK_CHANNEL" in entry.message
        await incident_client.resolve(client, p0, HumanAction(actor="zoe"))
        await stack.handle(p0).result()
