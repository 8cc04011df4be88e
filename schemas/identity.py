"""Who acts: people (and automations), their roles, API tokens and the authenticated principal.

Every human action the product records names a `Principal` that a credential proved (an API
token, a Slack user mapped to a person, a web session), never a name typed into a request.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.enums import Role as Role
from schemas.enums import Scope as Scope

HANDLE = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.VIEWER: frozenset({Scope.READ}),
    Role.RESPONDER: frozenset({Scope.READ, Scope.RESPOND}),
    Role.AUTHOR: frozenset({Scope.READ, Scope.AUTHOR}),
    Role.ADMIN: frozenset(Scope),
}


class PersonKind(StrEnum):
    PERSON = "person"
    AUTOMATION = "automation"  # a service account: tokens only, never Slack


class CredentialKind(StrEnum):
    """How the acting principal proved who it is (shown for every human action in the audit)."""

    TOKEN = "api-token"  # noqa: S105 - a kind of credential, not a secret
    SLACK = "slack"
    WEB_SESSION = "web-session"
    CODEC = "codec-token"
    DEV_UNAUTHENTICATED = "dev-unauthenticated"  # auth explicitly off for local development


def scopes_of(roles: list[Role] | frozenset[Role] | set[Role]) -> frozenset[Scope]:
    out: set[Scope] = set()
    for role in roles:
        out |= ROLE_SCOPES[role]
    return frozenset(out)


class PersonIn(BaseModel):
    """A new person or automation, as an admin describes it."""

    model_config = ConfigDict(extra="forbid")

    handle: str = Field(min_length=1, max_length=64, description="Unique short name, e.g. alice")
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    kind: PersonKind = PersonKind.PERSON
    roles: list[Role] = Field(default_factory=lambda: [Role.VIEWER], min_length=1)
    slack_user_id: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,30}$")
    pagerduty_user_id: str | None = Field(default=None, max_length=100)
    opsgenie_user_id: str | None = Field(default=None, max_length=200)

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str) -> str:
        if not HANDLE.match(value):
            raise ValueError("a handle is lower-case letters, digits, '.', '_' or '-'")
        return value


class PersonPatch(BaseModel):
    """Fields an admin changes; absent fields stay. An empty string unlinks an external id."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    roles: list[Role] | None = Field(default=None, min_length=1)
    slack_user_id: str | None = Field(default=None, pattern=r"^([UW][A-Z0-9]{2,30})?$")
    pagerduty_user_id: str | None = Field(default=None, max_length=100)
    opsgenie_user_id: str | None = Field(default=None, max_length=200)
    disabled: bool | None = None


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: str
    name: str = ""
    email: str | None = None
    kind: PersonKind = PersonKind.PERSON
    roles: list[Role]
    slack_user_id: str | None = None
    pagerduty_user_id: str | None = None
    opsgenie_user_id: str | None = None
    disabled: bool = False
    created_at: datetime

    @property
    def display(self) -> str:
        return self.name or self.handle


class TokenIn(BaseModel):
    """A new API token: for yourself, or (admins) for another person or an automation."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="What it is for, e.g. laptop")
    scopes: list[Scope] = Field(min_length=1)
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)
    handle: str | None = Field(default=None, description="Admins: whose token (default: yours)")


class TokenInfo(BaseModel):
    """A token as listed: never its secret."""

    model_config = ConfigDict(extra="forbid")

    id: str
    handle: str
    name: str
    scopes: list[Scope]
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class IssuedToken(BaseModel):
    """The one answer that carries the secret; it is stored hashed and never shown again."""

    model_config = ConfigDict(extra="forbid")

    token: str
    info: TokenInfo


class Principal(BaseModel):
    """The authenticated actor of one request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    handle: str
    name: str = ""
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[Scope] = frozenset()
    credential: CredentialKind
    credential_id: str = ""
    slack_user_id: str | None = None

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes

    @property
    def credential_label(self) -> str:
        """What the audit shows: `api-token 3f9a1c0b7e2d`, `slack U07…`, `dev-unauthenticated`
        (a space, not `token:…`, which reads as a secret to the redactor)."""
        if self.credential_id:
            return f"{self.credential.value} {self.credential_id}"
        return self.credential.value

    @property
    def identifiers(self) -> frozenset[str]:
        """Every name the approval policy may use for this person (handle, Slack user id)."""
        names = {self.handle}
        if self.slack_user_id:
            names.add(self.slack_user_id)
        return frozenset(names)
