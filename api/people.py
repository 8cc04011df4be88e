"""People and API tokens: admins manage people; everyone manages their own tokens.

A token's secret is in exactly one answer, the one that creates it. Revocation takes effect on
the next request (tokens are checked against the store every time).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from api.auth import Admin, Authenticated
from api.deps import State
from api.errors import ConflictError, ForbiddenError, NotFoundError, UnprocessableError
from db.people import PersonExistsError, TokenRefusedError, UnknownPersonError
from schemas.identity import (
    IssuedToken,
    Person,
    PersonIn,
    PersonPatch,
    Principal,
    Role,
    Scope,
    TokenIn,
    TokenInfo,
)

router = APIRouter(prefix="/api", tags=["people"])


@router.get("/me")
async def me(principal: Authenticated) -> Principal:
    return principal


@router.get("/users")
async def list_people(state: State, _principal: Admin) -> list[Person]:
    return await state.people.everyone()


@router.post("/users", status_code=201)
async def add_person(body: PersonIn, state: State, _principal: Admin) -> Person:
    try:
        return await state.people.add(body)
    except PersonExistsError as err:
        raise ConflictError(str(err)) from None


@router.get("/users/{handle}")
async def get_person(handle: str, state: State, principal: Authenticated) -> Person:
    if handle != principal.handle and not principal.can(Scope.ADMIN):
        raise ForbiddenError("only an admin may read another person's record")
    person = await state.people.get(handle)
    if person is None:
        raise NotFoundError(f"no person {handle!r}")
    return person


@router.patch("/users/{handle}")
async def update_person(handle: str, body: PersonPatch, state: State, _principal: Admin) -> Person:
    current = await state.people.get(handle)
    if current is None:
        raise NotFoundError(f"no person {handle!r}")
    loses_admin = Role.ADMIN in current.roles and (
        body.disabled or (body.roles is not None and Role.ADMIN not in body.roles)
    )
    if loses_admin and await state.people.count_admins() <= 1:
        raise ConflictError(f"{handle} is the last admin: name another admin first")
    try:
        return await state.people.update(handle, body)
    except PersonExistsError as err:
        raise ConflictError(str(err)) from None
    except UnknownPersonError as err:
        raise NotFoundError(str(err)) from None


@router.get("/tokens")
async def list_tokens(
    state: State, principal: Authenticated, handle: str | None = None, every: bool = False
) -> list[TokenInfo]:
    """Your tokens; admins may list someone else's (`handle`) or everyone's (`every`)."""
    if (every or (handle and handle != principal.handle)) and not principal.can(Scope.ADMIN):
        raise ForbiddenError("only an admin may list other people's tokens")
    if every:
        return await state.people.tokens()
    return await state.people.tokens(handle or principal.handle)


@router.post("/tokens", status_code=201)
async def create_token(body: TokenIn, state: State, principal: Authenticated) -> IssuedToken:
    """A token for yourself within your roles, or (admins) for another person or automation."""
    owner = body.handle or principal.handle
    if owner != principal.handle and not principal.can(Scope.ADMIN):
        raise ForbiddenError("only an admin may create a token for someone else")
    if owner == principal.handle and not set(body.scopes) <= principal.scopes:
        beyond = ", ".join(sorted(s.value for s in set(body.scopes) - principal.scopes))
        raise ForbiddenError(f"a token cannot give more than the one that asks: {beyond}")
    expires = None if body.expires_in_days is None else timedelta(days=body.expires_in_days)
    try:
        return await state.people.issue_token(
            owner,
            name=body.name,
            scopes=body.scopes,
            expires_in=expires,
            created_by=principal.handle,
        )
    except UnknownPersonError as err:
        raise NotFoundError(str(err)) from None
    except TokenRefusedError as err:
        raise UnprocessableError(str(err)) from None


@router.delete("/tokens/{token_id}")
async def revoke_token(token_id: str, state: State, principal: Authenticated) -> TokenInfo:
    owner = await state.people.token_owner(token_id)
    if owner is None:
        raise NotFoundError(f"no token {token_id!r}")
    if owner != principal.handle and not principal.can(Scope.ADMIN):
        raise ForbiddenError("only an admin may revoke someone else's token")
    revoked = await state.people.revoke(token_id)
    if revoked is None:
        raise NotFoundError(f"no token {token_id!r}")
    return revoked
