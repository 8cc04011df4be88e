"""Embedding similarity blended into the offline match, through real litellm against the local
stand-in's /embeddings: re-ordering, vectors computed once (cache hits), and the offline answer
standing on a timeout or an error."""

from __future__ import annotations

import time
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from activities import match_embeddings
from activities.match_embeddings import EmbeddingConfig, blend_with_embeddings
from activities.match_llm import CandidateText
from activities.runbook_choice import MatchModels, match_with_models
from db.llm_cache import DbVectorCache
from domain.alerts.choose import RunbookMatcher
from domain.alerts.match import MatchResult
from schemas.runbook import Runbook
from tests.llm_standin import LlmStandin, serve
from tests.unit.alert_support import firing_alert

DIM = 8


def _unit(i: int) -> list[float]:
    return [1.0 if j == i else 0.0 for j in range(DIM)]


def _runbook(rid: str, title: str, description: str) -> Runbook:
    return Runbook.model_validate(
        {
            "id": rid,
            "title": title,
            "version": 1,
            "description": description,
            "steps": [{"id": "look", "title": "Look", "command": "uptime", "risk": "safe"}],
        }
    )


def _matcher(tag: str) -> RunbookMatcher:
    # The offline match prefers the disk runbook for "<tag> volume almost full" (its name says
    # more of the alert); the stand-in's fixed vectors make the PVC runbook the similar one.
    return RunbookMatcher.by_id(
        [
            _runbook(f"{tag}-disk", f"{tag} volume disk almost full", "markerdisk full disk."),
            _runbook(f"{tag}-pvc", f"{tag} persistent claim filling", "markerpvc claim."),
            _runbook(f"{tag}-crash", f"{tag} pod crash looping", "markercrash restarts."),
        ]
    )


def _standin(tag: str) -> LlmStandin:
    return LlmStandin(
        {},
        fixed={
            "markerdisk": _unit(1),
            "markerpvc": _unit(2),
            "markercrash": _unit(3),
            f"title: {tag} volume almost full": _unit(2),
        },
    )


def _config(base: str, **kw: float) -> EmbeddingConfig:
    return EmbeddingConfig(model="openai/standin-embed", api_base=base, api_key="sk-test", **kw)


async def test_similarity_reorders_and_runbook_vectors_are_computed_once(
    engine: AsyncEngine,
) -> None:
    tag = uuid.uuid4().hex[:8]
    matcher = _matcher(tag)
    alert = firing_alert(f"{tag} volume almost full")
    offline = matcher.match(alert, threshold=0.0)
    assert offline.runbook == f"{tag}-disk"
    standin = _standin(tag)
    cache = DbVectorCache(engine)
    async with serve(standin) as base:
        models = MatchModels(embeddings=_config(base, weight=0.8), vectors=cache)
        first = await match_with_models(matcher, alert, threshold=0.0, models=models)
        runbook_texts = [t for t in standin.embedded if "markerpvc" in t or "markerdisk" in t]
        assert len(runbook_texts) >= 2
        embedded_before = len(standin.embedded)
        again = await match_with_models(matcher, alert, threshold=0.0, models=models)
    assert first.runbook == f"{tag}-pvc"
    assert first.method == "embedding"
    assert first.candidates[0].runbook == f"{tag}-pvc"
    assert first.candidates[0].evidence["embedding_similarity"] == 1.0
    assert "offline best" in first.reason
    # The second match embeds the alert only: every runbook vector came from the cache.
    assert standin.embedded[embedded_before:] == [standin.embedded[embedded_before]]
    assert "title:" in standin.embedded[embedded_before]
    assert again.runbook == first.runbook
    # And from the database, for a process that has not seen them (memory cleared).
    match_embeddings._memory.clear()
    stored = await cache.get_many(
        [match_embeddings.vector_key("openai/standin-embed", t) for t in runbook_texts]
    )
    assert len(stored) == len(runbook_texts)


async def test_timeout_or_error_leaves_the_offline_answer() -> None:
    tag = uuid.uuid4().hex[:8]
    matcher = _matcher(tag)
    alert = firing_alert(f"{tag} volume almost full")
    offline = matcher.match(alert, threshold=0.0)
    standin = _standin(tag)
    standin.slow_s = 5.0
    async with serve(standin) as base:
        standin.embedding_script = ["slow"]
        started = time.monotonic()
        slow = await blend_with_embeddings(
            alert, offline, _shown(matcher, offline), _config(base, timeout_s=0.5, weight=0.8)
        )
        assert time.monotonic() - started < 3.0
        standin.embedding_script = ["refused"]
        failed = await blend_with_embeddings(
            alert, offline, _shown(matcher, offline), _config(base, timeout_s=2.0, weight=0.8)
        )
    for result in (slow, failed):
        assert result.runbook == offline.runbook
        assert result.candidates == offline.candidates
        assert "embeddings (openai/standin-embed) not used" in result.reason


async def test_explicit_answers_are_not_second_guessed() -> None:
    tag = uuid.uuid4().hex[:8]
    matcher = _matcher(tag)
    alert = firing_alert(f"{tag} pod crash looping")  # the runbook's own name
    offline = matcher.match(alert)
    assert offline.method == "name"
    standin = _standin(tag)
    async with serve(standin) as base:
        result = await blend_with_embeddings(
            alert, offline, _shown(matcher, offline), _config(base, weight=1.0)
        )
    assert result == offline
    assert standin.embedded == []


def _shown(matcher: RunbookMatcher, result: MatchResult) -> list[CandidateText]:
    return [CandidateText(c.runbook, *matcher.summary(c.runbook)) for c in result.candidates]
