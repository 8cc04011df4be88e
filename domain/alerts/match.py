"""Alert → runbook with a confidence: mappings, then selectors, then runbook_url, then text.

Explicit choices always beat inference; inference is scored (alert name ↔ runbook name, BM25 over
title/headings/body/selectors) and calibrated so a weak best guess becomes "no runbook matched".
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from domain.alerts.bm25 import BM25Index, FieldSpec
from domain.alerts.selectors import selector_matches, specificity
from domain.alerts.text import looks_like_identifier, name_concepts, name_tokens, tokens
from domain.alerts.vocabulary import KUBERNETES_LABELS, PLATFORM_OF_TOOL
from schemas.alert import Alert
from schemas.incident import MatchCandidate
from schemas.runbook import AlertSelector, Runbook

DEFAULT_THRESHOLD = 0.45
TOP_CANDIDATES = 5
_SHORTLIST = 16  # rows scored in full; the rest only ranked

CONF_MAPPING = 1.0
CONF_SELECTOR = 1.0
CONF_URL = 0.99
CONF_NAME = 0.95
CONF_NAME_SHARED = 0.9
CONF_NAME_URL_ELSEWHERE = 0.75

# Labels whose values say what is affected; their names too (a `deployment` label hints at
# deployment runbooks). Labels that only say where or which replica carry no meaning here.
_MEANINGFUL_LABEL_VALUES = (
    "service", "namespace", "job", "container", "app", "application", "component",
    "app.kubernetes.io/name", "app_kubernetes_io_name", "reason", "device", "mountpoint",
    "fstype", "resource", "verb", "condition", "phase", "integration", "controller",
)  # fmt: skip
_SILENT_LABELS = frozenset(
    {
        "alertname", "severity", "prometheus", "prometheus_replica", "cluster", "instance",
        "uid", "pod", "endpoint", "long", "short", "receiver", "env", "environment", "region",
        "zone", "node", "host", "hostname", "team", "owner", "priority", "fingerprint",
    }
)  # fmt: skip
_RUNBOOK_ANNOTATIONS = ("runbook_url", "runbook", "runbook_link", "runbookurl", "playbook")
_TEXT_ANNOTATIONS_SKIP = frozenset({"summary", "description", *_RUNBOOK_ANNOTATIONS})

_FIELDS = {
    "name": FieldSpec(weight=5.0, b=0.3),
    "meta": FieldSpec(weight=3.0, b=0.3),
    "folder": FieldSpec(weight=2.0, b=0.0),
    "headings": FieldSpec(weight=1.5, b=0.5),
    "body": FieldSpec(weight=1.0, b=0.75),
}
_QUERY_WEIGHT_CAP = 4.0
# Text score: relative BM25F, plus how much of the runbook's name the alert says, scaled down
# when the name says things the alert does not (a runbook about Alertmanager is a poor answer
# for a page that never mentions it, however well its body matches).
_W_TEXT = 0.4
_W_NAME = 0.3
_NAME_GATE = 0.5
_MARKER_MIN_DOCS = 10
_MARKER_INSIDE = 0.3
_MARKER_OUTSIDE = 0.05
_MARKER_PENALTY = 0.06
_MARKER_PENALTY_CAP = 0.3
_IDENTIFIER_WITHOUT_NAMESAKE = 0.5
_URL_ELSEWHERE = 0.8  # the source names a runbook that is not loaded: inference is a guess
_METRIC_RE = re.compile(r"\b([a-z_][a-z0-9_]*:?[a-z0-9_]*)\s*[{\[(]")
_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


Candidate = MatchCandidate  # one runbook considered, its score and why: the incident's own type


class RunbookDocument(BaseModel):
    """What the matcher needs of a runbook, whatever format it was written in."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="Path of the runbook relative to the runbooks directory")
    title: str
    headings: list[str] = Field(default_factory=list)
    body: str = ""
    selectors: list[AlertSelector] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)


class Mapping(BaseModel):
    """An operator's explicit rule: alerts matching `selector` go to runbook `runbook` (a key).

    `id`, `created_by`, `note` and `created_at` are set once the mapping is stored.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    selector: AlertSelector
    runbook: str = Field(min_length=1, max_length=1000)
    id: int | None = None
    created_by: str = ""
    note: str = ""
    created_at: datetime | None = None


class MatchResult(BaseModel):
    """The chosen runbook key (None: no runbook matched), how sure, and the runners-up."""

    runbook: str | None
    confidence: float = Field(ge=0.0, le=1.0)
    method: str = Field(description="mapping, selector, runbook_url, name, text or none")
    reason: str
    candidates: list[Candidate] = Field(default_factory=list)


def _stem_of(key: str) -> str:
    last = key.rstrip("/").rsplit("/", 1)[-1]
    return last[:-3] if last.lower().endswith(".md") else last.rsplit(".", 1)[0] or last


def document_from_markdown(key: str, text: str) -> RunbookDocument:
    """Title (front matter `title:` or first H1, else the file name), headings and body."""
    title = ""
    front = _FRONT_MATTER_RE.match(text)
    if front:
        for line in front.group(1).splitlines():
            if line.strip().lower().startswith("title:"):
                title = line.split(":", 1)[1].strip().strip("\"'")
        text = text[front.end() :]
    headings: list[str] = []
    body: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            body.append(line)
            continue
        found = None if in_code else _HEADING_RE.match(line)
        if found is None:
            body.append(line)
        elif len(found.group(1)) == 1 and not title:
            title = found.group(2)
        else:
            headings.append(found.group(2))
    return RunbookDocument(
        key=key, title=title or _stem_of(key), headings=headings, body="\n".join(body)
    )


def document_from_runbook(key: str, runbook: Runbook) -> RunbookDocument:
    """A structured runbook: step titles are its headings; description, instructions and
    commands its body (prerequisites are left out: tooling boilerplate, not the topic)."""
    body = [runbook.description]
    for step in runbook.steps:
        body.extend((step.instructions, step.command or "", step.rollback or ""))
    return RunbookDocument(
        key=key,
        title=runbook.title,
        headings=[step.title for step in runbook.steps],
        body="\n".join(part for part in body if part),
        selectors=list(runbook.selectors),
        services=list(runbook.services),
    )


def _folder_of(key: str) -> str:
    """The runbook's own folder: repositories group runbooks by component (node/, etcd/ ...)."""
    parts = [p for p in key.split("/") if p]
    return parts[-2] if len(parts) >= 2 else ""


def _flat(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _url_tail(url: str) -> tuple[str, str] | None:
    """The last two path segments of a runbook URL, lower-cased, without `.md`."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return None
    parts = [unquote(p) for p in path.split("/") if p]
    if len(parts) < 2:
        return None
    last = parts[-1][:-3] if parts[-1].lower().endswith(".md") else parts[-1]
    return parts[-2].lower(), last.lower()


def _slug(text: str) -> str:
    """As runbook ids are made from paths: lower-case, anything else a dash."""
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")


def _slug_suffixes(key: str) -> list[str]:
    """`openshift-runbooks-etcd-etcdnoleader` → every dash-suffix of two or more parts, so a
    URL tail `etcd/etcdNoLeader` finds the runbook imported from `…/etcd/etcdNoLeader.md`."""
    if "/" in key:
        return []
    parts = key.split("-")
    return ["-".join(parts[i:]) for i in range(len(parts) - 1)]


def _key_tail(key: str) -> tuple[str, str] | None:
    parts = [p for p in key.split("/") if p]
    if len(parts) < 2:
        return None
    return parts[-2].lower(), _stem_of(parts[-1]).lower()


def _metric_names(generator_url: str | None) -> list[str]:
    if not generator_url:
        return []
    try:
        query = parse_qs(urlsplit(generator_url).query)
    except ValueError:
        return []
    names: list[str] = []
    for key, values in query.items():
        if key.endswith(".expr"):
            for expr in values:
                names.extend(m for m in _METRIC_RE.findall(expr) if "_" in m)
    return names


@dataclass(frozen=True)
class _Doc:
    document: RunbookDocument
    flat_names: frozenset[str]
    name_terms: frozenset[tuple[str, ...]]
    name_idf_terms: tuple[str, ...]
    markers: tuple[str, ...]
    name_idf: tuple[tuple[str, float], ...] = ()
    name_idf_total: float = 0.0


@dataclass(frozen=True)
class _Row:
    exact: bool
    combined: float
    key: str
    number: int
    coverage: float
    name_cover: float


def _collection(key: str) -> str:
    return key.split("/", 1)[0] if "/" in key else ""


def _collection_markers(
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
            names = {_stem_of(doc.key), doc.title} if "/" in doc.key else {doc.title}
            flat = frozenset(_flat(n) for n in names if _flat(n))
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
                    "folder": tokens(_folder_of(doc.key)),
                    "headings": [t for h in doc.headings for t in tokens(h)],
                    "body": tokens(doc.body),
                }
            )
            concepts = tuple(dict.fromkeys(t for n in sorted(names) for t in name_concepts(n)))
            prepared.append((doc, flat, terms, concepts))
        term_sets = [frozenset(t for f in doc_fields.values() for t in f) for doc_fields in fields]
        collections = [_collection(doc.key) for doc in documents]
        markers = _collection_markers(collections, term_sets)
        for number, (doc, flat, terms, concepts) in enumerate(prepared):
            own = markers.get(collections[number], frozenset())
            self._docs.append(
                _Doc(doc, flat, terms, concepts, tuple(sorted(own & term_sets[number])))
            )
            self._by_key[doc.key] = number
            for name in flat:
                self._by_flat.setdefault(name, []).append(number)
            for term_tuple in terms:
                self._by_terms.setdefault(term_tuple, []).append(number)
            tail = _key_tail(doc.key)
            if tail is not None:
                self._by_tail.setdefault(tail, []).append(number)
            for suffix in _slug_suffixes(doc.key):
                self._by_slug.setdefault(suffix, []).append(number)
            for selector in doc.selectors:
                if selector.alertname is None:
                    self._selectors_any.append((number, selector))
                else:
                    self._selectors_by_name.setdefault(selector.alertname, []).append(
                        (number, selector)
                    )
        self._bm25 = BM25Index(fields, _FIELDS)
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
        reason = f"explicit mapping {_describe(mapping.selector)} -> {mapping.runbook}"
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
            reason = f"selector {_describe(selector)} of runbook {key}"
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

    def _runbook_urls(self, alert: Alert) -> list[str]:
        urls = []
        for key, value in alert.annotations.items():
            if key.lower() in _RUNBOOK_ANNOTATIONS and value.strip():
                urls.append(value.strip())
        return urls

    def _by_url(self, urls: list[str], within: frozenset[int] | None = None) -> MatchResult | None:
        for url in urls:
            tail = _url_tail(url)
            if tail is None:
                continue
            found = {*self._by_tail.get(tail, ()), *self._by_slug.get(_slug("-".join(tail)), ())}
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

    def _query(self, alert: Alert) -> tuple[dict[str, float], dict[str, float]]:
        """The alert as weighted terms: what it says (content) and where it happens (context).

        Both are searched; only content counts when judging how much of the alert a runbook
        covers, since service or namespace names rarely appear in a runbook's prose.
        """
        content: dict[str, float] = {}
        context: dict[str, float] = {}

        def add(into: dict[str, float], text: str, weight: float) -> None:
            for term in tokens(text):
                into[term] = min(_QUERY_WEIGHT_CAP, into.get(term, 0.0) + weight)

        name = alert.labels.get("alertname") or alert.name
        add(content, name, 3.0 if looks_like_identifier(name) else 2.0)
        if alert.name != name:
            add(content, alert.name, 2.0)
        if alert.title and alert.title not in (name, alert.name):
            add(content, alert.title, 2.0)
        add(content, alert.description, 1.0)
        for key, value in alert.annotations.items():
            if key.lower() not in _TEXT_ANNOTATIONS_SKIP:
                add(content, value, 1.0)
        if alert.service != "unknown":
            add(context, alert.service, 0.5)
        for key, value in alert.labels.items():
            if key in _SILENT_LABELS:
                continue
            if key in _MEANINGFUL_LABEL_VALUES:
                add(context, value, 0.5)
            add(context, key, 0.3)
        for metric in _metric_names(alert.generator_url):
            add(context, metric, 0.3)
        for term in list(content):
            if term in context or term.isdigit():
                context[term] = context.get(term, 0.0) + content.pop(term)
        return content, context

    def _name_hits(self, alert: Alert) -> set[int]:
        hits: set[int] = set()
        for name in {alert.name, alert.labels.get("alertname", "")}:
            if not name:
                continue
            hits.update(self._by_flat.get(_flat(name), ()))
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
        urls = self._runbook_urls(alert)
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
        content, context = self._query(alert)
        query = dict(context)
        for term, weight in content.items():
            query[term] = min(_QUERY_WEIGHT_CAP, query.get(term, 0.0) + weight)
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
        platforms = _platforms(alert, query)
        mentioned = {m for m in self._markers if _mentioned(m, query, platforms)}
        idf = self._bm25.idf
        query_mass = self._bm25.query_mass(content) or 1.0
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
        ranked: list[tuple[bool, float, str, int, float]] = []
        for number, value in raw.items():
            doc = self._docs[number]
            cover = cover_of.get(number, 0.0) / doc.name_idf_total if doc.name_idf_total else 0.0
            foreign = sum(1 for m in doc.markers if m not in mentioned)
            platform = 1.0 - min(_MARKER_PENALTY_CAP, _MARKER_PENALTY * foreign)
            combined = (
                (
                    _W_TEXT * value / top_raw
                    + _W_NAME * (cover + said_of.get(number, 0.0) / content_mass)
                )
                * platform
                * (1.0 - _NAME_GATE + _NAME_GATE * cover)
            )
            ranked.append((number not in hits, -combined, doc.document.key, number, cover))
        shortlist = heapq.nsmallest(_SHORTLIST, ranked)
        top_names = self._docs[shortlist[0][3]].flat_names
        if len(ranked) > len(shortlist) and all(
            self._docs[r[3]].flat_names & top_names for r in shortlist[1:]
        ):
            shortlist = sorted(ranked)  # every runner-up shares the top's name: look further
        rows = [
            _Row(not far, -neg, key, number, mass.get(number, 0.0) / query_mass, cover)
            for far, neg, key, number, cover in shortlist
        ]
        top = rows[0]
        second = next(
            (r for r in rows[1:] if not self._docs[r.number].flat_names & top_names), None
        )
        name = alert.labels.get("alertname") or alert.name
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
            confidence = _text_confidence(top.coverage, top.name_cover, margin)
            method = "text"
            why = (
                f"text relevance (alert terms covered {top.coverage:.2f}, runbook name covered "
                f"{top.name_cover:.2f}, lead {margin:.2f})"
            )
            if looks_like_identifier(name):
                confidence *= _IDENTIFIER_WITHOUT_NAMESAKE
                why += f"; no runbook is named {name!r}"
            if urls:
                confidence *= _URL_ELSEWHERE
                why += "; its runbook_url points at a runbook that is not loaded"
        confidence = round(max(0.0, min(1.0, confidence)), 4)
        candidates = [
            Candidate(
                runbook=row.key,
                score=round(min(1.0, (0.5 if row.exact else 0.0) + 0.5 * row.combined), 4),
                reasons=self._reasons(row, query, platforms),
            )
            for row in rows[:TOP_CANDIDATES]
        ]
        if confidence < threshold:
            return MatchResult(
                runbook=None,
                confidence=confidence,
                method="none",
                reason=f"no runbook matched: best guess {top.key} by {why}; confidence "
                f"{confidence:.2f} < {threshold:.2f}",
                candidates=candidates,
            )
        return MatchResult(
            runbook=top.key, confidence=confidence, method=method, reason=why, candidates=candidates
        )

    def _reasons(self, row: _Row, query: dict[str, float], platforms: set[str]) -> list[str]:
        reasons = [
            f"alert terms covered {row.coverage:.2f}",
            f"runbook name covered {row.name_cover:.2f}",
        ]
        if row.exact:
            reasons.insert(0, "alert name equals runbook name")
        foreign = [m for m in self._docs[row.number].markers if not _mentioned(m, query, platforms)]
        if foreign:
            reasons.append(f"unmentioned platform terms: {', '.join(foreign[:4])}")
        return reasons


def _platforms(alert: Alert, query: dict[str, float]) -> set[str]:
    """Platforms the alert is about: named in it, or implied by Kubernetes-only label names."""
    found = {p for p in PLATFORM_OF_TOOL.values() if p in query}
    if any(key in KUBERNETES_LABELS for key in alert.labels):
        found.add("kubernetes")
    return found


def _mentioned(marker: str, query: dict[str, float], platforms: set[str]) -> bool:
    """A collection's typical term is no evidence against a runbook when the alert says it, or
    says the platform it belongs to (kubectl is Kubernetes' own tool)."""
    return marker in query or PLATFORM_OF_TOOL.get(marker, "") in platforms


def _text_confidence(coverage: float, name_cover: float, margin: float) -> float:
    """Sure when the runbook covers what the alert says, its name is said, and it stands out."""
    return 0.45 * coverage + 0.35 * name_cover + 0.2 * min(1.0, 2 * margin)


def selector_text(selector: AlertSelector) -> str:
    """`alertname=…, service=…, label=…`: how reasons and `ddrun mappings` show a selector."""
    parts = []
    if selector.alertname is not None:
        parts.append(f"alertname={selector.alertname}")
    if selector.service is not None:
        parts.append(f"service={selector.service}")
    parts.extend(f"{k}={v}" for k, v in sorted(selector.labels.items()))
    return ", ".join(parts)


def _describe(selector: AlertSelector) -> str:
    return "{" + selector_text(selector) + "}"
