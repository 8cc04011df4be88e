"""Who took a human action: every action's input carries the actor, the channel it came through
and how they proved who they are. The API, Slack and the web app fill these from the
credential; a name in a request body is never trusted."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Acted(BaseModel):
    """The fields every human action's input shares (its own fields come after them)."""

    model_config = ConfigDict(extra="forbid")

    actor: str = Field(min_length=1, max_length=200)
    channel: str = Field(default="api", max_length=50)
    authenticated_by: str | None = Field(
        default=None,
        max_length=200,
        description="How the actor proved who they are (api-token <id>, slack <user id>, ...)",
    )
