"""Request-scoped access to what the app built at start-up (settings, Temporal client)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from db.mappings import MappingStore
from db.people import PeopleStore
from db.runbooks import RunbookStore
from db.trust import TrustStore
from domain.audit.redact import Redactor
from schemas.settings import Settings


@dataclass
class AppState:
    settings: Settings
    client: Client
    runbooks: RunbookStore
    trust: TrustStore
    engine: AsyncEngine
    mappings: MappingStore
    people: PeopleStore

    @property
    def redactor(self) -> Redactor:
        return Redactor(self.settings.redact_patterns)


def _app_state(request: Request) -> AppState:
    state: AppState = request.app.state.ddrun
    return state


State = Annotated[AppState, Depends(_app_state)]
