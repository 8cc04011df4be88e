"""A small OpenID Connect provider for tests: discovery, an authorisation page, a token
endpoint checking the client secret and PKCE, and real RS256-signed ID tokens (joserfc).

It is an identity provider as far as the product can tell: the product fetches its discovery
document and keys over HTTP and verifies every signature. `forge_with_other_key` makes it sign
with a key it does not publish, to prove the product refuses such a token.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import secrets
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class _Grant:
    username: str
    nonce: str
    redirect_uri: str
    challenge: str


@dataclass
class OidcProvider:
    issuer: str = ""
    client_id: str = "ddrun-web"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    forge_with_other_key: bool = False
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    other_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    grants: dict[str, _Grant] = field(default_factory=dict)
    tokens_issued: int = 0

    def add_user(self, username: str, email: str, verified: bool = True) -> None:
        self.users[username] = {
            "sub": f"sub-{username}",
            "email": email,
            "email_verified": verified,
        }

    # -- endpoints --------------------------------------------------------------------------
    async def discovery(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(self, _request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize_page(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return Response("unknown client or response type", status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return Response("PKCE S256 required", status_code=400)
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in q.items()
        )
        return HTMLResponse(
            "<!doctype html><title>Test identity provider</title><h1>Test identity provider</h1>"
            f'<form method="post" action="/authorize">{hidden}'
            '<label>Username <input name="username" id="username"></label>'
            '<button id="allow">Sign in and allow</button></form>'
        )

    async def authorize(self, request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username", ""))
        if username not in self.users:
            return Response("no such user", status_code=403)
        code = secrets.token_urlsafe(16)
        redirect_uri = str(form["redirect_uri"])
        self.grants[code] = _Grant(
            username, str(form["nonce"]), redirect_uri, str(form["code_challenge"])
        )
        query = urlencode({"code": code, "state": str(form["state"])})
        return RedirectResponse(f"{redirect_uri}?{query}", status_code=303)

    def _client_ok(self, request: Request, form: Any) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            user, _, password = base64.b64decode(value).decode().partition(":")
        else:
            user, password = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        return user == self.client_id and secrets.compare_digest(password, self.client_secret)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        if not self._client_ok(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.grants.pop(str(form.get("code", "")), None)
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return JSONResponse({"error": "invalid_grant", "why": "PKCE"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            **self.users[grant.username],
        }
        key = self.other_key if self.forge_with_other_key else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        self.tokens_issued += 1
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize_page, methods=["GET"]),
                Route("/authorize", self.authorize, methods=["POST"]),
                Route("/token", self.token, methods=["POST"]),
            ]
        )


@contextlib.asynccontextmanager
async def running_provider() -> AsyncIterator[OidcProvider]:
    """The provider on a loopback port, its issuer URL set."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = OidcProvider(issuer=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(
        uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield provider
    finally:
        server.should_exit = True
        await task
