"""The runbook document: a versioned, structured procedure that an incident executes step by step.

Runbooks live as YAML files (docs-as-code), are stored per version in the database, and travel
as a frozen snapshot inside the incident workflow's input so a running incident never changes
under the responder's feet.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_VAR_RE = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


class StepRisk(StrEnum):
    """How much harm a step can do; decides whether it may run without a human."""

    SAFE = "safe"
    CAUTION = "caution"
    DANGEROUS = "dangerous"


class Variable(BaseModel):
    """A placeholder in commands, filled from the alert (label, annotation) or a default."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    source: str | None = Field(
        default=None,
        description="Where the value comes from: label:<name>, annotation:<name> or alert:<field>",
    )
    default: str | None = None
    required: bool = True

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if not _VAR_RE.match(value):
            raise ValueError(f"variable name {value!r} must be lower_snake_case")
        return value

    @field_validator("source")
    @classmethod
    def _source_has_kind(cls, value: str | None) -> str | None:
        if value is not None and value.split(":", 1)[0] not in {"label", "annotation", "alert"}:
            raise ValueError(
                f"variable source {value!r} must start with label:, annotation: or alert:"
            )
        return value


class AlertSelector(BaseModel):
    """Which alerts a runbook applies to: every given condition must hold.

    `labels` values are exact matches, or regular expressions when written as `~regex`.
    """

    model_config = ConfigDict(extra="forbid")

    alertname: str | None = None
    service: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _not_empty(self) -> AlertSelector:
        if self.alertname is None and self.service is None and not self.labels:
            raise ValueError("a selector needs at least one of alertname, service or labels")
        for value in self.labels.values():
            if value.startswith("~"):
                re.compile(value[1:])
        return self


class Step(BaseModel):
    """One action of a runbook. `command` is a shell template; None means a manual instruction."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    command: str | None = None
    instructions: str = ""
    risk: StepRisk = StepRisk.CAUTION
    risk_reasons: list[str] = Field(default_factory=list)
    rollback: str | None = None
    rollback_inferred: bool = Field(
        default=False,
        description="The rollback is the parser's suggestion (the well-known inverse of the "
        "command), not an undo the runbook's text states: review it before relying on it",
    )
    timeout_s: int = Field(default=300, ge=1, le=24 * 3600)
    approval_timeout_s: int = Field(default=900, ge=1, le=7 * 24 * 3600)
    condition: str | None = None
    continue_on_failure: bool = False
    manual: bool = Field(default=False, description="Never executed: a human does it and reports")
    require_approval: bool = Field(default=False, description="Needs approval even in autopilot")
    breakpoint: bool = Field(default=False, description="Pause before this step, in any mode")
    capture: dict[str, str] = Field(
        default_factory=dict,
        description="Read-only commands run just before the step; their output becomes a "
        "variable for the rollback (e.g. previous_replicas), so undo uses the exact prior value",
    )
    source_lines: tuple[int, int] | None = Field(
        default=None,
        description="First and last line (1-based) of the runbook text this step was read "
        "from, so a reviewer can see where it came from; None when authored as YAML",
    )

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError(f"step id {value!r} must be a lowercase slug (a-z, 0-9, . _ -)")
        return value


class Runbook(BaseModel):
    """A whole runbook as authored. `version` is assigned by the store, never by the author."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    description: str = ""
    version: int = 0
    services: list[str] = Field(default_factory=list)
    selectors: list[AlertSelector] = Field(default_factory=list)
    variables: list[Variable] = Field(default_factory=list)
    prerequisites: list[str] = Field(default_factory=list)
    on_failure: Literal["ask", "rollback"] = Field(
        default="ask",
        description="When a step fails: ask the responder (retry/skip/rollback/abort) or roll "
        "back at once",
    )
    steps: list[Step] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError(f"runbook id {value!r} must be a lowercase slug (a-z, 0-9, . _ -)")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Runbook:
        step_ids = [s.id for s in self.steps]
        dupes = sorted({s for s in step_ids if step_ids.count(s) > 1})
        if dupes:
            raise ValueError(f"duplicate step ids: {', '.join(dupes)}")
        names = [v.name for v in self.variables]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate variable names: {', '.join(dupes)}")
        return self

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)
