"""What the web app keeps: password hashes, sessions, single-sign-on links and runbook edits.

A session cookie holds a random secret; only its SHA-256 is stored, so a database read does not
hand out live sessions. A password is stored as an argon2id hash. The edit log says who changed
which runbook version and why a step's risk was lowered below the classifier's.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, DateTime, Text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.stored import aware, secret_digest
from db.tables import RunbookRecord

_HASHER = PasswordHasher()
#: Verified against when a handle has no password, so timing does not tell who exists.
_DUMMY_HASH = _HASHER.hash("no such account: a constant to spend the same time on")


class WebPasswordRecord(SQLModel, table=True):
    __tablename__ = "web_passwords"

    handle: str = Field(primary_key=True, max_length=64)
    password_hash: str = Field(max_length=200)
    changed_by: str = Field(max_length=64)
    changed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class WebSessionRecord(SQLModel, table=True):
    __tablename__ = "web_sessions"

    id: str = Field(primary_key=True, max_length=64, description="sha256 of the cookie secret")
    handle: str = Field(max_length=64, index=True)
    csrf: str = Field(max_length=64)
    via: str = Field(max_length=200, description="password, or oidc <issuer>")
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked: bool = False


class OidcIdentityRecord(SQLModel, table=True):
    """An identity provider's subject linked to one dd0c/run person."""

    __tablename__ = "oidc_identities"

    issuer: str = Field(primary_key=True, max_length=300)
    subject: str = Field(primary_key=True, max_length=300)
    handle: str = Field(max_length=64, index=True)
    linked_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class RunbookEditRecord(SQLModel, table=True):
    """One runbook version saved from the editor: who, a summary, and every lowered risk."""

    __tablename__ = "runbook_edits"

    id: int | None = Field(default=None, primary_key=True)
    runbook_id: str = Field(max_length=100, index=True)
    version: int
    actor: str = Field(max_length=64)
    authenticated_by: str = Field(max_length=200)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    risk_overrides: str = Field(sa_column=Column(Text, nullable=False), description="JSON list")
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


@dataclass(frozen=True)
class WebSession:
    handle: str
    csrf: str
    via: str
    short_id: str  # the first 12 hex of the stored digest: names the session in the audit


@dataclass(frozen=True)
class RiskOverride:
    step_id: str
    classified: str
    chosen: str
    reason: str


@dataclass(frozen=True)
class RunbookEdit:
    runbook_id: str
    version: int
    actor: str
    authenticated_by: str
    summary: str
    overrides: list[RiskOverride]
    at: datetime


class WebStore:
    def __init__(self, engine: AsyncEngine, session_ttl: timedelta = timedelta(hours=12)) -> None:
        self._engine = engine
        self._ttl = session_ttl

    # -- passwords --------------------------------------------------------------------------
    async def set_password(self, handle: str, password: str, changed_by: str) -> None:
        hashed = _HASHER.hash(password)
        async with AsyncSession(self._engine) as session:
            record = await session.get(WebPasswordRecord, handle)
            now = datetime.now(UTC)
            if record is None:
                record = WebPasswordRecord(
                    handle=handle, password_hash=hashed, changed_by=changed_by, changed_at=now
                )
            record.password_hash = hashed
            record.changed_by = changed_by
            record.changed_at = now
            session.add(record)
            await session.commit()

    async def has_password(self, handle: str) -> bool:
        async with AsyncSession(self._engine) as session:
            return await session.get(WebPasswordRecord, handle) is not None

    async def check_password(self, handle: str, password: str) -> bool:
        async with AsyncSession(self._engine) as session:
            record = await session.get(WebPasswordRecord, handle)
        stored = record.password_hash if record is not None else _DUMMY_HASH
        try:
            ok = _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and record is not None

    # -- sessions ---------------------------------------------------------------------------
    async def open_session(self, handle: str, via: str) -> tuple[str, WebSession]:
        """(cookie value, session): the cookie value is shown to the browser only."""
        secret = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        record = WebSessionRecord(
            id=secret_digest(secret),
            handle=handle,
            csrf=secrets.token_urlsafe(24),
            via=via,
            created_at=now,
            expires_at=now + self._ttl,
        )
        session_view = WebSession(handle, record.csrf, via, record.id[:12])
        async with AsyncSession(self._engine) as session:
            session.add(record)
            await session.commit()
        return secret, session_view

    async def session(self, secret: str) -> WebSession | None:
        if not secret or len(secret) > 100:
            return None
        digest = secret_digest(secret)
        async with AsyncSession(self._engine) as session:
            record = await session.get(WebSessionRecord, digest)
        if record is None or record.revoked or aware(record.expires_at) <= datetime.now(UTC):
            return None
        return WebSession(record.handle, record.csrf, record.via, digest[:12])

    async def close_session(self, secret: str) -> None:
        async with AsyncSession(self._engine) as session:
            record = await session.get(WebSessionRecord, secret_digest(secret))
            if record is not None:
                record.revoked = True
                session.add(record)
                await session.commit()

    # -- single sign-on ---------------------------------------------------------------------
    async def oidc_handle(self, issuer: str, subject: str) -> str | None:
        async with AsyncSession(self._engine) as session:
            record = await session.get(OidcIdentityRecord, (issuer, subject))
        return None if record is None else record.handle

    async def link_oidc(self, issuer: str, subject: str, handle: str) -> None:
        async with AsyncSession(self._engine) as session:
            session.add(
                OidcIdentityRecord(
                    issuer=issuer, subject=subject, handle=handle, linked_at=datetime.now(UTC)
                )
            )
            await session.commit()

    # -- runbook edits ----------------------------------------------------------------------
    async def record_edit(self, edit: RunbookEdit) -> None:
        overrides = [o.__dict__ for o in edit.overrides]
        async with AsyncSession(self._engine) as session:
            session.add(
                RunbookEditRecord(
                    runbook_id=edit.runbook_id,
                    version=edit.version,
                    actor=edit.actor,
                    authenticated_by=edit.authenticated_by,
                    summary=edit.summary,
                    risk_overrides=json.dumps(overrides),
                    at=edit.at,
                )
            )
            await session.commit()

    async def edits(self, runbook_id: str) -> dict[int, RunbookEdit]:
        """The editor's record of each version it saved, by version."""
        async with AsyncSession(self._engine) as session:
            rows = (
                await session.exec(
                    select(RunbookEditRecord)
                    .where(RunbookEditRecord.runbook_id == runbook_id)
                    .order_by(col(RunbookEditRecord.version))
                )
            ).all()
        return {
            r.version: RunbookEdit(
                runbook_id=r.runbook_id,
                version=r.version,
                actor=r.actor,
                authenticated_by=r.authenticated_by,
                summary=r.summary,
                overrides=[RiskOverride(**o) for o in json.loads(r.risk_overrides)],
                at=aware(r.at),
            )
            for r in rows
        }


@dataclass(frozen=True)
class RunbookDates:
    first_saved: datetime
    last_changed: datetime
    versions: int


async def runbook_dates(engine: AsyncEngine) -> dict[str, RunbookDates]:
    """When each runbook was first saved and last changed (staleness), in one query."""
    query = select(
        RunbookRecord.runbook_id,
        func.min(RunbookRecord.created_at),
        func.max(RunbookRecord.created_at),
        func.count(),
    ).group_by(col(RunbookRecord.runbook_id))
    async with AsyncSession(engine) as session:
        rows = (await session.exec(query)).all()
    return {
        str(rid): RunbookDates(aware(first), aware(last), int(count))
        for rid, first, last, count in rows
    }
