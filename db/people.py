"""People, automations and their API tokens.

A token is `ddr_<id>_<secret>`: the id finds the row, the secret is 256 random bits stored only
as its SHA-256 (a fast hash is enough for a secret that cannot be guessed). Verification reads
the row every time, so a revocation or an expiry takes effect on the very next request.
"""

from __future__ import annotations

import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, ColumnElement, DateTime, Text, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.stored import aware, secret_digest
from schemas.identity import (
    CredentialKind,
    IssuedToken,
    Person,
    PersonIn,
    PersonKind,
    PersonPatch,
    Principal,
    Role,
    Scope,
    TokenInfo,
    scopes_of,
)

TOKEN_PREFIX = "ddr_"  # noqa: S105 - the public prefix that makes a leaked token greppable
#: last_used_at is written at most this often per token (a write per request would be waste).
_TOUCH_EVERY = timedelta(seconds=60)


class PersonRecord(SQLModel, table=True):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("slack_user_id"), UniqueConstraint("email"))

    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    kind: str = Field(default=PersonKind.PERSON.value, max_length=20)
    roles: str = Field(max_length=200, description="JSON list of roles")
    slack_user_id: str | None = Field(default=None, max_length=40)
    pagerduty_user_id: str | None = Field(default=None, max_length=100)
    opsgenie_user_id: str | None = Field(default=None, max_length=200)
    disabled: bool = False
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ApiTokenRecord(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: str = Field(primary_key=True, max_length=32)
    person_id: int = Field(foreign_key="people.id", index=True)
    name: str = Field(max_length=100)
    scopes: str = Field(max_length=200, description="JSON list of scopes")
    secret_sha256: str = Field(max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class PersonExistsError(ValueError):
    """The handle, e-mail or Slack user id already belongs to someone."""


class UnknownPersonError(LookupError):
    pass


class TokenRefusedError(ValueError):
    """The asked-for token cannot be issued (scopes beyond the person's roles, Slack-only...)."""


def split_token(token: str) -> tuple[str, str] | None:
    """(`id`, `secret`) of a well-formed token, else None. Never logs or returns the secret."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_id, sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not token_id.isalnum() or len(token_id) > 32 or len(secret) < 20:
        return None
    return token_id, secret


def _person(record: PersonRecord) -> Person:
    created = aware(record.created_at) or datetime.now(UTC)
    return Person(
        handle=record.handle,
        name=record.name,
        email=record.email,
        kind=PersonKind(record.kind),
        roles=[Role(r) for r in json.loads(record.roles)],
        slack_user_id=record.slack_user_id,
        pagerduty_user_id=record.pagerduty_user_id,
        opsgenie_user_id=record.opsgenie_user_id,
        disabled=record.disabled,
        created_at=created,
    )


def _token_info(record: ApiTokenRecord, handle: str) -> TokenInfo:
    created = aware(record.created_at) or datetime.now(UTC)
    return TokenInfo(
        id=record.id,
        handle=handle,
        name=record.name,
        scopes=[Scope(s) for s in json.loads(record.scopes)],
        created_at=created,
        created_by=record.created_by,
        expires_at=aware(record.expires_at),
        revoked_at=aware(record.revoked_at),
        last_used_at=aware(record.last_used_at),
    )


def principal_of(person: Person, credential: CredentialKind, credential_id: str) -> Principal:
    return Principal(
        handle=person.handle,
        name=person.name,
        roles=frozenset(person.roles),
        scopes=scopes_of(person.roles),
        credential=credential,
        credential_id=credential_id,
        slack_user_id=person.slack_user_id,
    )


class PeopleStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # ------------------------------------------------------------------ people

    async def add(self, new: PersonIn) -> Person:
        if new.kind is PersonKind.AUTOMATION and new.slack_user_id:
            raise PersonExistsError("an automation cannot be linked to a Slack user")
        record = PersonRecord(
            handle=new.handle,
            name=new.name,
            email=new.email or None,
            kind=new.kind.value,
            roles=json.dumps(sorted({r.value for r in new.roles})),
            slack_user_id=new.slack_user_id,
            pagerduty_user_id=new.pagerduty_user_id,
            opsgenie_user_id=new.opsgenie_user_id,
            created_at=datetime.now(UTC),
        )
        async with AsyncSession(self._engine) as session:
            session.add(record)
            try:
                await session.commit()
            except IntegrityError as err:
                raise PersonExistsError(
                    f"{new.handle!r}: the handle, e-mail or Slack user id is already taken"
                ) from err
            await session.refresh(record)
        return _person(record)

    async def _record(self, session: AsyncSession, handle: str) -> PersonRecord:
        found = (
            await session.exec(select(PersonRecord).where(PersonRecord.handle == handle))
        ).first()
        if found is None:
            raise UnknownPersonError(f"no person {handle!r}")
        return found

    async def get(self, handle: str) -> Person | None:
        async with AsyncSession(self._engine) as session:
            try:
                return _person(await self._record(session, handle))
            except UnknownPersonError:
                return None

    async def by_slack_user(self, slack_user_id: str) -> Person | None:
        return await self._by(col(PersonRecord.slack_user_id) == slack_user_id)

    async def by_pagerduty_user(self, pagerduty_user_id: str) -> Person | None:
        """The person whose PagerDuty user this is (a source's assignee or acknowledger)."""
        return await self._by(col(PersonRecord.pagerduty_user_id) == pagerduty_user_id)

    async def by_opsgenie_user(self, opsgenie_user_id: str, email: str | None) -> Person | None:
        """The person whose Opsgenie user this is: by user id, else by the user's e-mail
        (Opsgenie's username)."""
        found = await self._by(col(PersonRecord.opsgenie_user_id) == opsgenie_user_id)
        if found is None and email:
            found = await self._by(func.lower(col(PersonRecord.email)) == email.lower())
        return found

    async def _by(self, condition: ColumnElement[bool]) -> Person | None:
        async with AsyncSession(self._engine) as session:
            found = (await session.exec(select(PersonRecord).where(condition))).first()
        return None if found is None else _person(found)

    async def everyone(self) -> list[Person]:
        async with AsyncSession(self._engine) as session:
            rows = (await session.exec(select(PersonRecord).order_by(PersonRecord.handle))).all()
        return [_person(r) for r in rows]

    async def count_admins(self) -> int:
        return sum(1 for p in await self.everyone() if Role.ADMIN in p.roles and not p.disabled)

    async def update(self, handle: str, patch: PersonPatch) -> Person:
        async with AsyncSession(self._engine) as session:
            record = await self._record(session, handle)
            changes = patch.model_dump(exclude_unset=True)
            if "roles" in changes and patch.roles is not None:
                record.roles = json.dumps(sorted({r.value for r in patch.roles}))
            for key in ("name", "disabled"):
                if key in changes and changes[key] is not None:
                    setattr(record, key, changes[key])
            for key in ("email", "slack_user_id", "pagerduty_user_id", "opsgenie_user_id"):
                if key in changes:
                    setattr(record, key, changes[key] or None)
            if record.kind == PersonKind.AUTOMATION.value and record.slack_user_id:
                raise PersonExistsError("an automation cannot be linked to a Slack user")
            session.add(record)
            try:
                await session.commit()
            except IntegrityError as err:
                raise PersonExistsError(
                    "the e-mail or Slack user id already belongs to someone else"
                ) from err
            await session.refresh(record)
        return _person(record)

    # ------------------------------------------------------------------ tokens

    async def issue_token(
        self,
        handle: str,
        *,
        name: str,
        scopes: list[Scope],
        expires_in: timedelta | None,
        created_by: str,
    ) -> IssuedToken:
        """A new token for `handle`; its scopes must be within what the person's roles allow."""
        now = datetime.now(UTC)
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        async with AsyncSession(self._engine) as session:
            person = await self._record(session, handle)
            allowed = scopes_of([Role(r) for r in json.loads(person.roles)])
            beyond = sorted(s.value for s in set(scopes) - allowed)
            if beyond:
                raise TokenRefusedError(
                    f"{handle} may not hold scope(s) {', '.join(beyond)}: "
                    "their roles do not allow it"
                )
            if person.disabled:
                raise TokenRefusedError(f"{handle} is disabled")
            record = ApiTokenRecord(
                id=token_id,
                person_id=person.id or 0,
                name=name,
                scopes=json.dumps(sorted({s.value for s in scopes})),
                secret_sha256=secret_digest(secret),
                created_by=created_by,
                created_at=now,
                expires_at=None if expires_in is None else now + expires_in,
            )
            session.add(record)
            await session.commit()
            await session.refresh(record)
        return IssuedToken(
            token=f"{TOKEN_PREFIX}{token_id}_{secret}", info=_token_info(record, handle)
        )

    async def authenticate(self, token: str) -> Principal | None:
        """The principal a token proves, or None (unknown, wrong secret, revoked, expired,
        disabled person). The principal's scopes are the token's, within the person's roles."""
        parts = split_token(token)
        if parts is None:
            return None
        token_id, secret = parts
        now = datetime.now(UTC)
        async with AsyncSession(self._engine) as session:
            row = (
                await session.exec(
                    select(ApiTokenRecord, PersonRecord)
                    .join(PersonRecord, col(PersonRecord.id) == col(ApiTokenRecord.person_id))
                    .where(ApiTokenRecord.id == token_id)
                )
            ).first()
            if row is None:
                return None
            record, person_record = row
            if not hmac.compare_digest(record.secret_sha256, secret_digest(secret)):
                return None
            expires = aware(record.expires_at)
            if record.revoked_at is not None or (expires is not None and expires <= now):
                return None
            if person_record.disabled:
                return None
            granted = principal_of(_person(person_record), CredentialKind.TOKEN, token_id)
            token_scopes = frozenset(Scope(s) for s in json.loads(record.scopes))
            used = aware(record.last_used_at)
            if used is None or now - used >= _TOUCH_EVERY:
                record.last_used_at = now
                session.add(record)
                await session.commit()
        return granted.model_copy(update={"scopes": granted.scopes & token_scopes})

    async def tokens(self, handle: str | None = None) -> list[TokenInfo]:
        async with AsyncSession(self._engine) as session:
            query = select(ApiTokenRecord, PersonRecord).join(
                PersonRecord, col(PersonRecord.id) == col(ApiTokenRecord.person_id)
            )
            if handle is not None:
                query = query.where(PersonRecord.handle == handle)
            rows = (await session.exec(query.order_by(col(ApiTokenRecord.created_at)))).all()
        return [_token_info(t, p.handle) for t, p in rows]

    async def token_owner(self, token_id: str) -> str | None:
        async with AsyncSession(self._engine) as session:
            row = (
                await session.exec(
                    select(PersonRecord.handle)
                    .join(ApiTokenRecord, col(PersonRecord.id) == col(ApiTokenRecord.person_id))
                    .where(ApiTokenRecord.id == token_id)
                )
            ).first()
        return row

    async def revoke(self, token_id: str) -> TokenInfo | None:
        """Revoke at once (idempotent: revoking twice keeps the first time)."""
        async with AsyncSession(self._engine) as session:
            record = await session.get(ApiTokenRecord, token_id)
            if record is None:
                return None
            if record.revoked_at is None:
                record.revoked_at = datetime.now(UTC)
                session.add(record)
                await session.commit()
                await session.refresh(record)
            person = await session.get(PersonRecord, record.person_id)
        return _token_info(record, person.handle if person else "?")

    async def count(self) -> int:
        async with AsyncSession(self._engine) as session:
            return int((await session.exec(select(func.count()).select_from(PersonRecord))).one())
