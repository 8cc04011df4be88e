"""Block Kit building blocks that respect Slack's limits, and the rendered message they make.

Kept apart from what the incident messages say (blocks.py) so the limits live in one place:
50 blocks a message, 3000 characters a section, 2000 a field, 10 fields, 10 context elements,
150 a header, 75 a button label, 2000 a button value (checked by `ActionValue.encode`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.slack.actions import Action, ActionValue
from domain.slack.mrkdwn import (
    BUTTON_TEXT_MAX,
    CONFIRM_TEXT_MAX,
    CONFIRM_TITLE_MAX,
    CONTEXT_TEXT_MAX,
    FALLBACK_TEXT_MAX,
    FIELD_TEXT_MAX,
    HEADER_TEXT_MAX,
    MAX_BLOCKS,
    MESSAGE_TEXT_MAX,
    SECTION_TEXT_MAX,
    clip,
)

Block = dict[str, Any]
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTION_ELEMENTS = 25


@dataclass(frozen=True)
class Rendered:
    """One Slack message as we want it to look: fallback `text` plus `blocks` (may be empty)."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def digest(self) -> str:
        """Same content, same digest: an unchanged message costs no Slack call."""
        canonical = json.dumps(
            {"text": self.text, "blocks": self.blocks},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_TEXT_MAX)}


def section(text: str, *, block_id: str | None = None, fields: Sequence[str] = ()) -> Block:
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT_MAX)},
    }
    if fields:
        block["fields"] = [
            {"type": "mrkdwn", "text": clip(f, FIELD_TEXT_MAX)} for f in fields[:MAX_FIELDS]
        ]
    if block_id:
        block["block_id"] = block_id
    return block


def context(texts: Iterable[str], *, block_id: str | None = None) -> Block | None:
    elements = [{"type": "mrkdwn", "text": clip(t, CONTEXT_TEXT_MAX)} for t in texts if t][
        :MAX_CONTEXT_ELEMENTS
    ]
    if not elements:
        return None
    block: Block = {"type": "context", "elements": elements}
    if block_id:
        block["block_id"] = block_id
    return block


def confirm(title: str, text: str, ok: str, deny: str = "Cancel") -> dict[str, Any]:
    return {
        "title": plain(title, CONFIRM_TITLE_MAX),
        "text": {"type": "mrkdwn", "text": clip(text, CONFIRM_TEXT_MAX)},
        "confirm": plain(ok, 30),
        "deny": plain(deny, 30),
        "style": "danger",
    }


def button(
    label: str,
    action: Action,
    value: ActionValue,
    *,
    style: str | None = None,
    ask: dict[str, Any] | None = None,
) -> Block:
    """A button whose value names the incident, step and card it was drawn for."""
    element: Block = {
        "type": "button",
        "action_id": action.value,
        "text": plain(label, BUTTON_TEXT_MAX),
        "value": value.encode(),
    }
    if style:
        element["style"] = style
    if ask:
        element["confirm"] = ask
    return element


def actions(buttons: Sequence[Block], *, block_id: str) -> Block | None:
    if not buttons:
        return None
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": list(buttons)[:MAX_ACTION_ELEMENTS],
    }


def line_sections(title: str, lines: Sequence[str], *, block_id: str) -> list[Block]:
    """A titled list split over as many sections as its length needs (each ≤ 3000 chars);
    nothing at all when the list is empty."""
    blocks: list[Block] = []
    if not lines:
        return blocks
    current = title
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_TEXT_MAX and current:
            blocks.append(section(current, block_id=f"{block_id}-{len(blocks)}"))
            current = line
        else:
            current = candidate
    if current:
        blocks.append(section(current, block_id=f"{block_id}-{len(blocks)}"))
    return blocks


def message(text: str, blocks: Iterable[Block | None]) -> Rendered:
    """Drop empty blocks and keep within 50; a cut message says so in its last block."""
    kept = [b for b in blocks if b is not None]
    if len(kept) > MAX_BLOCKS:
        hidden = len(kept) - (MAX_BLOCKS - 1)
        note = context([f"_{hidden} more blocks not shown (Slack's limit); see `ddrun`_"])
        kept = [*kept[: MAX_BLOCKS - 1], *([note] if note else [])]
    return Rendered(text=clip(text, min(FALLBACK_TEXT_MAX, MESSAGE_TEXT_MAX)), blocks=kept)
