"""Fielded BM25 (BM25F) over runbook documents, with every per-document statistic precomputed.

Building once and scoring by inverted index keeps a match over a thousand runbooks to a few
hundred dictionary lookups, so text relevance is cheap enough to be the floor of every match.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

K1 = 1.2


@dataclass(frozen=True)
class FieldSpec:
    """How much one field of a document counts, and how strongly its length is normalised."""

    weight: float
    b: float = 0.75


class BM25Index:
    """Term → [(document number, saturated fielded term weight)], plus each term's idf."""

    def __init__(
        self, docs: Sequence[Mapping[str, Sequence[str]]], fields: Mapping[str, FieldSpec]
    ) -> None:
        self.size = len(docs)
        avg_len: dict[str, float] = {}
        for name in fields:
            total = sum(len(doc.get(name, ())) for doc in docs)
            avg_len[name] = (total / self.size) if self.size else 0.0
        df: Counter[str] = Counter()
        pseudo: dict[str, list[tuple[int, float]]] = {}
        for number, doc in enumerate(docs):
            weighted: dict[str, float] = {}
            for name, spec in fields.items():
                terms = doc.get(name, ())
                if not terms:
                    continue
                norm = 1.0 - spec.b + spec.b * (len(terms) / avg_len[name] if avg_len[name] else 1)
                for term, count in Counter(terms).items():
                    weighted[term] = weighted.get(term, 0.0) + spec.weight * count / norm
            for term, tf in weighted.items():
                df[term] += 1
                pseudo.setdefault(term, []).append((number, tf / (K1 + tf)))
        self.idf: dict[str, float] = {
            term: math.log(1.0 + (self.size - n + 0.5) / (n + 0.5)) for term, n in df.items()
        }
        self.postings: dict[str, tuple[tuple[int, float], ...]] = {
            term: tuple(rows) for term, rows in pseudo.items()
        }

    def score(
        self, query: Mapping[str, float], content: Mapping[str, float]
    ) -> tuple[dict[int, float], dict[int, float]]:
        """BM25F score of every document sharing a term with the weighted query, and for each
        such document the idf-weighted mass of the `content` terms it holds (for coverage)."""
        scores: dict[int, float] = {}
        mass: dict[int, float] = {}
        for term, weight in query.items():
            rows = self.postings.get(term)
            if rows is None:
                continue
            idf = self.idf[term]
            factor = idf * weight
            held = idf * content.get(term, 0.0)
            get = scores.get
            for number, saturated in rows:  # the hot loop: one lookup and one store per posting
                scores[number] = get(number, 0.0) + factor * saturated
            if held:
                held_get = mass.get
                for number, _ in rows:
                    mass[number] = held_get(number, 0.0) + held
        return scores, mass

    def query_mass(self, query: Mapping[str, float]) -> float:
        """Idf-weighted mass of a query; terms no runbook uses count as the rarest known term."""
        unseen = math.log(1.0 + (self.size + 0.5) / 0.5)
        return sum(self.idf.get(t, unseen) * w for t, w in query.items())
