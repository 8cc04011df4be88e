"""Which messages an incident's channel should hold right now, each under a stable key.

The sync activity posts or updates exactly these, in this order: the header (pinned), a card per
step reached with its full output in the card's thread when the card shows only the tail, a post
per notable timeline entry (keyed by its position: the timeline only grows), and the summary
once the incident is closed. Keys are what the store remembers a message by.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from domain.slack import cards, posts
from domain.slack.header import header_message
from domain.slack.kit import Rendered
from schemas.incident import IncidentState, timeline_position

HEADER = "header"
SUMMARY = "summary"
MAX_KEY = 200  # the store's column


def step_key(kind: str, step_id: str) -> str:
    """`step:<id>` / `thread:<id>`; a very long id is replaced by its digest to fit the store."""
    key = f"{kind}:{step_id}"
    if len(key) <= MAX_KEY:
        return key
    return f"{kind}:#{hashlib.sha256(step_id.encode()).hexdigest()}"


@dataclass(frozen=True)
class PlannedMessage:
    key: str
    rendered: Rendered
    thread_of: str | None = None  # key of the message whose thread this goes in
    pin: bool = False


def messages_for(state: IncidentState) -> list[PlannedMessage]:
    out = [PlannedMessage(HEADER, header_message(state), pin=True)]
    for step in cards.reached(state):
        card = step_key("step", step.id)
        out.append(PlannedMessage(card, cards.step_card(state, step)))
        if cards.needs_thread(step):
            out.append(
                PlannedMessage(
                    step_key("thread", step.id), cards.output_thread(step), thread_of=card
                )
            )
    for n, entry in enumerate(state.timeline):
        post = posts.event_post(state, entry)
        if post is not None:
            key = timeline_position(n, state.timeline_omitted)  # stable when entries are dropped
            out.append(PlannedMessage(f"event:{key}", post))
    if state.status.is_closed:
        out.append(PlannedMessage(SUMMARY, posts.summary_message(state)))
    return out
