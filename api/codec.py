"""Remote codec endpoints for the Temporal UI: decrypt (and encrypt) payloads for those allowed.

Protocol (Temporal's remote codec): POST a JSON `{"payloads": [...]}` of JSON-encoded
Payload protos to /codec/decode or /codec/encode; the answer has the same shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.auth import Reader
from api.body import parse_json, read_limited
from api.deps import State
from api.errors import ApiError
from infra.codec import EncryptionCodec

router = APIRouter(prefix="/codec", tags=["codec"])


class CodecOffError(ApiError):
    status_code = 404


def _codec(state: State) -> EncryptionCodec:
    """Who may call is decided by `Reader` (a person's token with read scope, or the codec
    token `DDRUN_CODEC_TOKEN` that the Temporal UI sends)."""
    settings = state.settings
    if settings.payload_key is None:
        raise CodecOffError("payload encryption is not configured (DDRUN_PAYLOAD_KEY)")
    return EncryptionCodec.from_setting(settings.payload_key.get_secret_value())


def _cors(request: Request, state: State, response: Response) -> Response:
    origin = request.headers.get("origin")
    if origin and origin in state.settings.codec_allowed_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Headers"] = (
            "Content-Type, Authorization, X-Namespace"
        )
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Vary"] = "Origin"
    return response


async def _transform(request: Request, state: State, decode: bool) -> Response:
    codec = _codec(state)
    body: Any = parse_json(await read_limited(request, state.settings.max_body_bytes))
    payloads = json_format.ParseDict(body, Payloads())
    out = await (codec.decode(payloads.payloads) if decode else codec.encode(payloads.payloads))
    result = json_format.MessageToDict(Payloads(payloads=out))
    return _cors(request, state, JSONResponse({"payloads": result.get("payloads", [])}))


@router.options("/decode")
@router.options("/encode")
async def preflight(request: Request, state: State) -> Response:
    return _cors(request, state, Response(status_code=204))


@router.post("/decode")
async def decode(request: Request, state: State, _principal: Reader) -> Response:
    return await _transform(request, state, decode=True)


@router.post("/encode")
async def encode(request: Request, state: State, _principal: Reader) -> Response:
    return await _transform(request, state, decode=False)
