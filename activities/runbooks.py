"""Choose the runbook for an incident's alert and render its steps (reads runbooks and mappings)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio import activity

from activities.match_llm import CandidateText, match_config, rerank_with_llm
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
    its answers kept in `llm_cache`; unset, matching is offline only."""

    store: RunbookStore
    mappings: MappingStore | None = None
    threshold: float = DEFAULT_THRESHOLD
    llm: LlmConfig | None = None
    llm_cache: LlmCache | None = None

    @activity.defn(name="select_runbook")
    async def select_runbook(self, request: SelectRunbookInput) -> SelectedRunbook:
        mappings = await self.mappings.list() if self.mappings is not None else []
        matcher = await asyncio.to_thread(matcher_for, await self.store.latest())
        result = matcher.match(request.alert, mappings=mappings, threshold=self.threshold)
        if self.llm is not None:
            shown = [
                CandidateText(c.runbook, *matcher.summary(c.runbook)) for c in result.candidates
            ]
            result = await rerank_with_llm(
                request.alert, result, shown, match_config(self.llm), self.llm_cache
            )
        return matcher.select(request.alert, result)
