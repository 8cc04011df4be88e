"""A local OpenAI-compatible chat-completions server: the LLM path is tested for real, offline.

Each call pops the next behaviour: "valid" (the configured JSON), "malformed" (not the schema),
"prose" (no JSON at all), "slow" (sleeps past the client's timeout), "error" (HTTP 500).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
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
