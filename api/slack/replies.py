"""The two ways the bot answers one Slack user: an ephemeral reply through the request's
`response_url`, or a dialog (views.open); and `Refused`, a refusal that becomes such a reply.

Replies are seen by the clicking user alone, so a refusal never clutters the incident channel.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from api.deps import AppState

log = logging.getLogger(__name__)
_USER_ID_IN_TEXT = re.compile(r"(?<![<@\w])([UW](?=[A-Z0-9]*\d)[A-Z0-9]{8,})\b")


class Refused(Exception):
    """An action this user may not take now; the message is shown to them alone."""


@dataclass(frozen=True)
class Reply:
    text: str


def mention(text: str) -> str:
    """Slack user ids in a message (the workflow's words) become mentions of those users."""
    return _USER_ID_IN_TEXT.sub(r"<@\1>", text)


def refusal(err: Exception) -> Reply:
    return Reply(f":no_entry_sign: {mention(str(err))}")


def failure(err: Exception, what: str) -> Reply:
    """An unexpected error: its type only (details are logged), and that `what` did not happen."""
    return Reply(f":warning: {type(err).__name__}: the {what} was not completed")


class SlackOut:
    """The two ways back to the user: a modal (views.open) and an ephemeral reply."""

    def __init__(self, app: AppState) -> None:
        token = app.settings.slack_bot_token
        self._token = token.get_secret_value() if token is not None else None
        self._api_url = app.settings.slack_api_url

    async def open_view(self, trigger_id: str | None, view: dict[str, Any]) -> None:
        if self._token is None:
            raise Refused("Slack is off here (no bot token), so no dialog can open: use the CLI")
        if not trigger_id:
            raise Refused("this request cannot open a dialog (no trigger_id)")
        client = AsyncWebClient(token=self._token, base_url=self._api_url, timeout=3)
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as err:
            code = err.response.get("error") if err.response is not None else "error"
            log.warning("views.open failed: %s", code)
            raise Refused(f"the dialog could not open ({code}); click again") from err

    async def respond(self, response_url: str | None, reply: Reply) -> None:
        """Post an ephemeral reply; a failure is logged, never raised (the click was handled)."""
        if not response_url:
            log.info("no response_url for reply: %s", reply.text)
            return
        try:
            answer = await AsyncWebhookClient(response_url, timeout=10).send(
                text=reply.text[:3900], response_type="ephemeral", replace_original=False
            )
        except Exception:
            log.exception("posting to response_url failed")
            return
        if answer.status_code != 200:
            log.warning("response_url answered %s: %s", answer.status_code, answer.body[:200])
