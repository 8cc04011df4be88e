"""LLM re-ranking of the offline match, through real litellm against the local stand-in."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from activities.match_llm import CandidateText, rerank_with_llm
from activities.runbooks import RunbookActivities
from db.llm_cache import DbLlmCache
from db.runbooks import RunbookStore
from domain.alerts.choose import RunbookMatcher
from domain.alerts.match import MatchResult
from infra.llm import LlmConfig
from schemas.alert import Alert
from schemas.incident import SelectRunbookInput
from schemas.runbook import Runbook
from tests.llm_standin import LlmStandin, serve
from tests.unit.alert_support import firing_alert


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
    return RunbookMatcher.by_id(
        [
            _runbook(
                f"{tag}-disk", "Node disk almost full", "A filesystem is running out of space."
            ),
            _runbook(f"{tag}-pvc", "Persistent volume filling up", "A PVC is almost full."),
            _runbook(f"{tag}-crash", "Pod crash looping", "A container keeps restarting."),
        ]
    )


def _alert(title: str) -> Alert:
    return firing_alert(title)


def _shown(matcher: RunbookMatcher, result: MatchResult) -> list[CandidateText]:
    return [CandidateText(c.runbook, *matcher.summary(c.runbook)) for c in result.candidates]


def _config(base: str, **kw: Any) -> LlmConfig:
    return LlmConfig(model="openai/standin", api_base=base, api_key="sk-test", **kw)


async def test_model_choice_among_candidates_is_used_and_cached(engine: AsyncEngine) -> None:
    tag = uuid.uuid4().hex[:8]
    matcher = _matcher(tag)
    alert = _alert(f"volume for {tag} almost full")
    offline = matcher.match(alert, threshold=0.0)
    assert {c.runbook for c in offline.candidates} >= {f"{tag}-pvc", f"{tag}-disk"}
    standin = LlmStandin({"runbook": f"{tag}-pvc", "confidence": 0.83, "reason": "a PVC"})
    cache = DbLlmCache(engine)
    async with serve(standin) as base:
        first = await rerank_with_llm(
            alert, offline, _shown(matcher, offline), _config(base), cache
        )
        again = await rerank_with_llm(
            alert, offline, _shown(matcher, offline), _config(base), cache
        )
    assert first.runbook == f"{tag}-pvc"
    assert first.method == "llm"
    assert first.confidence == 0.83
    assert "a PVC" in first.reason
    assert len(standin.requests) == 1  # the second answer came from the cache
    assert again.runbook == first.runbook
    assert "cached" in again.reason
    sent = standin.requests[0]
    assert sent["response_format"] == {"type": "json_object"}
    assert f"{tag}-pvc" in sent["messages"][1]["content"]  # candidates are shown to the model
    assert matcher.select(alert, first).runbook is not None


async def test_answer_outside_the_candidates_keeps_the_offline_result() -> None:
    tag = uuid.uuid4().hex[:8]
    matcher = _matcher(tag)
    alert = _alert(f"pods of {tag} keep crash looping")
    offline = matcher.match(alert, threshold=0.0)
    standin = LlmStandin({"runbook": "rm-rf-everything", "confidence": 1.0, "reason": "x"})
    async with serve(standin) as base:
        result = await rerank_with_llm(alert, offline, _shown(matcher, offline), _config(base))
    assert result.runbook == offline.runbook
    assert result.method == offline.method
    assert "not a candidate" in result.reason


async def test_prose_error_and_timeout_fall_back_to_offline() -> None:
    tag = uuid.uuid4().hex[:8]
    matcher = _matcher(tag)
    alert = _alert(f"{tag} node disk almost full")
    offline = matcher.match(alert, threshold=0.0)
    standin = LlmStandin({"runbook": None, "confidence": 0.1}, script=["prose", "error", "slow"])
    standin.slow_s = 2
    async with serve(standin) as base:
        for expected in ("invalid structured answer", "InternalServerError", "Timeout"):
            result = await rerank_with_llm(
                alert, offline, _shown(matcher, offline), _config(base, timeout_s=0.5)
            )
            assert result.runbook == offline.runbook
            assert result.confidence == offline.confidence
            assert "not used" in result.reason
            assert expected.lower() in result.reason.lower()
    assert len(standin.requests) == 3  # one attempt each: a failure never waits twice


async def test_model_saying_none_fits_gives_no_runbook() -> None:
    tag = uuid.uuid4().hex[:8]
    matcher = _matcher(tag)
    alert = _alert(f"{tag} disk almost full")
    offline = matcher.match(alert, threshold=0.0)
    standin = LlmStandin({"runbook": None, "confidence": 0.2, "reason": "about email"})
    async with serve(standin) as base:
        result = await rerank_with_llm(alert, offline, _shown(matcher, offline), _config(base))
    assert result.runbook is None
    assert result.method == "none"
    assert matcher.select(alert, result).runbook is None


async def test_explicit_matches_are_not_second_guessed() -> None:
    tag = uuid.uuid4().hex[:8]
    matcher = _matcher(tag)
    alert = _alert("Pod crash looping")  # the runbook's own name
    offline = matcher.match(alert)
    assert offline.method == "name"
    standin = LlmStandin({"runbook": f"{tag}-disk", "confidence": 1.0, "reason": "x"})
    async with serve(standin) as base:
        result = await rerank_with_llm(alert, offline, _shown(matcher, offline), _config(base))
    assert result == offline
    assert standin.requests == []


async def test_select_runbook_activity_uses_the_model(engine: AsyncEngine) -> None:
    tag = uuid.uuid4().hex[:8]
    store = RunbookStore(engine)
    # Only the two the alert is about: the store is the suite's shared library, and a generic
    # crash-loop runbook there would take other tests' crash-loop alerts.
    for runbook in _matcher(tag).runbooks.values():
        if not runbook.id.endswith("-crash"):
            await store.save(runbook)
    alert = _alert(f"{tag} volume almost full")
    standin = LlmStandin({"runbook": f"{tag}-disk", "confidence": 0.7, "reason": "host disk"})
    async with serve(standin) as base:
        offline = await RunbookActivities(store).select_runbook(
            SelectRunbookInput(incident_id=f"incident-{tag}", alert=alert)
        )
        chosen = await RunbookActivities(
            store, llm=_config(base), llm_cache=DbLlmCache(engine)
        ).select_runbook(SelectRunbookInput(incident_id=f"incident-{tag}", alert=alert))
    assert offline.method != "llm"
    assert chosen.runbook is not None
    assert chosen.runbook.id == f"{tag}-disk"
    assert chosen.method == "llm"
    assert chosen.confidence == 0.7
