"""The buttons on the bot's messages and the value each carries (see domain/slack/actions.py).

Every button says which incident, step and card version it was drawn for, so a click on an
outdated card is refused as stale; ids too long for Slack's 2000-character value get no buttons.
"""

from __future__ import annotations

from domain.slack.actions import Action, ActionValue
from domain.slack.kit import Block, button, confirm
from domain.slack.labels import is_open
from schemas.incident import IncidentState, StepView
from schemas.trust import Mode


def step_value(state: IncidentState, step: StepView | None = None) -> ActionValue | None:
    """What the message's buttons carry; None when the ids are too long for a button value
    (the message then has no buttons and says to use `ddrun`)."""
    try:
        if step is None:
            return ActionValue(incident=state.id)
        value = ActionValue(incident=state.id, step=step.id, card=step.card)
        value.encode()
    except ValueError:
        return None
    return value


NO_BUTTONS = "_Ids too long for Slack buttons: act with `ddrun` or the API._"


def control_buttons(state: IncidentState, value: ActionValue) -> list[Block]:
    """Pause or Resume, Take over, Abort & roll back: on every message while it is open."""
    if not is_open(state):
        return []
    out = [
        button("Resume", Action.RESUME, value)
        if state.paused
        else button("Pause", Action.PAUSE, value)
    ]
    if state.mode is not Mode.READ_ALONG:
        out.append(button("Take over", Action.TAKE_OVER, value))
    out.append(
        button(
            "Abort & roll back",
            Action.ABORT,
            value,
            style="danger",
            ask=confirm(
                "Abort and roll back?",
                "Stops this incident's automation and runs the rollbacks of the steps that ran, "
                "newest first.",
                "Abort",
            ),
        )
    )
    return out
