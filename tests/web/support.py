"""Signing in to the web app as a person, the way a browser does (login form, cookie, CSRF)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import httpx

from db.web import WebStore
from schemas.identity import Role
from tests.harness import Stack, as_person

PASSWORD = "correct horse battery staple"
_NONCE = re.compile(r'name="login_nonce" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Browser:
    """One person's signed-in HTTP client."""

    http: httpx.AsyncClient
    csrf: str
    handle: str

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(path, **kw)

    async def post(
        self, path: str, data: dict[str, Any] | None = None, **kw: Any
    ) -> httpx.Response:
        """A form post as htmx sends it (CSRF header, HX-Request)."""
        headers = {"X-CSRF-Token": self.csrf, "HX-Request": "true", **kw.pop("headers", {})}
        return await self.http.post(path, data=data or {}, headers=headers, **kw)

    async def aclose(self) -> None:
        await self.http.aclose()


def new_client(stack: Stack) -> httpx.AsyncClient:
    transport = stack.http._transport  # type: ignore[attr-defined]
    return httpx.AsyncClient(transport=transport, base_url="http://ddrun.test")


async def login_form(client: httpx.AsyncClient, next_url: str = "") -> str:
    page = await client.get("/web/login", params={"next": next_url} if next_url else None)
    assert page.status_code == 200, page.text
    found = _NONCE.search(page.text)
    assert found, page.text
    return found.group(1)


async def sign_in(
    stack: Stack, handle: str, roles: tuple[Role, ...] = (Role.RESPONDER,)
) -> Browser:
    await as_person(stack.engine, handle, roles)
    await WebStore(stack.engine).set_password(handle, PASSWORD, "tests")
    client = new_client(stack)
    nonce = await login_form(client)
    done = await client.post(
        "/web/login", data={"handle": handle, "password": PASSWORD, "login_nonce": nonce}
    )
    assert done.status_code == 303, done.text
    page = await client.get("/web/incidents")
    assert page.status_code == 200, page.text
    csrf = _CSRF.search(page.text)
    assert csrf, page.text
    return Browser(client, html.unescape(csrf.group(1)), handle)
