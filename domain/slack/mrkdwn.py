"""Text for Slack's mrkdwn: escaping, clipping within Slack's limits, code blocks, mentions, times.

Every string that came from outside (alert text, commands, output, names) goes through `escape`,
because Slack reads `<...>` as links and mentions and `&` as an entity; clipping happens after
escaping, never in the middle of an entity, so a limit is a limit on what Slack receives.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

SECTION_TEXT_MAX = 3000  # section `text`
FIELD_TEXT_MAX = 2000  # each of a section's `fields`
CONTEXT_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150  # header block plain_text
BUTTON_TEXT_MAX = 75
CONFIRM_TITLE_MAX = 100
CONFIRM_TEXT_MAX = 300
MAX_BLOCKS = 50
MESSAGE_TEXT_MAX = 40_000  # Slack truncates a message's `text` beyond this
FALLBACK_TEXT_MAX = 3000  # our notification text: short on purpose

ELLIPSIS = "…"
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{6,}$")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")


def escape(text: str) -> str:
    """Slack's three control characters; everything else is shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending with `…` when cut, never inside an `&…;` entity."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)]
    cut = _ENTITY_TAIL.sub("", cut)
    return cut + ELLIPSIS


def clip_head(text: str, limit: int) -> str:
    """Keep the end of `text` (the useful part of command output), marking the cut at the start."""
    if len(text) <= limit:
        return text
    cut = text[len(text) - max(limit - len(ELLIPSIS), 0) :]
    semicolon = cut.find(";")
    if 0 <= semicolon < 5 and "&" not in cut[:semicolon]:
        cut = cut[semicolon + 1 :]  # the cut fell inside an entity: drop its remainder
    return ELLIPSIS + cut


def fence(text: str, limit: int, *, keep: str = "head") -> str:
    """A ``` code block of escaped `text` whose whole length (fences included) is ≤ `limit`.

    `keep="tail"` keeps the end (output), `"head"` the start (commands)."""
    body = escape(text.rstrip("\n")).replace("```", "`\u200b``") or " "
    room = max(limit - 6, 1)
    body = clip(body, room) if keep == "head" else clip_head(body, room)
    return f"```{body}```"


def is_slack_user(identity: str) -> bool:
    return _SLACK_USER.match(identity) is not None


def person(identity: str | None, name: str | None = None) -> str:
    """A Slack user id becomes a mention; any other identity (CLI, API) is shown as text."""
    if not identity:
        return "someone"
    shown = f"<@{identity}>" if is_slack_user(identity) else f"*{escape(identity)}*"
    if name and name != identity and not is_slack_user(name):
        shown += f" ({escape(name)})"
    return shown


def when(moment: datetime) -> str:
    """A time each reader sees in their own zone, with a UTC fallback for old clients."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"<!date^{int(utc.timestamp())}^{{time}}|{utc:%H:%M} UTC>"


def when_plain(moment: datetime) -> str:
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{utc:%Y-%m-%d %H:%M} UTC"


def duration(span: timedelta) -> str:
    """`1h 02m 03s`, `4m 05s`, `12s`: how long, for people."""
    seconds = max(int(span.total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def words(value: str) -> str:
    """`awaiting_approval` → `awaiting approval`."""
    return value.replace("_", " ")
