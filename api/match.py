"""Which runbook an alert gets, and how sure: `POST /api/match` answers without starting
anything, and `choose_for_alert` is the choice the webhooks make before starting an incident.

Both use the stored runbooks, mappings and imported alert rules, and the configured models
(LLM re-ranking, embeddings) with the intake's short timeouts; unconfigured, no model is asked
and intake costs what the offline match costs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from activities.match_embeddings import embedding_config
from activities.match_llm import match_config
from activities.runbook_choice import MatchModels, choose_with_models
from api.auth import Reader
from api.body import read_limited
from api.deps import AppState, State
from api.errors import UnprocessableError
from db.alert_rules import AlertRuleStore
from db.llm_cache import DbLlmCache, DbVectorCache
from domain.alerts.choose import RunbookMatcher, cached_matcher, matcher_for
from domain.alerts.detect import AlertPayloadError, normalize_any
from domain.alerts.match import Mapping
from infra.llm import llm_config
from schemas.alert import Alert
from schemas.incident import MatchCandidate, SelectedRunbook
from schemas.runbook import Runbook

router = APIRouter(prefix="/api/match", tags=["match"])


def intake_models(state: AppState) -> MatchModels:
    """The configured models with the intake's timeouts (settings.match_llm_timeout_s,
    settings.embedding_timeout_s); none configured: no model is asked."""
    llm = llm_config(state.settings)
    if llm is not None:
        llm = match_config(llm)
        llm = replace(llm, timeout_s=min(llm.timeout_s, state.settings.match_llm_timeout_s))
    embeddings = embedding_config(state.settings)
    return MatchModels(
        llm=llm,
        llm_cache=DbLlmCache(state.engine) if llm is not None else None,
        embeddings=embeddings,
        vectors=DbVectorCache(state.engine) if embeddings is not None else None,
    )


async def intake_matcher(state: AppState, runbooks: Sequence[Runbook]) -> RunbookMatcher:
    rules = await AlertRuleStore(state.engine).list()
    # The first alert after a change builds the index (~0.4 s at 1,000 runbooks): off the
    # event loop, so other requests are not held up. Once built, later alerts skip the hop.
    matcher = cached_matcher(runbooks, rules)
    if matcher is None:
        matcher = await asyncio.to_thread(matcher_for, runbooks, rules)
    return matcher


async def choose_for_alert(
    state: AppState, runbooks: Sequence[Runbook], alert: Alert, mappings: Sequence[Mapping]
) -> SelectedRunbook:
    """The runbook a webhook starts the incident with (the workflow's own choice, made the
    same way, is used only when none was given)."""
    matcher = await intake_matcher(state, runbooks)
    return await choose_with_models(
        matcher,
        alert,
        mappings=mappings,
        threshold=state.settings.match_threshold,
        models=intake_models(state),
    )


def _candidate(candidate: MatchCandidate) -> dict[str, Any]:
    """A candidate with the evidence behind its score (left out of the stored shape)."""
    return {**candidate.model_dump(mode="json"), "evidence": candidate.evidence}


@router.post("")
async def match_alert(request: Request, state: State, _principal: Reader) -> dict[str, Any]:
    """A raw alert payload of any supported source (detected): for each alert, the runbook it
    would get, the confidence, the candidates and the close calls, each with its evidence."""
    raw = await read_limited(request, state.settings.max_body_bytes)
    try:
        alerts = normalize_any(raw, None, datetime.now(UTC))
    except AlertPayloadError as err:
        raise UnprocessableError(str(err)) from None
    if not alerts:
        raise UnprocessableError("the payload holds no alerts")
    runbooks = await state.runbooks.latest()
    mappings = await state.mappings.list()
    answers = []
    for alert in alerts:
        selected = await choose_for_alert(state, runbooks, alert, mappings)
        answers.append(
            {
                "dedup_key": alert.dedup_key,
                "title": alert.title,
                "runbook": selected.runbook.id if selected.runbook else None,
                "confidence": selected.confidence,
                "method": selected.method,
                "reason": selected.reason,
                "candidates": [_candidate(c) for c in selected.candidates],
                "close": [_candidate(c) for c in selected.close],
                "variables": selected.variables,
                "missing_variables": selected.missing_variables,
            }
        )
    return {"alerts": answers}
