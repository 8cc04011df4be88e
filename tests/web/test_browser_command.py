"""Incident command in headless Chromium: a responder changes the severity from the live
incident page and the panel follows live (the SSE stream), on their page and a viewer's."""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.identity import Role
from schemas.severity import Severity
from tests.harness import running_stack, serving, unique
from tests.web.test_browser import chromium, no_script_errors, shot, signed_in
from tests.web.test_command_pages import declared

pytestmark = [pytest.mark.temporal, pytest.mark.browser]


async def test_severity_change_from_the_page_updates_the_panel_live(
    client: Client, engine: AsyncEngine
) -> None:
    async with (
        running_stack(client, engine, web_cookie_secure=False, sla_timers=True) as stack,
        serving(stack) as base,
        chromium() as browser,
    ):
        incident_id = await declared(stack, "P2", "Search results empty")
        viewer_ctx, viewer = await signed_in(browser, stack, base, unique("bcv-"), (Role.VIEWER,))
        await viewer.goto(f"/web/incidents/{incident_id}")
        await expect(viewer.locator("#severity-level")).to_have_text("P2")

        ctx, page = await signed_in(browser, stack, base, unique("bcr-"), (Role.RESPONDER,))
        await page.goto(f"/web/incidents/{incident_id}")
        panel = page.locator("#command-panel")
        await expect(panel.locator("#severity-level")).to_have_text("P2")
        await expect(panel.locator("tr[data-sla=acknowledge]")).to_contain_text("due in")
        await shot(page, "incident-command-p2")

        form = page.locator("#form-severity")
        await form.locator("select[name=severity]").select_option("P1")
        await form.locator("input[name=reason]").fill("half of the searches fail")
        await form.locator("button").click()
        await expect(page.locator("#flash .flash.ok")).to_contain_text("severity P1 set by")
        # The stream re-renders the panel: the new level, its reason and the P1 deadlines.
        await expect(panel.locator("#severity-level")).to_have_text("P1", timeout=15000)
        await expect(page.locator("#severity-history")).to_contain_text("half of the searches fail")
        await expect(page.locator("#command-panel tr[data-sla=escalate]")).to_be_visible()
        await shot(page, "incident-command-p1")
        # The viewer's page followed without a reload.
        await expect(viewer.locator("#severity-level")).to_have_text("P1", timeout=15000)
        await expect(viewer.locator("#severity-history")).to_contain_text(
            "half of the searches fail"
        )
        assert (await stack.state(incident_id)).severity_level is Severity.P1
        no_script_errors(page)
        no_script_errors(viewer)
        await ctx.close()
        await viewer_ctx.close()
