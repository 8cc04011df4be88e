"""How a runbook's text and name relevance become a score and a calibrated confidence.

Text score: relative BM25F, plus how much of the runbook's name the alert says, scaled down
when the name says things the alert does not (a runbook about Alertmanager is a poor answer for
a page that never mentions it, however well its body matches). Collection markers: terms typical
of one runbook collection (a platform's CLI) that count against it when the alert never says them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from domain.alerts.bm25 import FieldSpec

DEFAULT_THRESHOLD = 0.74  # calibrated: answer when right about three times in four or better
# (at the last fit, on all four tuning sets, the lowest threshold with at most 5% false matches
# on every set's negatives: near-miss negatives under a team's own alert name reach 0.73)
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
    "rules": FieldSpec(weight=2.0, b=0.5),  # imported alert rules' summaries and metrics
}
W_TEXT = 0.4
W_NAME = 0.3
NAME_GATE = 0.5
_MARKER_MIN_DOCS = 10
_MARKER_INSIDE = 0.3
_MARKER_OUTSIDE = 0.05
MARKER_PENALTY = 0.06
MARKER_PENALTY_CAP = 0.3
CLOSE_MARGIN = 0.1  # runners-up within 10% of the best score make it a close call
SAID_FULL = 30.0  # idf mass of what an alert says at which it counts as saying enough
# Fitted by bench/match_calibrate.py (see text_confidence).
CALIBRATION: dict[str, float] = {
    "bias": -4.937,
    "coverage": 2.643,
    "name_cover": 4.17,
    "lead": 1.797,
    "foreign": -2.418,
    "said": 1.328,
    "kubernetes_unsaid": -1.32,
    "identifier": -1.144,
    "identifier_family": -2.669,
    "url_elsewhere": -0.5,  # no tuning alert carries one: a prior, not fitted
    "other_resource": -1.0,  # no tuning alert's best match has it: a prior, not fitted
}
FAMILY_MIN_RUNBOOKS = 3  # runbooks whose names start with one word make a naming scheme
FOREIGN_COMPONENT = 0.6  # the alert names software the runbook is not about
OTHER_RESOURCE = 0.6  # the runbook's name is about another resource than the alert's


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


def text_confidence(evidence: dict[str, float]) -> float:
    """P(the best text match is the right runbook): a logistic model of the evidence, fitted by
    bench/match_calibrate.py on the tuning sets (never the held-out set), so that a 0.9 is
    right about nine times in ten. Negatives (no runbook exists) count as wrong answers."""
    z = CALIBRATION["bias"] + sum(CALIBRATION.get(k, 0.0) * v for k, v in evidence.items())
    return 1.0 / (1.0 + math.exp(-z))
