"""A stateful stand-in for the Slack Web API, served at `/api/<method>` (Starlette, ASGI).

Why: Slack is our 3am interface and there is no internet in tests. Canned replies would only
prove we parse canned replies, so this keeps a small workspace (users, channels with members,
topic and archive flag, messages by `(channel, ts)`, pins, views, issued `trigger_id`s,
`response_url`s) and lets Slack's errors fall out of that state, with the bodies and quirks in
`shared/contracts/slack/web-api/` and README section 3/5. Every call is recorded so tests assert
on what the product sent; faults (429 + Retry-After, 5xx outage HTML, any `ok:false` code, slow
answers, a whole-API outage) are injected per method.

Use it with the real clients: `AsyncWebClient(token=BOT_TOKEN, base_url=f"{url}/api/")` or the
sync `WebClient` (run the server in a thread then). Arguments are read from the query string,
the form body and the JSON body, because slack_sdk sends `params=` methods as a query string
(async) or form body (sync) and block-carrying methods as JSON.

Approximations (undocumented by Slack, chosen to be strict rather than lenient): channel names
with upper-case letters are rejected with `invalid_name_specials`; `response_url` answers
`{"ok": true}` / 404 `no_active_hooks` / 404 `used_url` after 5 posts; `views.open` checks the
trigger before validating the view and consumes it only on success.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import itertools
import json
import math
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .server import Fault, FaultBook, FaultKind, WaitGate

Json = dict[str, Any]

TEAM_ID = "T08DD0CRUN1"
TEAM_NAME = "Acme Engineering"
TEAM_DOMAIN = "acme-eng"
APP_ID = "A08DD0CAPP1"
BOT_ID = "B08DD0CBOT1"
BOT_USER_ID = "U08DD0CBOT1"
BOT_TOKEN = "xoxb-standin-bot-token"
ALERTS_CHANNEL_ID = "C07ALERTS01"
NO_TS = "0000000000.000000"

DEFAULT_BOT_SCOPES = frozenset(
    {
        "chat:write",
        "channels:manage",
        "channels:join",
        "channels:read",
        "groups:read",
        "groups:write",
        "im:write",
        "pins:write",
        "users:read",
        "commands",
    }
)
# Any one of the listed scopes satisfies the method; the first is reported as `needed`.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "conversations.create": ("channels:manage",),
    "conversations.setTopic": ("channels:manage", "channels:write.topic", "groups:write"),
    "conversations.invite": ("channels:manage", "groups:write"),
    "conversations.join": ("channels:join",),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.list": ("channels:read", "groups:read"),
    "pins.add": ("pins:write",),
    "users.info": ("users:read",),
}
SLACK_OUTAGE_HTML = (
    "<!DOCTYPE html><html><head><title>Slack is having trouble</title></head><body>"
    "<h1>Slack is temporarily unavailable</h1><p>We are working on it: status.slack.com</p>"
    "</body></html>"
)
_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]+$")
_JSON_ARGS = ("blocks", "attachments", "view", "metadata")
BOT_PROFILE: Json = {
    "id": BOT_ID,
    "deleted": False,
    "name": "dd0c/run",
    "updated": 1795000000,
    "app_id": APP_ID,
    "icons": {"image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png"},
    "team_id": TEAM_ID,
}


class SlackError(Exception):
    """An `ok: false` answer (HTTP 200 unless `status` says otherwise)."""

    def __init__(self, error: str, extra: Json | None = None, status: int = 200) -> None:
        super().__init__(error)
        self.error, self.status, self.extra = error, status, extra or {}


class FakeClock:
    """Slack time: moves only when told (`advance`); `next_ts()` is strictly increasing."""

    def __init__(self, start: float = 1795166000.0) -> None:
        self._now = start
        self._last_us = 0
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += seconds

    def next_ts(self) -> str:
        with self._lock:
            us = max(int(self._now * 1_000_000), self._last_us + 1)
            self._last_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"


@dataclass
class SlackUser:
    id: str
    name: str
    real_name: str
    is_bot: bool = False
    deleted: bool = False

    def to_api(self) -> Json:
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": "Europe/Berlin",
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {"real_name": self.real_name, "display_name": self.name, "team": TEAM_ID},
        }


@dataclass
class SlackChannel:
    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    archived: bool = False
    topic: Json = field(default_factory=lambda: {"value": "", "creator": "", "last_set": 0})
    purpose: Json = field(default_factory=lambda: {"value": "", "creator": "", "last_set": 0})
    pins: list[str] = field(default_factory=list)

    def to_api(self, viewer: str, last_read: str, num_members: bool = False) -> Json:
        body: Json = {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_im and not self.is_private,
            "is_group": self.is_private,
            "is_im": self.is_im,
            "is_mpim": False,
            "is_private": self.is_private or self.is_im,
            "created": self.created,
            "is_archived": self.archived,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": TEAM_ID,
            "updated": self.created * 1000,
            "parent_conversation": None,
            "creator": self.creator,
            "is_ext_shared": False,
            "shared_team_ids": [TEAM_ID],
            "pending_connected_team_ids": [],
            "is_member": viewer in self.members,
            "last_read": last_read if viewer in self.members else NO_TS,
            "topic": dict(self.topic),
            "purpose": dict(self.purpose),
            "properties": {},
            "previous_names": [],
            "priority": 0,
        }
        if num_members:
            body["num_members"] = len(self.members)
        return body


@dataclass
class SlackMessage:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[Json] | None = None
    attachments: list[Json] | None = None
    thread_ts: str | None = None
    subtype: str | None = None
    edited: Json | None = None
    metadata: Json | None = None
    bot: bool = True

    def to_api(self, *, include_ts: bool = True) -> Json:
        body: Json = {"user": self.user, "type": "message"}
        if self.subtype:
            body["subtype"] = self.subtype
        if include_ts:
            body["ts"] = self.ts
        if self.edited:
            body["edited"] = dict(self.edited)
        if self.bot:
            body |= {"bot_id": BOT_ID, "app_id": APP_ID}
        body |= {"text": self.text, "team": TEAM_ID}
        if self.bot:
            body["bot_profile"] = copy.deepcopy(BOT_PROFILE)
        if self.thread_ts:
            body["thread_ts"] = self.thread_ts
        if self.blocks:
            body["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            body["attachments"] = copy.deepcopy(self.attachments)
        if self.metadata:
            body["metadata"] = copy.deepcopy(self.metadata)
        return body


@dataclass
class SlackView:
    id: str
    user: str
    definition: Json
    hash: str
    external_id: str = ""

    def to_api(self) -> Json:
        d = self.definition
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "type": d.get("type", "modal"),
            "blocks": copy.deepcopy(d.get("blocks", [])),
            "private_metadata": d.get("private_metadata", ""),
            "callback_id": d.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self.hash,
            "title": copy.deepcopy(d.get("title")),
            "clear_on_close": bool(d.get("clear_on_close", False)),
            "notify_on_close": bool(d.get("notify_on_close", False)),
            "close": copy.deepcopy(d.get("close")),
            "submit": copy.deepcopy(d.get("submit")),
            "previous_view_id": None,
            "root_view_id": self.id,
            "app_id": APP_ID,
            "external_id": self.external_id,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }


@dataclass
class TriggerId:
    value: str
    user: str
    issued_at: float
    used: bool = False


@dataclass
class Token:
    token: str
    user_id: str
    scopes: frozenset[str]
    bot_id: str | None = BOT_ID


@dataclass
class Ephemeral:
    channel: str
    user: str
    ts: str
    text: str
    blocks: list[Json] | None


@dataclass
class ResponseHook:
    id: str
    channel: str | None
    message_ts: str | None
    user: str | None
    posts: list[Json] = field(default_factory=list)


@dataclass
class SlackCall:
    """One request as the stand-in saw it, and what it answered."""

    method: str
    http_method: str
    args: Json
    headers: dict[str, str]
    status: int = 200
    response: Json | str = ""
    fault: str | None = None
    arg_sources: list[str] = field(default_factory=list)  # "query", "form", "json"

    @property
    def ok(self) -> bool:
        return isinstance(self.response, dict) and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error") if isinstance(self.response, dict) else None


@dataclass
class _Ctx:
    args: Json
    token: Token


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return value is True or value == 1


def _decode_args(raw: Json) -> Json:
    args = dict(raw)
    for key in _JSON_ARGS:
        if isinstance(args.get(key), str) and args[key]:
            # undecodable values stay strings: handlers answer invalid_blocks / invalid_arguments
            with contextlib.suppress(json.JSONDecodeError):
                args[key] = json.loads(args[key])
    if isinstance(args.get("users"), str):
        args["users"] = [u for u in args["users"].split(",") if u.strip()]
    return args


class SlackStandin:
    """The Slack workspace and its Web API. An ASGI app: pass it to `StandinServer`."""

    def __init__(
        self,
        *,
        trigger_ttl: float | None = 3.0,
        post_interval: float | None = None,
        seed: bool = True,
    ) -> None:
        """`trigger_ttl`: seconds of fake clock a trigger_id stays usable (None = forever).
        `post_interval`: opt-in chat.postMessage limit per channel in real seconds (Slack's is
        about 1 message/s); a faster post gets 429 `ratelimited` with Retry-After."""
        self.trigger_ttl = trigger_ttl
        self.post_interval = post_interval
        self._seed = seed
        self._lock = threading.RLock()
        self._gate = WaitGate()
        self.url: str | None = None
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=["GET", "POST"]),
                Route("/response_url/{hook}", self._response_url, methods=["POST"]),
            ]
        )
        self._handlers: dict[str, Callable[[_Ctx], Json]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "conversations.create": self._conversations_create,
            "conversations.setTopic": self._conversations_set_topic,
            "conversations.invite": self._conversations_invite,
            "conversations.join": self._conversations_join,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
            "pins.add": self._pins_add,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "users.info": self._users_info,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    # -- setup & state --------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything (state, calls, faults) and re-seed the fixture workspace."""
        with self._lock:
            self.clock = FakeClock()
            self.tokens: dict[str, Token] = {}
            self.users: dict[str, SlackUser] = {}
            self.channels: dict[str, SlackChannel] = {}
            self.messages: dict[tuple[str, str], SlackMessage] = {}
            self.ephemerals: list[Ephemeral] = []
            self.views: dict[str, SlackView] = {}
            self.triggers: dict[str, TriggerId] = {}
            self.hooks: dict[str, ResponseHook] = {}
            self.calls: list[SlackCall] = []
            self.faults = FaultBook()
            self.is_down = False
            self._last_post: dict[str, float] = {}
            self._ids = itertools.count(1)
            if self._seed:
                self._seed_workspace()

    def _seed_workspace(self) -> None:
        self.add_token(BOT_TOKEN, user_id=BOT_USER_ID)
        self.add_user(BOT_USER_ID, "dd0c_run", "dd0c/run", is_bot=True)
        self.add_user("U07PRIYA01", "priya.natarajan", "Priya Natarajan")
        self.add_user("U07MARCUS02", "marcus.chen", "Marcus Chen")
        self.add_channel(
            "alerts-prod",
            channel_id=ALERTS_CHANNEL_ID,
            members=[BOT_USER_ID, "U07PRIYA01", "U07MARCUS02"],
        )

    def add_token(
        self, token: str, *, user_id: str = BOT_USER_ID, scopes: Iterable[str] | None = None
    ) -> Token:
        entry = Token(token, user_id, frozenset(DEFAULT_BOT_SCOPES if scopes is None else scopes))
        self.tokens[token] = entry
        return entry

    def add_user(self, user_id: str, name: str, real_name: str, *, is_bot: bool = False) -> None:
        self.users[user_id] = SlackUser(user_id, name, real_name, is_bot=is_bot)

    def add_channel(
        self,
        name: str,
        *,
        channel_id: str | None = None,
        members: Iterable[str] = (),
        is_private: bool = False,
        archived: bool = False,
    ) -> SlackChannel:
        ch = SlackChannel(
            id=channel_id or self._new_id("C"),
            name=name,
            created=int(self.clock.now()),
            creator=BOT_USER_ID,
            is_private=is_private,
            members=set(members),
            archived=archived,
        )
        self.channels[ch.id] = ch
        return ch

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}0STANDIN{next(self._ids):03d}"

    def bind_url(self, url: str) -> None:
        self.url = url

    def release_waiters(self) -> None:
        self._gate.release()

    def rearm_waiters(self) -> None:
        self._gate.rearm()

    # -- faults ---------------------------------------------------------------------------

    def inject(
        self,
        method: str,
        kind: FaultKind,
        *,
        times: int | None = 1,
        retry_after: int = 1,
        status: int = 503,
        error: str = "fatal_error",
        delay: float = 10.0,
        process: bool = True,
    ) -> Fault:
        """Make the next `times` calls to `method` ("*" = any) fail; see `server.Fault`."""
        fault = Fault(method, kind, times, retry_after, status, error, delay, process)
        with self._lock:
            return self.faults.add(fault)

    def down(self) -> None:
        """Answer every request with Slack's 503 outage page until `up()`."""
        self.is_down = True

    def up(self) -> None:
        self.is_down = False

    # -- interaction helpers --------------------------------------------------------------

    def mint_trigger_id(self, user: str = "U07MARCUS02") -> str:
        n = next(self._ids)
        digest = hashlib.sha256(f"trigger-{n}".encode()).hexdigest()[:32]
        return self.register_trigger_id(f"80123456{n:05d}.8012345678.{digest}", user)

    def register_trigger_id(self, value: str, user: str = "U07MARCUS02") -> str:
        """Accept a trigger id chosen elsewhere (e.g. one from a fixture), issued now."""
        with self._lock:
            self.triggers[value] = TriggerId(value, user, self.clock.now())
        return value

    def mint_response_url(
        self, *, channel: str | None = None, message_ts: str | None = None, user: str | None = None
    ) -> str:
        if self.url is None:
            raise RuntimeError("start the stand-in under StandinServer before minting URLs")
        hook = ResponseHook(f"hook{next(self._ids)}", channel, message_ts, user)
        self.hooks[hook.id] = hook
        return f"{self.url}/response_url/{hook.id}"

    def prepare_interaction(
        self,
        payload: Json,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> Json:
        """A copy of an interactivity payload (block_actions, view_submission) with a live
        `trigger_id` and `response_url` minted here; `channel`/`message_ts` retarget the click."""
        out = copy.deepcopy(payload)
        user = str(out.get("user", {}).get("id", "U07MARCUS02"))
        container = out.get("container")
        if isinstance(container, dict):
            if channel:
                container["channel_id"] = channel
                if isinstance(out.get("channel"), dict):
                    out["channel"]["id"] = channel
            if message_ts:
                container["message_ts"] = message_ts
                if isinstance(out.get("message"), dict):
                    out["message"]["ts"] = message_ts
            channel, message_ts = container.get("channel_id"), container.get("message_ts")
        out["trigger_id"] = self.mint_trigger_id(user)
        if "response_url" in out or isinstance(container, dict):
            out["response_url"] = self.mint_response_url(
                channel=channel, message_ts=message_ts, user=user
            )
        return out

    def prepare_slash_command(self, fields: dict[str, str]) -> dict[str, str]:
        out = dict(fields)
        out["trigger_id"] = self.mint_trigger_id(out.get("user_id", "U07PRIYA01"))
        out["response_url"] = self.mint_response_url(
            channel=out.get("channel_id"), user=out.get("user_id")
        )
        return out

    # -- assertions helpers ---------------------------------------------------------------

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def messages_in(self, channel: str, *, include_system: bool = False) -> list[SlackMessage]:
        found = [m for (ch, _), m in self.messages.items() if ch == channel]
        return sorted((m for m in found if include_system or m.subtype is None), key=lambda m: m.ts)

    def last_message(self, channel: str) -> SlackMessage | None:
        msgs = self.messages_in(channel)
        return msgs[-1] if msgs else None

    def channel_named(self, name: str) -> SlackChannel | None:
        return next((c for c in self.channels.values() if c.name == name), None)

    def response_url_posts(self, hook_url: str | None = None) -> list[Json]:
        hook_id = hook_url.rsplit("/", 1)[-1] if hook_url else None
        return [p for h in self.hooks.values() if hook_id in (None, h.id) for p in h.posts]

    # -- HTTP -----------------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        headers = {k.lower(): v for k, v in request.headers.items()}
        call = SlackCall(method, request.method, {}, headers)
        self.calls.append(call)
        try:
            call.args = _decode_args(await self._read_args(request, call.arg_sources))
        except SlackError as err:
            return self._finish(call, err.status, {"ok": False, "error": err.error})
        if self.is_down:
            return self._finish(call, 503, SLACK_OUTAGE_HTML, fault="down")
        with self._lock:
            fault = self.faults.take(method)
        if fault is None:
            status, body, extra = self._dispatch(method, call.args, headers)
            return self._finish(call, status, body, headers=extra)
        if fault.kind == "ratelimited":
            body = {"ok": False, "error": "ratelimited"}
            return self._finish(
                call, 429, body, {"Retry-After": str(fault.retry_after)}, "ratelimited"
            )
        if fault.kind == "http_status":
            return self._finish(call, fault.status, SLACK_OUTAGE_HTML, fault="http_status")
        if fault.kind == "error":
            return self._finish(call, 200, {"ok": False, "error": fault.error}, fault="error")
        status, body, extra = (200, {"ok": False, "error": "timeout"}, {})
        if fault.process:
            status, body, extra = self._dispatch(method, call.args, headers)
        await self._gate.sleep(fault.delay)
        return self._finish(call, status, body, extra, fault="timeout")

    async def _read_args(self, request: Request, sources: list[str]) -> Json:
        args: Json = dict(request.query_params.items())
        if args:
            sources.append("query")
        raw = await request.body()
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if not raw:
            return args
        if ctype == "application/json":
            try:
                body = json.loads(raw)
            except json.JSONDecodeError as err:
                raise SlackError("invalid_json") from err
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            args.update(body)
            sources.append("json")
        elif ctype in ("application/x-www-form-urlencoded", ""):
            args.update(urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            sources.append("form")
        return args

    def _finish(
        self,
        call: SlackCall,
        status: int,
        body: Json | str,
        headers: dict[str, str] | None = None,
        fault: str | None = None,
    ) -> Response:
        call.status, call.response, call.fault = status, body, fault
        if isinstance(body, str):
            return HTMLResponse(body, status_code=status, headers=headers)
        return JSONResponse(
            body, status_code=status, headers=headers, media_type="application/json; charset=utf-8"
        )

    def _dispatch(
        self, method: str, args: Json, headers: dict[str, str]
    ) -> tuple[int, Json, dict[str, str]]:
        if method == "api.test":
            if args.get("error"):
                return 200, {"ok": False, "error": args["error"], "args": args}, {}
            return 200, {"ok": True, "args": args}, {}
        handler = self._handlers.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        auth = headers.get("authorization", "")
        raw_token = auth[7:].strip() if auth.lower().startswith("bearer ") else args.get("token")
        if not raw_token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        token = self.tokens.get(str(raw_token))
        if token is None:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        scope_headers = {"X-OAuth-Scopes": ",".join(sorted(token.scopes))}
        needed = METHOD_SCOPES.get(method, ())
        if method == "conversations.create" and _truthy(args.get("is_private")):
            needed = ("groups:write",)
        if needed and not token.scopes.intersection(needed):
            body = {
                "ok": False,
                "error": "missing_scope",
                "needed": needed[0],
                "provided": ",".join(sorted(token.scopes)),
            }
            return 200, body, scope_headers
        try:
            with self._lock:
                result = handler(_Ctx(args, token))
        except SlackError as err:
            if err.status == 429:
                scope_headers["Retry-After"] = str(math.ceil(self.post_interval or 1))
            return err.status, {"ok": False, "error": err.error, **err.extra}, scope_headers
        return 200, {"ok": True, **result}, scope_headers

    async def _response_url(self, request: Request) -> Response:
        if self.is_down:
            return HTMLResponse(SLACK_OUTAGE_HTML, status_code=503)
        hook = self.hooks.get(request.path_params["hook"])
        if hook is None:
            return JSONResponse({"ok": False, "error": "no_active_hooks"}, status_code=404)
        if len(hook.posts) >= 5:
            return JSONResponse({"ok": False, "error": "used_url"}, status_code=404)
        try:
            body = json.loads(await request.body())
        except json.JSONDecodeError:
            return JSONResponse({"ok": False, "error": "invalid_payload"}, status_code=400)
        with self._lock:
            hook.posts.append(body)
            self._apply_response_url(hook, body)
        return JSONResponse({"ok": True})

    def _apply_response_url(self, hook: ResponseHook, body: Json) -> None:
        key = (hook.channel or "", hook.message_ts or "")
        blocks = body.get("blocks") or None
        if _truthy(body.get("delete_original")):
            self.messages.pop(key, None)
        elif _truthy(body.get("replace_original")) and key in self.messages:
            msg = self.messages[key]
            msg.text, msg.blocks = str(body.get("text", "")), blocks
        elif hook.channel and body.get("response_type") == "in_channel":
            ts = self.clock.next_ts()
            msg = SlackMessage(hook.channel, ts, BOT_USER_ID, str(body.get("text", "")), blocks)
            self.messages[(hook.channel, ts)] = msg
        elif hook.channel and hook.user:
            text = str(body.get("text", ""))
            self.ephemerals.append(
                Ephemeral(hook.channel, hook.user, self.clock.next_ts(), text, blocks)
            )

    # -- state lookups shared by handlers -------------------------------------------------

    def _channel(self, ref: Any, ctx: _Ctx, *, allow_dm: bool = False) -> SlackChannel:
        if not isinstance(ref, str) or not ref:
            raise SlackError("channel_not_found")
        ch = self.channels.get(ref) or self.channel_named(ref.removeprefix("#"))
        if ch is None and allow_dm and ref in self.users:
            ch = next((c for c in self.channels.values() if c.is_im and ref in c.members), None)
            if ch is None:
                ch = SlackChannel(self._new_id("D"), ref, int(self.clock.now()), ctx.token.user_id)
                ch.is_im, ch.members = True, {ctx.token.user_id, ref}
                self.channels[ch.id] = ch
        if ch is None or (ch.is_private and ctx.token.user_id not in ch.members):
            raise SlackError("channel_not_found")
        return ch

    def _member(self, ch: SlackChannel, ctx: _Ctx) -> None:
        if ch.archived:
            raise SlackError("is_archived")
        if ctx.token.user_id not in ch.members:
            raise SlackError("not_in_channel")

    def _channel_api(self, ch: SlackChannel, ctx: _Ctx, num_members: bool = False) -> Json:
        msgs = self.messages_in(ch.id, include_system=True)
        last_read = msgs[-1].ts if msgs else NO_TS
        return ch.to_api(ctx.token.user_id, last_read, num_members)

    def _post(
        self, ch: SlackChannel, user: str, text: str, subtype: str | None = None, **kw: Any
    ) -> SlackMessage:
        msg = SlackMessage(ch.id, self.clock.next_ts(), user, text, subtype=subtype, **kw)
        self.messages[(ch.id, msg.ts)] = msg
        return msg

    def _blocks(self, value: Any, limit: int = 50) -> list[Json] | None:
        if value is None or value == "" or value == []:
            return None  # an empty list means "no blocks" (chat.update: remove them)
        if not isinstance(value, list) or not all(
            isinstance(b, dict) and isinstance(b.get("type"), str) for b in value
        ):
            raise SlackError("invalid_blocks")
        if len(value) > limit:
            raise SlackError("msg_blocks_too_long" if limit == 50 else "invalid_blocks")
        blocks = copy.deepcopy(value)
        for block in blocks:
            block.setdefault("block_id", f"sb{next(self._ids)}")
        return blocks

    # -- methods --------------------------------------------------------------------------

    def _auth_test(self, ctx: _Ctx) -> Json:
        user = self.users.get(ctx.token.user_id)
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": user.name if user else ctx.token.user_id,
            "team_id": TEAM_ID,
            "user_id": ctx.token.user_id,
            "bot_id": ctx.token.bot_id,
            "is_enterprise_install": False,
        }

    def _message_content(self, args: Json) -> tuple[str, list[Json] | None, list[Json] | None]:
        text = str(args.get("text") or "")
        if len(text) > 40000:
            raise SlackError("msg_too_long")
        attachments = args.get("attachments") or None
        if attachments is not None and not isinstance(attachments, list):
            raise SlackError("invalid_attachments")
        return text, self._blocks(args.get("blocks")), attachments

    def _chat_post_message(self, ctx: _Ctx) -> Json:
        ch = self._channel(ctx.args.get("channel"), ctx, allow_dm=True)
        public = not ch.is_private and not ch.is_im
        if public and not ch.archived and "chat:write.public" in ctx.token.scopes:
            pass  # chat:write.public lets a bot post to public channels it has not joined
        else:
            self._member(ch, ctx)
        text, blocks, attachments = self._message_content(ctx.args)
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        if self.post_interval is not None:
            now, last = time.monotonic(), self._last_post.get(ch.id)
            if last is not None and now - last < self.post_interval:
                raise SlackError("ratelimited", status=429)
            self._last_post[ch.id] = now
        meta = ctx.args.get("metadata")
        msg = self._post(
            ch,
            ctx.token.user_id,
            text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=ctx.args.get("thread_ts") or None,
            metadata=meta if isinstance(meta, dict) else None,
        )
        body: Json = {"channel": ch.id, "ts": msg.ts, "message": msg.to_api()}
        if blocks and not text:
            warning = "missing_text_or_fallback_or_attachments"
            body |= {"warning": warning, "response_metadata": {"warnings": [warning]}}
        return body

    def _chat_update(self, ctx: _Ctx) -> Json:
        ch = self._channel(ctx.args.get("channel"), ctx)
        msg = self.messages.get((ch.id, str(ctx.args.get("ts", ""))))
        if msg is None or msg.subtype is not None:
            raise SlackError("message_not_found")
        if msg.user != ctx.token.user_id:
            raise SlackError("cant_update_message")
        text, blocks, attachments = self._message_content(ctx.args)
        if "blocks" in ctx.args:
            msg.blocks = blocks  # an empty list removes them
        elif "text" in ctx.args:
            msg.blocks = None  # documented quirk: text alone drops the old blocks
        if "text" in ctx.args:
            msg.text = text
        if "attachments" in ctx.args:
            msg.attachments = attachments
        msg.edited = {"user": ctx.token.user_id, "ts": self.clock.next_ts()}
        return {
            "channel": ch.id,
            "ts": msg.ts,
            "text": msg.text,
            "message": msg.to_api(include_ts=False),
        }

    def _chat_post_ephemeral(self, ctx: _Ctx) -> Json:
        ch = self._channel(ctx.args.get("channel"), ctx)
        self._member(ch, ctx)
        user = str(ctx.args.get("user", ""))
        if user not in self.users:
            raise SlackError("user_not_found")
        if user not in ch.members:
            raise SlackError("user_not_in_channel")
        text, blocks, attachments = self._message_content(ctx.args)
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        eph = Ephemeral(ch.id, user, self.clock.next_ts(), text, blocks)
        self.ephemerals.append(eph)
        return {"message_ts": eph.ts}

    def _conversations_create(self, ctx: _Ctx) -> Json:
        name = ctx.args.get("name")
        if not isinstance(name, str) or not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if set(name) <= set("-_"):
            raise SlackError("invalid_name_punctuation")
        if not _CHANNEL_NAME.match(name):
            raise SlackError("invalid_name_specials")
        if self.channel_named(name) is not None:
            raise SlackError("name_taken")
        ch = self.add_channel(
            name, members=[ctx.token.user_id], is_private=_truthy(ctx.args.get("is_private"))
        )
        ch.creator = ctx.token.user_id
        return {"channel": self._channel_api(ch, ctx)}

    def _conversations_set_topic(self, ctx: _Ctx) -> Json:
        ch = self._channel(ctx.args.get("channel"), ctx)
        self._member(ch, ctx)
        topic = str(ctx.args.get("topic", ""))
        if len(topic) > 250:
            raise SlackError("too_long")
        msg = self._post(ch, ctx.token.user_id, f"set the channel topic: {topic}", "channel_topic")
        ch.topic = {"value": topic, "creator": ctx.token.user_id, "last_set": int(float(msg.ts))}
        return {"channel": self._channel_api(ch, ctx)}

    def _conversations_invite(self, ctx: _Ctx) -> Json:
        ch = self._channel(ctx.args.get("channel"), ctx)
        self._member(ch, ctx)
        users = ctx.args.get("users")
        if not isinstance(users, list) or not users:
            raise SlackError("no_user")
        errors: list[Json] = []
        ok_users: list[str] = []
        for user in (str(u).strip() for u in users):
            code = (
                "user_not_found"
                if user not in self.users or self.users[user].deleted
                else "cant_invite_self"
                if user == ctx.token.user_id
                else "already_in_channel"
                if user in ch.members
                else None
            )
            if code:
                errors.append({"user": user, "ok": False, "error": code})
            else:
                ok_users.append(user)
        if errors and not _truthy(ctx.args.get("force")):
            extra = {"errors": errors} if len(users) > 1 else {}
            raise SlackError(str(errors[0]["error"]), extra)
        for user in ok_users:
            ch.members.add(user)
            self._post(ch, user, f"<@{user}> has joined the channel", "channel_join", bot=False)
        body: Json = {"channel": self._channel_api(ch, ctx)}
        if errors:
            body["errors"] = errors
        return body

    def _conversations_join(self, ctx: _Ctx) -> Json:
        ch = self._channel(ctx.args.get("channel"), ctx)
        if ch.is_private or ch.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        if ch.archived:
            raise SlackError("is_archived")
        if ctx.token.user_id in ch.members:
            warning = "already_in_channel"
            return {
                "channel": self._channel_api(ch, ctx),
                "warning": warning,
                "response_metadata": {"warnings": [warning]},
            }
        ch.members.add(ctx.token.user_id)
        uid = ctx.token.user_id
        self._post(ch, uid, f"<@{uid}> has joined the channel", "channel_join", bot=False)
        return {"channel": self._channel_api(ch, ctx)}

    def _conversations_info(self, ctx: _Ctx) -> Json:
        ch = self._channel(ctx.args.get("channel"), ctx)
        return {"channel": self._channel_api(ch, ctx, _truthy(ctx.args.get("include_num_members")))}

    def _conversations_list(self, ctx: _Ctx) -> Json:
        types = set(str(ctx.args.get("types") or "public_channel").split(","))
        exclude_archived = _truthy(ctx.args.get("exclude_archived"))

        def member(ch: SlackChannel) -> bool:
            return ctx.token.user_id in ch.members

        visible = [
            ch
            for ch in self.channels.values()
            if not (exclude_archived and ch.archived)
            and (
                ("public_channel" in types and not ch.is_private and not ch.is_im)
                or ("private_channel" in types and ch.is_private and member(ch))
                or ("im" in types and ch.is_im and member(ch))
            )
        ]
        visible.sort(key=lambda c: c.id)
        try:
            start = int(base64.b64decode(str(ctx.args["cursor"])).decode().split(":")[1])
        except KeyError:
            start = 0
        except (ValueError, IndexError) as err:
            raise SlackError("invalid_cursor") from err
        limit = int(ctx.args.get("limit") or 100)
        page = visible[start : start + limit]
        more = start + limit < len(visible)
        cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
        return {
            "channels": [self._channel_api(c, ctx) for c in page],
            "response_metadata": {"next_cursor": cursor},
        }

    def _pins_add(self, ctx: _Ctx) -> Json:
        ch = self._channel(ctx.args.get("channel"), ctx)
        ts = ctx.args.get("timestamp")
        if not ts:
            raise SlackError("no_item_specified")
        self._member(ch, ctx)
        if (ch.id, ts) not in self.messages:
            raise SlackError("message_not_found")
        if ts in ch.pins:
            raise SlackError("already_pinned")
        if len(ch.pins) >= 100:
            raise SlackError("too_many_pins")
        ch.pins.append(str(ts))
        return {}

    def _check_view(self, view: Any) -> Json:
        problems: list[str] = []
        if not isinstance(view, dict):
            problems.append("[ERROR] must be an object [json-pointer:/view]")
            view = {}
        if view.get("type") != "modal":
            problems.append("[ERROR] must be one of [modal] [json-pointer:/view/type]")
        title = view.get("title")
        title_text = title.get("text") if isinstance(title, dict) else None
        title_ptr = "[json-pointer:/view/title/text]"
        if not isinstance(title_text, str) or not title_text:
            problems.append(f"[ERROR] must be more than 0 characters {title_ptr}")
        elif len(title_text) > 24:
            problems.append(f"[ERROR] must be less than 25 characters {title_ptr}")
        blocks = view.get("blocks")
        if not isinstance(blocks, list):
            problems.append("[ERROR] must be an array [json-pointer:/view/blocks]")
        else:
            try:
                self._blocks(blocks, limit=100)
            except SlackError:
                problems.append("[ERROR] invalid blocks [json-pointer:/view/blocks]")
            has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
            if has_input and not view.get("submit"):
                problems.append("[ERROR] must provide a submit button [json-pointer:/view/submit]")
        if len(str(view.get("private_metadata", ""))) > 3000:
            problems.append(
                "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
            )
        if len(str(view.get("callback_id", ""))) > 255:
            problems.append(
                "[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]"
            )
        if problems:
            messages = ["[ERROR] failed to match all allowed schemas [json-pointer:/view]"]
            raise SlackError(
                "invalid_arguments", {"response_metadata": {"messages": messages + problems}}
            )
        return dict(view)

    def _new_view(self, user: str, definition: Json, view_id: str | None = None) -> SlackView:
        n = next(self._ids)
        view_hash = f"{int(self.clock.now())}.{hashlib.sha256(str(n).encode()).hexdigest()[:8]}"
        external_id = str(definition.get("external_id", ""))
        view = SlackView(view_id or self._new_id("V"), user, definition, view_hash, external_id)
        self.views[view.id] = view
        return view

    def _views_open(self, ctx: _Ctx) -> Json:
        trigger = self.triggers.get(str(ctx.args.get("trigger_id", "")))
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self.trigger_ttl is not None and self.clock.now() - trigger.issued_at > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        definition = self._check_view(ctx.args.get("view"))
        ext = definition.get("external_id")
        if ext and any(v.external_id == ext for v in self.views.values()):
            raise SlackError("duplicate_external_id")
        trigger.used = True
        return {"view": self._new_view(trigger.user, definition).to_api()}

    def _views_update(self, ctx: _Ctx) -> Json:
        view_id, ext = ctx.args.get("view_id"), ctx.args.get("external_id")
        if not view_id and not ext:
            raise SlackError("invalid_arguments")
        current = (
            self.views.get(str(view_id))
            if view_id
            else next((v for v in self.views.values() if v.external_id == ext), None)
        )
        if current is None:
            raise SlackError("not_found")
        expected = ctx.args.get("hash")
        if expected and expected != current.hash:
            raise SlackError("hash_conflict")
        definition = self._check_view(ctx.args.get("view"))
        definition.setdefault("external_id", current.external_id)
        return {"view": self._new_view(current.user, definition, current.id).to_api()}

    def _users_info(self, ctx: _Ctx) -> Json:
        user = self.users.get(str(ctx.args.get("user", "")))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user.to_api()}
