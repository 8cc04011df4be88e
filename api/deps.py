"""Request-scoped access to what the app built at start-up (settings, Temporal client)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from db.incident_claims import IncidentClaimStore
from db.mappings import MappingStore
from db.people import PeopleStore
from db.runbooks import RunbookStore
from db.trust import TrustStore
from domain.alerts.heartbeat import HeartbeatRule
from domain.alerts.normalize.keys import PLUMBING_SERVICES, ServiceLabels
from domain.audit.known_secrets import redactor_for
from domain.audit.redact import Redactor
from schemas.settings import Settings
from services.intake import Intake


@dataclass
class AppState:
    settings: Settings
    client: Client
    runbooks: RunbookStore
    trust: TrustStore
    engine: AsyncEngine
    mappings: MappingStore
    people: PeopleStore

    @cached_property
    def redactor(self) -> Redactor:
        """Built once: patterns plus the values of this process's own secrets (settings and
        secret-named environment variables), so an alert quoting one cannot carry it in."""
        return redactor_for(self.settings, os.environ, self.settings.redact_patterns)

    @cached_property
    def claims(self) -> IncidentClaimStore:
        """Where each firing alert goes: one atomic claim (db/incident_claims.py)."""
        return IncidentClaimStore(self.engine)

    @cached_property
    def intake(self) -> Intake:
        """Accepted alerts on their way to Temporal (services/intake.py)."""
        return Intake(self.client, self.settings, self.claims, self.engine)

    @cached_property
    def service_labels(self) -> ServiceLabels:
        """Which labels name an alert's service (DDRUN_SERVICE_LABELS), for the normalisers."""
        ignored = self.settings.service_ignored_values
        return ServiceLabels(
            labels=tuple(self.settings.service_labels),
            ignored=frozenset(PLUMBING_SERVICES if ignored is None else ignored),
        )

    @cached_property
    def heartbeats(self) -> HeartbeatRule:
        """Alerts that prove alerting works (Watchdog): acknowledged, never an incident."""
        return HeartbeatRule.of(self.settings.heartbeat_alerts, self.settings.heartbeat_severities)


async def _app_state(request: Request) -> AppState:
    """Async on purpose: FastAPI runs a plain `def` dependency on a worker thread, and under a
    burst each request then waited a median 24 ms for a thread to hand back this attribute."""
    state: AppState = request.app.state.ddrun
    return state


State = Annotated[AppState, Depends(_app_state)]
