"""The approval policy file: who may approve which steps, how many must, and who commands.

Written by operators as YAML (DDRUN_APPROVAL_POLICY_FILE) and read by domain/policy.py. Names are
checked when the file loads, so a typo in a group or user id is an error, not a silent lock-out.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.identity import HANDLE
from schemas.runbook import StepRisk

ANYONE = "*"
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
DEFAULT_MAJOR_SEVERITIES = ("critical", "p0", "p1", "sev0", "sev1")


def _is_person(value: str) -> bool:
    """A Slack user id (like U07MARCUS02) or a dd0c/run person's handle (like alice)."""
    return bool(SLACK_USER_ID.match(value) or HANDLE.match(value))


def _check_user(value: str, where: str) -> str:
    if not _is_person(value):
        raise ValueError(
            f"{where}: {value!r} is neither a person's handle (like alice) nor a Slack user id "
            "(like U07MARCUS02)"
        )
    return value


class PolicyRule(BaseModel):
    """Which steps a rule covers (globs or exact values) and what they need.

    `approvers` lists people (handles or Slack user ids), group names or `*` (anyone in the
    workspace); when absent the default applies (caution: anyone; dangerous: the policy's
    responders). `major` limits the rule to P0/P1 incidents (true) or to the others (false).
    """

    model_config = ConfigDict(extra="forbid")

    service: str = Field(default="*", min_length=1, max_length=200)
    runbook: str = Field(default="*", min_length=1, max_length=200)
    risk: StepRisk | Literal["*"] = "*"
    major: bool | None = None
    approvers: list[str] | None = None
    approvals: int = Field(default=1, ge=1, le=5)
    commander_required: bool = False


class ServicePolicy(BaseModel):
    """Per service (key: glob or exact name): the incident commander and escalation timers."""

    model_config = ConfigDict(extra="forbid")

    commander: str | None = None
    ack_timeout_s: int | None = Field(default=None, ge=1)
    resolve_timeout_s: int | None = Field(default=None, ge=1)

    @field_validator("commander")
    @classmethod
    def _commander_is_user(cls, value: str | None) -> str | None:
        return None if value is None else _check_user(value, "commander")


class ApprovalPolicy(BaseModel):
    """The whole file. Rules are tried in order; the first that covers a step decides."""

    model_config = ConfigDict(extra="forbid")

    groups: dict[str, list[str]] = Field(
        default_factory=dict, description="Named groups of people (handles or Slack user ids)"
    )
    responders: list[str] = Field(
        default_factory=list,
        description="User ids or group names who may approve dangerous steps unless a rule says",
    )
    major_severities: list[str] = Field(
        default_factory=lambda: list(DEFAULT_MAJOR_SEVERITIES),
        min_length=1,
        description="Alert severities that make an incident P0/P1 (case, '-', '_' and spaces "
        "ignored)",
    )
    rules: list[PolicyRule] = Field(default_factory=list)
    services: dict[str, ServicePolicy] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_resolve(self) -> ApprovalPolicy:
        for name, members in self.groups.items():
            if not _GROUP_NAME.match(name):
                raise ValueError(f"group name {name!r}: use lower-case letters, digits, . _ -")
            for member in members:
                _check_user(member, f"group {name}")
        self._check_entries(self.responders, "responders")
        for number, rule in enumerate(self.rules, start=1):
            if rule.approvers is None:
                continue
            where = f"rules[{number}] approvers"
            self._check_entries(rule.approvers, where)
            if ANYONE in rule.approvers:
                continue
            people = len(self.members(rule.approvers)) + (1 if rule.commander_required else 0)
            if people < rule.approvals:
                raise ValueError(
                    f"{where}: {rule.approvals} approvals needed but only {people} "
                    "people could give them"
                )
        return self

    def _check_entries(self, entries: list[str], where: str) -> None:
        for entry in entries:
            if entry != ANYONE and entry not in self.groups and not _is_person(entry):
                raise ValueError(
                    f"{where}: {entry!r} is neither a group, a person's handle nor a Slack user id"
                )

    def members(self, entries: list[str]) -> set[str]:
        """The people named by `entries` (groups expanded; `*` is not a person)."""
        people: set[str] = set()
        for entry in entries:
            if entry in self.groups:
                people.update(self.groups[entry])
            elif entry != ANYONE:
                people.add(entry)
        return people


class Timers(BaseModel):
    """When an unacknowledged or unresolved incident escalates (None: not by this timer)."""

    model_config = ConfigDict(extra="forbid")

    ack_timeout_s: int | None = None
    resolve_timeout_s: int | None = None
