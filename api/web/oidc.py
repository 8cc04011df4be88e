"""OpenID Connect single sign-on (authorisation code flow with PKCE and a nonce).

The provider proves who someone is; dd0c/run decides who that is here: an (issuer, subject)
already linked to a person, else the person whose e-mail is the provider's verified e-mail
(linked on that first sign-in). Nobody is created by signing in: an admin adds people, so SSO
gives the same identities and roles as API tokens and Slack.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from api.deps import AppState, State
from api.web.login import safe_next, set_session_cookie
from api.web.render import render
from api.web.session import web_store
from schemas.identity import Person

router = APIRouter(include_in_schema=False)
FLOW_COOKIE = "ddrun_oidc"
_DISCOVERY_TTL_S = 300.0
_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class SsoError(Exception):
    pass


@dataclass
class _Provider:
    metadata: dict[str, Any]
    keys: KeySet
    fetched: float


_providers: dict[str, _Provider] = {}


async def _provider(issuer: str, refresh: bool = False) -> _Provider:
    """The issuer's discovery document and signing keys, cached for a few minutes."""
    cached = _providers.get(issuer)
    if cached and not refresh and time.monotonic() - cached.fetched < _DISCOVERY_TTL_S:
        return cached
    async with httpx.AsyncClient(timeout=10) as http:
        found = await http.get(issuer.rstrip("/") + "/.well-known/openid-configuration")
        found.raise_for_status()
        metadata = found.json()
        if metadata.get("issuer") != issuer:
            raise SsoError(f"the provider calls itself {metadata.get('issuer')!r}, not {issuer!r}")
        jwks = await http.get(metadata["jwks_uri"])
        jwks.raise_for_status()
    provider = _Provider(metadata, KeySet.import_key_set(jwks.json()), time.monotonic())
    _providers[issuer] = provider
    return provider


def _client(state: AppState, request: Request) -> AsyncOAuth2Client:
    settings = state.settings
    secret = settings.web_oidc_client_secret
    return AsyncOAuth2Client(
        client_id=settings.web_oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        scope="openid email profile",
        redirect_uri=str(request.url_for("oidc_callback")),
        code_challenge_method="S256",
        timeout=10,
    )


def _refuse(request: Request, message: str, status: int = 403) -> Response:
    return render(request, "login_error.html", None, status_code=status, message=message)


@router.get("/web/login/oidc")
async def oidc_start(request: Request, state: State, next: str | None = None) -> Response:
    issuer = state.settings.web_oidc_issuer
    if not issuer or not state.settings.web_oidc_client_id:
        return _refuse(request, "Single sign-on is not configured.", 404)
    try:
        provider = await _provider(issuer)
    except (httpx.HTTPError, SsoError, KeyError, ValueError) as err:
        return _refuse(request, f"The identity provider cannot be reached: {err}", 502)
    nonce = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    async with _client(state, request) as client:
        url, flow_state = client.create_authorization_url(
            provider.metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
    response = RedirectResponse(url, status_code=303)
    flow = {"state": flow_state, "nonce": nonce, "verifier": verifier, "next": safe_next(next)}
    response.set_cookie(
        FLOW_COOKIE,
        json.dumps(flow),
        max_age=600,
        httponly=True,
        secure=state.settings.web_cookie_secure,
        samesite="lax",  # sent on the provider's top-level redirect back here
        path="/web/login/oidc",
    )
    return response


def _claims(id_token: str, provider: _Provider, issuer: str, audience: str, nonce: str) -> Any:
    token = jwt.decode(id_token, provider.keys, algorithms=_ALGORITHMS)
    registry = jwt.JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        sub={"essential": True},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    registry.validate(token.claims)
    return token.claims


async def _person_for(state: AppState, issuer: str, claims: dict[str, Any]) -> Person | None:
    store = web_store(state)
    subject = str(claims["sub"])
    handle = await store.oidc_handle(issuer, subject)
    if handle is not None:
        return await state.people.get(handle)
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        return None
    person = next(
        (p for p in await state.people.everyone() if (p.email or "").lower() == email.lower()),
        None,
    )
    if person is not None:
        await store.link_oidc(issuer, subject, person.handle)
    return person


@router.get("/web/login/oidc/callback", name="oidc_callback")
async def oidc_callback(
    request: Request,
    state: State,
    code: str | None = None,
    error: str | None = None,
) -> Response:
    issuer = state.settings.web_oidc_issuer
    audience = state.settings.web_oidc_client_id
    if not issuer or not audience:
        return _refuse(request, "Single sign-on is not configured.", 404)
    try:
        flow = json.loads(request.cookies.get(FLOW_COOKIE, ""))
    except ValueError:
        return _refuse(request, "The sign-in expired or was started elsewhere: start again.")
    if error or code is None:
        return _refuse(request, f"The identity provider refused: {error or 'no code'}.")
    if not secrets.compare_digest(str(request.query_params.get("state", "")), flow["state"]):
        return _refuse(request, "The sign-in state does not match: start again.")
    try:
        provider = await _provider(issuer)
        async with _client(state, request) as client:
            token = await client.fetch_token(
                provider.metadata["token_endpoint"], code=code, code_verifier=flow["verifier"]
            )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            return _refuse(request, "The identity provider sent no ID token.")
        claims = _claims(id_token, provider, issuer, audience, flow["nonce"])
    except (httpx.HTTPError, SsoError, JoseError, KeyError, ValueError) as err:
        return _refuse(request, f"Single sign-on failed: {type(err).__name__}: {err}")
    person = await _person_for(state, issuer, claims)
    if person is None or person.disabled:
        who = claims.get("email") or claims.get("sub")
        return _refuse(
            request,
            f"{who} is not a dd0c/run person (or is disabled): an admin adds people "
            "(`ddrun users add HANDLE --email ...`); signing in creates nobody.",
        )
    secret, _ = await web_store(state).open_session(person.handle, f"oidc {issuer}")
    response = RedirectResponse(flow["next"], status_code=303)
    set_session_cookie(response, state, secret)
    response.delete_cookie(FLOW_COOKIE, path="/web/login/oidc")
    return response
