"""`sync_slack`: make an incident's Slack channel show its current state, idempotently.

The workflow only says *which* incident changed; this activity reads the state itself (a query)
and brings Slack up to date: the channel (created once, or the configured shared one), its topic,
the on-call invited, the pinned header, a card per step reached (updated in place with
`chat.update`), each step's full output in its card's thread, a post per notable timeline entry,
and the summary at close. Every message's `ts` and the digest of what it says are stored
(db/slack_messages.py) right after each successful call, so a retried or repeated sync updates
in place, never posts twice, and an unchanged message costs no call at all.

The one duplicate window: a post that reached Slack whose answer was lost (a crash or a timeout
between Slack's answer and the store write) is posted again by the retry, because Slack offers
no idempotency key for `chat.postMessage`; the same holds for `conversations.create` (the retry
then finds the name taken and uses a suffixed one).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities import slack_errors
from db.slack_messages import SlackChannelRef, SlackMessageRef, SlackMessageStore
from domain.slack import blocks, plan
from domain.slack.channel_names import channel_name, war_room_name, with_suffix
from domain.slack.kit import Rendered
from domain.slack.mrkdwn import is_slack_user
from domain.slack.war_room import is_war_room, links_message
from schemas.incident import IncidentState
from schemas.settings import Settings
from schemas.slack import SlackPostInput, SlackSyncInput, SlackSyncResult

log = logging.getLogger(__name__)

LoadState = Callable[[str, str | None], Awaitable[IncidentState]]
SLACK_OFF = "Slack is off: no bot token (set DDRUN_SLACK_BOT_TOKEN)"
NAME_ATTEMPTS = 5
CLIENT_TIMEOUT_S = 10
#: Per-user refusals of conversations.invite that no retry changes: note them and go on.
INVITE_TOLERATED = frozenset(
    {
        "already_in_channel",
        "cant_invite_self",
        "user_not_found",
        "user_is_deactivated",
        "user_is_restricted",
        "user_is_ultra_restricted",
        "ura_max_channels",
        "cant_invite",
        "not_allowed_in_channel",
    }
)
#: chat.update cannot touch the message any more (deleted, or not ours): post it again.
REPOST_ON = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


def slack_client(settings: Settings) -> AsyncWebClient | None:
    """The bot's Web API client, or None when Slack is off. No client-side retries: Temporal
    owns them, so each attempt is visible in history and a 429 waits out Retry-After there."""
    if settings.slack_bot_token is None:
        return None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=CLIENT_TIMEOUT_S,
        retry_handlers=[],
    )


def query_incident_state(client: Client) -> LoadState:
    """Production `load_state`: the incident workflow's `state` query (works after it closed)."""

    async def load(incident_id: str, run_id: str | None) -> IncidentState:
        handle = client.get_workflow_handle(incident_id, run_id=run_id, result_type=IncidentState)
        try:
            # A completed incident's state is its result: no worker needed to answer (a query
            # would replay it on a worker, which may be the one shutting down).
            if (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED:
                done: IncidentState = await handle.result()
                return done
            state: IncidentState = await handle.query("state", result_type=IncidentState)
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                raise ApplicationError(
                    f"incident {incident_id} not found: nothing to show in Slack",
                    type="IncidentNotFound",
                    non_retryable=True,
                ) from err
            raise
        return state

    return load


@dataclass(frozen=True)
class SlackChannelOptions:
    """Where and with whom: channel name prefix, people invited, or one shared channel."""

    prefix: str = "inc"
    oncall_users: tuple[str, ...] = ()
    reuse_channel: str | None = None
    #: P2/P3 incidents post here (a shared incidents channel); P0/P1 get a war room.
    incidents_channel: str | None = None
    api_url: str | None = None
    video_call_template: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackChannelOptions:
        return cls(
            prefix=settings.slack_channel_prefix,
            oncall_users=tuple(settings.slack_oncall_users),
            reuse_channel=settings.slack_reuse_channel or None,
            incidents_channel=settings.slack_incidents_channel or None,
            api_url=settings.api_url,
            video_call_template=settings.video_call_template,
        )


@dataclass
class SlackActivities:
    client: AsyncWebClient | None
    store: SlackMessageStore
    load_state: LoadState
    options: SlackChannelOptions = field(default_factory=SlackChannelOptions)
    _locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary, init=False, repr=False
    )

    @activity.defn(name="sync_slack")
    async def sync_slack(self, inp: SlackSyncInput) -> SlackSyncResult:
        if self.client is None:
            return SlackSyncResult(enabled=False, detail=SLACK_OFF)
        # Two syncs of one incident at once (a late attempt and the closing catch-up) would
        # both see "not posted yet"; on one worker they take turns, each reading the state
        # only once it holds the turn, so the later one never renders an older state.
        lock = self._locks.get(inp.incident_id)
        if lock is None:
            lock = self._locks[inp.incident_id] = asyncio.Lock()
        async with lock:
            state = await self.load_state(inp.incident_id, inp.run_id)
            result = await _Sync(self.client, self.store, self.options, state).run()
        if inp.final:
            result = result.model_copy(update={"detail": f"final sync: {result.detail}"})
        return result

    @activity.defn(name="post_slack_message")
    async def post_slack_message(self, inp: SlackPostInput) -> str:
        """One composed message to a configured channel (engineering-wide, executives); the
        bot joins it first (a public channel; joining twice only warns). Returns what happened,
        for the incident's timeline."""
        if self.client is None:
            return f"not posted: {SLACK_OFF}"
        setting = inp.setting or None
        await _slack_call(
            "conversations.join",
            self.client.conversations_join(channel=inp.channel),
            setting,
            tolerate=("method_not_supported_for_channel_type", "already_in_channel"),
        )
        answer = await _slack_call(
            "chat.postMessage",
            self.client.chat_postMessage(
                channel=inp.channel, text=inp.text, unfurl_links=False, unfurl_media=False
            ),
            setting,
        )
        ts = str(answer["ts"]) if answer is not None else "?"
        log.info("slack %s for %s posted in %s", inp.purpose, inp.incident_id, inp.channel)
        return f"posted in Slack {inp.channel} (ts {ts})"


async def _slack_call(
    method: str,
    call: Awaitable[AsyncSlackResponse],
    setting: str | None,
    tolerate: Iterable[str] = (),
    *,
    reused_channel: bool = True,
    scope: str = "",
) -> AsyncSlackResponse | None:
    """One Web API call, Slack's errors as Temporal's; None when Slack answered one of the
    `tolerate` error codes. `setting` names what to fix when a configured channel is refused."""
    try:
        return await call
    except SlackApiError as err:
        code = slack_errors.error_code(err)
        if code and code in set(tolerate):
            log.info("slack %s %s: %s (tolerated)", method, scope, code)
            return None
        raise slack_errors.from_api_error(
            err, method, reused_channel=reused_channel, channel_setting=setting
        ) from err
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        raise slack_errors.unreachable(err, method) from err


@dataclass
class _Sync:
    """One pass over one incident's state; counts what it did."""

    client: AsyncWebClient
    store: SlackMessageStore
    options: SlackChannelOptions
    state: IncidentState
    posted: int = 0
    updated: int = 0
    unchanged: int = 0
    messages: dict[str, SlackMessageRef] = field(default_factory=dict)
    reused: bool = False

    @property
    def scope(self) -> str:
        """Messages belong to one run: a reopened incident (a new run) gets its own header and
        cards in the same channel. Keyed by the run's start time, not its run id, so a reset
        run (same history, new id) keeps updating the messages it already has."""
        return self.state.opened_at.isoformat()

    async def run(self) -> SlackSyncResult:
        state = self.state
        try:  # pure: a failure here is a bug that no retry fixes, and would hold up later syncs
            planned = plan.messages_for(state)
            topic = blocks.topic(state)
        except Exception as err:
            raise ApplicationError(
                f"could not render incident {state.id} for Slack: {err!r}",
                type=slack_errors.RENDER_ERROR,
                non_retryable=True,
            ) from err
        channel = await self._channel()
        self.reused = channel.reused
        self.messages = await self.store.messages(state.id, self.scope)
        await self._topic(channel, topic)
        await self._invite(channel)
        for item in planned:
            parent = self.messages.get(item.thread_of) if item.thread_of else None
            thread_ts = parent.ts if parent is not None else None
            await self._put(channel, item.key, item.rendered, thread_ts=thread_ts)
            if item.pin:
                await self._pin(item.key)
        if is_war_room(state) and not channel.reused:
            links = links_message(state, self.options.api_url, self.options.video_call_template)
            await self._put(channel, "war-room-links", links)
            await self._pin("war-room-links")
        return SlackSyncResult(
            channel_id=channel.channel_id,
            posted=self.posted,
            updated=self.updated,
            unchanged=self.unchanged,
            detail=f"#{channel.name}" if not channel.reused else f"shared {channel.channel_id}",
        )

    # -- Slack calls --------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        call: Awaitable[AsyncSlackResponse],
        tolerate: Iterable[str] = (),
    ) -> AsyncSlackResponse | None:
        """One Web API call in this incident's channel sync."""
        return await _slack_call(
            method, call, None, tolerate, reused_channel=self.reused, scope=f"for {self.state.id}"
        )

    async def _channel(self) -> SlackChannelRef:
        known = await self.store.channel(self.state.id)
        if known is not None:
            return known
        level = self.state.severity_level
        war_room = level is not None and level.value in ("P0", "P1")
        shared = self.options.reuse_channel or (
            self.options.incidents_channel if level is not None and not war_room else None
        )
        if shared:
            self.reused = True
            # The bot must be a member to post and pin; joining twice only warns. A private
            # channel cannot be joined: the bot must have been invited there.
            await self._call(
                "conversations.join",
                self.client.conversations_join(channel=shared),
                tolerate=("method_not_supported_for_channel_type",),
            )
            return await self.store.save_channel(self.state.id, shared, shared, reused=True)
        base = (
            war_room_name(self.state.opened_at, self.state.title)
            if war_room
            else channel_name(
                self.options.prefix,
                self.state.opened_at,
                self.state.service,
                blocks.channel_subject(self.state),
            )
        )
        for attempt in range(NAME_ATTEMPTS):
            name = with_suffix(base, self.state.id, attempt)
            created = await self._call(
                "conversations.create",
                self.client.conversations_create(name=name, is_private=False),
                tolerate=("name_taken",),
            )
            if created is None:
                continue
            channel_id = str(created["channel"]["id"])
            return await self.store.save_channel(self.state.id, channel_id, name, reused=False)
        raise ApplicationError(
            f"Slack conversations.create: {NAME_ATTEMPTS} names taken, the last {name!r}",
            type=slack_errors.CONFIG_ERROR,
            non_retryable=True,
        )

    async def _topic(self, channel: SlackChannelRef, wanted: str) -> None:
        """Severity, status and service; a shared channel's topic is not ours to change."""
        if channel.reused or channel.topic == wanted:
            return
        await self._call(
            "conversations.setTopic",
            self.client.conversations_setTopic(channel=channel.channel_id, topic=wanted),
        )
        await self.store.set_topic(self.state.id, wanted)

    async def _invite(self, channel: SlackChannelRef) -> None:
        wanted = set(self.options.oncall_users)
        if self.state.commander and is_slack_user(self.state.commander):
            wanted.add(self.state.commander)
        todo = sorted(wanted - channel.invited)
        if not todo:
            return
        answer = await self._call(
            "conversations.invite",
            self.client.conversations_invite(channel=channel.channel_id, users=todo, force=True),
            tolerate=INVITE_TOLERATED,
        )
        refused: Any = answer.get("errors") if answer is not None else None
        if refused:
            log.info("slack invite for %s: some users not added: %s", self.state.id, refused)
        await self.store.add_invited(self.state.id, todo)

    async def _pin(self, key: str) -> None:
        ref = self.messages.get(key)
        if ref is None or ref.pinned:
            return
        await self._call(
            "pins.add",
            self.client.pins_add(channel=ref.channel_id, timestamp=ref.ts),
            tolerate=("already_pinned", "too_many_pins"),
        )
        await self.store.mark_pinned(self.state.id, self.scope, key)
        self.messages[key] = replace(ref, pinned=True)

    async def _put(
        self,
        channel: SlackChannelRef,
        key: str,
        rendered: Rendered,
        *,
        thread_ts: str | None = None,
    ) -> str:
        """Post `rendered` under `key`, or update the message already posted; returns its ts."""
        digest = rendered.digest()
        known = self.messages.get(key)
        if known is not None and known.digest == digest:
            self.unchanged += 1
            return known.ts
        blocks_arg = rendered.blocks or None
        if known is not None:
            changed = await self._call(
                "chat.update",
                self.client.chat_update(
                    channel=known.channel_id, ts=known.ts, text=rendered.text, blocks=blocks_arg
                ),
                tolerate=REPOST_ON,
            )
            if changed is not None:
                await self.store.set_digest(self.state.id, self.scope, key, digest)
                self.messages[key] = replace(known, digest=digest)
                self.updated += 1
                return known.ts
            log.warning("slack message %s of %s is gone; posting it again", key, self.state.id)
        answer = await self._call(
            "chat.postMessage",
            self.client.chat_postMessage(
                channel=channel.channel_id,
                text=rendered.text,
                blocks=blocks_arg,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        if answer is None:  # pragma: no cover - nothing is tolerated for postMessage
            raise RuntimeError("chat.postMessage returned nothing")
        ts = str(answer["ts"])
        await self.store.save_message(
            self.state.id, self.scope, key, channel_id=channel.channel_id, ts=ts, digest=digest
        )
        self.messages[key] = SlackMessageRef(key, channel.channel_id, ts, digest, pinned=False)
        self.posted += 1
        return ts
