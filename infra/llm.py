"""The LLM pass over a parsed runbook, through litellm (any provider litellm speaks).

Make the nondeterministic network call outside the deterministic parser: the model proposes
structure and explanations as JSON, which is validated against `LlmRunbook`, retried when
invalid, bounded by a timeout and a token budget, and cached by content hash. Any failure
leaves the deterministic result in charge and says why.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from schemas.llm import LlmOutcome, LlmRunbook
from schemas.settings import Settings

log = logging.getLogger(__name__)

PROMPT_VERSION = "1"
SYSTEM_PROMPT = """You turn an on-call runbook into structured, executable steps.
Answer with ONE JSON object and nothing else, of this shape:
{"title": str, "prerequisites": [str], "variables": [{"name": lower_snake, "description": str,
 "source": "label:<name>" | "annotation:<name>" | null}],
 "steps": [{"id": slug, "title": str, "command": str | null, "risk": "safe"|"caution"|"dangerous",
 "rollback": str | null, "condition": str | null, "explanation": str}],
 "ambiguities": [{"step_id": slug | null, "message": str}]}
Rules: keep every command exactly as written, with variables as {{ name }}; one step per action;
prose that is background (meaning, impact) is not a step; a step that only applies in a branch
gets a condition; flag anything a half-asleep engineer could not act on as an ambiguity.
Here is the deterministic parser's draft, improve it:"""


class LlmCache(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, model: str, value: str) -> None: ...


@dataclass(frozen=True)
class LlmConfig:
    model: str
    api_base: str | None = None
    api_key: str | None = None
    timeout_s: float = 30.0
    max_output_tokens: int = 4000
    max_input_chars: int = 60_000
    attempts: int = 2


Completion = Callable[..., Awaitable[Any]]


def llm_config(settings: Settings) -> LlmConfig | None:
    """The configured model, or None: the offline path stays in charge."""
    if not settings.llm_model:
        return None
    return LlmConfig(
        model=settings.llm_model,
        api_base=settings.llm_api_base,
        api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        timeout_s=settings.llm_timeout_s,
        max_output_tokens=settings.llm_max_output_tokens,
    )


async def ask_json(
    config: LlmConfig, messages: list[dict[str, str]], completion: Completion | None = None
) -> Any:
    """One chat completion asking for a JSON object, within the config's timeout and token
    budget, with litellm's own retries off: the caller decides whether to try again."""
    if completion is None:
        import litellm

        completion = litellm.acompletion
    return await completion(
        model=config.model,
        messages=messages,
        api_base=config.api_base,
        api_key=config.api_key,
        timeout=config.timeout_s,
        max_tokens=config.max_output_tokens,
        response_format={"type": "json_object"},
        num_retries=0,
    )


def cache_key(config: LlmConfig, text: str) -> str:
    material = f"{PROMPT_VERSION}\0{config.model}\0{text}".encode()
    return hashlib.sha256(material).hexdigest()


async def improve_with_llm(
    text: str,
    draft: dict[str, Any],
    config: LlmConfig,
    cache: LlmCache | None = None,
    completion: Completion | None = None,
) -> tuple[LlmRunbook | None, LlmOutcome]:
    """The model's structured runbook, or None with the reason the deterministic one stands."""
    if len(text) > config.max_input_chars:
        return None, LlmOutcome(
            used=False,
            model=config.model,
            message=f"runbook of {len(text)} characters exceeds the LLM input budget "
            f"({config.max_input_chars}); deterministic result used",
        )
    key = cache_key(config, text)
    if cache is not None and (hit := await cache.get(key)) is not None:
        return LlmRunbook.model_validate_json(hit), LlmOutcome(
            used=True, model=config.model, message="LLM result from cache", cached=True
        )
    messages: list[dict[str, str]] = [
        {"role": "system", "content": SYSTEM_PROMPT + "\n" + json.dumps(draft)},
        {"role": "user", "content": text},
    ]
    tokens = 0
    problem = "no answer"
    for attempt in range(1, config.attempts + 1):
        try:
            response = await ask_json(config, messages, completion)
        except Exception as err:
            problem = f"{type(err).__name__}: {str(err)[:300]}"
            log.warning("LLM call failed (attempt %d): %s", attempt, problem)
            if "Timeout" in type(err).__name__ or "timed out" in str(err).lower():
                break
            continue
        usage = getattr(response, "usage", None)
        tokens += int(getattr(usage, "total_tokens", 0) or 0)
        content = response.choices[0].message.content or ""
        try:
            result = LlmRunbook.model_validate_json(_strip_fences(content))
        except ValidationError as err:
            problem = f"invalid structured output: {err.errors()[0]['msg']}"
            messages += [
                {"role": "assistant", "content": content[:4000]},
                {
                    "role": "user",
                    "content": f"That was not valid: {problem}. Answer again "
                    "with the JSON object only.",
                },
            ]
            continue
        if cache is not None:
            await cache.put(key, config.model, result.model_dump_json())
        return result, LlmOutcome(
            used=True,
            model=config.model,
            message=f"improved by {config.model}",
            attempts=attempt,
            tokens=tokens,
        )
    return None, LlmOutcome(
        used=False,
        model=config.model,
        message=f"LLM ({config.model}) not used: {problem}; deterministic result used",
        attempts=config.attempts,
        tokens=tokens,
    )


def _strip_fences(content: str) -> str:
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text
