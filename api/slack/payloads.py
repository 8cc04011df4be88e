"""What Slack posts to us: a button click, a dialog submission and a slash command.

Read leniently (Slack adds fields over time, and unknown ones are ignored) while the fields we act
on are checked, so a payload of the wrong shape is a 422 before anything is done.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_NAME_CHARS = 200  # Slack's names are far shorter; an actor is recorded with at most 200


_URL = re.compile(r"https?://[!-~]{1,2040}")  # printable ASCII, no spaces: as Slack sends them


def _reply_url(value: str) -> str:
    """Where replies are posted later: refused now if no HTTP client could post to it."""
    if not _URL.fullmatch(value):
        raise ValueError("not an http(s) URL of printable ASCII up to 2,048 characters")
    return value


ReplyUrl = Annotated[str, AfterValidator(_reply_url)]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SlackUserRef(_Loose):
    id: str = Field(min_length=1, max_length=50)
    username: str = Field(default="", max_length=_NAME_CHARS)
    name: str = Field(default="", max_length=_NAME_CHARS)

    @property
    def shown(self) -> str:
        """The name to show and record beside the id (empty when Slack sent none)."""
        return self.username or self.name


class ClickedAction(_Loose):
    action_id: str
    value: str = ""


class BlockActions(_Loose):
    type: str
    user: SlackUserRef
    actions: list[ClickedAction] = Field(min_length=1)
    trigger_id: str | None = None
    response_url: ReplyUrl | None = None


class ViewState(_Loose):
    values: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)


class SubmittedView(_Loose):
    callback_id: str = ""
    private_metadata: str = ""
    state: ViewState = Field(default_factory=ViewState)


class ViewSubmission(_Loose):
    type: str
    user: SlackUserRef
    view: SubmittedView


class SlashCommand(_Loose):
    command: str
    text: str = ""
    user_id: str = Field(min_length=1, max_length=50)
    user_name: str = Field(default="", max_length=_NAME_CHARS)
    channel_id: str = ""
    response_url: ReplyUrl | None = None
    trigger_id: str | None = None
