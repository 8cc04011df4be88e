"""Imported Prometheus alerting rules: what the matcher learns an alert means.

A rules file is imported under a source name; importing the same source again replaces its
rules (a file is the unit users edit). Matching reads every rule on each firing alert, so the
list is kept for `fresh_for_s` in this process and dropped at once by an import here.
"""

from __future__ import annotations

import builtins
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Text, delete
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.alerts.documents import AlertRule
from domain.alerts.rules_file import ImportedRules


class AlertRuleRecord(SQLModel, table=True):
    """One alerting rule of one imported rules file."""

    __tablename__ = "alert_rules"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True, max_length=200)
    alertname: str = Field(index=True, max_length=200)
    expr: str = Field(sa_column=Column(Text, nullable=False))
    annotations: str = Field(sa_column=Column(Text, nullable=False))
    imported_by: str = Field(default="", max_length=200)
    imported_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


@dataclass(frozen=True)
class ImportSummary:
    source: str
    imported: int
    replaced: int
    alertnames: builtins.list[str]


_cached: dict[str, tuple[float, ImportedRules]] = {}  # engine URL → (read at, rules)


class AlertRuleStore:
    def __init__(self, engine: AsyncEngine, fresh_for_s: float = 5.0) -> None:
        self._engine = engine
        self._fresh_for_s = fresh_for_s
        self._key = engine.url.render_as_string(hide_password=True)

    async def replace(
        self, source: str, rules: builtins.list[AlertRule], imported_by: str
    ) -> ImportSummary:
        """Store `rules` as the whole of `source`, in one transaction."""
        now = datetime.now(UTC)
        async with AsyncSession(self._engine) as session:
            old = (
                await session.exec(select(AlertRuleRecord).where(AlertRuleRecord.source == source))
            ).all()
            await session.exec(delete(AlertRuleRecord).where(col(AlertRuleRecord.source) == source))
            for rule in rules:
                session.add(
                    AlertRuleRecord(
                        source=source,
                        alertname=rule.alertname,
                        expr=rule.expr,
                        annotations=json.dumps(rule.annotations, sort_keys=True),
                        imported_by=imported_by,
                        imported_at=now,
                    )
                )
            await session.commit()
        _cached.pop(self._key, None)
        names = sorted({r.alertname for r in rules})
        return ImportSummary(source, len(rules), len(old), names)

    async def list(self) -> ImportedRules:
        """Every imported rule, oldest import first."""
        now = time.monotonic()
        hit = _cached.get(self._key)
        if hit is not None and now - hit[0] < self._fresh_for_s:
            return hit[1]
        async with AsyncSession(self._engine) as session:
            records = (
                await session.exec(select(AlertRuleRecord).order_by(col(AlertRuleRecord.id)))
            ).all()
        rules = ImportedRules.of(
            [
                AlertRule(alertname=r.alertname, expr=r.expr, annotations=json.loads(r.annotations))
                for r in records
            ]
        )
        _cached[self._key] = (now, rules)
        return rules
