"""Signing in with a local password, signing out, and setting a password.

The login form is protected against login CSRF by a double-submit value (a cookie and a form
field that must agree); a wrong handle and a wrong password look the same and take the same time.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Authenticated, FailureLimiter
from api.deps import AppState, State
from api.errors import ForbiddenError, NotFoundError
from api.web.history import history_of
from api.web.render import render
from api.web.session import COOKIE, SignedIn, current_user, web_store
from schemas.identity import Scope

router = APIRouter()
log = logging.getLogger(__name__)
LOGIN_COOKIE = "ddrun_login"
MIN_PASSWORD = 12


def _failures(request: Request) -> FailureLimiter:
    """Failed sign-ins per address (10 a minute, then 429), like failed tokens on the API."""
    limiter = getattr(request.app.state, "web_login_failures", None)
    if not isinstance(limiter, FailureLimiter):
        limiter = request.app.state.web_login_failures = FailureLimiter(limit=10)
    return limiter


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/web/incidents"
    return target


def set_session_cookie(response: Response, state: AppState, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(state.settings.web_session_hours * 3600),
        httponly=True,
        secure=state.settings.web_cookie_secure,
        samesite="lax",
        path="/",
    )


def _login_page(
    request: Request, state: AppState, next_url: str, error: str = "", status: int = 200
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    response = render(
        request,
        "login.html",
        None,
        status_code=status,
        login_nonce=nonce,
        next_url=next_url,
        error=error,
        sso=state.settings.web_oidc_name if state.settings.web_oidc_issuer else None,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=900,
        httponly=True,
        secure=state.settings.web_cookie_secure,
        samesite="strict",
        path="/web/login",
    )
    return response


@router.get("/web/login", response_class=HTMLResponse, include_in_schema=False)
async def login_form(request: Request, state: State, next: str | None = None) -> Response:
    if await current_user(request, state) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    # While the person types, read the incident history the dashboard and library need.
    history_of(request, state).prefetch()
    return _login_page(request, state, safe_next(next))


@router.post("/web/login", response_class=HTMLResponse, include_in_schema=False)
async def login(
    request: Request,
    state: State,
    handle: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1000)],
    login_nonce: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    target = safe_next(next)
    if not cookie or not hmac.compare_digest(cookie.encode(), login_nonce.encode()):
        return _login_page(request, state, target, "The form expired: sign in again.", 403)
    limiter = _failures(request)
    address = request.client.host if request.client else "?"
    wait = limiter.retry_after(address)
    if wait is not None:
        page = _login_page(request, state, target, f"Too many failed sign-ins: wait {wait} s.", 429)
        page.headers["Retry-After"] = str(wait)
        return page
    store = web_store(state)
    handle = handle.strip().lower()
    ok = await store.check_password(handle, password)
    person = await state.people.get(handle) if ok else None
    if person is None or person.disabled:
        limiter.failed(address)
        log.warning("web sign-in failed for %r from %s", handle[:64], address)
        return _login_page(request, state, target, "Wrong handle or password.", 401)
    secret, _ = await store.open_session(handle, "password")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, state, secret)
    response.delete_cookie(LOGIN_COOKIE, path="/web/login")
    return response


@router.post("/web/logout", include_in_schema=False)
async def logout(request: Request, state: State, _user: SignedIn) -> Response:
    await web_store(state).close_session(request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/web/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=MIN_PASSWORD, max_length=1000)
    current_password: str | None = Field(default=None, max_length=1000)


class PasswordSet(BaseModel):
    handle: str
    changed_by: str


@router.put("/api/users/{handle}/password", tags=["people"])
async def set_password(
    handle: str, body: PasswordBody, state: State, principal: Authenticated
) -> PasswordSet:
    """An admin sets anyone's password; a person sets their own, proving the current one when
    they have one."""
    admin = principal.can(Scope.ADMIN)
    if not admin and principal.handle != handle:
        raise ForbiddenError(f"{principal.handle} may set only their own password")
    person = await state.people.get(handle)
    if person is None:
        raise NotFoundError(f"no person {handle!r}")
    if person.kind.value != "person":
        raise ForbiddenError(f"{handle} is an automation: it signs in with tokens only")
    store = web_store(state)
    proven = body.current_password is not None and await store.check_password(
        handle, body.current_password
    )
    if not admin and not proven and await store.has_password(handle):
        raise ForbiddenError("the current password is wrong")
    await store.set_password(handle, body.password, principal.handle)
    return PasswordSet(handle=handle, changed_by=principal.handle)
