"""One way to choose an alert's runbook, shared by the workflow's activity and the webhook:
the offline match (with imported alert rules), then, when configured, the LLM's re-ranking of
its candidates. Each model has a cache and a timeout; on any failure the offline answer stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from activities.match_embeddings import EmbeddingConfig, VectorCache, blend_with_embeddings
from activities.match_llm import CandidateText, rerank_with_llm
from domain.alerts.choose import RunbookMatcher
from domain.alerts.match import DEFAULT_THRESHOLD, Mapping, MatchResult
from infra.llm import LlmCache, LlmConfig
from schemas.alert import Alert
from schemas.incident import SelectedRunbook


@dataclass(frozen=True)
class MatchModels:
    """The optional models a match may consult; none given: offline only (no network)."""

    llm: LlmConfig | None = None
    llm_cache: LlmCache | None = None
    embeddings: EmbeddingConfig | None = None
    vectors: VectorCache | None = None


async def match_with_models(
    matcher: RunbookMatcher,
    alert: Alert,
    *,
    mappings: Sequence[Mapping] = (),
    threshold: float = DEFAULT_THRESHOLD,
    models: MatchModels = MatchModels(),
) -> MatchResult:
    """The offline match, blended with embedding similarity, then re-ranked by the LLM, each
    step only when its model is configured (the LLM sees the blended order)."""
    result = matcher.match(alert, mappings=mappings, threshold=threshold)
    if models.embeddings is not None:
        shown = [CandidateText(c.runbook, *matcher.summary(c.runbook)) for c in result.candidates]
        result = await blend_with_embeddings(
            alert, result, shown, models.embeddings, models.vectors
        )
    if models.llm is not None:
        shown = [CandidateText(c.runbook, *matcher.summary(c.runbook)) for c in result.candidates]
        result = await rerank_with_llm(alert, result, shown, models.llm, models.llm_cache)
    return result


async def choose_with_models(
    matcher: RunbookMatcher,
    alert: Alert,
    *,
    mappings: Sequence[Mapping] = (),
    threshold: float = DEFAULT_THRESHOLD,
    models: MatchModels = MatchModels(),
) -> SelectedRunbook:
    """The runbook for `alert`, rendered (or the reason there is none)."""
    result = await match_with_models(
        matcher, alert, mappings=mappings, threshold=threshold, models=models
    )
    return matcher.select(alert, result)
