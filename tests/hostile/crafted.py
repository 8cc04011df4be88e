"""Hostile bodies for every inbound route, sent validly signed so they reach the parsers.

`hostile_app` runs the real app (real Temporal test server, workers, database) with a secret for
every source and for Slack; `Sender.send` signs a raw body the way its sender would and records
every answer, and `Sender.problems` lists the answers that break the contract: any status
>= 500, or a 4xx without a JSON `error` message.

The samples are the contract fixtures (/work/shared/contracts), refreshed per request where the
product keys on a delivery id (PagerDuty event id, Opsgenie alert id), so each crafted body is a
new delivery and gets all the way to Temporal when it is valid.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from domain.slack.actions import Action, ActionValue, Callback
from domain.slack.modals import ModalContext
from tests.harness import Stack, corpus_payload, generic_alert, running_stack, unique
from tests.standins.slack_api import BOT_TOKEN, SlackStandin
from tests.support import CONTRACTS

PD_SECRET = "hostile-pd-secret"
GF_SECRET = "hostile-gf-secret"
GF_SIGNATURE = "X-Grafana-Alerting-Signature"
GF_TIMESTAMP = "X-Grafana-Alerting-Signature-Timestamp"
OG_TOKEN = "hostile-og-token"
AM_TOKEN = "hostile-am-token"
GENERIC_TOKEN = "hostile-generic-token"
SLACK_SECRET = "hostile-slack-secret-0123456789"
FORM = "application/x-www-form-urlencoded"
FAILED = "was not completed"  # api/slack_replies.failure: an exception nobody expected

Json = Any
WEBHOOKS = ("pagerduty", "grafana", "opsgenie", "alertmanager", "generic")
SLACK_ROUTES = ("/slack/interactions", "/slack/commands")


def _fixture(path: str) -> Json:
    return json.loads((CONTRACTS / path).read_text())


def samples() -> dict[str, list[tuple[str, Json]]]:
    """Per webhook route, the contract payloads it must accept (named for messages)."""
    return {
        "pagerduty": [
            (name, _fixture(f"pagerduty/webhooks-v3/incident.{name}.json"))
            for name in ("triggered", "resolved", "annotated")
        ],
        "grafana": [("firing", _fixture("grafana/webhook.firing.json"))],
        "opsgenie": [
            ("create", _fixture("opsgenie/webhook.create.json")),
            ("close", _fixture("opsgenie/webhook.close.json")),
        ],
        "alertmanager": [
            ("firing", _fixture("alertmanager/webhook.firing.json")),
            ("corpus", corpus_payload("13-default-payments-TargetDown-firing.json")),
        ],
        "generic": [
            (
                "documented",
                generic_alert(
                    "HostileGeneric",
                    dedup_key="hostile-generic",
                    starts_at="2026-11-20T09:12:00Z",
                    ends_at="2026-11-20T09:42:00Z",
                    url="https://example.com/alert",
                    event_id="hostile-generic-1",
                ),
            )
        ],
    }


def fresh(route: str, payload: Json) -> Json:
    """A copy with new delivery ids, so the product treats it as a new delivery."""
    out = copy.deepcopy(payload)
    if route == "pagerduty" and isinstance(out.get("event"), dict):
        out["event"]["id"] = unique("01EV")
    if route == "opsgenie" and isinstance(out.get("alert"), dict):
        out["alert"]["alertId"] = unique("og-id-")
    return out


# ------------------------------------------------------------------------------ mutations

Path = tuple[str | int, ...]


def leaves(node: Json, path: Path = ()) -> Iterator[tuple[Path, Json]]:
    """Every scalar in a document, and every empty container, with its path."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list) and node:
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))
    else:
        yield path, node


def containers(node: Json, path: Path = ()) -> Iterator[tuple[Path, Json]]:
    """Every object in a document, with its path."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from containers(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from containers(value, (*path, index))


def replaced(doc: Json, path: Path, value: Json) -> Json:
    out = copy.deepcopy(doc)
    if not path:
        return value
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


# Over Temporal's 2,048-byte keyword limit and its 1,000-byte workflow-id limit, in 2- and
# 4-byte characters so that cutting by characters instead of bytes would still be too long.
OVERSIZED = "é" * 1200 + "😀" * 300 + "x" * 600
ODD_TEXT = "nul\x00 rtl\u202e zw\u200b bom\ufeff ctl\x1b[31m emoji😀 cjk漢字 \U0010ffff"
BAD_DATES = (
    "10000-01-01T00:00:00Z",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+01:00",
    "0000-00-00T00:00:00Z",
    "2026-13-45T25:61:61Z",
    "not a date",
    "",
)
BAD_EPOCHS = (10**30, 2**63, -1, -(10**20), 253_402_300_800_000, 10**39)


def _is_time_key(path: Path) -> bool:
    key = str(path[-1]) if path else ""
    return key.endswith(("At", "_at", "_ts")) or key in ("timestamp", "time")


def wrong_types(value: Json) -> list[Json]:
    """Values of other JSON types than `value`'s."""
    options: list[Json] = [{"nested": [1, {"x": None}]}, [value], None, True, 0, -1.5e308, "s"]
    return [o for o in options if type(o) is not type(value)][:4]


def field_mutations(doc: Json) -> Iterator[tuple[str, Json]]:
    """Wrong types in every field, oversized and odd text in every string field, bad dates
    and epochs in every time field, and an oversized key in every object."""
    for path, value in leaves(doc):
        where = ".".join(map(str, path)) or "<root>"
        for other in wrong_types(value):
            yield f"{where}={type(other).__name__}", replaced(doc, path, other)
        if isinstance(value, str):
            yield f"{where}=oversized", replaced(doc, path, OVERSIZED)
            yield f"{where}=odd text", replaced(doc, path, ODD_TEXT + value)
        if _is_time_key(path):
            for bad in (*BAD_DATES, *BAD_EPOCHS):
                yield f"{where}={bad!r}", replaced(doc, path, bad)
    for path, node in containers(doc):
        where = ".".join(map(str, path)) or "<root>"
        yield f"{where}+oversized key", replaced(doc, path, {**node, OVERSIZED: "v"})


def _compact(doc: Json) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def raw_bodies(sample: Json) -> Iterator[tuple[str, bytes]]:
    """Bodies that are hostile as bytes: nesting, numbers, encodings, duplicates, non-JSON."""
    text = _compact(sample)
    inner = text[1:-1]
    yield "empty", b""
    yield "whitespace", b" \r\n\t "
    yield "deep arrays", b"[" * 5000 + b"]" * 5000
    yield "deep objects", b'{"a":' * 5000 + b"1" + b"}" * 5000
    yield "deep unclosed", b"[" * 5000
    yield "deep in a field", ("{" + inner + ',"deep":' + "[" * 5000 + "]" * 5000 + "}").encode()
    yield "65 deep", ("[" * 65 + "]" * 65).encode()
    yield "5000-digit int", b"1" * 5000
    yield "5000-digit int in a field", ("{" + inner + ',"n":' + "9" * 5000 + "}").encode()
    yield "41-digit negative int", ("{" + inner + ',"n":-' + "9" * 41 + "}").encode()
    yield "huge exponent", ("{" + inner + ',"n":1e999999}').encode()
    yield "NaN", ("{" + inner + ',"n":NaN}').encode()
    yield "Infinity", ("{" + inner + ',"n":-Infinity}').encode()
    yield "lone surrogate", ("{" + inner + ',"s":"\\ud800x"}').encode()
    yield "lone low surrogate", ("{" + inner + ',"s":"\\udc00"}').encode()
    yield "escaped NUL", ("{" + inner + ',"s":"\\u0000"}').encode()
    yield "duplicate keys", ("{" + inner + "," + inner + "}").encode()
    yield "UTF-16", text.encode("utf-16")
    yield "UTF-8 BOM", b"\xef\xbb\xbf" + text.encode()
    yield "invalid UTF-8", text.encode()[:-1] + b"\xff\xfe}"
    yield "truncated", text.encode()[: len(text) // 2]
    yield "trailing garbage", text.encode() + b"}{"
    for top in ("[]", '"text"', "1", "null", "true", "{}", "[{}]"):
        yield f"top-level {top}", top.encode()
    yield "form encoded", urllib.parse.urlencode({"payload": text}).encode()
    yield "binary", bytes(range(256))


# ------------------------------------------------------------------------------ sending


@dataclass
class Sender:
    stack: Stack
    slack: SlackStandin
    answers: list[tuple[str, str, int, str]] = field(default_factory=list)
    unexplained: list[tuple[str, str, int, str]] = field(default_factory=list)

    def _headers(self, path: str, raw: bytes) -> dict[str, str]:
        if path == "/webhooks/pagerduty":
            digest = hmac.new(PD_SECRET.encode(), raw, hashlib.sha256).hexdigest()
            return {"X-PagerDuty-Signature": f"v1={digest}"}
        if path == "/webhooks/grafana":
            ts = str(int(time.time()))
            message = f"{ts}:".encode() + raw
            digest = hmac.new(GF_SECRET.encode(), message, hashlib.sha256).hexdigest()
            return {GF_TIMESTAMP: ts, GF_SIGNATURE: digest}
        if path == "/webhooks/opsgenie":
            return {"X-Ddrun-Token": OG_TOKEN}
        if path == "/webhooks/alertmanager":
            return {"Authorization": f"Bearer {AM_TOKEN}"}
        if path == "/webhooks/generic":
            return {"Authorization": f"Bearer {GENERIC_TOKEN}"}
        ts = str(int(time.time()))
        base = f"v0:{ts}:".encode() + raw
        digest = hmac.new(SLACK_SECRET.encode(), base, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}

    async def send(
        self, path: str, raw: bytes, what: str, content_type: str | None = "application/json"
    ) -> httpx.Response:
        headers = self._headers(path, raw)
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = await self.stack.http.post(path, content=raw, headers=headers)
        answer = (path, what, response.status_code, response.text[:300])
        self.answers.append(answer)
        if response.status_code >= 400 and not _has_message(response.text):
            self.unexplained.append(answer)
        if FAILED in response.text:  # Slack's 200 carrying an unexpected error: a 5xx in disguise
            self.unexplained.append(answer)
        return response

    async def send_json(self, route: str, doc: Json, what: str) -> httpx.Response:
        raw = _compact(doc).encode("utf-8", "surrogatepass")
        return await self.send(f"/webhooks/{route}", raw, what)

    def problems(self) -> list[tuple[str, str, int, str]]:
        """Answers that break the contract: a server error, a refusal that does not say why, or
        a Slack reply (direct or through a response_url) reporting an unexpected failure."""
        late = [
            ("response_url", "a later reply", 200, str(post.get("text"))[:300])
            for post in self.slack.response_url_posts()
            if FAILED in str(post.get("text"))
        ]
        return [a for a in self.answers if a[2] >= 500] + self.unexplained + late

    def summary(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for _, _, status, _ in self.answers:
            counts[status] = counts.get(status, 0) + 1
        return dict(sorted(counts.items()))


def _has_message(text: str) -> bool:
    try:
        body = json.loads(text)
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str) and bool(body["error"])


@contextlib.asynccontextmanager
async def hostile_app(
    client: Client,
    engine: AsyncEngine,
    slack: SlackStandin,
    *,
    bot: bool = False,
    **overrides: Any,
) -> AsyncIterator[Sender]:
    """Every source with its secret; Slack requests verified. With `bot`, incidents also post
    to the Slack stand-in (only the Slack routes need it)."""
    bot_settings = {"slack_bot_token": BOT_TOKEN, "slack_api_url": f"{slack.url}/api/"}
    async with running_stack(
        client,
        engine,
        pagerduty_webhook_secret=PD_SECRET,
        grafana_webhook_secret=GF_SECRET,
        grafana_timestamp_header=GF_TIMESTAMP,
        opsgenie_token=OG_TOKEN,
        alertmanager_token=AM_TOKEN,
        generic_webhook_token=GENERIC_TOKEN,
        slack_signing_secret=SLACK_SECRET,
        **(bot_settings if bot else {}),
        **overrides,
    ) as stack:
        yield Sender(stack, slack)


# ------------------------------------------------------------------------------ Slack bodies


def block_actions(slack: SlackStandin) -> Json:
    """The contract click, as one of our buttons on an incident that does not exist."""
    payload = slack.prepare_interaction(_fixture("slack/interactivity/block_actions.json"))
    payload["actions"][0]["action_id"] = Action.PAUSE.value
    payload["actions"][0]["value"] = ActionValue(incident=unique("incident-generic-gone-")).encode()
    return payload


def view_submission(slack: SlackStandin) -> Json:
    """The contract dialog submission, as our confirm dialog for an incident that is gone."""
    payload = slack.prepare_interaction(_fixture("slack/interactivity/view_submission.json"))
    payload["view"]["callback_id"] = Callback.CONFIRM_DANGEROUS.value
    payload["view"]["private_metadata"] = ModalContext(
        incident=unique("incident-generic-gone-"),
        step="rollback",
        response_url=slack.mint_response_url(),
    ).model_dump_json()
    return payload


def slash_fields(slack: SlackStandin, text: str) -> dict[str, str]:
    fields = {k: str(v) for k, v in _fixture("slack/slash-commands/incident.declare.json").items()}
    fields.update(command="/ddrun", text=text)
    return slack.prepare_slash_command(fields)


def interaction_body(payload: Json) -> bytes:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return urllib.parse.urlencode({"payload": text}).encode()
