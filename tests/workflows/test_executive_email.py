"""Issue 17: executives are emailed about a P0/P1 incident (and about its resolution) through a
real SMTP exchange with a local server the test starts (aiosmtpd); a P2 tells nobody until its
severity is raised. With a Slack channel configured too, they get both, each recorded."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.incident import HumanAction
from services import incidents as incident_client
from tests.harness import Stack, generic_alert, running_stack, unique
from tests.standins.slack_api import BOT_TOKEN, SlackStandin
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def about(self, incident: str) -> list[str]:
        return [m["Subject"] for _, m in self.messages if m["X-Ddrun-Incident"] == incident]


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def _open(stack: Stack, severity: str) -> str:
    response = await stack.post_generic(
        generic_alert(
            unique("Exec"), service=unique("exec-"), severity=severity, title="Checkout down"
        )
    )
    incident: str = response.json()["incident_id"]
    stack.touched.add(incident)
    await assert_eventually(lambda: stack.state(incident), lambda s: s is not None, what="open")
    return incident


async def test_executives_are_emailed_about_a_p1_and_its_resolution(
    client: Client, engine: AsyncEngine, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    async with running_stack(
        client,
        engine,
        executive_emails=["ceo@example.com", "cto@example.com"],
        smtp_host="127.0.0.1",
        smtp_port=port,
        correlation_window_s=0,
    ) as stack:
        p1 = await _open(stack, "critical")
        p2 = await _open(stack, "warning")
        await assert_eventually(
            lambda: _async(inbox.about(p1)), lambda s: len(s) == 1, what="the P1 email"
        )
        [(to, message)] = [(t, m) for t, m in inbox.messages if m["X-Ddrun-Incident"] == p1]
        assert sorted(to) == ["ceo@example.com", "cto@example.com"]
        assert message["Subject"].startswith("[P1] opened:")
        assert p1 in message.get_payload()
        state = await stack.state(p1)
        assert state.executives_notified == ["opened"]
        assert any(e.kind == "executives_notified" for e in state.timeline)
        assert (await stack.state(p2)).executives_notified == []

        await incident_client.resolve(client, p1, HumanAction(actor="zoe", reason="rolled back"))
        await stack.handle(p1).result()
        subjects = await assert_eventually(
            lambda: _async(inbox.about(p1)), lambda s: len(s) == 2, what="the resolution email"
        )
        assert subjects[1].startswith("[P1] resolved:")

        zoe = await stack.person(unique("zoe-"))
        raised = await stack.http.post(
            f"/api/incidents/{p2}/severity",
            json={"severity": "P0", "reason": "spreading"},
            headers=zoe,
        )
        assert raised.status_code == 200
        subjects = await assert_eventually(
            lambda: _async(inbox.about(p2)), lambda s: len(s) == 1, what="the P0 email"
        )
        assert subjects[0].startswith("[P0] opened:")
        await incident_client.resolve(client, p2, HumanAction(actor="zoe"))
        await stack.handle(p2).result()


async def _async(value: list[str]) -> list[str]:
    return value


async def test_executives_configured_both_ways_get_the_email_and_the_slack_post(
    client: Client, engine: AsyncEngine, smtp: tuple[_Inbox, int], slack: SlackStandin
) -> None:
    inbox, port = smtp
    channel = slack.add_channel(unique("execs-")).id
    async with running_stack(
        client,
        engine,
        executive_emails=["ceo@example.com"],
        smtp_host="127.0.0.1",
        smtp_port=port,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=f"{slack.url}/api/",
        executive_slack_channel=channel,
        correlation_window_s=0,
    ) as stack:
        p0 = await _open(stack, "p0")
        await assert_eventually(
            lambda: _async(inbox.about(p0)), lambda s: len(s) == 1, what="the P0 email"
        )
        state = await assert_eventually(
            lambda: stack.state(p0), lambda s: s.executives_notified == ["opened"], what="told"
        )
        told = [e.message for e in state.timeline if e.kind == "executives_notified"]
        assert told[0] == "opened: sent to ceo@example.com"
        assert told[1].startswith(f"opened: posted in Slack {channel}")
        [post] = slack.messages_in(channel)
        assert post.text.startswith("[P0] opened: Checkout down")
        await incident_client.resolve(client, p0, HumanAction(actor="zoe"))
        await stack.handle(p0).result()
