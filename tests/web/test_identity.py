"""Web sign-in: argon2 passwords set through the API, session cookies with the right flags,
CSRF on every form, security headers, sign-out ends the session, a disabled person is out."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.web.security import CSP
from db.web import WebPasswordRecord, WebStore
from schemas.identity import Role
from tests.harness import as_person, running_stack, unique
from tests.web.support import PASSWORD, login_form, new_client, sign_in

pytestmark = pytest.mark.temporal


async def test_passwords_are_set_by_admins_or_their_owner_and_stored_as_argon2(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, with_agent=False) as stack:
        admin = await stack.person(unique("wadm-"), (Role.ADMIN,))
        alice = unique("walice-")
        bob = unique("wbob-")
        alice_token = await stack.person(alice, (Role.VIEWER,))
        await stack.person(bob, (Role.VIEWER,))

        short = await stack.http.put(
            f"/api/users/{alice}/password", json={"password": "short"}, headers=admin
        )
        assert short.status_code == 422
        by_admin = await stack.http.put(
            f"/api/users/{alice}/password", json={"password": PASSWORD}, headers=admin
        )
        assert by_admin.status_code == 200, by_admin.text
        # Not someone else's; one's own only with the current password.
        other = await stack.http.put(
            f"/api/users/{bob}/password", json={"password": PASSWORD}, headers=alice_token
        )
        assert other.status_code == 403
        no_proof = await stack.http.put(
            f"/api/users/{alice}/password", json={"password": "x" * 20}, headers=alice_token
        )
        assert no_proof.status_code == 403
        proved = await stack.http.put(
            f"/api/users/{alice}/password",
            json={"password": "a new and long one", "current_password": PASSWORD},
            headers=alice_token,
        )
        assert proved.status_code == 200, proved.text
        assert (await stack.http.put(f"/api/users/{alice}/password", json={})).status_code == 401

        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    select(WebPasswordRecord.password_hash).where(  # type: ignore[call-overload]
                        WebPasswordRecord.handle == alice
                    )
                )
            ).scalar_one()
        assert stored.startswith("$argon2id$")
        assert "a new and long one" not in stored


async def test_sign_in_cookie_csrf_headers_and_sign_out(
    client: Client, engine: AsyncEngine
) -> None:
    # Default settings: the cookie is Secure.
    async with running_stack(client, engine, with_agent=False) as stack:
        handle = unique("wsec-")
        await as_person(stack.engine, handle, (Role.VIEWER,))
        await WebStore(stack.engine).set_password(handle, PASSWORD, "tests")
        fresh = new_client(stack)
        form = await fresh.get("/web/login")
        assert "Secure" in form.headers["set-cookie"]
        nonce = form.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        # httpx keeps Secure cookies off plain http, as a browser would: send it by hand.
        ok = await fresh.post(
            "/web/login",
            data={"handle": handle, "password": PASSWORD, "login_nonce": nonce},
            headers={"Cookie": f"ddrun_login={nonce}"},
        )
        assert ok.status_code == 303, ok.text
        cookie = ok.headers["set-cookie"]
        assert "ddrun_session=" in cookie
        assert "HttpOnly" in cookie
        assert "Secure" in cookie
        assert "SameSite=lax" in cookie
        await fresh.aclose()

    async with running_stack(client, engine, with_agent=False, web_cookie_secure=False) as stack:
        # Not signed in: pages redirect to the sign-in page, htmx gets HX-Redirect.
        anon = new_client(stack)
        page = await anon.get("/web/incidents?status=resolved")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/web/login?next=%2Fweb%2Fincidents")
        hx = await anon.post("/web/parse/preview", headers={"HX-Request": "true"})
        assert hx.status_code == 401
        assert hx.headers["HX-Redirect"].startswith("/web/login")

        # A wrong password and an unknown handle look the same.
        nonce = await login_form(anon)
        wrong = await anon.post(
            "/web/login", data={"handle": handle, "password": "nope" * 4, "login_nonce": nonce}
        )
        nonce = await login_form(anon)  # each form has its own nonce
        nobody = await anon.post(
            "/web/login",
            data={"handle": unique("ghost-"), "password": PASSWORD, "login_nonce": nonce},
        )
        assert wrong.status_code == nobody.status_code == 401
        assert "Wrong handle or password" in wrong.text
        # Login CSRF: a form without the matching nonce cookie is refused.
        forged = await new_client(stack).post(
            "/web/login", data={"handle": handle, "password": PASSWORD, "login_nonce": "x"}
        )
        assert forged.status_code == 403

        me = await sign_in(stack, handle, (Role.VIEWER,))
        page = await me.get("/web/incidents")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CSP
        assert "script-src 'self'" in CSP
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
        assert "<script>" not in page.text  # no inline script anywhere: the CSP forbids it
        static = await me.get("/web/static/htmx.min.js")
        assert static.status_code == 200
        assert "htmx" in static.text[:2000]

        # CSRF: a form post without the token, or with another, is refused.
        payload = {"payload": "{}"}
        missing = await me.http.post("/web/mappings/test", data=payload)
        assert missing.status_code == 403
        assert "security token" in missing.text
        other = await me.post("/web/mappings/test", payload, headers={"X-CSRF-Token": "x" * 32})
        assert other.status_code == 403
        fine = await me.post("/web/mappings/test", payload)
        assert fine.status_code == 200, fine.text

        # Sign out: the same cookie no longer works.
        cookie = me.http.cookies.get("ddrun_session")
        out = await me.http.post("/web/logout", data={"csrf": me.csrf})
        assert out.status_code == 303
        replay = new_client(stack)
        replay.cookies.set("ddrun_session", cookie or "")
        assert (await replay.get("/web/incidents")).status_code == 303

        # A disabled person's session stops at the next click.
        other_me = await sign_in(stack, unique("wdis-"), (Role.VIEWER,))
        admin = await stack.person(unique("wadm2-"), (Role.ADMIN,))
        disabled = await stack.http.patch(
            f"/api/users/{other_me.handle}", json={"disabled": True}, headers=admin
        )
        assert disabled.status_code == 200
        assert (await other_me.get("/web/incidents")).status_code == 303
        for c in (anon, me, replay, other_me):
            await c.aclose()


async def test_an_open_redirect_is_refused(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine, with_agent=False, web_cookie_secure=False) as stack:
        handle = unique("wred-")
        await sign_in(stack, handle, (Role.VIEWER,))
        anon = new_client(stack)
        nonce = await login_form(anon)
        done = await anon.post(
            "/web/login",
            data={
                "handle": handle,
                "password": PASSWORD,
                "login_nonce": nonce,
                "next": "//evil.example/x",
            },
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/web/incidents"
        await anon.aclose()


async def test_each_page_takes_the_role_it_says(client: Client, engine: AsyncEngine) -> None:
    """Every web route, as each role through a real session: refused (403) exactly when the
    role lacks the scope the route declares (tests/identity/test_route_guard.py's WEB table)."""
    from schemas.identity import ROLE_SCOPES, Scope
    from tests.identity.test_route_guard import WEB, _concrete

    async with running_stack(client, engine, with_agent=False, web_cookie_secure=False) as stack:
        people = {role: await sign_in(stack, unique(f"w{role.value}-"), (role,)) for role in Role}
        checked = 0
        for (method, path), needed in WEB.items():
            if not isinstance(needed, Scope) or path.endswith("/live"):
                continue
            for role, me in people.items():
                url = _concrete(path)
                answer = await (me.get(url) if method == "GET" else me.post(url, {}))
                if needed in ROLE_SCOPES[role]:
                    assert answer.status_code != 403, (role, method, path, answer.text)
                else:
                    assert answer.status_code == 403, (role, method, path, answer.text)
                    assert needed.value in answer.text
                checked += 1
        assert checked > 80
        anon = new_client(stack)
        home = await anon.get("/web/")
        assert home.status_code == 303
        assert home.headers["location"].startswith("/web/login")
        for c in (*people.values(), anon):
            await c.aclose()


async def test_guessing_passwords_is_slowed(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine, with_agent=False, web_cookie_secure=False) as stack:
        handle = unique("wguess-")
        await sign_in(stack, handle, (Role.VIEWER,))
        guesser = new_client(stack)
        codes = []
        for i in range(12):
            nonce = await login_form(guesser)
            answer = await guesser.post(
                "/web/login",
                data={"handle": handle, "password": f"guess-{i}", "login_nonce": nonce},
            )
            codes.append(answer.status_code)
        assert codes[:10] == [401] * 10
        assert codes[10:] == [429, 429]
        # Even the right password waits now.
        nonce = await login_form(guesser)
        right = await guesser.post(
            "/web/login", data={"handle": handle, "password": PASSWORD, "login_nonce": nonce}
        )
        assert right.status_code == 429
        assert int(right.headers["Retry-After"]) >= 1
        await guesser.aclose()
