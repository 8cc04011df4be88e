"""Tokens: scope and expiry enforced, revocation at once, a disabled person locked out, the
secret shown once and never logged, guessing slowed down."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.auth import FailureLimiter
from db.people import ApiTokenRecord, PeopleStore
from schemas.identity import PersonIn, Role, Scope
from tests.harness import running_stack, unique

pytestmark = pytest.mark.temporal


async def test_scope_expiry_revocation_and_disabling(
    client: Client, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_stack(client, engine) as stack:
        admin = await stack.person(unique("adm-"), (Role.ADMIN,))
        handle = unique("rita-")
        made = await stack.http.post(
            "/api/users", json={"handle": handle, "roles": ["responder"]}, headers=admin
        )
        assert made.status_code == 201, made.text

        # A person asks for a token within their roles: fine; beyond them: refused.
        own = await stack.person(handle)
        beyond = await stack.http.post(
            "/api/tokens", json={"name": "x", "scopes": ["author"]}, headers=own
        )
        assert beyond.status_code == 403
        issued = await stack.http.post(
            "/api/tokens", json={"name": "read only", "scopes": ["read"]}, headers=own
        )
        assert issued.status_code == 201, issued.text
        secret = issued.json()["token"]
        token_id = issued.json()["info"]["id"]
        read_only = {"Authorization": f"Bearer {secret}"}

        # Scope: reading works, acting does not, even though the person is a responder.
        assert (await stack.http.get("/api/incidents", headers=read_only)).status_code == 200
        acting = await stack.http.post(
            "/api/killswitch",
            json={"scope": "service", "value": unique("svc-"), "reason": "x"},
            headers=read_only,
        )
        assert acting.status_code == 403
        assert "respond" in acting.json()["error"]

        # The secret is in that one answer and nowhere else: not in the listing, not in logs.
        listed = await stack.http.get("/api/tokens", headers=own)
        assert secret not in listed.text
        assert token_id in listed.text
        assert secret.split("_", 2)[2] not in caplog.text

        # last used is recorded.
        info = next(t for t in listed.json() if t["id"] == token_id)
        assert info["last_used_at"] is not None

        # Revocation takes effect on the very next request.
        revoked = await stack.http.delete(f"/api/tokens/{token_id}", headers=own)
        assert revoked.status_code == 200
        after = await stack.http.get("/api/incidents", headers=read_only)
        assert after.status_code == 401

        # Expiry: a token past its time is refused.
        expiring = (
            await stack.http.post(
                "/api/tokens",
                json={"name": "short", "scopes": ["read"], "expires_in_days": 1},
                headers=own,
            )
        ).json()
        short = {"Authorization": f"Bearer {expiring['token']}"}
        assert (await stack.http.get("/api/me", headers=short)).status_code == 200
        async with engine.begin() as conn:
            await conn.execute(
                update(ApiTokenRecord)
                .where(ApiTokenRecord.id == expiring["info"]["id"])  # type: ignore[arg-type]
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert (await stack.http.get("/api/me", headers=short)).status_code == 401

        # A disabled person's every credential stops working at once.
        assert (await stack.http.get("/api/me", headers=own)).status_code == 200
        disabled = await stack.http.patch(
            f"/api/users/{handle}", json={"disabled": True}, headers=admin
        )
        assert disabled.status_code == 200, disabled.text
        assert (await stack.http.get("/api/me", headers=own)).status_code == 401
        assert secret.split("_", 2)[2] not in caplog.text


async def test_a_token_proves_its_person_and_scopes_and_nothing_else(engine: AsyncEngine) -> None:
    people = PeopleStore(engine)
    handle = unique("solo-")
    await people.add(PersonIn(handle=handle, roles=[Role.ADMIN]))
    issued = await people.issue_token(
        handle, name="t", scopes=[Scope.ADMIN], expires_in=None, created_by="test"
    )
    assert issued.token.startswith("ddr_")
    principal = await people.authenticate(issued.token)
    assert principal is not None
    assert principal.handle == handle
    assert principal.scopes == frozenset({Scope.ADMIN})
    wrong = issued.token[:-4] + "AAAA"
    assert await people.authenticate(wrong) is None


async def test_guessing_is_slowed_and_logged_without_the_secret(
    client: Client, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_stack(client, engine) as stack:
        app = stack.http._transport.app  # type: ignore[attr-defined]
        app.state.auth_failures = FailureLimiter(limit=5, window_s=60)
        guess = "ddr_abcdef012345_" + "S3cretGuessThatMustNotBeLogged" * 2
        with caplog.at_level(logging.WARNING):
            codes = [
                (
                    await stack.http.get(
                        "/api/incidents", headers={"Authorization": f"Bearer {guess}"}
                    )
                ).status_code
                for _ in range(7)
            ]
        assert codes[:5] == [401] * 5
        assert codes[5:] == [429, 429]
        limited = await stack.http.get("/api/incidents", headers={"Authorization": "Bearer x"})
        assert int(limited.headers["Retry-After"]) >= 1
        assert "S3cretGuess" not in caplog.text
        assert "token id abcdef012345" in caplog.text
