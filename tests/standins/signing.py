"""Build signed inbound requests the way Slack, PagerDuty and Grafana sign them.

Why: our endpoints must verify signatures over the *raw* body, so tests need byte-exact bodies and
headers, produced by the documented algorithms (contracts README section 1) and checked against
the vectors in `shared/contracts/**/signature-vector*.json`:

- Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:<ts>:<body>")>` plus
  `X-Slack-Request-Timestamp`; signed with slack_sdk's own `SignatureVerifier.generate_signature`
  so we test against the same code Bolt uses. Interactivity bodies are
  `payload=<url-encoded compact JSON>` (non-ASCII kept as UTF-8, as Slack sends it); slash
  commands are plain url-encoded fields.
- PagerDuty v3 webhooks: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]`, one entry per active
  secret, HMAC-SHA256 over the raw body.
- Grafana: bare hex HMAC-SHA256 over `body`, or `timestamp + ":" + body` when a timestamp header
  is configured.

Time is always passed in (or comes from an injected `FixedClock`) so tests are deterministic.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.signature import Clock, SignatureVerifier

SLACK_FORM = "application/x-www-form-urlencoded"
GRAFANA_SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"


class FixedClock(Clock):
    """A slack_sdk clock frozen at `now` (unix seconds); `advance` moves it."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


@dataclass(frozen=True)
class SignedRequest:
    """A body exactly as it goes on the wire, and the headers that authenticate it."""

    body: str
    headers: dict[str, str]

    @property
    def raw(self) -> bytes:
        return self.body.encode("utf-8")


def compact_json(obj: Any) -> str:
    """JSON the way these vendors put it on the wire: no spaces, UTF-8 kept."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# -- Slack -------------------------------------------------------------------------------------


def slack_signature(secret: str, timestamp: int | str, body: str) -> str:
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    if signature is None:  # slack_sdk returns None only for missing inputs
        raise ValueError("timestamp and body are required")
    return signature


def sign_slack(
    secret: str, body: str, timestamp: int | str, content_type: str = SLACK_FORM
) -> SignedRequest:
    return SignedRequest(
        body,
        {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": slack_signature(secret, timestamp, body),
        },
    )


def interactivity_body(payload: Mapping[str, Any]) -> str:
    """`payload=<json>` form body of block_actions / view_submission / shortcuts."""
    return urllib.parse.urlencode({"payload": compact_json(payload)})


def slash_command_body(fields: Mapping[str, str]) -> str:
    return urllib.parse.urlencode(dict(fields))


def signed_interaction(
    payload: Mapping[str, Any], secret: str, timestamp: int | str
) -> SignedRequest:
    return sign_slack(secret, interactivity_body(payload), timestamp)


def signed_slash_command(
    fields: Mapping[str, str], secret: str, timestamp: int | str
) -> SignedRequest:
    return sign_slack(secret, slash_command_body(fields), timestamp)


def slack_request_is_valid(
    secret: str, body: str | bytes, headers: Mapping[str, str], now: float
) -> bool:
    """What our endpoint must decide, computed by slack_sdk with a frozen clock."""
    verifier = SignatureVerifier(secret, clock=FixedClock(now))
    return verifier.is_valid_request(body, dict(headers))


# -- PagerDuty v3 webhooks --------------------------------------------------------------------


def pagerduty_signature(secrets: Sequence[str], body: str | bytes) -> str:
    """`v1=<hex>,v1=<hex>`: one entry per active secret, in the order given."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not secrets:
        raise ValueError("at least one secret is required")
    digests = (hmac.new(s.encode(), raw, hashlib.sha256).hexdigest() for s in secrets)
    return ",".join(f"v1={d}" for d in digests)


def signed_pagerduty_webhook(
    body: str,
    secrets: Sequence[str],
    *,
    webhook_id: str = "3f1c9a62-5d7e-4b8a-9c0d-2e4f6a8b0c1d",
    subscription: str = "PWH3K9Z",
) -> SignedRequest:
    """Headers of a real v3 delivery (contracts: pagerduty/webhooks-v3/signature-vector.json)."""
    return SignedRequest(
        body,
        {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "PagerDuty-Webhook/V3.0",
            "X-Webhook-Id": webhook_id,
            "X-Webhook-Subscription": subscription,
            "X-PagerDuty-Signature": pagerduty_signature(secrets, body),
        },
    )


# -- Grafana ----------------------------------------------------------------------------------


def grafana_signature(secret: str, body: str | bytes, timestamp: str | None = None) -> str:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    message = raw if timestamp is None else timestamp.encode() + b":" + raw
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_grafana_webhook(
    body: str,
    secret: str,
    *,
    header: str = GRAFANA_SIGNATURE_HEADER,
    timestamp_header: str | None = None,
    timestamp: int | str | None = None,
) -> SignedRequest:
    """Grafana's hmacConfig: the timestamp header is used only when one is configured."""
    headers = {"Content-Type": "application/json"}
    ts: str | None = None
    if timestamp_header is not None:
        if timestamp is None:
            raise ValueError("a configured timestamp header needs a timestamp")
        ts = str(timestamp)
        headers[timestamp_header] = ts
    headers[header or GRAFANA_SIGNATURE_HEADER] = grafana_signature(secret, body, ts)
    return SignedRequest(body, headers)
