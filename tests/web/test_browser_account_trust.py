"""In headless Chromium: a person changes their password and signs in with the new one; an
author lowers a runbook's trust mode from the editor and an admin promotes it; the dashboard
right after a restart says it is loading the history and fills in by itself. Screenshots are
kept in tests/web/artifacts/."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from api.web.history import IncidentHistory
from db.web import WebStore
from schemas.identity import Role
from tests.harness import running_stack, serving, unique
from tests.web.support import PASSWORD
from tests.web.test_browser import chromium, no_script_errors, shot, signed_in

pytestmark = [pytest.mark.temporal, pytest.mark.browser]

NEW = "a brand new passphrase 42"


async def test_change_password_then_sign_in_with_it(client: Client, engine: AsyncEngine) -> None:
    async with (
        running_stack(client, engine, with_agent=False, web_cookie_secure=False) as stack,
        serving(stack) as base,
        chromium() as browser,
    ):
        handle = unique("bpw-")
        context, page = await signed_in(browser, stack, base, handle, (Role.RESPONDER,))
        await page.click("#nav-account")
        await expect(page.locator("h1")).to_have_text("Your account")
        await page.fill("#current-password", "not my password")
        await page.fill("#new-password", NEW)
        await page.fill("#repeat-password", NEW)
        await page.click("#change-password")
        await expect(page.locator("#flash .flash.error")).to_have_text(
            "The current password is wrong."
        )
        await page.fill("#current-password", PASSWORD)
        await page.click("#change-password")
        await expect(page.locator("#flash .flash.ok")).to_have_text("Password changed.")
        await shot(page, "account-password-changed")
        assert await WebStore(engine).check_password(handle, NEW)
        no_script_errors(page, "403")

        # Sign out, and in again with the new password.
        await page.click("button.link")
        await expect(page.locator("h1")).to_have_text("Sign in")
        await page.fill("input[name=handle]", handle)
        await page.fill("input[name=password]", NEW)
        await page.click("button.primary")
        await expect(page.locator("h1")).to_have_text("Incidents")
        await context.close()

        # An admin sets it for them on the People page.
        admin_ctx, admin = await signed_in(browser, stack, base, unique("bpwadm-"), (Role.ADMIN,))
        await admin.click("#nav-people")
        row = admin.locator(f"tr[data-handle='{handle}']")
        await row.locator("input[name=new_password]").fill("set by an admin 2026")
        await row.locator("button").click()
        await expect(admin.locator("#flash .flash.ok")).to_contain_text(f"Password of {handle}")
        await shot(admin, "people-password-set")
        assert await WebStore(engine).check_password(handle, "set by an admin 2026")
        no_script_errors(admin)
        await admin_ctx.close()


async def test_trust_mode_from_the_editor(client: Client, engine: AsyncEngine) -> None:
    async with (
        running_stack(client, engine, with_agent=False, web_cookie_secure=False) as stack,
        serving(stack) as base,
        chromium() as browser,
    ):
        rb_id = unique("btrust-")
        await stack.add_runbook(
            {
                "id": rb_id,
                "title": "Browser trust",
                "selectors": [{"alertname": unique("BTrust")}],
                "steps": [
                    {"id": "look", "title": "Look", "command": "echo look", "risk": "safe"},
                    {"id": "fix", "title": "Fix", "command": "echo fix", "risk": "caution"},
                ],
            }
        )
        context, page = await signed_in(browser, stack, base, unique("btrau-"), (Role.AUTHOR,))
        await page.goto(f"/web/runbooks/{rb_id}")
        await expect(page.locator("#trust-mode")).to_have_text("copilot")
        await expect(page.locator("#needs-look")).to_contain_text("runs on its own")
        await page.select_option("#trust-select", "read-along")
        await page.fill("#trust-reason", "new team on call")
        await page.click("#trust-change")
        await expect(page.locator("#trust-saved")).to_be_visible()
        await expect(page.locator("#trust-mode")).to_have_text("read-along")
        await expect(page.locator("#needs-look")).to_contain_text("a human performs it")
        await shot(page, "editor-trust-lowered")
        # Autopilot is an admin's: the author is told so, and nothing changes.
        await page.select_option("#trust-select", "autopilot")
        await page.click("#trust-change")
        await expect(page.locator("#flash .flash.error")).to_contain_text("needs the 'admin'")
        await expect(page.locator("#trust-mode")).to_have_text("read-along")
        no_script_errors(page, "403")
        await context.close()

        admin_ctx, admin = await signed_in(browser, stack, base, unique("btradm-"), (Role.ADMIN,))
        await admin.goto(f"/web/runbooks/{rb_id}")
        await admin.select_option("#trust-select", "autopilot")
        await admin.fill("#trust-reason", "clean for a month")
        await admin.click("#trust-change")
        await expect(admin.locator("#trust-mode")).to_have_text("autopilot")
        await expect(admin.locator("#needs-fix")).to_contain_text("runs on its own")
        await admin.locator("#trust details summary").click()
        await expect(admin.locator("#trust-history li").first).to_contain_text("promoted")
        await shot(admin, "editor-trust-promoted")
        trust = await stack.http.get(
            f"/api/runbooks/{rb_id}/trust", headers=await stack.person(unique("btrr-"))
        )
        history = trust.json()["history"]
        assert [(c["kind"], c["mode"]) for c in history] == [
            ("set", "read-along"),
            ("promoted", "autopilot"),
        ]
        no_script_errors(admin)
        await admin_ctx.close()


class HeldHistory(IncidentHistory):
    """The first read waits until the test lets it go: a cold start, held still."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.go = asyncio.Event()

    async def _load(self) -> None:
        await self.go.wait()
        await super()._load()


@contextlib.asynccontextmanager
async def serving_app(app: FastAPI) -> AsyncIterator[str]:
    """`app` on a loopback port (tests/harness.py `serving`, with the app in the test's hands)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the API stopped during start-up"
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_dashboard_loads_history_then_fills_in(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(
        client, engine, with_agent=False, web_cookie_secure=False, web_history_wait_s=0
    ) as stack:
        app = create_app(stack.settings, client=client, engine=engine)
        history = app.state.web_history = HeldHistory(client)
        async with serving_app(app) as base, chromium() as browser:
            ctx, page = await signed_in(browser, stack, base, unique("bload-"), (Role.VIEWER,))
            await page.goto("/web/dashboard")
            await expect(page.locator("#history-loading")).to_contain_text(
                "Loading incident history"
            )
            await shot(page, "dashboard-loading-history")
            history.go.set()  # the read finishes: the page's poll swaps in the dashboard
            await expect(page.locator("#kpi-incidents")).to_be_visible(timeout=10_000)
            await expect(page.locator("svg.chart")).to_have_count(7)
            await expect(page.locator("#history-loading")).to_have_count(0)
            await shot(page, "dashboard-after-loading")
            no_script_errors(page)
            await ctx.close()
