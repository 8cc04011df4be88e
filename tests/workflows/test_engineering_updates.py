"""Issue 17: while a P0 is open, an update goes to the engineering-wide Slack channel every hour
(virtual time): a summary prefilled from the record before any status update, the latest status
update after one; a level without a cadence (or no channel) posts nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.alerts.normalize import generic
from schemas.incident import HumanAction
from schemas.severity import Severity, SeverityChange
from schemas.status_updates import StatusUpdateIn, UpdatePhase
from schemas.webhooks.generic import GenericAlertBody
from services import incidents as incident_client
from tests.harness import Stack, running_stack, unique
from tests.standins.slack_api import BOT_TOKEN, SlackStandin
from tests.support import assert_eventually
from tests.workflows.virtual_time import open_waiting

pytestmark = pytest.mark.temporal


async def _open(temporal_env: WorkflowEnvironment, stack: Stack, severity: str) -> str:
    body = GenericAlertBody(
        name=unique("Eng"), title="Checkout down", service=unique("eng-"), severity=severity
    )
    alert = generic.normalize(body, datetime.now(UTC), "digest")[0]
    return await open_waiting(temporal_env, stack, alert)


async def _until(temporal_env: WorkflowEnvironment, incident: str, when: datetime) -> None:
    handle = temporal_env.client.get_workflow_handle(incident)
    left = when - await temporal_env.get_current_time(handle)
    if left > timedelta(0):
        assert await temporal_env.fast_forward(handle, left)


async def test_a_p0_posts_to_the_engineering_channel_every_hour(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine, slack: SlackStandin
) -> None:
    channel = slack.add_channel(unique("eng-wide-")).id  # the bot is not a member: it joins
    async with running_stack(
        client,
        engine,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=f"{slack.url}/api/",
        engineering_channel=channel,
        correlation_window_s=0,
    ) as stack:
        p1 = await _open(temporal_env, stack, "critical")
        assert (await stack.state(p1)).engineering_update_due_at is None  # P1: no cadence
        incident = await _open(temporal_env, stack, "p0")
        state = await stack.state(incident)
        assert state.severity_level is Severity.P0
        assert state.engineering_update_due_at == state.opened_at + timedelta(hours=1)
        await _until(temporal_env, incident, state.opened_at + timedelta(seconds=3590))
        assert slack.messages_in(channel) == [], "not before the hour"

        await _until(temporal_env, incident, state.opened_at + timedelta(seconds=3601))
        state = await assert_eventually(
            lambda: stack.state(incident), lambda s: s.engineering_updates == 1, what="1st post"
        )
        [first] = slack.messages_in(channel)
        assert first.text.startswith("[P0] Engineering update #1: Checkout down")
        assert incident in first.text
        assert state.service in first.text
        assert "open for 1h 00m" in first.text
        assert "No status update posted yet." in first.text
        assert any(e.kind == "engineering_update" and channel in e.message for e in state.timeline)

        await incident_client.act(
            client,
            incident,
            "post_status_update",
            StatusUpdateIn(
                phase=UpdatePhase.IDENTIFIED,
                impact="All card payments fail",
                next_steps="roll back the release",
                eta="30 min",
                actor="mo",
            ),
        )
        assert state.engineering_update_at is not None
        await _until(temporal_env, incident, state.engineering_update_at + timedelta(seconds=3601))
        state = await assert_eventually(
            lambda: stack.state(incident), lambda s: s.engineering_updates == 2, what="2nd post"
        )
        second = slack.messages_in(channel)[-1]
        assert second.text.startswith("[P0] Engineering update #2")
        assert "Latest status update #1 (identified, by mo" in second.text
        assert "Impact: All card payments fail" in second.text
        assert "Next steps: roll back the release" in second.text
        assert "ETA: 30 min" in second.text

        await incident_client.act(
            client,
            incident,
            "change_severity",
            SeverityChange(severity=Severity.P2, reason="contained", actor="mo"),
        )
        state = await assert_eventually(
            lambda: stack.state(incident),
            lambda s: s.engineering_update_due_at is None,
            what="no cadence at P2",
        )
        assert state.engineering_update_at is not None
        await _until(temporal_env, incident, state.engineering_update_at + timedelta(hours=2))
        assert len(slack.messages_in(channel)) == 2, "a P2 posts nothing engineering-wide"
        assert (await stack.state(incident)).engineering_updates == 2
        for opened in (incident, p1):
            await incident_client.resolve(client, opened, HumanAction(actor="mo"))
            await stack.handle(opened).result()


async def test_no_engineering_channel_no_engineering_updates(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, correlation_window_s=0) as stack:
        incident = await _open(temporal_env, stack, "p0")
        state = await stack.state(incident)
        assert state.engineering_update_due_at is None
        await _until(temporal_env, incident, state.opened_at + timedelta(seconds=3700))
        assert (await stack.state(incident)).engineering_updates == 0
        await incident_client.resolve(client, incident, HumanAction(actor="mo"))
        final = await stack.handle(incident).result()
        assert not any(e.kind.startswith("engineering_update") for e in final.timeline)
