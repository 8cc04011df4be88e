"""Embedding similarity blended into the offline match, through litellm's embedding API.

Only a configured remote (or local server) model is called: no weights are ever downloaded.
Each candidate runbook's text is embedded once per model and text (sha256 of both: kept in this
process and in the database), the alert once per match. The offline candidates are re-ordered
by (1 - w) x offline score + w x cosine similarity; explicit answers (mapping, selector, URL,
exact name) are never second-guessed, a match below the threshold stays "no runbook", and on a
timeout or any error the offline result stands with the reason said.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from activities.match_llm import CandidateText, alert_text
from domain.alerts.match import Candidate, MatchResult
from schemas.alert import Alert
from schemas.settings import Settings

log = logging.getLogger(__name__)

# Text matches are blended; a "none" is re-ordered but keeps runbook=None (its confidence is
# the offline one, calibrated without embeddings).
BLENDED_METHODS = frozenset({"text", "none"})
MEMORY_VECTORS = 20_000  # vectors kept in this process (~12 KiB each at 1,536 dimensions)

Embedding = Callable[..., Awaitable[Any]]


class VectorCache(Protocol):
    async def get_many(self, keys: list[str]) -> dict[str, list[float]]: ...

    async def put_many(self, model: str, vectors: dict[str, list[float]]) -> None: ...


@dataclass(frozen=True)
class EmbeddingConfig:
    model: str
    api_base: str | None = None
    api_key: str | None = None
    timeout_s: float = 2.0
    weight: float = 0.3


def embedding_config(settings: Settings) -> EmbeddingConfig | None:
    if not settings.embedding_model:
        return None
    key = settings.embedding_api_key or settings.llm_api_key
    return EmbeddingConfig(
        model=settings.embedding_model,
        api_base=settings.embedding_api_base or settings.llm_api_base,
        api_key=key.get_secret_value() if key else None,
        timeout_s=settings.embedding_timeout_s,
        weight=settings.embedding_weight,
    )


def vector_key(model: str, text: str) -> str:
    return hashlib.sha256(f"embedding-1\0{model}\0{text}".encode()).hexdigest()


_memory: OrderedDict[str, list[float]] = OrderedDict()


def _remember(key: str, vector: list[float]) -> None:
    _memory[key] = vector
    _memory.move_to_end(key)
    while len(_memory) > MEMORY_VECTORS:
        _memory.popitem(last=False)


def runbook_text(candidate: CandidateText) -> str:
    return f"{candidate.title}\n{candidate.summary}"


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = math.fsum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norm if norm else 0.0


async def blend_with_embeddings(
    alert: Alert,
    offline: MatchResult,
    candidates: Sequence[CandidateText],
    config: EmbeddingConfig,
    cache: VectorCache | None = None,
    embedding: Embedding | None = None,
) -> MatchResult:
    """`offline` with its candidates re-ordered by the blended score (and the runbook with
    them), or unchanged with a note when the embeddings could not be had in time."""
    if offline.method not in BLENDED_METHODS or not offline.candidates:
        return offline
    texts = {c.key: runbook_text(c) for c in candidates}
    if embedding is None:
        embedding = litellm_embedding()  # imported before the clock starts
    try:
        async with asyncio.timeout(config.timeout_s):
            vectors = await _runbook_vectors(texts, config, cache, embedding)
            (alert_vector,) = await _embed([alert_text(alert)], config, embedding)
    except Exception as err:  # a timeout or any provider failure: the offline answer stands
        problem = f"{type(err).__name__}: {str(err)[:300]}" if str(err) else type(err).__name__
        log.warning("embeddings not used: %s", problem)
        return offline.model_copy(
            update={"reason": f"{offline.reason}; embeddings ({config.model}) not used: {problem}"}
        )
    w = config.weight
    rescored: list[tuple[float, int, Candidate]] = []
    for order, candidate in enumerate(offline.candidates):
        vector = vectors.get(candidate.runbook)
        similarity = max(0.0, cosine(alert_vector, vector)) if vector is not None else 0.0
        blended = (1.0 - w) * candidate.score + w * similarity
        rescored.append(
            (
                -blended,
                order,
                candidate.model_copy(
                    update={
                        "score": round(blended, 4),
                        "reasons": [
                            *candidate.reasons,
                            f"embedding similarity {similarity:.2f} (offline score "
                            f"{candidate.score:.2f})",
                        ],
                        "evidence": {
                            **candidate.evidence,
                            "embedding_similarity": round(similarity, 4),
                            "offline_score": candidate.score,
                        },
                    }
                ),
            )
        )
    reordered = [c for _, _, c in sorted(rescored, key=lambda r: (r[0], r[1]))]
    best = reordered[0].runbook
    update: dict[str, Any] = {"candidates": reordered}
    note = f"embeddings ({config.model}, weight {w:.2f}) ranked {best} first"
    if offline.runbook is not None and best != offline.runbook:
        update |= {
            "runbook": best,
            "method": "embedding",
            "reason": f"{note} (offline best {offline.runbook}: {offline.reason})",
            "close": [c for c in offline.close if c.runbook != best],
        }
    else:
        update["reason"] = f"{offline.reason}; {note}"
    return offline.model_copy(update=update)


async def _runbook_vectors(
    texts: dict[str, str],
    config: EmbeddingConfig,
    cache: VectorCache | None,
    embedding: Embedding | None,
) -> dict[str, list[float]]:
    """Each runbook's vector: from this process, then the database, then the model (once)."""
    keys = {rid: vector_key(config.model, text) for rid, text in texts.items()}
    found = {k: _memory[k] for k in keys.values() if k in _memory}
    missing = [k for k in dict.fromkeys(keys.values()) if k not in found]
    if missing and cache is not None:
        stored = await cache.get_many(missing)
        found |= stored
        missing = [k for k in missing if k not in stored]
    if missing:
        text_of = {keys[rid]: text for rid, text in texts.items()}
        computed = dict(
            zip(
                missing, await _embed([text_of[k] for k in missing], config, embedding), strict=True
            )
        )
        found |= computed
        if cache is not None:
            await cache.put_many(config.model, computed)
    for key, vector in found.items():
        _remember(key, vector)
    return {rid: found[key] for rid, key in keys.items()}


async def _embed(
    texts: list[str], config: EmbeddingConfig, embedding: Embedding | None
) -> list[list[float]]:
    if embedding is None:
        embedding = litellm_embedding()
    response = await embedding(
        model=config.model,
        input=texts,
        api_base=config.api_base,
        api_key=config.api_key,
        timeout=config.timeout_s,
        num_retries=0,
        max_retries=0,  # one attempt: a failure means the offline answer, not a second wait
    )
    rows = sorted(response.data, key=lambda d: _field(d, "index"))
    vectors = [[float(v) for v in _field(d, "embedding")] for d in rows]
    if len(vectors) != len(texts):
        raise ValueError(f"{len(vectors)} vectors for {len(texts)} texts")
    return vectors


def litellm_embedding() -> Embedding:
    """litellm's embedding call. Its import would fetch a price list from the internet (and
    wait ~7 s when offline): the copy it ships with is used instead."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    embedding: Embedding = litellm.aembedding
    return embedding


def _field(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)
