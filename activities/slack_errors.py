"""Slack failures as Temporal errors: what a retry can fix, and what needs a human.

A 429 carries Slack's `Retry-After` as `next_retry_delay`, so Temporal's retry waits exactly as
long as Slack asked; 5xx, Slack's `ok:false` outage codes and unreachable hosts are retried;
a bad token, a missing scope or an unusable channel are `SlackConfigError` (non-retryable: no
retry fixes configuration) with a message saying what to change; a request Slack refuses as
malformed is `SlackRequestRejected` (non-retryable too: it is a bug, and retrying would only
hold up the incident's later syncs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from temporalio.exceptions import ApplicationError

CONFIG_ERROR = "SlackConfigError"
RATE_LIMITED = "SlackRateLimited"
UNAVAILABLE = "SlackUnavailable"
UNREACHABLE = "SlackUnreachable"
REJECTED = "SlackRequestRejected"
RENDER_ERROR = "SlackRenderError"

AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "no_permission",
        "team_access_not_granted",
        "access_denied",
        "ekm_access_denied",
    }
)
CHANNEL_ERRORS = frozenset(
    {"channel_not_found", "is_archived", "not_in_channel", "restricted_action"}
)
MALFORMED_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_blocks_too_long",
        "msg_too_long",
        "no_text",
        "invalid_arguments",
        "invalid_array_arg",
        "invalid_form_data",
        "invalid_json",
        "json_not_object",
        "too_long",
        "invalid_name_specials",
        "invalid_name_maxlength",
        "invalid_name_punctuation",
        "invalid_name_required",
        "invalid_attachments",
    }
)
DEFAULT_RETRY_AFTER = timedelta(seconds=1)


def error_code(err: SlackApiError) -> str:
    data: Any = getattr(err.response, "data", None)
    if isinstance(data, Mapping):
        return str(data.get("error") or "")
    return ""


def retry_after(headers: Any) -> timedelta:
    """Slack's `Retry-After` (seconds) from aiohttp's case-insensitive headers or a plain dict."""
    value: Any = None
    if isinstance(headers, Mapping):
        value = headers.get("Retry-After")
        if value is None:
            value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    return timedelta(seconds=max(seconds, 0.0)) or DEFAULT_RETRY_AFTER


def from_api_error(
    err: SlackApiError, method: str, *, reused_channel: bool, channel_setting: str | None = None
) -> ApplicationError:
    """The Temporal error for an answer Slack gave (HTTP status and `error` code)."""
    status = int(getattr(err.response, "status_code", 0) or 0)
    code = error_code(err)
    where = f"Slack {method}"
    if status == 429 or code in ("ratelimited", "rate_limited"):
        delay = retry_after(getattr(err.response, "headers", None))
        return ApplicationError(
            f"{where}: rate limited, retry after {delay.total_seconds():g}s",
            type=RATE_LIMITED,
            next_retry_delay=delay,
        )
    if status >= 500:
        return ApplicationError(f"{where}: HTTP {status} (Slack unavailable)", type=UNAVAILABLE)
    if code in AUTH_ERRORS:
        return ApplicationError(
            f"{where}: {code}: the bot token (DDRUN_SLACK_BOT_TOKEN) is not valid for this "
            "workspace; install the app again or set the right token",
            type=CONFIG_ERROR,
            non_retryable=True,
        )
    if code == "missing_scope":
        data: Any = err.response.data
        needed = data.get("needed", "?") if isinstance(data, Mapping) else "?"
        return ApplicationError(
            f"{where}: missing_scope: the Slack app needs the `{needed}` scope; add it in the "
            "app manifest and reinstall the app",
            type=CONFIG_ERROR,
            non_retryable=True,
        )
    if code in CHANNEL_ERRORS:
        which = (
            f"the configured channel {channel_setting}"
            if channel_setting
            else "the configured channel DDRUN_SLACK_REUSE_CHANNEL"
            if reused_channel
            else "the incident's channel"
        )
        advice = {
            "channel_not_found": "does not exist or the bot cannot see it",
            "is_archived": "is archived",
            "not_in_channel": "does not have the bot as a member; invite the bot",
            "restricted_action": "may not be changed by the bot (workspace policy)",
        }[code]
        return ApplicationError(
            f"{where}: {code}: {which} {advice}", type=CONFIG_ERROR, non_retryable=True
        )
    if code in MALFORMED_ERRORS:
        return ApplicationError(
            f"{where}: Slack refused the request as malformed: {code}",
            type=REJECTED,
            non_retryable=True,
        )
    # Anything else (fatal_error, internal_error, request_timeout, a code Slack adds later) is
    # retried: a lost Slack message is worse than a late one.
    return ApplicationError(f"{where}: {code or f'HTTP {status}'}", type=UNAVAILABLE)


def unreachable(err: BaseException, method: str) -> ApplicationError:
    detail = str(err) or type(err).__name__
    return ApplicationError(f"Slack {method}: unreachable: {detail}", type=UNREACHABLE)
