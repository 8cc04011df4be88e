"""The `sync_slack` activity's input (which incident to mirror in Slack) and result."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SlackSyncInput(BaseModel):
    """Make the incident's Slack channel match its current state (read afresh by the activity).

    The input names the incident, never the state itself: a retried or late call always renders
    the newest state, so coalesced changes cost one sync and nothing stale is ever posted.
    """

    model_config = ConfigDict(extra="forbid")

    incident_id: str = Field(min_length=1)
    run_id: str | None = Field(
        default=None, description="Pin the run to read (a closed run's final sync); None: latest"
    )
    final: bool = Field(
        default=False, description="The incident has closed: this is the last sync it asks for"
    )


class SlackSyncResult(BaseModel):
    """What one sync did; `enabled=False` says Slack is off (no bot token) and nothing was sent."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    channel_id: str | None = None
    posted: int = Field(default=0, description="New messages (chat.postMessage)")
    updated: int = Field(default=0, description="Messages changed in place (chat.update)")
    unchanged: int = Field(default=0, description="Messages already as rendered: no call")
    detail: str = ""


class SlackPostInput(BaseModel):
    """One message the workflow composed, for a configured channel (engineering-wide updates,
    executives): posted as is with `chat.postMessage`."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str = Field(min_length=1)
    channel: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=39_000)
    purpose: str = Field(default="", max_length=100, description="What the post is, for logs")
    setting: str = Field(
        default="", max_length=100, description="The setting naming the channel (for errors)"
    )
