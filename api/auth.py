"""Authentication and authorisation for every route that is not signed some other way.

A route states what it needs with `Depends(require(Scope.X))` and receives the `Principal`; the
actor of every action is that principal, never a name in the body. `unguarded_routes` lists any
route that forgot, and the app refuses to start while one exists. Public routes are the short
list in `PUBLIC`: health, the signed webhooks, Slack's signed endpoints, and CORS preflights.

With `DDRUN_AUTH_ENABLED=false` (local development only; the API refuses a non-loopback bind
then) requests without a token act as the person named in `X-Ddrun-As` (default `dev`), and
every action records the credential `dev-unauthenticated`, so the history says so.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from api.deps import AppState, State
from api.errors import ApiError, ForbiddenError, UnauthorizedError
from db.people import split_token
from domain.policy import PolicyError
from infra.policy_file import current_policy
from schemas.identity import HANDLE, CredentialKind, Principal, Role, Scope, scopes_of
from schemas.policy import ApprovalPolicy
from schemas.settings import Settings

log = logging.getLogger(__name__)

DEV_ACTOR_HEADER = "x-ddrun-as"
#: Path prefixes reachable without a ddrun credential, each for a stated reason.
PUBLIC_PREFIXES = (
    "/webhooks/",  # signed or token-checked per source (api/webhooks.py)
    "/slack/",  # Slack's v0 signature (api/slack/routes.py)
    "/web/login",  # the web app's sign-in pages (password, OpenID Connect): api/web/login.py
    "/web/static/",  # vendored scripts and styles, nothing else
)
#: The status page is public and read-only by design (it shows only published updates).
PUBLIC_PATHS = frozenset({"/healthz", "/web/static", "/status", "/status.json"})
#: CORS preflights carry no credentials by design; they answer headers, never data.
PUBLIC_METHODS = frozenset({"OPTIONS"})


class TooManyFailuresError(ApiError):
    status_code = 429


class FailureLimiter:
    """Failed authentications per client address in a sliding window; past the limit, 429.

    In memory and per process: it slows guessing from one address, it is not an account lock
    (a token is 256 random bits; guessing is hopeless anyway, the limit keeps logs readable).
    """

    def __init__(self, limit: int = 20, window_s: float = 60.0, max_clients: int = 10_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self._max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str, now: float) -> deque[float]:
        stamps = self._failures.get(client)
        if stamps is None:
            if len(self._failures) >= self._max_clients:
                self._failures.pop(next(iter(self._failures)))
            stamps = self._failures[client] = deque()
        while stamps and now - stamps[0] > self.window_s:
            stamps.popleft()
        return stamps

    def retry_after(self, client: str) -> int | None:
        now = time.monotonic()
        stamps = self._recent(client, now)
        if len(stamps) < self.limit:
            return None
        return max(1, int(self.window_s - (now - stamps[0])) + 1)

    def failed(self, client: str) -> None:
        now = time.monotonic()
        self._recent(client, now).append(now)


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class InsecureBindError(RuntimeError):
    pass


def check_bind(settings: Settings) -> None:
    """Refuse to serve without authentication anywhere but loopback."""
    if not settings.auth_enabled and not is_loopback(settings.api_host):
        raise InsecureBindError(
            f"refusing to listen on {settings.api_host} with DDRUN_AUTH_ENABLED=false: "
            "authentication may only be off on a loopback address (127.0.0.1)"
        )
    if not settings.auth_enabled:
        log.warning(
            "AUTHENTICATION IS OFF (DDRUN_AUTH_ENABLED=false): local development only; every "
            "action is recorded as dev-unauthenticated"
        )


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _limiter(request: Request) -> FailureLimiter:
    limiter = getattr(request.app.state, "auth_failures", None)
    if not isinstance(limiter, FailureLimiter):
        limiter = request.app.state.auth_failures = FailureLimiter()
    return limiter


def _refuse(request: Request, why: str, token_id: str | None = None) -> UnauthorizedError:
    if why != "no credential":  # a wrong credential is a guess; a missing one is not
        _limiter(request).failed(_client(request))
    which = f" (token id {token_id})" if token_id else ""
    log.warning(
        "authentication failed for %s %s from %s: %s%s",
        request.method,
        request.url.path,
        _client(request),
        why,
        which,
    )
    return UnauthorizedError(
        "authentication required: send 'Authorization: Bearer <token>' "
        "(create one with `ddrun tokens create`, or `ddrun login`)"
        if why == "no credential"
        else "invalid credential: the token is unknown, revoked or expired"
    )


def _dev_principal(request: Request) -> Principal:
    handle = request.headers.get(DEV_ACTOR_HEADER, "").strip() or "dev"
    if not HANDLE.match(handle):
        raise UnauthorizedError(f"{DEV_ACTOR_HEADER}: {handle[:64]!r} is not a handle")
    roles = frozenset(Role)
    return Principal(
        handle=handle,
        roles=roles,
        scopes=scopes_of(roles),
        credential=CredentialKind.DEV_UNAUTHENTICATED,
    )


def _codec_principal(state: AppState, request: Request, token: str) -> Principal | None:
    """The Temporal UI's codec token, accepted on /codec/ alone and for reading only."""
    expected = state.settings.codec_token
    if expected is None or not request.url.path.startswith("/codec/"):
        return None
    if not hmac.compare_digest(token.encode(), expected.get_secret_value().encode()):
        return None
    return Principal(
        handle="temporal-ui",
        scopes=frozenset({Scope.READ}),
        credential=CredentialKind.CODEC,
    )


async def authenticate(request: Request, state: AppState) -> Principal:
    """The principal this request's credential proves; 401 (or 429 when guessing) otherwise."""
    wait = _limiter(request).retry_after(_client(request))
    if wait is not None:
        raise TooManyFailuresError(
            f"too many failed authentications from this address; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        codec = _codec_principal(state, request, token)
        if codec is not None:
            return codec
        principal = await state.people.authenticate(token)
        if principal is None:
            parts = split_token(token)
            raise _refuse(request, "bad token", parts[0] if parts else None)
        return principal
    if scheme:
        raise _refuse(request, f"unsupported scheme {scheme[:20]!r}")
    if not state.settings.auth_enabled:
        return _dev_principal(request)
    raise _refuse(request, "no credential")


#: `require(ANY)`: any authenticated principal, whatever its scopes (who am I, my tokens).
ANY = "authenticated"


def require(scope: Scope | str) -> Callable[[Request, AppState], Awaitable[Principal]]:
    """A dependency: the authenticated principal, who must hold `scope` (else 403)."""

    async def dependency(request: Request, state: State) -> Principal:
        principal = await authenticate(request, state)
        if isinstance(scope, Scope) and not principal.can(scope):
            raise ForbiddenError(
                f"{principal.handle} may not do this: it needs the {scope.value!r} scope "
                f"(this credential has: {', '.join(sorted(s.value for s in principal.scopes))})"
            )
        return principal

    dependency.required_scope = scope  # type: ignore[attr-defined]
    return dependency


Reader = Annotated[Principal, Depends(require(Scope.READ))]
Responder = Annotated[Principal, Depends(require(Scope.RESPOND))]
Author = Annotated[Principal, Depends(require(Scope.AUTHOR))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]
Authenticated = Annotated[Principal, Depends(require(ANY))]


def approval_policy(settings: Settings) -> ApprovalPolicy | None:
    """The approval policy for an authorisation decision; an unreadable file allows nothing it
    governs (403), it is never guessed."""
    try:
        return current_policy(settings.approval_policy_file)
    except PolicyError as err:
        raise ForbiddenError(
            f"the approval policy cannot be read, so nothing is allowed: {err}"
        ) from None


def is_public(path: str, method: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or method in PUBLIC_METHODS


def required_scope(route: APIRoute) -> Scope | str | None:
    """The scope a route demands through `require` (or `ANY`), found in its dependencies."""
    pending = list(route.dependant.dependencies)
    while pending:
        dep = pending.pop()
        scope = getattr(dep.call, "required_scope", None)
        if isinstance(scope, Scope) or scope == ANY:
            return scope
        pending.extend(dep.dependencies)
    return None


def route_table(app: FastAPI) -> list[tuple[str, str, BaseRoute]]:
    """(method, path, route) for every route the app serves, included routers flattened."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazily included routers: app.routes is flat
        pairs = [(getattr(r, "path", str(r)), r) for r in app.routes]
    else:
        pairs = [(c.path or "", c.original_route) for c in iter_route_contexts(app.routes)]
    return [
        (method, path, route)
        for path, route in pairs
        for method in sorted(getattr(route, "methods", None) or {"*"})
    ]


def unguarded_routes(app: FastAPI) -> list[str]:
    """Routes that are neither public nor guarded by `require`: must be empty."""
    return [
        f"{method} {path}"
        for method, path, route in route_table(app)
        if not is_public(path, method)
        and (not isinstance(route, APIRoute) or required_scope(route) is None)
    ]
