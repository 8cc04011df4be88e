"""The Slack sync activity against the Slack Web API stand-in, with the real client and store.

An incident is played forward by hand (hand-built `IncidentState`s returned by `load_state`),
and after each sync the stand-in's workspace is checked: one channel, a pinned header, one card
per step reached and updated in place, each post once, the summary at close; faults (429 with
Retry-After, 5xx, Slack unreachable, bad token) come back as the right Temporal errors, and a
later sync catches up without duplicating anything. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import workflow
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities.slack import (
    SLACK_OFF,
    SlackActivities,
    SlackChannelOptions,
    query_incident_state,
    slack_client,
)
from db.slack_messages import SlackMessageStore
from domain.slack import blocks
from domain.slack.actions import Action, decode
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.incident import (
    Approval,
    IncidentState,
    IncidentStatus,
    StepState,
    StepView,
    TimelineEntry,
)
from schemas.runbook import StepRisk
from schemas.settings import Settings
from schemas.severity import Severity
from schemas.slack import SlackSyncInput, SlackSyncResult
from tests.standins.server import StandinServer
from tests.standins.slack_api import (
    ALERTS_CHANNEL_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    SlackChannel,
    SlackMessage,
    SlackStandin,
)

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 11, 22, 9, 12, tzinfo=UTC)
CHANNEL = "inc-20261122-payment-svc-latency"
ONCALL = ("U07PRIYA01", "U07MARCUS02")


# -- an incident, played forward by hand ----------------------------------------------------------


class Incident:
    """A hand-driven IncidentState; `load` is what the activity gets as `load_state`."""

    def __init__(self) -> None:
        alert = Alert(
            source=AlertSource.ALERTMANAGER,
            dedup_key="k",
            event_id="e",
            status=AlertStatus.FIRING,
            name="PaymentSvcLatency",
            title="Payment latency above 2s",
            service="payment-svc",
            severity="critical",
            received_at=T0,
            payload_digest="0" * 64,
        )
        self.state = IncidentState(
            id=f"incident-test-{uuid.uuid4().hex[:10]}",
            status=IncidentStatus.TRIGGERED,
            service="payment-svc",
            severity="critical",
            title="Payment latency above 2s",
            opened_at=T0,
            alerts=[alert],
            runbook="payment-latency",
            runbook_title="Payment latency",
            runbook_version=2,
            match_confidence=0.9,
            match_method="selector",
            variables={"namespace": "payments"},
            steps=[
                StepView(id="check", title="Check pods", risk=StepRisk.SAFE, command="kubectl get"),
                StepView(
                    id="restart",
                    title="Restart",
                    risk=StepRisk.CAUTION,
                    command="kubectl rollout restart deploy/payment-api",
                    rollback="kubectl rollout undo deploy/payment-api",
                ),
                StepView(id="verify", title="Verify", risk=StepRisk.SAFE, command="curl -f x"),
            ],
        )
        self.note("opened", "alertmanager alert PaymentSvcLatency")
        self.note("mode", "copilot: default for a new runbook")
        self.loads = 0

    async def load(self, incident_id: str, run_id: str | None) -> IncidentState:
        assert incident_id == self.state.id
        self.loads += 1
        return self.state.model_copy(deep=True)

    @property
    def at(self) -> datetime:
        return T0 + timedelta(minutes=len(self.state.timeline))

    def note(self, kind: str, message: str, actor: str | None = None) -> None:
        self.state.timeline.append(
            TimelineEntry(at=self.at, kind=kind, message=message, actor=actor)
        )

    def step(self, sid: str, state: StepState, **changes: Any) -> None:
        view = next(s for s in self.state.steps if s.id == sid)
        view.state = state
        view.card = f"{sid}-{len(self.state.timeline)}"
        for name, value in changes.items():
            setattr(view, name, value)
        self.note(f"step_{state.value}", sid)

    def status(self, status: IncidentStatus) -> None:
        self.state.status = status
        self.note("status", status.value)

    def close(self, status: IncidentStatus, outcome: str) -> None:
        self.state.closed_at = T0 + timedelta(hours=1, minutes=2, seconds=3)
        self.state.outcome = outcome
        self.status(status)
        self.note("closed", f"{status.value}: {outcome}")


def play_to_approval(inc: Incident) -> None:
    inc.state.status = IncidentStatus.MITIGATING
    inc.step("check", StepState.SUCCEEDED, exit_code=0, stdout="3/3 ready\n")
    inc.status(IncidentStatus.AWAITING_APPROVAL)
    inc.step("restart", StepState.AWAITING_APPROVAL)


def approve_and_run(inc: Incident) -> None:
    approval = Approval(approver="U07MARCUS02", approver_name="Marcus Chen", at=inc.at)
    inc.status(IncidentStatus.MITIGATING)
    inc.step("restart", StepState.SUCCEEDED, approvals=[approval], exit_code=0, stdout="ok\n")
    inc.step("verify", StepState.RUNNING)


# -- fixtures -------------------------------------------------------------------------------------


def client_for(server: StandinServer, token: str = BOT_TOKEN) -> AsyncWebClient:
    settings = Settings(slack_bot_token=SecretStr(token), slack_api_url=f"{server.url}/api/")
    client = slack_client(settings)
    assert client is not None
    client.timeout = 2
    return client


def activities_for(
    server: StandinServer,
    engine: AsyncEngine,
    inc: Incident,
    *,
    token: str = BOT_TOKEN,
    **options: Any,
) -> SlackActivities:
    opts = SlackChannelOptions(**({"oncall_users": ONCALL} | options))
    return SlackActivities(client_for(server, token), SlackMessageStore(engine), inc.load, opts)


async def sync(acts: SlackActivities, inc: Incident, final: bool = False) -> SlackSyncResult:
    inp = SlackSyncInput(incident_id=inc.state.id, run_id=None, final=final)
    result: SlackSyncResult = await ActivityEnvironment().run(acts.sync_slack, inp)
    return result


async def failing_sync(acts: SlackActivities, inc: Incident) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await sync(acts, inc)
    return info.value


def channel(slack: SlackStandin, name: str = CHANNEL) -> SlackChannel:
    found = slack.channel_named(name)
    assert found is not None, f"no channel {name}; have {[c.name for c in slack.channels.values()]}"
    return found


def bot_messages(slack: SlackStandin, ch: SlackChannel) -> list[SlackMessage]:
    return slack.messages_in(ch.id)


def card(slack: SlackStandin, ch: SlackChannel, step_id: str) -> SlackMessage:
    found = [
        m
        for m in bot_messages(slack, ch)
        if m.blocks and any(b.get("block_id") == f"title:{step_id}" for b in m.blocks)
    ]
    assert len(found) == 1, f"{len(found)} cards for {step_id}"
    return found[0]


def action_ids(message: SlackMessage) -> list[str]:
    return [
        e["action_id"]
        for b in message.blocks or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def count(slack: SlackStandin, method: str) -> int:
    return len(slack.calls_to(method))


# -- the happy path -------------------------------------------------------------------------------


async def test_first_sync_creates_the_channel_sets_topic_invites_and_pins_the_header(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    acts = activities_for(slack_server, engine, inc)
    result = await sync(acts, inc)

    ch = channel(slack)
    assert result.channel_id == ch.id
    assert ch.topic["value"] == "[CRITICAL] triggered · payment-svc"
    assert ch.members == {BOT_USER_ID, *ONCALL}
    header, mode = bot_messages(slack, ch)
    assert ch.pins == [header.ts]
    assert header.text == blocks.header_message(inc.state).text
    assert header.blocks is not None
    assert (
        header.blocks[0]["text"]["text"] == ":rotating_light: [CRITICAL] Payment latency above 2s"
    )
    assert Action.START_COPILOT in action_ids(header)
    assert mode.text == "Mode: copilot: default for a new runbook"
    assert (result.posted, result.updated) == (2, 0)
    assert [c.method for c in slack.calls] == [
        "conversations.create",
        "conversations.setTopic",
        "conversations.invite",
        "chat.postMessage",
        "pins.add",
        "chat.postMessage",
    ]


async def test_cards_appear_as_steps_are_reached_and_change_in_place(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    acts = activities_for(slack_server, engine, inc)
    await sync(acts, inc)
    ch = channel(slack)
    assert not any(m.blocks and "title:check" in str(m.blocks) for m in bot_messages(slack, ch))

    play_to_approval(inc)
    second = await sync(acts, inc)
    check, restart = card(slack, ch, "check"), card(slack, ch, "restart")
    assert action_ids(restart)[:3] == [Action.APPROVE, Action.EDIT, Action.SKIP_STEP]
    assert Action.APPROVE not in action_ids(check)
    approve = next(
        e
        for b in restart.blocks or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == Action.APPROVE
    )
    value = decode(approve["value"])
    wanted = next(s.card for s in inc.state.steps if s.id == "restart")
    assert (value.incident, value.step, value.card) == (inc.state.id, "restart", wanted)
    assert ch.topic["value"] == "[CRITICAL] awaiting approval · payment-svc"
    assert second.posted == 3  # two cards, one status post
    assert second.updated == 1  # the header (status, step counts)
    assert not any("title:verify" in str(m.blocks) for m in bot_messages(slack, ch))

    approve_and_run(inc)
    third = await sync(acts, inc)
    restart_after = card(slack, ch, "restart")
    assert restart_after.ts == restart.ts
    assert restart_after.edited is not None
    assert Action.APPROVE not in action_ids(restart_after)
    assert "<@U07MARCUS02> (Marcus Chen)" in str(restart_after.blocks)
    assert third.updated == 2  # header and restart's card; check's card is unchanged
    assert card(slack, ch, "verify").ts > restart.ts

    calls_before = len(slack.calls)
    again = await sync(acts, inc)
    assert len(slack.calls) == calls_before, "an identical sync must not call Slack"
    assert (again.posted, again.updated) == (0, 0)
    assert again.unchanged == len(bot_messages(slack, ch))

    restarted_worker = activities_for(slack_server, engine, inc)  # fresh process, same store
    await sync(restarted_worker, inc)
    assert len(slack.calls) == calls_before

    texts = Counter(m.text for m in bot_messages(slack, ch))
    assert texts.most_common(1)[0][1] == 1, "a message was posted twice"
    assert count(slack, "chat.postMessage") == len(bot_messages(slack, ch))
    assert count(slack, "conversations.create") == 1
    assert count(slack, "pins.add") == 1


async def test_long_output_is_posted_once_in_the_cards_thread(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    acts = activities_for(slack_server, engine, inc)
    output = "".join(f"pod-{i} Running\n" for i in range(400))
    inc.step("check", StepState.SUCCEEDED, exit_code=0, stdout=output)
    await sync(acts, inc)
    await sync(acts, inc)
    ch = channel(slack)
    check = card(slack, ch, "check")
    thread = [m for m in bot_messages(slack, ch) if m.thread_ts == check.ts]
    assert len(thread) == 1
    assert "pod-0 Running\npod-1 Running" in thread[0].text
    assert "pod-399 Running" in thread[0].text
    assert "pod-0 Running" not in str(check.blocks)
    assert "pod-399 Running" in str(check.blocks)


async def test_timeline_posts_go_out_once_each_in_order(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    acts = activities_for(slack_server, engine, inc)
    await sync(acts, inc)
    inc.note("escalated", "level 1 (primary-oncall): not acknowledged within 300s")
    inc.note("approval_requested", "restart: Restart")  # shown by the card, not posted
    inc.note("acknowledged", "by U07PRIYA01", "U07PRIYA01")
    inc.note("paused", "looking at dashboards", "U07PRIYA01")
    await sync(acts, inc)
    inc.note("resumed", "resumed", "U07PRIYA01")
    await sync(acts, inc)
    await sync(acts, inc)
    texts = [m.text for m in bot_messages(slack, channel(slack))][1:]
    assert texts == [
        "Mode: copilot: default for a new runbook",
        "Escalated: level 1 (primary-oncall): not acknowledged within 300s",
        "Acknowledged: by U07PRIYA01",
        "Paused: looking at dashboards",
        "Resumed: resumed",
    ]


async def test_close_posts_the_summary_with_mttr_and_takes_the_buttons_away(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    acts = activities_for(slack_server, engine, inc)
    play_to_approval(inc)
    await sync(acts, inc)
    approve_and_run(inc)
    inc.step("verify", StepState.SUCCEEDED, exit_code=0)
    inc.close(IncidentStatus.RESOLVED, "every step done")
    result = await sync(acts, inc, final=True)
    await sync(acts, inc, final=True)
    ch = channel(slack)
    messages = bot_messages(slack, ch)
    summary = messages[-1]
    assert summary.text == "Resolved after 1h 02m 03s: Payment latency above 2s"
    assert "*MTTR*\n1h 02m 03s" in str(summary.blocks).replace("\\n", "\n")
    assert "`restart`: <@U07MARCUS02> (Marcus Chen)" in str(summary.blocks)
    assert sum(1 for m in messages if m.text == summary.text) == 1
    assert all(action_ids(m) == [] for m in messages)
    assert ch.topic["value"] == "[CRITICAL] resolved · payment-svc"
    assert result.detail.startswith("final sync")


async def test_two_syncs_of_one_incident_at_once_take_turns(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    play_to_approval(inc)
    acts = activities_for(slack_server, engine, inc)
    first, second = await asyncio.gather(sync(acts, inc), sync(acts, inc))
    assert count(slack, "conversations.create") == 1
    messages = bot_messages(slack, channel(slack))
    assert len(messages) == 5
    assert len({m.text for m in messages}) == 5
    assert sorted([first.posted, second.posted]) == [0, 5]


# -- channel choices ------------------------------------------------------------------------------


async def test_a_taken_name_gets_a_short_suffix(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    squatter = slack.add_channel(CHANNEL, members=[BOT_USER_ID])
    inc = Incident()
    acts = activities_for(slack_server, engine, inc)
    result = await sync(acts, inc)
    created = slack.channels[str(result.channel_id)]
    assert created.name.startswith(f"{CHANNEL}-")
    assert len(created.name) == len(CHANNEL) + 5
    assert [c.error for c in slack.calls_to("conversations.create")] == ["name_taken", None]
    assert bot_messages(slack, squatter) == []
    await sync(acts, inc)
    assert count(slack, "conversations.create") == 2


async def test_a_configured_channel_is_reused_without_topic_changes(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    acts = activities_for(slack_server, engine, inc, reuse_channel=ALERTS_CHANNEL_ID)
    result = await sync(acts, inc)
    shared = slack.channels[ALERTS_CHANNEL_ID]
    assert result.channel_id == ALERTS_CHANNEL_ID
    assert count(slack, "conversations.create") == 0
    assert count(slack, "conversations.setTopic") == 0
    assert shared.pins == [bot_messages(slack, shared)[0].ts]

    missing = Incident()
    acts = activities_for(slack_server, engine, missing, reuse_channel="C0NOSUCH01")
    err = await failing_sync(acts, missing)
    assert err.non_retryable
    assert err.type == "SlackConfigError"
    assert "DDRUN_SLACK_REUSE_CHANNEL" in err.message


async def test_invites_tolerate_unknown_and_present_users(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    inc.state.commander = "U07MARCUS02"
    acts = activities_for(
        slack_server, engine, inc, oncall_users=("U07PRIYA01", "U0NOBODY99", BOT_USER_ID)
    )
    await sync(acts, inc)
    assert channel(slack).members == {BOT_USER_ID, "U07PRIYA01", "U07MARCUS02"}
    await sync(acts, inc)
    assert count(slack, "conversations.invite") == 1


async def test_a_deleted_message_is_posted_again(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    acts = activities_for(slack_server, engine, inc)
    play_to_approval(inc)
    await sync(acts, inc)
    ch = channel(slack)
    gone = card(slack, ch, "restart")
    del slack.messages[(ch.id, gone.ts)]
    approve_and_run(inc)
    await sync(acts, inc)
    reposted = card(slack, ch, "restart")
    assert reposted.ts != gone.ts
    assert [c.error for c in slack.calls_to("chat.update") if c.args["ts"] == gone.ts] == [
        "message_not_found"
    ]
    inc.step("verify", StepState.SUCCEEDED, exit_code=0)
    await sync(acts, inc)
    assert card(slack, ch, "restart").ts == reposted.ts


# -- failures -------------------------------------------------------------------------------------


async def test_rate_limit_carries_retry_after_and_the_retry_resumes(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    acts = activities_for(slack_server, engine, inc)
    play_to_approval(inc)
    slack.inject("chat.postMessage", "ratelimited", retry_after=7)
    err = await failing_sync(acts, inc)
    assert err.type == "SlackRateLimited"
    assert err.next_retry_delay == timedelta(seconds=7)
    assert not err.non_retryable

    await sync(acts, inc)
    ch = channel(slack)
    assert count(slack, "conversations.create") == 1  # the channel was kept from the first try
    assert len(bot_messages(slack, ch)) == 5  # header, 2 cards, the mode and a status post
    assert len({m.ts for m in bot_messages(slack, ch)}) == 5
    assert ch.pins == [bot_messages(slack, ch)[0].ts]


async def test_server_errors_are_retried_and_do_not_duplicate(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    acts = activities_for(slack_server, engine, inc)
    play_to_approval(inc)
    await sync(acts, inc)
    ch = channel(slack)
    before = len(bot_messages(slack, ch))
    approve_and_run(inc)
    slack.inject("chat.update", "http_status", status=503)
    err = await failing_sync(acts, inc)
    assert (err.type, err.non_retryable) == ("SlackUnavailable", False)
    slack.inject("*", "error", error="fatal_error")
    err = await failing_sync(acts, inc)
    assert (err.type, err.non_retryable) == ("SlackUnavailable", False)
    result = await sync(acts, inc)
    assert result.updated == 2
    assert len(bot_messages(slack, ch)) == before + 2  # verify's card and a status post


async def test_a_slow_slack_times_out_as_retryable(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    acts = activities_for(slack_server, engine, inc)
    slack.inject("conversations.create", "timeout", delay=3.0, process=False)
    err = await failing_sync(acts, inc)  # the client gives up after 2 s
    assert (err.type, err.non_retryable) == ("SlackUnreachable", False)
    await sync(acts, inc)
    assert [c.name for c in slack.channels.values()].count(CHANNEL) == 1


async def test_slack_down_for_a_while_then_one_sync_catches_up(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    acts = activities_for(slack_server, engine, inc)
    await sync(acts, inc)
    await slack_server.stop()
    try:
        play_to_approval(inc)
        err = await failing_sync(acts, inc)
        assert (err.type, err.non_retryable) == ("SlackUnreachable", False)
        approve_and_run(inc)
        inc.step("verify", StepState.SUCCEEDED, exit_code=0)
        inc.close(IncidentStatus.RESOLVED, "every step done")
        err = await failing_sync(acts, inc)
        assert err.type == "SlackUnreachable"
    finally:
        await slack_server.start()
    slack.down()  # back on the network, but answering Slack's outage page
    err = await failing_sync(acts, inc)
    assert (err.type, err.non_retryable) == ("SlackUnavailable", False)
    slack.up()

    result = await sync(acts, inc, final=True)
    ch = channel(slack)
    messages = bot_messages(slack, ch)
    assert [c.name for c in slack.channels.values()].count(CHANNEL) == 1
    assert len({m.text for m in messages}) == len(messages), "nothing posted twice"
    assert [card(slack, ch, s).ts for s in ("check", "restart", "verify")] == sorted(
        card(slack, ch, s).ts for s in ("check", "restart", "verify")
    )
    assert messages[-1].text.startswith("Resolved after 1h 02m 03s")
    assert result.updated == 1  # the header; everything else is new
    assert count(slack, "conversations.create") == 1


async def test_bad_token_and_missing_scope_are_not_retried(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    err = await failing_sync(activities_for(slack_server, engine, inc, token="xoxb-revoked"), inc)
    assert (err.type, err.non_retryable) == ("SlackConfigError", True)
    assert "invalid_auth" in err.message
    assert "DDRUN_SLACK_BOT_TOKEN" in err.message

    slack.add_token("xoxb-chat-only", scopes={"chat:write"})
    err = await failing_sync(activities_for(slack_server, engine, inc, token="xoxb-chat-only"), inc)
    assert (err.type, err.non_retryable) == ("SlackConfigError", True)
    assert "`channels:manage`" in err.message


async def test_a_rendering_bug_fails_for_good_before_any_slack_call(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    inc = Incident()
    broken = StepView.model_construct(**(inc.state.steps[0].model_dump() | {"risk": "weird"}))
    inc.state.steps[0] = broken.model_copy(update={"state": StepState.RUNNING})
    err = await failing_sync(activities_for(slack_server, engine, inc), inc)
    assert (err.type, err.non_retryable) == ("SlackRenderError", True)
    assert slack.calls == []


async def test_without_a_token_slack_is_off_and_nothing_is_read(engine: AsyncEngine) -> None:
    inc = Incident()
    acts = SlackActivities(None, SlackMessageStore(engine), inc.load)
    result = await sync(acts, inc)
    assert result == SlackSyncResult(enabled=False, detail=SLACK_OFF)
    assert inc.loads == 0
    assert slack_client(Settings(slack_bot_token=None)) is None


# -- the production load_state: the incident workflow's `state` query ------------------------------


@workflow.defn(name="SlackSyncQueryTarget", sandboxed=False)
class _StateHolder:
    """Stands where IncidentWorkflow stands: a workflow answering the `state` query."""

    def __init__(self) -> None:
        self._state: IncidentState | None = None

    @workflow.run
    async def run(self, state: IncidentState) -> None:
        self._state = state
        await workflow.wait_condition(lambda: False, timeout=timedelta(seconds=30))

    @workflow.query(name="state")
    def state(self) -> IncidentState:
        assert self._state is not None
        return self._state


@pytest.mark.temporal
async def test_query_incident_state_reads_the_workflow_query(client: Client) -> None:
    inc = Incident()
    queue = f"slack-query-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[_StateHolder]):
        handle = await client.start_workflow(
            _StateHolder.run, inc.state, id=inc.state.id, task_queue=queue
        )
        load = query_incident_state(client)
        assert await load(inc.state.id, None) == inc.state
        assert await load(inc.state.id, handle.result_run_id) == inc.state
        with pytest.raises(ApplicationError) as info:
            await load(f"no-such-{uuid.uuid4().hex}", None)
        assert (info.value.type, info.value.non_retryable) == ("IncidentNotFound", True)
        await handle.terminate("test done")


async def test_a_p0_or_p1_gets_a_war_room_and_a_p2_posts_in_the_incidents_channel(
    slack: SlackStandin, slack_server: StandinServer, engine: AsyncEngine
) -> None:
    """Issue 17: `incident-YYYY-MM-DD-<slug>` for P0/P1, the header pinned and the topic set;
    P2/P3 post in the shared incidents channel."""
    major = Incident()
    major.state.severity_level = Severity.P1
    acts = activities_for(slack_server, engine, major, incidents_channel=ALERTS_CHANNEL_ID)
    result = await sync(acts, major)
    room = slack.channels[str(result.channel_id)]
    assert room.name == "incident-2026-11-22-payment-latency-above-2s"
    assert room.topic["value"] == "[P1] triggered · payment-svc"
    links = bot_messages(slack, room)[-1]
    assert room.pins == [bot_messages(slack, room)[0].ts, links.ts]  # header, then links
    assert "Runbook: `payment-latency` v2" in links.text
    assert "Video call" not in links.text  # P0 only

    worst = Incident()
    worst.state.severity_level = Severity.P0
    worst.state.title = "Checkout down"
    acts = activities_for(
        slack_server, engine, worst, video_call_template="https://meet.example/{incident_id}"
    )
    result = await sync(acts, worst)
    room = slack.channels[str(result.channel_id)]
    assert room.name == "incident-2026-11-22-checkout-down"
    assert (
        f"Video call: https://meet.example/{worst.state.id}" in bot_messages(slack, room)[-1].text
    )

    minor = Incident()
    minor.state.severity_level = Severity.P2
    acts = activities_for(slack_server, engine, minor, incidents_channel=ALERTS_CHANNEL_ID)
    result = await sync(acts, minor)
    assert result.channel_id == ALERTS_CHANNEL_ID
    assert count(slack, "conversations.create") == 2
