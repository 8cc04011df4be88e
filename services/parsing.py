"""Paste → Parse: the deterministic parse, improved by an LLM when one is configured.

The deterministic parser always runs first and is always the fallback; the LLM's answer is
merged so that no step's risk drops below the classifier's, and the user is told which ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.llm_merge import merge
from domain.runbooks.ambiguities import Ambiguity
from domain.runbooks.parse import ParseResult, parse_runbook
from infra.llm import LlmCache, improve_with_llm, llm_config
from schemas.llm import LlmOutcome
from schemas.settings import Settings


@dataclass
class Parsed:
    result: ParseResult
    llm: LlmOutcome

    def to_json_dict(self) -> dict[str, Any]:
        return {**self.result.to_json_dict(), "llm": self.llm.model_dump()}


async def parse_text(
    text: str,
    *,
    source_name: str | None,
    settings: Settings,
    cache: LlmCache | None = None,
    use_llm: bool = True,
) -> Parsed:
    deterministic = parse_runbook(text, source_name=source_name)
    config = llm_config(settings) if use_llm else None
    if config is None:
        return Parsed(
            deterministic,
            LlmOutcome(used=False, message="deterministic parser (no LLM configured)"),
        )
    answer, outcome = await improve_with_llm(
        text, deterministic.to_json_dict(), config, cache=cache
    )
    if answer is None:
        return Parsed(deterministic, outcome)
    runbook, extra = merge(deterministic.runbook, answer, text)
    ambiguities = [*deterministic.ambiguities]
    known = {(a.step_id, a.message) for a in ambiguities}
    for step_id, message in extra:
        if (step_id, message) not in known:
            ambiguities.append(Ambiguity(step_id=step_id, message=message))
    return Parsed(ParseResult(runbook=runbook, ambiguities=ambiguities), outcome)
