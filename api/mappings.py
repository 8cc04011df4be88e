"""Explicit alert → runbook mappings: list, add (validated), remove.

A mapping is checked before it is stored: a selector that says something, regular expressions
that compile, a runbook that exists. A bad one is a 4xx naming the problem, never a 500 later on
the alert path.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.auth import Author, Reader
from api.body import parse_json, read_limited
from api.deps import State
from api.errors import ConflictError, NotFoundError, UnprocessableError
from db.mappings import MappingExistsError, MappingStore, checked_selector
from domain.alerts.match import Mapping
from schemas.runbook import AlertSelector

router = APIRouter(prefix="/api/mappings", tags=["mappings"])


class SelectorBody(BaseModel):
    """Which alerts: every given condition must hold; label values `~regex` match in full."""

    model_config = ConfigDict(extra="forbid")

    alertname: str | None = None
    service: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valid(self) -> SelectorBody:
        checked_selector(self.alertname, self.service, self.labels)  # ValueError → 422
        return self

    def to_selector(self) -> AlertSelector:
        return checked_selector(self.alertname, self.service, self.labels)


class MappingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    selector: SelectorBody
    runbook: str = Field(min_length=1, max_length=100, description="The runbook id")
    note: str = Field(default="", max_length=2000)


def _store(state: State) -> MappingStore:
    return MappingStore(state.engine)


def _found(mapping: Mapping | None, mapping_id: int) -> Mapping:
    if mapping is None:
        raise NotFoundError(f"no mapping #{mapping_id}")
    return mapping


@router.get("")
async def list_mappings(state: State, _principal: Reader) -> list[Mapping]:
    return await _store(state).list()


@router.get("/{mapping_id}")
async def get_mapping(mapping_id: int, state: State, _principal: Reader) -> Mapping:
    return _found(await _store(state).get(mapping_id), mapping_id)


@router.post("", status_code=201)
async def add_mapping(request: Request, state: State, principal: Author) -> Mapping:
    raw = await read_limited(request, state.settings.max_body_bytes)
    body = MappingBody.model_validate(parse_json(raw))
    if await state.runbooks.get(body.runbook) is None:
        raise UnprocessableError(
            f"no runbook {body.runbook!r}: map to the id of a loaded runbook (ddrun runbooks list)"
        )
    try:
        return await _store(state).add(
            body.selector.to_selector(), body.runbook, created_by=principal.handle, note=body.note
        )
    except MappingExistsError as err:
        raise ConflictError(str(err)) from None


@router.delete("/{mapping_id}")
async def remove_mapping(mapping_id: int, state: State, _principal: Author) -> Mapping:
    return _found(await _store(state).remove(mapping_id), mapping_id)
