"""The incident's Slack messages, rendered from its `IncidentState` alone: the one import for
callers (the sync activity through plan.py, the interactions endpoint for its replies).

Pure and deterministic (same state, same bytes), so the sync can compare a digest with what it
sent last and skip unchanged messages. The header is in header.py, step cards and their output
threads in cards.py, timeline posts and the summary in posts.py, the buttons in buttons.py.
"""

from __future__ import annotations

from domain.slack.buttons import NO_BUTTONS, control_buttons, step_value
from domain.slack.cards import (
    CARD_OUTPUT_CHARS,
    combined_output,
    needs_thread,
    output_thread,
    reached,
    step_card,
)
from domain.slack.header import header_message
from domain.slack.kit import Block, Rendered
from domain.slack.labels import channel_subject, is_open, status_words, topic
from domain.slack.posts import event_label, event_post, summary_message

__all__ = [
    "CARD_OUTPUT_CHARS",
    "NO_BUTTONS",
    "Block",
    "Rendered",
    "channel_subject",
    "combined_output",
    "control_buttons",
    "event_label",
    "event_post",
    "header_message",
    "is_open",
    "needs_thread",
    "output_thread",
    "reached",
    "status_words",
    "step_card",
    "step_value",
    "summary_message",
    "topic",
]
