"""Prometheus alerting rules imported so the matcher knows what an alert means: its summary,
description and the metrics of its expression count toward the runbook named for the alert."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Author, Reader
from api.body import parse_json, read_limited
from api.deps import State
from api.errors import UnprocessableError
from db.alert_rules import AlertRuleStore
from domain.alerts.rules_file import RulesFileError, parse_rules_file

router = APIRouter(prefix="/api/rules", tags=["rules"])


class RulesImport(BaseModel):
    """A rules file's text (YAML rules file, PrometheusRule, or a JSON list of rules) and the
    name it is kept under: importing the same source again replaces its rules."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1)


class RulesImported(BaseModel):
    source: str
    imported: int
    replaced: int
    recording_rules_skipped: int
    alertnames: list[str]


@router.post("/import", status_code=201)
async def import_rules(request: Request, state: State, principal: Author) -> RulesImported:
    """JSON {source, content}; or the file itself as the body, with `?source=NAME`."""
    raw = await read_limited(request, state.settings.max_body_bytes)
    if request.headers.get("content-type", "").startswith("application/json"):
        body = RulesImport.model_validate(parse_json(raw))
    else:
        body = RulesImport(
            source=request.query_params.get("source", ""),
            content=raw.decode("utf-8", errors="replace"),
        )
    try:
        parsed = parse_rules_file(body.content)
    except RulesFileError as err:
        raise UnprocessableError(str(err)) from None
    summary = await AlertRuleStore(state.engine).replace(
        body.source, parsed.rules, imported_by=principal.handle
    )
    return RulesImported(
        source=summary.source,
        imported=summary.imported,
        replaced=summary.replaced,
        recording_rules_skipped=parsed.recording,
        alertnames=summary.alertnames,
    )


@router.get("")
async def list_rules(state: State, _principal: Reader) -> list[dict[str, Any]]:
    rules = await AlertRuleStore(state.engine, fresh_for_s=0.0).list()
    return [r.model_dump(mode="json") for r in rules.rules]
