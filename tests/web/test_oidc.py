"""Single sign-on through a real (local) OpenID Connect provider: the person whose verified
e-mail the provider proves is signed in with their own roles; an unknown person, an unverified
e-mail, a token signed with another key or a mismatched state is refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.web import oidc
from schemas.identity import PersonIn, Role
from tests.harness import Stack, running_stack, unique
from tests.standins.oidc_provider import OidcProvider, running_provider
from tests.web.support import new_client

pytestmark = pytest.mark.temporal


async def _sso(stack: Stack, provider: OidcProvider, username: str) -> httpx.Response:
    """Walk the redirects a browser would: the product → the provider's page → back."""
    browser = new_client(stack)
    start = await browser.get("/web/login/oidc", params={"next": "/web/account"})
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    assert authorize.startswith(f"{provider.issuer}/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    assert query["code_challenge_method"] == "S256"
    async with httpx.AsyncClient() as idp:
        page = await idp.get(authorize)
        assert page.status_code == 200
        back = await idp.post(f"{provider.issuer}/authorize", data={**query, "username": username})
    assert back.status_code in (303, 403), back.text
    if back.status_code == 403:
        return back
    callback = back.headers["location"]
    assert callback.startswith("http://ddrun.test/web/login/oidc/callback?")
    answer = await browser.get(callback.removeprefix("http://ddrun.test"))
    if answer.status_code == 303:
        answer = await browser.get(answer.headers["location"])
    await browser.aclose()
    return answer


async def test_sign_in_through_openid_connect(client: Client, engine: AsyncEngine) -> None:
    async with running_provider() as provider:
        settings = {
            "web_cookie_secure": False,
            "web_oidc_issuer": provider.issuer,
            "web_oidc_client_id": provider.client_id,
            "web_oidc_client_secret": provider.client_secret,
            "web_oidc_name": "Test IdP",
        }
        async with running_stack(client, engine, with_agent=False, **settings) as stack:
            handle = unique("sso-")
            email = f"{handle}@example.com"
            from db.people import PeopleStore

            await PeopleStore(engine).add(PersonIn(handle=handle, email=email, roles=[Role.AUTHOR]))
            provider.add_user("carol", email)
            provider.add_user("mallory", f"{unique('nobody-')}@example.com")
            provider.add_user("eve", email, verified=False)

            login = await new_client(stack).get("/web/login")
            assert "Sign in with Test IdP" in login.text

            signed_in = await _sso(stack, provider, "carol")
            assert signed_in.status_code == 200, signed_in.text
            # The page asked for, as carol (the account page: it does not wait for the history
            # read, which on a busy shared server may still be under way).
            assert signed_in.request.url.path == "/web/account"
            assert "Your account" in signed_in.text
            assert handle in signed_in.text
            assert "author" in signed_in.text

            # Linked by subject now: a second sign-in finds the same person.
            again = await _sso(stack, provider, "carol")
            assert handle in again.text

            # Nobody is created by signing in; an unverified e-mail proves nothing.
            unknown = await _sso(stack, provider, "mallory")
            assert unknown.status_code == 403
            assert "is not a dd0c/run person" in unknown.text
            unverified = await _sso(stack, provider, "eve")
            assert unverified.status_code == 403

            # A token signed with a key the provider does not publish is refused.
            provider.forge_with_other_key = True
            forged = await _sso(stack, provider, "carol")
            assert forged.status_code == 403
            assert "Single sign-on failed" in forged.text
            provider.forge_with_other_key = False

            # A callback whose state does not match the one this browser started: refused.
            browser = new_client(stack)
            await browser.get("/web/login/oidc")
            bad = await browser.get("/web/login/oidc/callback", params={"code": "x", "state": "y"})
            assert bad.status_code == 403
            assert "state does not match" in bad.text
            await browser.aclose()
    oidc._providers.clear()


async def test_sso_is_off_unless_configured(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine, with_agent=False, web_cookie_secure=False) as stack:
        browser = new_client(stack)
        assert "Sign in with" not in (await browser.get("/web/login")).text
        assert (await browser.get("/web/login/oidc")).status_code == 404
        await browser.aclose()
