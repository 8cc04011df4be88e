"""Where each incident lives in Slack: its channel, and every message the bot posted there.

This is what makes the Slack sync idempotent: a message is found by its key (`header`,
`step:<id>`, `thread:<id>`, `event:<n>`, `summary`) within one run of one incident, and its
digest says whether what Slack shows is already what we would send. The sync writes a row right
after each successful Slack call, so a retry resumes where the last attempt stopped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession


class SlackChannelRecord(SQLModel, table=True):
    """An incident's channel (created for it, or the configured shared one) and its setup."""

    __tablename__ = "slack_channels"

    incident_id: str = Field(primary_key=True, max_length=300)
    channel_id: str = Field(max_length=40)
    name: str = Field(max_length=80)
    reused: bool = False
    topic: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    invited: str = Field(
        default="", sa_column=Column(Text, nullable=False, default=""), description="user ids, ','"
    )
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class SlackMessageRecord(SQLModel, table=True):
    """One bot message: where it is (`channel_id`, `ts`) and the digest of what it last said."""

    __tablename__ = "slack_messages"
    __table_args__ = (UniqueConstraint("incident_id", "run", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(index=True, max_length=300)
    run: str = Field(max_length=64, description="Which run of the incident (a reopen is another)")
    key: str = Field(max_length=200)
    channel_id: str = Field(max_length=40)
    ts: str = Field(max_length=40)
    digest: str = Field(max_length=64)
    pinned: bool = False
    posted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


@dataclass(frozen=True)
class SlackChannelRef:
    incident_id: str
    channel_id: str
    name: str
    reused: bool
    topic: str
    invited: frozenset[str]


@dataclass(frozen=True)
class SlackMessageRef:
    key: str
    channel_id: str
    ts: str
    digest: str
    pinned: bool


def _channel_ref(row: SlackChannelRecord) -> SlackChannelRef:
    return SlackChannelRef(
        incident_id=row.incident_id,
        channel_id=row.channel_id,
        name=row.name,
        reused=row.reused,
        topic=row.topic,
        invited=frozenset(u for u in row.invited.split(",") if u),
    )


def _message_ref(row: SlackMessageRecord) -> SlackMessageRef:
    return SlackMessageRef(row.key, row.channel_id, row.ts, row.digest, row.pinned)


class SlackMessageStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def incident_in_channel(self, channel_id: str) -> str | None:
        """The incident a dedicated channel belongs to (None for a shared, reused channel)."""
        async with AsyncSession(self._engine) as session:
            rows = (
                await session.exec(
                    select(SlackChannelRecord).where(SlackChannelRecord.channel_id == channel_id)
                )
            ).all()
        return rows[0].incident_id if len(rows) == 1 and not rows[0].reused else None

    # -- channel ----------------------------------------------------------------------------

    async def channel(self, incident_id: str) -> SlackChannelRef | None:
        async with AsyncSession(self._engine) as session:
            row = await session.get(SlackChannelRecord, incident_id)
        return None if row is None else _channel_ref(row)

    async def save_channel(
        self, incident_id: str, channel_id: str, name: str, *, reused: bool
    ) -> SlackChannelRef:
        """Remember the incident's channel; the first one saved wins (and is returned)."""
        async with AsyncSession(self._engine) as session:
            session.add(
                SlackChannelRecord(
                    incident_id=incident_id,
                    channel_id=channel_id,
                    name=name,
                    reused=reused,
                    created_at=datetime.now(UTC),
                )
            )
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
        found = await self.channel(incident_id)
        if found is None:  # pragma: no cover - just written
            raise RuntimeError(f"slack channel of {incident_id} vanished")
        return found

    async def set_topic(self, incident_id: str, topic: str) -> None:
        async with AsyncSession(self._engine) as session:
            row = await session.get(SlackChannelRecord, incident_id)
            if row is not None:
                row.topic = topic
                await session.commit()

    async def add_invited(self, incident_id: str, users: Iterable[str]) -> None:
        async with AsyncSession(self._engine) as session:
            row = await session.get(SlackChannelRecord, incident_id)
            if row is not None:
                known = {u for u in row.invited.split(",") if u} | set(users)
                row.invited = ",".join(sorted(known))
                await session.commit()

    # -- messages ---------------------------------------------------------------------------

    async def messages(self, incident_id: str, run: str) -> dict[str, SlackMessageRef]:
        """Every message of one run, by key: one read per sync."""
        async with AsyncSession(self._engine) as session:
            rows = (
                await session.exec(
                    select(SlackMessageRecord).where(
                        SlackMessageRecord.incident_id == incident_id,
                        SlackMessageRecord.run == run,
                    )
                )
            ).all()
        return {r.key: _message_ref(r) for r in rows}

    async def save_message(
        self, incident_id: str, run: str, key: str, *, channel_id: str, ts: str, digest: str
    ) -> None:
        """Record a message just posted (or re-posted after it was deleted in Slack)."""
        now = datetime.now(UTC)
        async with AsyncSession(self._engine) as session:
            row = await self._row(session, incident_id, run, key)
            if row is None:
                row = SlackMessageRecord(
                    incident_id=incident_id,
                    run=run,
                    key=key,
                    channel_id=channel_id,
                    ts=ts,
                    digest=digest,
                    posted_at=now,
                    updated_at=now,
                )
            else:
                row.channel_id, row.ts, row.digest, row.pinned = channel_id, ts, digest, False
                row.posted_at = row.updated_at = now
            session.add(row)
            await session.commit()

    async def set_digest(self, incident_id: str, run: str, key: str, digest: str) -> None:
        async with AsyncSession(self._engine) as session:
            row = await self._row(session, incident_id, run, key)
            if row is not None:
                row.digest, row.updated_at = digest, datetime.now(UTC)
                await session.commit()

    async def mark_pinned(self, incident_id: str, run: str, key: str) -> None:
        async with AsyncSession(self._engine) as session:
            row = await self._row(session, incident_id, run, key)
            if row is not None:
                row.pinned = True
                await session.commit()

    @staticmethod
    async def _row(
        session: AsyncSession, incident_id: str, run: str, key: str
    ) -> SlackMessageRecord | None:
        return (
            await session.exec(
                select(SlackMessageRecord).where(
                    SlackMessageRecord.incident_id == incident_id,
                    SlackMessageRecord.run == run,
                    SlackMessageRecord.key == key,
                )
            )
        ).first()
