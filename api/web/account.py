"""Passwords from the web app: a signed-in person changes their own (proving the current one),
an admin sets anyone else's. Both go through the API's own rules (api/web/login.py
`set_password`: argon2id, at least 12 characters, people only, `changed_by` kept)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.deps import State
from api.errors import ApiError
from api.web import login
from api.web.render import flash, render
from api.web.session import Admin, SignedIn, web_store
from schemas.identity import PersonKind

router = APIRouter(include_in_schema=False)


def _problem(err: ValidationError) -> str:
    first = err.errors()[0]
    if first["type"] == "string_too_short":
        return f"The new password needs at least {login.MIN_PASSWORD} characters."
    return str(first["msg"])


@router.get("/web/account", response_class=HTMLResponse)
async def account(request: Request, state: State, user: SignedIn) -> Response:
    has = await web_store(state).has_password(user.principal.handle)
    return render(
        request, "account.html", user, nav="account", has_password=has, min=login.MIN_PASSWORD
    )


@router.post("/web/account/password", response_class=HTMLResponse)
async def change_own(
    request: Request,
    state: State,
    user: SignedIn,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
    repeat_password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """The current password is always required here (a borrowed session alone must not be
    enough to take the account over); a person with none (single sign-on) asks an admin."""
    handle = user.principal.handle
    if not await web_store(state).check_password(handle, current_password):
        return flash(request, "The current password is wrong.", "error", 403)
    if not hmac.compare_digest(new_password.encode(), repeat_password.encode()):
        return flash(request, "The new passwords differ.", "error", 400)
    try:
        body = login.PasswordBody(password=new_password, current_password=current_password)
        await login.set_password(handle, body, state, user.principal)
    except ValidationError as err:
        return flash(request, _problem(err), "error", 400)
    except ApiError as err:
        return flash(request, err.message, "error", err.status_code)
    return flash(request, "Password changed.", "ok")


@router.get("/web/people", response_class=HTMLResponse)
async def people(request: Request, state: State, user: Admin) -> Response:
    everyone = [p for p in await state.people.everyone() if p.kind is PersonKind.PERSON]
    return render(
        request, "people.html", user, nav="people", people=everyone, min=login.MIN_PASSWORD
    )


@router.post("/web/people/{handle}/password", response_class=HTMLResponse)
async def set_for(
    handle: str,
    request: Request,
    state: State,
    user: Admin,
    new_password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if handle == user.principal.handle:
        return flash(request, "Change your own password on the Account page.", "error", 400)
    try:
        body = login.PasswordBody(password=new_password)
        done = await login.set_password(handle, body, state, user.principal)
    except ValidationError as err:
        return flash(request, _problem(err), "error", 400)
    except ApiError as err:
        return flash(request, err.message, "error", err.status_code)
    return flash(request, f"Password of {done.handle} set by {done.changed_by}.", "ok")
