"""The LLM path through real litellm against a local OpenAI-compatible stand-in."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.llm_cache import DbLlmCache
from infra.llm import LlmConfig, improve_with_llm
from tests.llm_standin import LlmStandin, serve

ANSWER: dict[str, Any] = {
    "title": "Pod crash looping",
    "prerequisites": ["kubectl access"],
    "variables": [{"name": "pod", "source": "label:pod"}],
    "steps": [
        {
            "id": "logs",
            "title": "Read logs",
            "command": "kubectl logs {{ pod }}",
            "risk": "safe",
            "explanation": "find the crash reason",
        },
    ],
    "ambiguities": [],
}


def _config(base: str, **kw: Any) -> LlmConfig:
    return LlmConfig(model="openai/standin", api_base=base, api_key="sk-test", **kw)


async def test_valid_answer_is_used_and_cached(engine: AsyncEngine) -> None:
    standin = LlmStandin(ANSWER)
    cache = DbLlmCache(engine)
    text = f"runbook {id(standin)}"
    async with serve(standin) as base:
        result, outcome = await improve_with_llm(text, {"steps": []}, _config(base), cache)
        again, cached = await improve_with_llm(text, {"steps": []}, _config(base), cache)
    assert result is not None
    assert result.steps[0].command == "kubectl logs {{ pod }}"
    assert outcome.used
    assert outcome.tokens == 150
    assert len(standin.requests) == 1  # the second call came from the cache
    assert cached.cached
    assert again == result
    assert standin.requests[0]["response_format"] == {"type": "json_object"}
    assert standin.requests[0]["max_tokens"] == 4000


async def test_malformed_then_valid_is_retried() -> None:
    standin = LlmStandin(ANSWER, script=["malformed", "valid"])
    async with serve(standin) as base:
        result, outcome = await improve_with_llm("rb", {}, _config(base))
    assert result is not None
    assert outcome.attempts == 2
    assert "not valid" in standin.requests[1]["messages"][-1]["content"]


async def test_persistently_invalid_or_prose_falls_back() -> None:
    standin = LlmStandin(ANSWER, script=["prose", "malformed"])
    async with serve(standin) as base:
        result, outcome = await improve_with_llm("rb", {}, _config(base))
    assert result is None
    assert not outcome.used
    assert "deterministic result used" in outcome.message


async def test_slow_provider_times_out_and_falls_back() -> None:
    standin = LlmStandin(ANSWER, script=["slow"], slow_s=2)
    async with serve(standin) as base:
        result, outcome = await improve_with_llm("rb", {}, _config(base, timeout_s=0.5))
    assert result is None
    assert "deterministic result used" in outcome.message


async def test_server_error_and_budget_fall_back() -> None:
    standin = LlmStandin(ANSWER, script=["error", "error"])
    async with serve(standin) as base:
        result, outcome = await improve_with_llm("rb", {}, _config(base))
        big, budget = await improve_with_llm("x" * 100, {}, _config(base, max_input_chars=10))
    assert result is None
    assert not outcome.used
    assert big is None
    assert "input budget" in budget.message
