"""Templates: Jinja2 with autoescaping; every page gets the person, the CSRF token and the nav."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.web.session import WebUser
from schemas.identity import Scope

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")

NAV = (
    ("incidents", "/web/incidents", "Incidents"),
    ("parse", "/web/parse", "Paste & parse"),
    ("library", "/web/runbooks", "Library"),
    ("mappings", "/web/mappings", "Alert mappings"),
    ("dashboard", "/web/dashboard", "Health"),
)


def ago(value: datetime | None) -> str:
    """'3 min ago': how long since, in the unit a person reads at a glance."""
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = int((datetime.now(UTC) - value).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{seconds // size} {unit} ago"
    return f"{max(seconds, 0)} s ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def when(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


templates.env.filters["ago"] = ago
templates.env.filters["duration"] = duration
templates.env.filters["when"] = when
templates.env.globals["Scope"] = Scope
templates.env.globals["NAV"] = NAV


def render(
    request: Request,
    name: str,
    user: WebUser | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {"user": user, "csrf": user.csrf if user else "", **context},
        status_code=status_code,
    )


def flash(request: Request, message: str, kind: str = "ok", status_code: int = 200) -> HTMLResponse:
    """The short answer to an action, shown in the page's #flash box."""
    return templates.TemplateResponse(
        request,
        "_flash.html",
        {"message": message, "kind": kind},
        status_code=status_code,
    )


def svg(markup: str) -> Markup:
    """Chart markup built by api/web/charts.py from escaped parts."""
    return Markup(markup)  # noqa: S704 - every text inside was escaped where it was built


def loading(request: Request, user: WebUser, nav: str, url: str) -> HTMLResponse:
    """The page while the first incident-history read is under way: it asks again every second
    and swaps itself for the real page once the history is there."""
    return render(request, "loading.html", user, nav=nav, poll_url=url)
