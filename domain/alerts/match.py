"""Alert → runbook with a confidence: the matcher's public names, gathered in one place.

The parts live in modules named for what they hold: documents (what a runbook offers the
matcher), explicit (mappings, selectors, runbook URLs), query (the alert as weighted terms),
scoring (weights, markers, confidence) and index (RunbookIndex, which runs a match).
"""

from __future__ import annotations

from domain.alerts.documents import RunbookDocument, document_from_markdown, document_from_runbook
from domain.alerts.explicit import Mapping, selector_text
from domain.alerts.index import Candidate, MatchResult, RunbookIndex
from domain.alerts.scoring import DEFAULT_THRESHOLD, TOP_CANDIDATES

__all__ = [
    "DEFAULT_THRESHOLD",
    "TOP_CANDIDATES",
    "Candidate",
    "Mapping",
    "MatchResult",
    "RunbookDocument",
    "RunbookIndex",
    "document_from_markdown",
    "document_from_runbook",
    "selector_text",
]
