"""The one error the runbook parser raises: input that holds no runbook at all."""

from __future__ import annotations


class RunbookParseError(ValueError):
    """Raised only for empty or whitespace-only input; anything else parses, with ambiguities."""
