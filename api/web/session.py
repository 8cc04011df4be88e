"""Who is using the web app: a session cookie, proved against the database on every request.

The session names a person; the principal is built from that person's current roles (a person
disabled or demoted loses it at the next click), exactly as an API token would be, with the
credential `web-session <id>` so the audit says how they proved it. Every state-changing request
carries the session's CSRF token (a form field or the `X-CSRF-Token` header htmx sends).

A page route declares what it needs with `Depends(page(Scope.X))`; the app's route guard
(api/auth.py) sees the same `required_scope` marker it sees on API routes.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from api.auth import ANY
from api.deps import AppState, State
from db.people import principal_of
from db.web import WebSession, WebStore
from schemas.identity import CredentialKind, Principal, Scope

COOKIE = "ddrun_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageForbidden(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class WebUser:
    principal: Principal
    session: WebSession

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def can(self, scope: Scope) -> bool:
        return self.principal.can(scope)


def web_store(state: AppState) -> WebStore:
    return WebStore(state.engine, timedelta(hours=state.settings.web_session_hours))


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/web/login?next={quote(target, safe='')}"


async def current_user(request: Request, state: AppState) -> WebUser | None:
    """The signed-in person, or None (no cookie, expired, revoked, disabled, unknown)."""
    secret = request.cookies.get(COOKIE, "")
    if not secret:
        return None
    session = await web_store(state).session(secret)
    if session is None:
        return None
    person = await state.people.get(session.handle)
    if person is None or person.disabled:
        return None
    return WebUser(principal_of(person, CredentialKind.WEB_SESSION, session.short_id), session)


async def _csrf_ok(request: Request, user: WebUser) -> bool:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if "form" in content_type:
            form = await request.form()  # cached by Starlette: the route reads it again
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent.encode(), user.csrf.encode())


def page(scope: Scope | str) -> Callable[[Request, AppState], Awaitable[WebUser]]:
    """A dependency: the signed-in person, holding `scope`; a POST must carry the CSRF token."""

    async def dependency(request: Request, state: State) -> WebUser:
        user = await current_user(request, state)
        if user is None:
            raise LoginRequired(login_url(request))
        if request.method not in SAFE_METHODS and not await _csrf_ok(request, user):
            raise PageForbidden("the form's security token is missing or stale: reload the page")
        if isinstance(scope, Scope) and not user.can(scope):
            raise PageForbidden(
                f"{user.principal.handle} may not do this: it needs the {scope.value!r} role "
                f"scope (you have: {', '.join(sorted(s.value for s in user.principal.scopes))})"
            )
        return user

    dependency.required_scope = scope  # type: ignore[attr-defined]
    return dependency


Viewer = Annotated[WebUser, Depends(page(Scope.READ))]
Responder = Annotated[WebUser, Depends(page(Scope.RESPOND))]
Author = Annotated[WebUser, Depends(page(Scope.AUTHOR))]
Admin = Annotated[WebUser, Depends(page(Scope.ADMIN))]
SignedIn = Annotated[WebUser, Depends(page(ANY))]
