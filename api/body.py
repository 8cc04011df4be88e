"""Read a request body with a hard size limit, and parse JSON that cannot blow up the parser.

A sender controls every byte, so each way a body can hurt the process is refused before or
while parsing, with a 400 naming the problem: nesting deeper than `MAX_DEPTH` (Python's parser
would recurse until RecursionError), integers longer than `MAX_INT_DIGITS` (quadratic to convert,
and no payload field needs them), NaN / Infinity / overflowing floats (not JSON, and they poison
every later comparison), lone UTF-16 surrogates (cannot be encoded back to UTF-8 for Temporal or
the database) and bodies that are not UTF-8.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from itertools import accumulate
from typing import Any

from fastapi import Request

from api.errors import BadRequestError, PayloadTooLargeError

MAX_DEPTH = 64
MAX_INT_DIGITS = 40  # 128-bit integers have 39; Opsgenie's nanosecond times have 19

# A JSON string literal (unrolled loop, linear time); removed before counting brackets.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


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


def nesting_depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """True if brackets outside strings nest deeper than `limit` anywhere (also in an unbalanced
    body). Linear and in C: strings and non-brackets are dropped, openers become +1 and closers
    -1 (signed bytes), and the running sum is the depth."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii")
    steps = array("b", brackets.translate(_STEP))
    return max(accumulate(steps), default=0) > limit


def _int(literal: str) -> int:
    digits = len(literal.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise BadRequestError(
            f"an integer of {digits} digits; at most {MAX_INT_DIGITS} are accepted"
        )
    return int(literal)


def _float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise BadRequestError(f"a number out of range: {literal[:40]}")
    return value


def _constant(name: str) -> float:
    raise BadRequestError(f"{name} is not a JSON number")


def _has_lone_surrogate(text: str, parsed: Any) -> bool:
    if not _SURROGATE_ESCAPE.search(text):
        return False  # the common case: one fast scan, no re-encoding
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def parse_json(body: bytes) -> Any:
    """JSON whatever the Content-Type says (curl -d sends form encoding for JSON files)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadRequestError(f"body is not UTF-8: {err}") from err
    return parse_json_text(text, "body")


def parse_json_text(text: str, what: str) -> Any:
    """`text` as JSON within the limits above; `what` names it in the error message."""
    if not text.strip():
        raise BadRequestError(f"empty {what}: expected a JSON document")
    if nesting_depth_exceeds(text):
        raise BadRequestError(f"{what} nests deeper than {MAX_DEPTH} levels")
    try:
        parsed = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as err:
        raise BadRequestError(f"{what} is not valid JSON: {err}") from err
    except RecursionError as err:  # unreachable after the depth check; never a 500
        raise BadRequestError(f"{what} nests too deeply") from err
    if _has_lone_surrogate(text, parsed):
        raise BadRequestError(f"{what} has a lone UTF-16 surrogate escape (not valid Unicode)")
    return parsed
