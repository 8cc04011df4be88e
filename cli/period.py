"""The `--since` / `--until` of a period export: a date, a date and time, or a span back from now.

A README example with fixed dates exports nothing once those dates are past; "the last 7 days"
(`--since 7d`, `--until` defaulting to now) selects what a person just did, whenever they read it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import typer

_SPAN = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def moment(text: str, now: datetime, option: str) -> datetime:
    """`2026-07-01`, `2026-07-01T12:00` (UTC unless it says otherwise), or `90m`/`24h`/`7d`/`2w`
    before `now`; anything else is a usage error naming the option."""
    span = _SPAN.match(text.strip())
    if span:
        return now - timedelta(**{_UNITS[span.group(2)]: int(span.group(1))})
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: give an ISO date or time (2026-07-01, 2026-07-01T12:00) or a span back "
            "from now (90m, 24h, 7d, 2w)",
            param_hint=option,
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def period(since: str, until: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[since, until) in UTC; `until` defaults to now (every incident started so far)."""
    now = now or datetime.now(UTC)
    start = moment(since, now, "--since")
    end = moment(until, now, "--until") if until else now
    if end <= start:
        raise typer.BadParameter(
            f"ends ({end:%Y-%m-%d %H:%M}) before it starts", param_hint="--until"
        )
    return start, end
