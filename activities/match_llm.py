"""An LLM's second opinion on the offline match, through litellm (any provider it speaks).

The offline matcher ranks every runbook; when its answer is a text match (not an explicit
mapping, selector, URL or exact name), the model is shown the alert and the top candidates and
answers with one JSON object naming a candidate (or none). The answer is validated (it must name
a shown candidate), cached by content hash, bounded by a timeout, and any failure leaves the
offline result in charge and says why. The model never sees a runbook that was not a candidate.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.alerts.match import MatchResult
from infra.llm import Completion, LlmCache, LlmConfig, ask_json
from schemas.alert import Alert

log = logging.getLogger(__name__)

PROMPT_VERSION = "match-1"
MATCH_TIMEOUT_S = 10.0  # a second opinion must not hold an incident up for long
MAX_OUTPUT_TOKENS = 300
CANDIDATES_SHOWN = 5
SUMMARY_CHARS = 600
SYSTEM_PROMPT = """You choose the runbook an on-call engineer should open for an alert.
You get the alert and candidate runbooks (id, title, summary). Answer with ONE JSON object
and nothing else: {"runbook": "<one candidate id>" | null, "confidence": <0..1>,
"reason": "<one sentence>"}. Use null when no candidate is about the alert's problem.
Never name an id that is not a candidate."""
RERANKED_METHODS = frozenset({"text", "none"})


class LlmChoice(BaseModel):
    """The model's structured answer."""

    model_config = ConfigDict(extra="ignore")

    runbook: str | None
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str = Field(default="", max_length=2000)


@dataclass(frozen=True)
class CandidateText:
    """What the model is shown of one candidate runbook."""

    key: str
    title: str
    summary: str


def match_config(config: LlmConfig) -> LlmConfig:
    """The parser's model settings with the matcher's own, tighter timeout and answer budget."""
    return replace(
        config,
        timeout_s=min(config.timeout_s, MATCH_TIMEOUT_S),
        max_output_tokens=MAX_OUTPUT_TOKENS,
    )


def alert_text(alert: Alert) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
    return (
        f"source: {alert.source.value}\ntitle: {alert.title}\nname: {alert.name}\n"
        f"severity: {alert.severity}\ndescription: {alert.description[:1000]}\nlabels: {labels}"
    )


def cache_key(config: LlmConfig, alert: Alert, candidates: Sequence[CandidateText]) -> str:
    shown = "\0".join(f"{c.key}\0{c.title}\0{c.summary}" for c in candidates)
    material = f"{PROMPT_VERSION}\0{config.model}\0{alert_text(alert)}\0{shown}"
    return hashlib.sha256(material.encode()).hexdigest()


async def rerank_with_llm(
    alert: Alert,
    offline: MatchResult,
    candidates: Sequence[CandidateText],
    config: LlmConfig,
    cache: LlmCache | None = None,
    completion: Completion | None = None,
) -> MatchResult:
    """The model's pick among `candidates` as a MatchResult (method "llm"), or `offline` with a
    note saying why the model was not used."""
    if offline.method not in RERANKED_METHODS or not candidates:
        return offline
    shown = list(candidates[:CANDIDATES_SHOWN])
    keys = {c.key for c in shown}
    key = cache_key(config, alert, shown)
    raw = await cache.get(key) if cache is not None else None
    cached = raw is not None
    problem = ""
    if raw is None:
        raw, problem = await _ask(alert, shown, config, completion)
    choice: LlmChoice | None = None
    if raw is not None:
        try:
            choice = LlmChoice.model_validate_json(_strip_fences(raw))
        except ValidationError as err:
            problem = f"invalid structured answer: {err.errors()[0]['msg']}"
        if choice is not None and choice.runbook is not None and choice.runbook not in keys:
            problem, choice = f"answer names {choice.runbook!r}, not a candidate", None
    if choice is None:
        log.warning("LLM re-ranking not used: %s", problem)
        return offline.model_copy(
            update={"reason": f"{offline.reason}; LLM ({config.model}) not used: {problem}"}
        )
    if cache is not None and not cached:
        await cache.put(key, config.model, choice.model_dump_json())
    offline_note = f"offline best {offline.candidates[0].runbook if offline.candidates else None}"
    why = f"LLM ({config.model}{', cached' if cached else ''}) chose among {len(shown)} "
    why += f"candidates: {choice.reason or 'no reason given'} ({offline_note})"
    if choice.runbook is None:
        return offline.model_copy(
            update={
                "runbook": None,
                "method": "none",
                "confidence": choice.confidence,
                "reason": f"no runbook matched: {why}",
                "close": [],
            }
        )
    return offline.model_copy(
        update={
            "runbook": choice.runbook,
            "method": "llm",
            "confidence": choice.confidence,
            "reason": why,
            "close": [],
        }
    )


async def _ask(
    alert: Alert,
    shown: Sequence[CandidateText],
    config: LlmConfig,
    completion: Completion | None,
) -> tuple[str | None, str]:
    """The model's raw answer, or None and what went wrong (one attempt: a timeout or an
    error means the offline answer stands, never a second wait)."""
    listing = [{"id": c.key, "title": c.title, "summary": c.summary} for c in shown]
    messages: list[dict[str, str]] = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {
            "role": "user",
            "content": f"ALERT\n{alert_text(alert)}\n\nCANDIDATES\n{json.dumps(listing)}",
        },
    ]
    try:
        response = await ask_json(config, messages, completion)
    except Exception as err:  # any provider failure: the offline answer stands
        return None, f"{type(err).__name__}: {str(err)[:300]}"
    return str(response.choices[0].message.content or ""), ""


def _strip_fences(content: str) -> str:
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text
