"""All runbooks prepared once (names, URL tails, selectors, BM25 statistics); `match` is cheap.

Order of a match: explicit mappings, then selectors, then runbook_url, then a scored match
(alert name ↔ runbook name, BM25F over title/headings/body/selectors), calibrated so that a
weak best guess becomes "no runbook matched".
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from pydantic import BaseModel, Field

from domain.alerts.bm25 import BM25Index
from domain.alerts.compounds import split_unknown
from domain.alerts.documents import RunbookDocument, collection_of, folder_of, stem_of
from domain.alerts.explicit import (
    Mapping,
    describe,
    flat_name,
    key_tail,
    runbook_urls,
    slug,
    slug_suffixes,
    url_tail,
)
from domain.alerts.query import (
    COMPONENT_TERMS,
    QUERY_WEIGHT_CAP,
    TITLE_WEIGHT,
    WORKLOAD_TERMS,
    alert_query,
    is_mentioned,
    platforms_of,
)
from domain.alerts.scoring import (
    CLOSE_MARGIN,
    CONF_MAPPING,
    CONF_NAME,
    CONF_NAME_SHARED,
    CONF_NAME_URL_ELSEWHERE,
    CONF_SELECTOR,
    CONF_URL,
    DEFAULT_THRESHOLD,
    FAMILY_MIN_RUNBOOKS,
    FIELDS,
    FOREIGN_COMPONENT,
    MARKER_PENALTY,
    MARKER_PENALTY_CAP,
    NAME_GATE,
    OTHER_RESOURCE,
    SAID_FULL,
    SHORTLIST,
    TOP_CANDIDATES,
    W_NAME,
    W_TEXT,
    collection_markers,
    text_confidence,
)
from domain.alerts.selectors import selector_matches, specificity
from domain.alerts.text import (
    looks_like_identifier,
    name_concepts,
    name_tokens,
    split_words,
    tokens,
)
from domain.alerts.vocabulary import PART_OF, RESOURCES
from schemas.alert import Alert
from schemas.incident import MatchCandidate
from schemas.runbook import AlertSelector

Candidate = MatchCandidate  # one runbook considered, its score and why: the incident's own type


class MatchResult(BaseModel):
    """The chosen runbook key (None: no runbook matched), how sure, and the runners-up."""

    runbook: str | None
    confidence: float = Field(ge=0.0, le=1.0)
    method: str = Field(description="mapping, selector, runbook_url, name, text or none")
    reason: str
    candidates: list[Candidate] = Field(default_factory=list)
    close: list[Candidate] = Field(
        default_factory=list,
        description="Other runbooks scored nearly as high as the best (each with its score, "
        "evidence and reasons): a close call, not a pick",
    )
    evidence: dict[str, float] = Field(
        default_factory=dict, description="What the text confidence was computed from"
    )


_CHUNK = 16  # runbooks scored in full between two checks of the shortlist's bound


@dataclass(frozen=True)
class _Doc:
    document: RunbookDocument
    flat_names: frozenset[str]
    name_terms: frozenset[tuple[str, ...]]
    name_idf_terms: tuple[str, ...]
    markers: tuple[str, ...]
    name_idf: tuple[tuple[str, float], ...] = ()
    name_idf_total: float = 0.0
    about: frozenset[str] = frozenset()  # components its name, folder or selectors name
    resources: frozenset[str] = frozenset()  # kinds of resource its name is about


@dataclass(frozen=True)
class _Row:
    exact: bool
    combined: float
    key: str
    number: int
    coverage: float
    name_cover: float
    foreign: bool = False  # the alert names software this runbook is not about
    other_resource: bool = False  # its name is about another resource than the alert's


def components_in(flat_names: Iterable[str]) -> frozenset[str]:
    """Software a runbook's name spells inside one CamelCase word (NooBaa, CoreDNS are split
    apart as words, `noobaasystemcapacitywarning95` still says noobaa)."""
    return frozenset(
        c for c in COMPONENT_TERMS if len(c) >= 4 and any(c in flat for flat in flat_names)
    )


def family_of(name: str) -> str:
    """The first word of a machine name, as written: `Kube` of KubePodCrashLooping."""
    words = split_words(name)
    return words[0] if words else ""


def naming_families(names: Iterable[str]) -> frozenset[str]:
    """First words that several runbooks' machine names share (Kube, Node, Prometheus ...).

    Alert rule sets name their alerts in such a scheme, and the runbooks written for them
    follow it. An alert named in one of these schemes that no runbook carries is most likely
    that rule set's alert whose runbook is missing (a neighbour's is a guess); a machine name
    in no runbook's scheme (CheckoutPodsFlapping, PromNoAlertmanagers) is more likely a team's
    own name for a common alert, which says nothing about whether its runbook exists.
    """
    counts: dict[str, int] = {}
    for name in names:
        if looks_like_identifier(name):
            first = family_of(name)
            counts[first] = counts.get(first, 0) + 1
    return frozenset(f for f, n in counts.items() if f and n >= FAMILY_MIN_RUNBOOKS)


class RunbookIndex:
    """All runbooks prepared once (names, URL tails, BM25 statistics); `match` is then cheap."""

    def __init__(self, documents: Sequence[RunbookDocument]) -> None:
        keys = [d.key for d in documents]
        if len(set(keys)) != len(keys):
            raise ValueError("runbook document keys must be unique")
        self._docs: list[_Doc] = []
        self._by_key: dict[str, int] = {}
        self._by_flat: dict[str, list[int]] = {}
        self._by_terms: dict[tuple[str, ...], list[int]] = {}
        self._by_tail: dict[tuple[str, str], list[int]] = {}
        self._by_slug: dict[str, list[int]] = {}
        self._selectors_by_name: dict[str, list[tuple[int, AlertSelector]]] = {}
        self._selectors_any: list[tuple[int, AlertSelector]] = []
        fields: list[dict[str, list[str]]] = []
        prepared: list[
            tuple[RunbookDocument, frozenset[str], frozenset[tuple[str, ...]], tuple[str, ...]]
        ] = []
        for doc in documents:
            # A file's name is a name; a database id is only the path it was imported from.
            names = {stem_of(doc.key), doc.title} if "/" in doc.key else {doc.title}
            flat = frozenset(flat_name(n) for n in names if flat_name(n))
            terms = frozenset(t for t in (name_tokens(n) for n in names) if t)
            name_field: list[str] = sorted(flat)
            for term_tuple in sorted(terms):
                name_field.extend(term_tuple)
            meta: list[str] = []
            for service in doc.services:
                meta.extend(tokens(service))
            for selector in doc.selectors:
                meta.extend(tokens(selector.alertname or ""))
                meta.extend(tokens(selector.service or ""))
                for value in selector.labels.values():
                    meta.extend(tokens(value.lstrip("~")))
            fields.append(
                {
                    "name": name_field,
                    "meta": meta,
                    "folder": tokens(folder_of(doc.key)),
                    "headings": [t for h in doc.headings for t in tokens(h)],
                    "body": tokens(doc.body),
                    "rules": tokens(doc.rules),
                }
            )
            concepts = tuple(dict.fromkeys(t for n in sorted(names) for t in name_concepts(n)))
            prepared.append((doc, flat, terms, concepts))
        term_sets = [frozenset(t for f in doc_fields.values() for t in f) for doc_fields in fields]
        collections = [collection_of(doc.key) for doc in documents]
        markers = collection_markers(collections, term_sets)
        for number, (doc, flat, terms, concepts) in enumerate(prepared):
            own = markers.get(collections[number], frozenset())
            self._docs.append(
                _Doc(
                    doc,
                    flat,
                    terms,
                    concepts,
                    tuple(sorted(own & term_sets[number])),
                    about=(
                        COMPONENT_TERMS
                        & frozenset(
                            t for f in ("name", "folder", "meta") for t in fields[number][f]
                        )
                    )
                    | components_in(flat)
                    | frozenset(
                        part
                        for part, platform in PART_OF.items()
                        if any(platform in name_terms for name_terms in terms)
                    ),
                    resources=RESOURCES & frozenset(concepts),
                )
            )
            self._by_key[doc.key] = number
            for name in flat:
                self._by_flat.setdefault(name, []).append(number)
            for term_tuple in terms:
                self._by_terms.setdefault(term_tuple, []).append(number)
            tail = key_tail(doc.key)
            if tail is not None:
                self._by_tail.setdefault(tail, []).append(number)
            for suffix in slug_suffixes(doc.key):
                self._by_slug.setdefault(suffix, []).append(number)
            for selector in doc.selectors:
                if selector.alertname is None:
                    self._selectors_any.append((number, selector))
                else:
                    self._selectors_by_name.setdefault(selector.alertname, []).append(
                        (number, selector)
                    )
        self._bm25 = BM25Index(fields, FIELDS)
        self._families = naming_families(
            stem_of(doc.key) if "/" in doc.key else doc.title for doc in documents
        )
        self._name_postings: dict[str, list[tuple[int, float]]] = {}
        self._markers = frozenset(m for d in self._docs for m in d.markers)
        for number, doc_entry in enumerate(self._docs):
            pairs = tuple((t, self._bm25.idf.get(t, 0.0)) for t in doc_entry.name_idf_terms)
            self._docs[number] = replace(
                doc_entry, name_idf=pairs, name_idf_total=sum(v for _, v in pairs)
            )
            for term, term_idf in pairs:
                self._name_postings.setdefault(term, []).append((number, term_idf))

    @classmethod
    def build(cls, documents: Iterable[RunbookDocument]) -> RunbookIndex:
        return cls(list(documents))

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def keys(self) -> list[str]:
        return [d.document.key for d in self._docs]

    # -- explicit choices -------------------------------------------------------------------

    def _by_mapping(self, alert: Alert, mappings: Sequence[Mapping]) -> MatchResult | None:
        best: tuple[int, int, Mapping] | None = None
        for order, mapping in enumerate(mappings):
            if mapping.runbook not in self._by_key or not selector_matches(mapping.selector, alert):
                continue
            rank = (-specificity(mapping.selector), order)
            if best is None or rank < (best[0], best[1]):
                best = (rank[0], rank[1], mapping)
        if best is None:
            return None
        mapping = best[2]
        reason = f"explicit mapping {describe(mapping.selector)} -> {mapping.runbook}"
        return MatchResult(
            runbook=mapping.runbook,
            confidence=CONF_MAPPING,
            method="mapping",
            reason=reason,
            candidates=[Candidate(runbook=mapping.runbook, score=1.0, reasons=[reason])],
        )

    def _by_selector(self, alert: Alert, urls: list[str]) -> MatchResult | None:
        """The runbook whose matching selector is most specific.

        When selectors of several runbooks fit equally well (two teams claimed the same alert,
        or parsed runbooks for the same alert name), the selectors alone cannot decide: the
        alert's runbook_url, then text relevance, choose among those runbooks only.
        """
        best: dict[int, AlertSelector] = {}
        top = -1
        named = self._selectors_by_name.get(alert.name, [])
        for number, selector in (*named, *self._selectors_any):
            if not selector_matches(selector, alert):
                continue
            rank = specificity(selector)
            if rank > top:
                top, best = rank, {}
            if rank == top:
                best.setdefault(number, selector)
        if not best:
            return None
        if len(best) == 1:
            number, selector = next(iter(best.items()))
            key = self._docs[number].document.key
            reason = f"selector {describe(selector)} of runbook {key}"
            return MatchResult(
                runbook=key,
                confidence=CONF_SELECTOR,
                method="selector",
                reason=reason,
                candidates=[Candidate(runbook=key, score=1.0, reasons=[reason])],
            )
        tied = frozenset(best)
        keys = sorted(self._docs[n].document.key for n in tied)
        why = f"selectors of {len(keys)} runbooks fit equally ({', '.join(keys[:4])})"
        resolved = self._by_url(urls, within=tied)
        if resolved is not None:
            return resolved.model_copy(
                update={"method": "selector", "reason": f"{why}; {resolved.reason}"}
            )
        scored = self._scored(alert, urls, 0.0, within=tied)
        chosen = scored.runbook or keys[0]
        return MatchResult(
            runbook=chosen,
            confidence=CONF_NAME_SHARED,
            method="selector",
            reason=f"{why}; chose {chosen} by text relevance",
            candidates=scored.candidates,
        )

    def _by_url(self, urls: list[str], within: frozenset[int] | None = None) -> MatchResult | None:
        for url in urls:
            tail = url_tail(url)
            if tail is None:
                continue
            found = {*self._by_tail.get(tail, ()), *self._by_slug.get(slug("-".join(tail)), ())}
            if within is not None:
                found &= within
            if found:
                keys = sorted(self._docs[n].document.key for n in found)
                reason = f"runbook_url {url} resolves to {keys[0]}"
                confidence = CONF_URL if len(keys) == 1 else CONF_NAME_SHARED
                return MatchResult(
                    runbook=keys[0],
                    confidence=confidence,
                    method="runbook_url",
                    reason=reason,
                    candidates=[
                        Candidate(runbook=k, score=confidence, reasons=[reason]) for k in keys
                    ],
                )
        return None

    # -- inference ----------------------------------------------------------------------------

    def _name_hits(self, alert: Alert) -> set[int]:
        hits: set[int] = set()
        for name in {alert.name, alert.labels.get("alertname", "")}:
            if not name:
                continue
            hits.update(self._by_flat.get(flat_name(name), ()))
            terms = name_tokens(name)
            if terms:
                hits.update(self._by_terms.get(terms, ()))
        return hits

    def match(
        self,
        alert: Alert,
        *,
        mappings: Sequence[Mapping] = (),
        threshold: float = DEFAULT_THRESHOLD,
    ) -> MatchResult:
        """The best runbook for `alert`, or runbook=None when confidence is below `threshold`."""
        urls = runbook_urls(alert)
        explicit = self._by_mapping(alert, mappings) or self._by_selector(alert, urls)
        if explicit is not None:
            return explicit
        resolved = self._by_url(urls)
        if resolved is not None:
            return resolved
        return self._scored(alert, urls, threshold)

    def _scored(
        self,
        alert: Alert,
        urls: list[str],
        threshold: float,
        within: frozenset[int] | None = None,
    ) -> MatchResult:
        content, context = alert_query(alert, self._name_postings.keys())
        content = split_unknown(content, self._bm25.idf, self._name_postings)
        query = dict(context)
        for term, weight in content.items():
            query[term] = min(QUERY_WEIGHT_CAP, query.get(term, 0.0) + weight)
        raw, mass = self._bm25.score(query, content)
        hits = self._name_hits(alert)
        for number in hits:
            raw.setdefault(number, 0.0)
        if within is not None:
            raw = {n: v for n, v in raw.items() if n in within}
            for number in within:
                raw.setdefault(number, 0.0)
        if not raw:
            return MatchResult(
                runbook=None,
                confidence=0.0,
                method="none",
                reason="no runbook matched: no runbook shares a term with the alert",
            )
        platforms = platforms_of(alert, query)
        mentioned = {m for m in self._markers if is_mentioned(m, query, platforms)}
        idf = self._bm25.idf
        name = alert.labels.get("alertname") or alert.name
        # An alert name no runbook carries is, as one word, unknown to every runbook; its parts
        # say what it means, so the whole word is not something a runbook fails to cover.
        unseen_name = flat_name(name) if flat_name(name) not in idf else ""
        query_mass = (
            self._bm25.query_mass({t: w for t, w in content.items() if t != unseen_name}) or 1.0
        )
        content_mass = sum(idf.get(t, 0.0) * w for t, w in content.items()) or 1.0
        top_raw = max(raw.values()) or 1.0
        # Name terms the alert says, term at a time: cover (share of the name's idf mass) and
        # said (how much of what the alert says the name holds).
        cover_of: dict[int, float] = {}
        said_of: dict[int, float] = {}
        for term in query:
            weight = content.get(term, 0.0)
            for number, term_idf in self._name_postings.get(term, ()):
                cover_of[number] = cover_of.get(number, 0.0) + term_idf
                if weight:
                    said_of[number] = said_of.get(number, 0.0) + term_idf * weight
        # software the title (or name) names: a description may name what reports the problem
        named = frozenset(t for t in COMPONENT_TERMS & content.keys() if content[t] >= TITLE_WEIGHT)
        if WORKLOAD_TERMS & content.keys():
            named = frozenset()  # `postgres` is likely the workload's name, not the subject
        resources = RESOURCES & content.keys()
        docs = self._docs

        def other_resource(number: int) -> bool:
            held = docs[number].resources
            return bool(resources and held and not resources & held)

        def row_of(number: int) -> tuple[int, float, str, int, float]:
            doc = docs[number]
            cover = cover_of.get(number, 0.0) / doc.name_idf_total if doc.name_idf_total else 0.0
            foreign = sum(1 for m in doc.markers if m not in mentioned)
            platform = 1.0 - min(MARKER_PENALTY_CAP, MARKER_PENALTY * foreign)
            combined = (
                (
                    W_TEXT * raw[number] / top_raw
                    + W_NAME * (cover + said_of.get(number, 0.0) / content_mass)
                )
                * platform
                * (1.0 - NAME_GATE + NAME_GATE * cover)
                * (FOREIGN_COMPONENT if named and not named & doc.about else 1.0)
                * (OTHER_RESOURCE if other_resource(number) else 1.0)
            )
            # Name hits first; among runbooks carrying the alert's name (the same alert in two
            # collections), the one written for a platform the alert does not contradict.
            rank = (1 if foreign else 0) if number in hits else 2
            return (rank, -combined, doc.document.key, number, cover)

        ranked, rest = self._ranked(raw, hits, cover_of, row_of, top_raw)
        shortlist = heapq.nsmallest(SHORTLIST, ranked)
        top_names = self._docs[shortlist[0][3]].flat_names
        if len(raw) > len(shortlist) and all(
            self._docs[r[3]].flat_names & top_names for r in shortlist[1:]
        ):
            # every runner-up shares the top's name: look further
            shortlist = sorted([*ranked, *(row_of(n) for n in rest)])
        rows = [
            _Row(
                far < 2,
                -neg,
                key,
                number,
                mass.get(number, 0.0) / query_mass,
                cover,
                bool(named) and not named & self._docs[number].about,
                other_resource(number),
            )
            for far, neg, key, number, cover in shortlist
        ]
        top = rows[0]
        second = next(
            (r for r in rows[1:] if not self._docs[r.number].flat_names & top_names), None
        )
        evidence: dict[str, float] = {}
        close_rows: list[_Row] = []
        if top.exact:
            shared = sum(1 for number in hits if number in raw)
            confidence = CONF_NAME if shared == 1 else CONF_NAME_SHARED
            method = "name"
            why = f"alert name {name!r} equals the runbook's name"
            if shared > 1:
                why += f" ({shared} runbooks carry it; chose the most relevant text)"
            if urls:
                confidence = min(confidence, CONF_NAME_URL_ELSEWHERE)
                why += "; its runbook_url points at a runbook that is not loaded"
        else:
            margin = (top.combined - second.combined) / top.combined if second else 1.0
            evidence = {
                "coverage": top.coverage,
                "name_cover": top.name_cover,
                "lead": min(1.0, 2 * margin),
                "foreign": float(top.foreign),
                "other_resource": float(top.other_resource),
                "said": min(1.0, content_mass / SAID_FULL),
                "kubernetes_unsaid": float(
                    "kubernetes" not in platforms
                    and "kubernetes" not in query
                    and any("kubernetes" in t for t in self._docs[top.number].name_terms)
                ),
                "identifier": float(looks_like_identifier(name)),
                "identifier_family": float(
                    looks_like_identifier(name) and family_of(name) in self._families
                ),
                "url_elsewhere": float(bool(urls)),
            }
            confidence = text_confidence(evidence)
            method = "text"
            why = (
                f"text relevance (alert terms covered {top.coverage:.2f}, runbook name covered "
                f"{top.name_cover:.2f}, lead {margin:.2f})"
            )
            if top.foreign:
                why += f"; the alert names {', '.join(sorted(named))}, which it is not about"
            if top.other_resource:
                why += f"; the alert is about {', '.join(sorted(resources))}, the runbook not"
            if evidence["identifier_family"]:
                why += (
                    f"; no runbook is named {name!r}, though runbooks are named like it "
                    f"({family_of(name)}...): its own runbook may be missing"
                )
            elif evidence["identifier"]:
                why += f"; no runbook is named {name!r} (a name of the team's own?)"
            if urls:
                why += "; its runbook_url points at a runbook that is not loaded"
            close_rows = [
                r
                for r in rows[1:TOP_CANDIDATES]
                if not self._docs[r.number].flat_names & top_names
                and r.combined >= (1.0 - CLOSE_MARGIN) * top.combined
            ]
            if close_rows:
                why += f"; close call with {', '.join(r.key for r in close_rows)}"
        confidence = round(max(0.0, min(1.0, confidence)), 4)
        candidates = [self._candidate(row, top, query, platforms) for row in rows[:TOP_CANDIDATES]]
        close = [self._candidate(row, top, query, platforms) for row in close_rows]
        if confidence < threshold:
            return MatchResult(
                runbook=None,
                confidence=confidence,
                method="none",
                reason=f"no runbook matched: best guess {top.key} by {why}; confidence "
                f"{confidence:.2f} < {threshold:.2f}",
                candidates=candidates,
                close=close,
                evidence=evidence,
            )
        return MatchResult(
            runbook=top.key,
            confidence=confidence,
            method=method,
            reason=why,
            candidates=candidates,
            close=close,
            evidence=evidence,
        )

    @staticmethod
    def _ranked(
        raw: dict[int, float],
        hits: set[int],
        cover_of: dict[int, float],
        row_of: Callable[[int], tuple[int, float, str, int, float]],
        top_raw: float,
    ) -> tuple[list[tuple[int, float, str, int, float]], list[int]]:
        """The rows that can reach the shortlist, scored in full, and the runbooks left out.

        A runbook whose name the alert does not touch and that is not a name hit scores at most
        its text share times the name gate (every other factor is at most 1), so runbooks are
        scored best text first until that bound falls below the shortlist's last score: the
        same shortlist as scoring all of them, at a fraction of the cost over 1,000 runbooks.
        """
        ranked = [row_of(n) for n in raw if n in hits or n in cover_of]
        rest = sorted(
            (n for n in raw if n not in hits and n not in cover_of),
            key=raw.__getitem__,
            reverse=True,
        )
        wanted = SHORTLIST - sum(1 for r in ranked if r[0] < 2)
        if wanted <= 0:
            return ranked, rest
        scores = [-r[1] for r in ranked if r[0] == 2]
        start = 0
        while start < len(rest):
            if len(scores) >= wanted:
                floor = heapq.nlargest(wanted, scores)[-1]
                bound = (W_TEXT * raw[rest[start]] / top_raw) * (1.0 - NAME_GATE)
                if bound * (1.0 + 1e-9) < floor:
                    break
            chunk = [row_of(n) for n in rest[start : start + _CHUNK]]
            ranked.extend(chunk)
            scores.extend(-r[1] for r in chunk)
            start += _CHUNK
        return ranked, rest[start:]

    def _candidate(
        self, row: _Row, top: _Row, query: dict[str, float], platforms: set[str]
    ) -> Candidate:
        """One runbook considered: its score, the evidence behind it (numbers a client can
        compare between candidates) and the same said in words."""
        foreign = [
            m for m in self._docs[row.number].markers if not is_mentioned(m, query, platforms)
        ]
        relative = row.combined / top.combined if top.combined else 0.0
        reasons = [
            f"alert terms covered {row.coverage:.2f}",
            f"runbook name covered {row.name_cover:.2f}",
        ]
        if row.exact:
            reasons.insert(0, "alert name equals runbook name")
        if row is not top:
            reasons.append(f"scored {relative:.0%} of the best ({top.key})")
        if row.foreign:
            reasons.append("the alert names software this runbook is not about")
        if row.other_resource:
            reasons.append("its name is about another resource than the alert's")
        if foreign:
            reasons.append(f"unmentioned platform terms: {', '.join(foreign[:4])}")
        return Candidate(
            runbook=row.key,
            score=round(min(1.0, (0.5 if row.exact else 0.0) + 0.5 * row.combined), 4),
            reasons=reasons,
            evidence={
                "name_equal": float(row.exact),
                "coverage": round(row.coverage, 4),
                "name_cover": round(row.name_cover, 4),
                "relative_to_best": round(relative, 4),
                "software_not_about": float(row.foreign),
                "resource_not_about": float(row.other_resource),
                "unmentioned_platform_terms": float(len(foreign)),
            },
        )
