"""End to end in headless Chromium (Playwright driving Debian's /usr/bin/chromium): the pages as
a person uses them, htmx and the live stream included. Screenshots of every page are kept in
tests/web/artifacts/ (ignored by git)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from db.web import WebStore
from schemas.identity import PersonIn, Role
from schemas.incident import IncidentStatus, StepState
from tests.harness import Stack, as_person, running_stack, serving, unique
from tests.standins.oidc_provider import running_provider
from tests.support import CORPUS, assert_eventually
from tests.web.support import PASSWORD
from tests.web.test_incidents_pages import waiting_incident

# Correctness, not speed, is checked here (bench/web_pages.py measures speed): on a loaded 2-core
# machine the first page of a cold browser can take longer than Playwright's 5 s default.
expect.set_options(timeout=20_000)

pytestmark = [pytest.mark.temporal, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
RUNBOOK = CORPUS / "openshift-runbooks/openshift-virtualization-operator/NoLeadingVirtController.md"


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError("chromium missing: apt-get install chromium (the browser tests need it)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def signed_in(
    browser: Browser, stack: Stack, base: str, handle: str, roles: tuple[Role, ...]
) -> tuple[BrowserContext, Page]:
    """A browser context signed in through the login form, like a person."""
    await as_person(stack.engine, handle, roles)
    await WebStore(stack.engine).set_password(handle, PASSWORD, "tests")
    context = await browser.new_context(base_url=base, viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto("/web/incidents")
    await expect(page.locator("h1")).to_have_text("Sign in")
    await page.fill("input[name=handle]", handle)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button.primary")
    await expect(page.locator("h1")).to_have_text("Incidents")
    page.errors = errors  # type: ignore[attr-defined]
    return context, page


def no_script_errors(page: Page, expected: str | None = None) -> None:
    """No CSP violation or script error: htmx and the SSE extension run under the CSP.
    `expected`: an HTTP status the test provoked (the console reports it)."""
    errors = [
        e
        for e in page.errors  # type: ignore[attr-defined]
        if expected is None or expected not in e
    ]
    assert not errors, errors


async def test_author_pastes_edits_and_browses(client: Client, engine: AsyncEngine) -> None:
    async with (
        running_stack(client, engine, with_agent=False, web_cookie_secure=False) as stack,
        serving(stack) as base,
        chromium() as browser,
    ):
        context, page = await signed_in(browser, stack, base, unique("bauth-"), (Role.AUTHOR,))
        await shot(page, "incidents-list")

        # Paste a real runbook: the parsed steps appear beside it.
        await page.goto("/web/parse")
        rb_id = unique("browser-nlvc-")
        await page.fill("#rb-name", rb_id)
        await page.fill("#source", RUNBOOK.read_text())
        await expect(page.locator(".pstep")).to_have_count(15)
        await expect(page.locator(".pstep .risk.r-dangerous").first).to_be_visible()
        await expect(page.locator(".amb")).to_have_count(2)
        await expect(page.locator(".amb").nth(1)).to_contain_text("no alert label fills")
        await expect(page.locator(".line.marked").first).to_be_visible()
        await shot(page, "paste-and-parse")

        # Save: the editor opens on version 1.
        await page.click("#save")
        await page.wait_for_url(f"**/web/runbooks/{rb_id}")
        await expect(page.locator("h1")).to_contain_text("v1")

        # Edit a step and save a version: the history shows it, by this person.
        await page.fill("input[name='steps-1-title']", "List the virt-controller pods")
        await page.fill("input[name='summary']", "clearer title")
        await page.click("#save-version")
        errors = page.locator("#errors")
        assert await errors.count() == 0, await errors.inner_text()
        await expect(page.locator("#saved")).to_have_text("Saved version 2.")
        await expect(page.locator("h1")).to_contain_text("v2")
        await expect(page.locator("details.version").first).to_contain_text("v2")
        await expect(page.locator("pre.diff .add").first).to_contain_text(
            "List the virt-controller pods"
        )
        await shot(page, "runbook-editor")
        saved = await stack.runbooks.get(rb_id)
        assert saved is not None
        assert saved.steps[1].title == "List the virt-controller pods"

        await page.goto(f"/web/runbooks?q={rb_id}")
        await expect(page.locator("#runbooks tbody tr")).to_have_count(1)
        await page.select_option("select[name=risk]", "safe")
        await expect(page.locator("#runbooks tbody tr td.empty")).to_have_count(1)
        await page.select_option("select[name=risk]", "dangerous")
        await expect(page.locator("#runbooks tbody tr a").first).to_have_attribute(
            "href", f"/web/runbooks/{rb_id}"
        )
        await shot(page, "library")

        await page.goto("/web/mappings")
        await expect(page.locator("#suggestions table")).to_be_visible()
        await shot(page, "mappings")
        no_script_errors(page)
        await context.close()


async def test_approve_from_the_incident_page_and_a_viewer_cannot(
    client: Client, engine: AsyncEngine
) -> None:
    async with (
        running_stack(client, engine, web_cookie_secure=False) as stack,
        serving(stack) as base,
        chromium() as browser,
    ):
        incident_id, _ = await waiting_incident(stack, "Brow")
        viewer_ctx, viewer = await signed_in(browser, stack, base, unique("bview-"), (Role.VIEWER,))
        await viewer.goto(f"/web/incidents/{incident_id}")
        card = viewer.locator("#step-fix")
        await expect(card).to_have_attribute("data-state", "awaiting_approval")
        await card.locator("button[value=approve]").click()
        await expect(viewer.locator("#flash .flash.error")).to_contain_text("respond")
        await shot(viewer, "incident-viewer-refused")
        assert (await stack.state(incident_id)).status is IncidentStatus.AWAITING_APPROVAL

        ctx, page = await signed_in(browser, stack, base, unique("bresp-"), (Role.RESPONDER,))
        await page.goto(f"/web/incidents/{incident_id}")
        await shot(page, "incident-waiting")
        await page.locator("#step-fix input[name=comment]").fill("go")
        await page.locator("#step-fix button[value=approve]").click()
        await expect(page.locator("#flash .flash.ok")).to_contain_text("Approved fix")
        # The live stream updates the card: it ran, with its output.
        await expect(page.locator("#step-fix")).to_have_attribute(
            "data-state", "succeeded", timeout=15000
        )
        await expect(page.locator("#step-fix pre.out")).to_contain_text("fixed-by-web")
        await expect(page.locator("#incident-status")).to_have_text("resolved", timeout=15000)
        await shot(page, "incident-approved")
        state = await stack.state(incident_id)
        assert state.steps[1].state is StepState.SUCCEEDED
        assert state.steps[1].approvals[0].channel == "web"
        # The viewer's page followed along live too.
        await expect(viewer.locator("#step-fix")).to_have_attribute("data-state", "succeeded")
        no_script_errors(page)
        no_script_errors(viewer, expected="403")
        await ctx.close()
        await viewer_ctx.close()


async def test_dashboard_charts_from_incident_history(client: Client, engine: AsyncEngine) -> None:
    async with (
        running_stack(client, engine, web_cookie_secure=False) as stack,
        serving(stack) as base,
        chromium() as browser,
    ):
        incident_id, _ = await waiting_incident(stack, "Dash")
        await stack.http.post(
            f"/api/incidents/{incident_id}/abort",
            json={"reason": "dashboard test"},
            headers=await stack.person(unique("dabort-")),
        )
        await assert_eventually(
            lambda: stack.state(incident_id), lambda s: s.status.is_closed, what="closed"
        )
        ctx, page = await signed_in(browser, stack, base, unique("bdash-"), (Role.VIEWER,))

        # The API read the history when it started (maybe before this incident): its cached
        # copy is refreshed in the background once older than 10 s, so the count follows.
        async def shown() -> int:
            await page.goto("/web/dashboard")
            await expect(page.locator("svg.chart")).to_have_count(7)
            return int(await page.locator("#kpi-incidents").inner_text())

        total = await assert_eventually(shown, lambda n: n >= 1, timeout=40, interval=2)
        assert total >= 1
        # The donut's segments come from the incidents: at least one is drawn.
        await expect(page.locator("svg.chart circle[stroke-dasharray]").first).to_be_visible()
        await shot(page, "dashboard")
        no_script_errors(page)
        await ctx.close()


async def test_login_through_openid_connect(client: Client, engine: AsyncEngine) -> None:
    async with running_provider() as provider:
        settings = {
            "web_cookie_secure": False,
            "web_oidc_issuer": provider.issuer,
            "web_oidc_client_id": provider.client_id,
            "web_oidc_client_secret": provider.client_secret,
            "web_oidc_name": "Test IdP",
        }
        async with (
            running_stack(client, engine, with_agent=False, **settings) as stack,
            serving(stack) as base,
            chromium() as browser,
        ):
            handle = unique("bsso-")
            from db.people import PeopleStore

            await PeopleStore(engine).add(
                PersonIn(handle=handle, email=f"{handle}@example.com", roles=[Role.RESPONDER])
            )
            provider.add_user("dana", f"{handle}@example.com")
            context = await browser.new_context(base_url=base)
            page = await context.new_page()
            await page.goto("/web/dashboard")
            await shot(page, "login")
            await page.click("#sso")
            await expect(page.locator("h1")).to_have_text("Test identity provider")
            await page.fill("#username", "dana")
            await page.click("#allow")
            await expect(page.locator("h1")).to_have_text("Operational health")
            await expect(page.locator(".who")).to_contain_text(handle)
            await expect(page.locator(".who")).to_contain_text("responder")
            assert provider.tokens_issued == 1
            await context.close()
