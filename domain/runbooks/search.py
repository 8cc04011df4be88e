"""Runbook search for people (`/ddrun runbook search TEXT`): BM25F over title, headings and body.

It reads runbooks the way the alert matcher does (`document_from_runbook`, the same tokens and
index) but weighs only what a person searches by: no alert fields, selectors or calibration.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.alerts.bm25 import BM25Index, FieldSpec
from domain.alerts.match import document_from_runbook
from domain.alerts.text import tokens
from schemas.runbook import Runbook

MAX_HITS = 5
_FIELDS = {
    "title": FieldSpec(weight=3.0, b=0.3),
    "headings": FieldSpec(weight=1.5, b=0.5),
    "body": FieldSpec(weight=1.0, b=0.75),
}


class NothingToSearchError(ValueError):
    """The search text holds no word worth looking for."""


def search_terms(text: str) -> list[str]:
    """The words of `text` that will be looked for, each once; refused when there are none."""
    terms = list(dict.fromkeys(tokens(text)))
    if not terms:
        raise NothingToSearchError(f"no words to look for in {text!r}")
    return terms


def search_runbooks(
    runbooks: Sequence[Runbook], terms: Sequence[str], limit: int = MAX_HITS
) -> list[Runbook]:
    """The `limit` runbooks that best match the terms, best first (ties by id); a runbook
    sharing none of them is never listed."""
    query = dict.fromkeys(terms, 1.0)
    docs = [document_from_runbook(rb.id, rb) for rb in runbooks]
    index = BM25Index(
        [
            {
                "title": tokens(f"{d.key} {d.title}"),
                "headings": [t for h in d.headings for t in tokens(h)],
                "body": tokens(d.body),
            }
            for d in docs
        ],
        _FIELDS,
    )
    scores, _ = index.score(query, query)
    best = sorted(scores.items(), key=lambda hit: (-hit[1], runbooks[hit[0]].id))[:limit]
    return [runbooks[number] for number, _score in best]
