"""Words run together that the runbooks write apart: `textfile`, `nodeexporter`, `diskpressure`.

An alert's word that no runbook uses, but that is two words runbook *names* are made of, is
read as those two words ("textfile collector" meets NodeTextFileCollectorScrapeError). Only the
corpus's own terms decide, so no list of compounds is written by hand; requiring name words
keeps suffixes and chance pairs out (scrape+able, dead+line).
"""

from __future__ import annotations

from collections.abc import Container, Mapping

from domain.alerts.text import tokens

MIN_PART = 3  # both halves at least this long: `ab`+`cdef` splits are noise
MIN_WORD = 2 * MIN_PART


def split_unknown(
    terms: Mapping[str, float], known: Container[str], names: Container[str]
) -> dict[str, float]:
    """`terms` with each term unknown to the corpus (`known`) that splits into two words of
    runbook names (`names`) replaced by their terms, at its weight (the first split from the
    left that works)."""
    out: dict[str, float] = {}
    for term, weight in terms.items():
        parts = _parts(term, names) if term not in known else None
        for part in parts or (term,):
            out[part] = max(out.get(part, 0.0), weight)
    return out


def _parts(term: str, known: Container[str]) -> tuple[str, ...] | None:
    if len(term) < MIN_WORD or not term.isalpha():
        return None
    for cut in range(MIN_PART, len(term) - MIN_PART + 1):
        left, right = tokens(term[:cut]), tokens(term[cut:])
        if left and right and all(t in known for t in (*left, *right)):
            return tuple(dict.fromkeys((*left, *right)))
    return None
