"""What a Slack button means: action ids and the value each button carries.

The renderer (domain/slack/blocks.py) puts these on buttons; the interactions endpoint
(api/slack/routes.py) reads them back. The value names the incident, the step and the card
version the button was drawn for, so a click on a card that has since changed is refused as stale.
"""

from __future__ import annotations

import json
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.incident_ids import looks_like_incident_id

MAX_VALUE_CHARS = 2000  # Slack's limit on a button value


class Action(StrEnum):
    START_COPILOT = "ddrun_start_copilot"
    VIEW_STEPS = "ddrun_view_steps"
    SKIP_RUNBOOK = "ddrun_skip_runbook"
    APPROVE = "ddrun_approve"
    EDIT = "ddrun_edit"
    SKIP_STEP = "ddrun_skip_step"
    PAUSE = "ddrun_pause"
    RESUME = "ddrun_resume"
    TAKE_OVER = "ddrun_take_over"
    ABORT = "ddrun_abort"
    ACKNOWLEDGE = "ddrun_acknowledge"


class Callback(StrEnum):
    """`callback_id` of the modals the bot opens."""

    CONFIRM_DANGEROUS = "ddrun_confirm_dangerous"
    EDIT_COMMAND = "ddrun_edit_command"


class ActionValue(BaseModel):
    """The JSON carried in a button's `value` (and in a modal's `private_metadata`)."""

    model_config = ConfigDict(extra="forbid")

    incident: str = Field(min_length=1, max_length=400)
    step: str | None = Field(default=None, max_length=100)
    card: str = Field(default="", max_length=100)

    @field_validator("incident")
    @classmethod
    def _an_incident_id(cls, value: str) -> str:
        """Only ids this product makes: nothing else reaches Temporal as a workflow id."""
        if not looks_like_incident_id(value):
            raise ValueError("not an incident id")
        return value

    def encode(self) -> str:
        text = json.dumps(self.model_dump(exclude_defaults=True), separators=(",", ":"))
        if len(text) > MAX_VALUE_CHARS:
            raise ValueError(f"button value too long for Slack ({len(text)} chars)")
        return text


class BadActionValueError(ValueError):
    pass


def decode(value: str) -> ActionValue:
    """Parse a button value; anything not written by us is refused with a clear reason."""
    try:
        return ActionValue.model_validate_json(value)
    except ValidationError as err:
        raise BadActionValueError(f"not a dd0c/run button value: {err.errors()[0]['msg']}") from err
