"""A local OpenAI-compatible chat-completions server: the LLM path is tested for real, offline.

Each call pops the next behaviour: "valid" (the configured JSON), "malformed" (not the schema),
"prose" (no JSON at all), "slow" (sleeps past the client's timeout), "error" (HTTP 500).

/embeddings answers deterministic vectors: a text containing a key of `fixed` gets that vector,
any other a hashed bag of its words (texts sharing words are similar). `embedding_script` pops
"valid", "slow", "error" (500, which the client retries) or "refused" (400) per call; every
input text is recorded in `embedded`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import re
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class LlmStandin:
    answer: dict[str, Any]
    script: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    slow_s: float = 5.0
    fixed: dict[str, list[float]] = field(default_factory=dict)
    embedding_script: list[str] = field(default_factory=list)
    embedded: list[str] = field(default_factory=list)
    dimensions: int = 64

    def vector(self, text: str) -> list[float]:
        for marker, vector in self.fixed.items():
            if marker in text:
                return vector
        out = [0.0] * self.dimensions
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            out[int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
        norm = math.sqrt(sum(v * v for v in out)) or 1.0
        return [v / norm for v in out]

    async def embeddings(self, request: Request) -> JSONResponse:
        body = await request.json()
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        behaviour = self.embedding_script.pop(0) if self.embedding_script else "valid"
        if behaviour == "slow":
            await asyncio.sleep(self.slow_s)
        if behaviour == "error":
            return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, 500)
        if behaviour == "refused":  # a 4xx: not retried by the client
            return JSONResponse({"error": {"message": "no", "type": "invalid_request"}}, 400)
        self.embedded.extend(texts)
        return JSONResponse(
            {
                "object": "list",
                "model": body.get("model", "standin"),
                "data": [
                    {"object": "embedding", "index": i, "embedding": self.vector(t)}
                    for i, t in enumerate(texts)
                ],
                "usage": {"prompt_tokens": 10, "total_tokens": 10},
            }
        )

    async def completions(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append(body)
        behaviour = self.script.pop(0) if self.script else "valid"
        if behaviour == "slow":
            await asyncio.sleep(self.slow_s)
        if behaviour == "error":
            return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, 500)
        content = {
            "valid": json.dumps(self.answer),
            "slow": json.dumps(self.answer),
            "malformed": json.dumps({"title": "x", "steps": [{"id": "BAD ID!", "title": ""}]}),
            "prose": "Sure! Here is your runbook: step one, restart it.",
        }[behaviour]
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "standin"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
            }
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self.completions, methods=["POST"]),
                Route("/chat/completions", self.completions, methods=["POST"]),
                Route("/v1/embeddings", self.embeddings, methods=["POST"]),
                Route("/embeddings", self.embeddings, methods=["POST"]),
            ]
        )


@contextlib.asynccontextmanager
async def serve(standin: LlmStandin) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(standin.app(), host="127.0.0.1", port=port, log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        await task
