"""Choose the runbook for an incident's alert and render its steps (reads runbooks, mappings and
imported alert rules)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio import activity

from activities.match_embeddings import EmbeddingConfig, VectorCache
from activities.match_llm import match_config
from activities.runbook_choice import MatchModels, choose_with_models
from db.alert_rules import AlertRuleStore
from db.mappings import MappingStore
from db.runbooks import RunbookStore
from domain.alerts.choose import matcher_for
from domain.alerts.match import DEFAULT_THRESHOLD
from infra.llm import LlmCache, LlmConfig
from schemas.incident import SelectedRunbook, SelectRunbookInput


@dataclass
class RunbookActivities:
    """`mappings`: the operators' explicit rules (none when not given); `threshold`: the
    confidence below which the incident is told no runbook matched (settings.match_threshold);
    `llm`: a model (settings.llm_model) asked to re-rank the offline text match's candidates,
    its answers kept in `llm_cache`; unset, matching is offline only; `rules`: imported
    Prometheus alert rules, whose words the matcher learns; `embeddings`: an embedding model
    (settings.embedding_model) whose similarity is blended in, vectors kept in `vectors`."""

    store: RunbookStore
    mappings: MappingStore | None = None
    threshold: float = DEFAULT_THRESHOLD
    llm: LlmConfig | None = None
    llm_cache: LlmCache | None = None
    rules: AlertRuleStore | None = None
    embeddings: EmbeddingConfig | None = None
    vectors: VectorCache | None = None

    @activity.defn(name="select_runbook")
    async def select_runbook(self, request: SelectRunbookInput) -> SelectedRunbook:
        mappings = await self.mappings.list() if self.mappings is not None else []
        rules = await self.rules.list() if self.rules is not None else None
        matcher = await asyncio.to_thread(matcher_for, await self.store.latest(), rules)
        models = MatchModels(
            llm=match_config(self.llm) if self.llm is not None else None,
            llm_cache=self.llm_cache,
            embeddings=self.embeddings,
            vectors=self.vectors,
        )
        return await choose_with_models(
            matcher, request.alert, mappings=mappings, threshold=self.threshold, models=models
        )
