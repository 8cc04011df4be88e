"""One Slack request as the handlers see it: who acts, where to answer, and how long to wait.

Kept apart from the routes so the click, dialog and command handlers share one shape without
importing the router.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.deps import AppState
from api.slack.replies import SlackOut
from schemas.identity import Principal
from schemas.incident import HumanAction

CHANNEL = "slack"


@dataclass(frozen=True)
class SlackTiming:
    """How long to hold Slack's request (it gives up after 3 s, network included) and how long
    to wait for the workflow; tests set shorter ones as `app.state.slack_timing`."""

    ack_budget_s: float = 2.0
    query_timeout_s: float = 1.5
    work_timeout_s: float = 30.0


@dataclass(frozen=True)
class Ctx:
    """One Slack request: who (the verified Slack user and the person it is linked to), and
    where to answer."""

    app: AppState
    slack: SlackOut
    timing: SlackTiming
    user_id: str
    user_name: str
    response_url: str | None
    trigger_id: str | None
    person: Principal

    @property
    def actor(self) -> str:
        """The person acting, as recorded: their handle, never the Slack display name."""
        return self.person.handle

    @property
    def who(self) -> dict[str, str]:
        """The actor fields of any human input sent from Slack."""
        return {
            "actor": self.actor,
            "channel": CHANNEL,
            "authenticated_by": self.person.credential_label,
        }

    def action(self, why: str) -> HumanAction:
        return HumanAction(reason=f"{why} ({self.label})", **self.who)

    @property
    def label(self) -> str:
        return f"from Slack by {self.person.name or self.actor}"
