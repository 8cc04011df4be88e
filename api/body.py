"""Read a request body with a hard size limit, before any parsing happens."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from api.errors import BadRequestError, PayloadTooLargeError


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"body of {declared} bytes exceeds the {limit}-byte limit")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLargeError(f"body exceeds the {limit}-byte limit")
    return bytes(body)


def parse_json(body: bytes) -> Any:
    """JSON whatever the Content-Type says (curl -d sends form encoding for JSON files)."""
    if not body.strip():
        raise BadRequestError("empty body: expected a JSON document")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRequestError(f"body is not valid JSON: {err}") from err
