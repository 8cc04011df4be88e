"""How a runbook's text and name relevance become a score and a calibrated confidence.

Text score: relative BM25F, plus how much of the runbook's name the alert says, scaled down
when the name says things the alert does not (a runbook about Alertmanager is a poor answer for
a page that never mentions it, however well its body matches). Collection markers: terms typical
of one runbook collection (a platform's CLI) that count against it when the alert never says them.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.alerts.bm25 import FieldSpec

DEFAULT_THRESHOLD = 0.45
TOP_CANDIDATES = 5
SHORTLIST = 16  # rows scored in full; the rest only ranked

CONF_MAPPING = 1.0
CONF_SELECTOR = 1.0
CONF_URL = 0.99
CONF_NAME = 0.95
CONF_NAME_SHARED = 0.9
CONF_NAME_URL_ELSEWHERE = 0.75

FIELDS = {
    "name": FieldSpec(weight=5.0, b=0.3),
    "meta": FieldSpec(weight=3.0, b=0.3),
    "folder": FieldSpec(weight=2.0, b=0.0),
    "headings": FieldSpec(weight=1.5, b=0.5),
    "body": FieldSpec(weight=1.0, b=0.75),
}
W_TEXT = 0.4
W_NAME = 0.3
NAME_GATE = 0.5
_MARKER_MIN_DOCS = 10
_MARKER_INSIDE = 0.3
_MARKER_OUTSIDE = 0.05
MARKER_PENALTY = 0.06
MARKER_PENALTY_CAP = 0.3
IDENTIFIER_WITHOUT_NAMESAKE = 0.5
FOREIGN_COMPONENT = 0.6  # the alert names software the runbook is not about
URL_ELSEWHERE = 0.8  # the source names a runbook that is not loaded: inference is a guess


def collection_markers(
    collections: Sequence[str], term_sets: Sequence[frozenset[str]]
) -> dict[str, frozenset[str]]:
    """Terms typical of one collection and rare elsewhere (e.g. a platform's CLI and name).

    A runbook full of another platform's vocabulary is a worse answer for an alert that never
    mentions that platform; these terms let the scorer notice, without any list written by hand.
    """
    members: dict[str, list[frozenset[str]]] = {}
    for collection, terms in zip(collections, term_sets, strict=True):
        members.setdefault(collection, []).append(terms)
    out: dict[str, frozenset[str]] = {}
    if len(members) < 2:
        return out
    total: dict[str, int] = {}
    for terms in term_sets:
        for term in terms:
            total[term] = total.get(term, 0) + 1
    for collection, sets in members.items():
        size, rest = len(sets), len(term_sets) - len(sets)
        if size < _MARKER_MIN_DOCS or rest < _MARKER_MIN_DOCS:
            continue
        inside: dict[str, int] = {}
        for terms in sets:
            for term in terms:
                inside[term] = inside.get(term, 0) + 1
        out[collection] = frozenset(
            term
            for term, n in inside.items()
            if n / size >= _MARKER_INSIDE and (total[term] - n) / rest <= _MARKER_OUTSIDE
        )
    return out


def text_confidence(coverage: float, name_cover: float, margin: float) -> float:
    """Sure when the runbook covers what the alert says, its name is said, and it stands out."""
    return 0.45 * coverage + 0.35 * name_cover + 0.2 * min(1.0, 2 * margin)
