"""One Slack request as the handlers see it: who acts, where to answer, and how long to wait.

Kept apart from the routes so the click, dialog and command handlers share one shape without
importing the router.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.deps import AppState
from api.slack_replies import SlackOut
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
    """One Slack request: who, and where to answer."""

    app: AppState
    slack: SlackOut
    timing: SlackTiming
    user_id: str
    user_name: str
    response_url: str | None
    trigger_id: str | None

    def action(self, why: str) -> HumanAction:
        return HumanAction(actor=self.user_id, reason=f"{why} ({self.label})", channel=CHANNEL)

    @property
    def label(self) -> str:
        return f"from Slack by {self.user_name or self.user_id}"
