"""The web app: server-rendered pages (Jinja2) made interactive with htmx, served by the API
process under /web. Assets are vendored in static/ (no CDN); see the README for why."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.deps import AppState
from api.web import (
    account,
    command,
    dashboard,
    editor,
    imports,
    incidents,
    library,
    login,
    mappings,
    oidc,
    parse,
    trust_mode,
)
from api.web.history import IncidentHistory, history_of_app
from api.web.render import HERE, flash, render, templates
from api.web.security import SecurityHeaders
from api.web.session import LoginRequired, PageForbidden, SignedIn

log = logging.getLogger(__name__)
router = APIRouter()
for module in (
    login,
    account,
    oidc,
    command,  # before incidents: its catch-all POST /web/incidents/{id}/{action} takes the rest
    incidents,
    parse,
    library,
    trust_mode,
    editor,
    imports,
    mappings,
    dashboard,
):
    router.include_router(module.router)


@router.get("/web", include_in_schema=False)
@router.get("/web/", include_in_schema=False)
async def home(_user: SignedIn) -> Response:
    return RedirectResponse("/web/incidents", status_code=303)


def warm(app: FastAPI) -> None:
    """Start reading the incident history (slow the first time) as the API starts, in the
    background, then compute the library and dashboard from it: the first pages after a
    restart wait for neither (they show 'loading history' until both are done). The templates
    are compiled here too."""
    for name in sorted(p.name for p in (HERE / "templates").glob("*.html")):
        templates.get_template(name)  # compiled now (~0.3 s), not by the first pages
    state = getattr(app.state, "ddrun", None)
    if isinstance(state, AppState):
        history = history_of_app(app, state)
        history.prefetch()
        history.warming = asyncio.create_task(_derive(app, state, history))


async def _derive(app: FastAPI, state: AppState, history: IncidentHistory) -> None:
    try:
        rows = await history.rows()
        await dashboard.health_of(app, state, rows, history.generation)
    except Exception:
        log.exception("warming the web app's incident history failed (pages will read it)")


async def stop(app: FastAPI) -> None:
    history = getattr(app.state, "web_history", None)
    if isinstance(history, IncidentHistory):
        await history.close()


def install(app: FastAPI) -> None:
    """Mount the pages, their static files, the security headers and the error pages."""
    app.include_router(router)
    app.mount("/web/static", StaticFiles(directory=HERE / "static"), name="web-static")
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, err: LoginRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": err.next_url})
        if request.method != "GET":
            return Response("sign in first", status_code=401)
        return RedirectResponse(err.next_url, status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, err: PageForbidden) -> Response:
        if request.headers.get("hx-request"):
            return flash(request, err.message, "error", 403)
        return render(request, "error.html", None, 403, message=err.message)
