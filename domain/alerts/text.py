"""Tokens for alert-to-runbook matching: alert names and prose reduced to comparable terms.

CamelCase names (KubePodCrashLooping) and prose ("pods keep crashing") must meet on the same
terms, so both go through one splitter, one tiny stemmer and one ops vocabulary
(domain/alerts/vocabulary.py).
"""

from __future__ import annotations

import re
from functools import lru_cache

from domain.alerts.vocabulary import COMPOUNDS, CONCEPTS, IMPLIES, PHRASES, SPELLINGS

_TEMPLATE_RE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_WORD_RE = re.compile(r"[A-Za-z0-9]+")
# An HTTP status class (5xx, 4XX) is one word; otherwise digits and letters part.
_CAMEL_RE = re.compile(r"[0-9][xX]{2}(?![a-z])|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_IDENTIFIER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[_.:-][A-Za-z0-9]+)*$")

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "keep",
        "keeps",
        "kept",
        "me",
        "more",
        "most",
        "my",
        "nor",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yet",
        "been",
        "also",
        "may",
        "might",
        "must",
        "shall",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "any",
        "because",
        "before",
        "below",
        "between",
        "both",
        "during",
        "each",
        "few",
        "further",
        "getting",
        "got",
        "every",
        "per",
        "via",
        "within",
        "without",
        "please",
        "still",
        "now",
        "right",
        "today",
        "currently",
        "seem",
        "seems",
        "seeing",
        "see",
        "lot",
        "lots",
    ]
)


def strip_templates(text: str) -> str:
    """Drop unrendered Go templates ({{ $labels.pod }}): their words are syntax, not meaning."""
    return _TEMPLATE_RE.sub(" ", text)


@lru_cache(maxsize=1 << 16)
def _camel_parts(word: str) -> tuple[str, ...]:
    """CamelCase parts, lower-cased, with compound words kept whole (StatefulSet)."""
    parts = [p.lower() for p in (_CAMEL_RE.findall(word) or [word])]
    if len(parts) < 2:
        return tuple(parts)
    out: list[str] = []
    i = 0
    while i < len(parts):
        if i + 1 < len(parts) and parts[i] + parts[i + 1] in COMPOUNDS:
            out.append(parts[i] + parts[i + 1])
            i += 2
        else:
            out.append(parts[i])
            i += 1
    return tuple(out)


def split_words(text: str) -> list[str]:
    """Words of a text, CamelCase and digits split apart, lower-cased."""
    out: list[str] = []
    for word in _WORD_RE.findall(text):
        out.extend(_camel_parts(word))
    return out


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A deliberately tiny suffix stemmer: enough for crashing/crashes/crashed -> crash."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if len(base) >= 4 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            return base
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _base(word: str) -> tuple[str, ...]:
    """A word's canonical term(s): its spelling-table entry, else its stem (or the stem's)."""
    mapped = SPELLINGS.get(word)
    if mapped is not None:
        return mapped
    stemmed = stem(word)
    return SPELLINGS.get(stemmed, (stemmed,))


def _concept_table() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for concept, words in CONCEPTS.items():
        for word in words:
            for term in _base(word):
                if term != concept and concept not in table.setdefault(term, []):
                    table[term].append(concept)
    return {term: tuple(concepts) for term, concepts in table.items()}


NUMBER = "#"  # any number, in a phrase ("restarted # times")


def _phrase_word(word: str) -> str:
    return NUMBER if word.isdigit() or word == NUMBER else stem(word)


def _phrase_key(words: list[str]) -> tuple[str, ...]:
    return tuple(_phrase_word(w) for w in words)


_CONCEPTS_OF = _concept_table()
# Words the vocabulary knows as one word: a hyphenated pair that joins into one is that word.
_KNOWN_JOINED = frozenset(
    {*SPELLINGS, *COMPOUNDS, *(stem(w) for words in CONCEPTS.values() for w in words)}
)
_IMPLIED = IMPLIES


def _phrase_words(phrase: str) -> list[str]:
    return [
        w for piece in phrase.split() for w in ([piece] if piece == NUMBER else split_words(piece))
    ]


_PHRASES = {_phrase_key(_phrase_words(p)): terms for p, terms in PHRASES.items()}
_PHRASE_STARTS = frozenset(k[0] for k in _PHRASES)
_PHRASE_MAX = max(len(k) for k in _PHRASES)


@lru_cache(maxsize=1 << 16)
def _canonical(word: str, concepts_only: bool = False) -> tuple[str, ...]:
    out: list[str] = []
    for term in _base(word):
        concepts = _CONCEPTS_OF.get(term, ())
        if not (concepts_only and concepts):
            out.append(term)
        out.extend(concepts)
    out.extend(_IMPLIED.get(word) or _IMPLIED.get(stem(word), ()))
    return tuple(out)


def _phrase_terms(words: list[str]) -> list[str]:
    """Terms of the vocabulary's phrases found in a sequence of (stemmed) words, and the
    compound words written apart ("stateful set", "Prometheus rule": statefulset,
    prometheusrule), so prose meets the CamelCase names that keep them whole."""
    out: list[str] = []
    for i, word in enumerate(words):
        if i + 1 < len(words) and word + words[i + 1] in COMPOUNDS:
            out.extend(t for t in _canonical(word + words[i + 1]) if t not in STOPWORDS)
        if word not in _PHRASE_STARTS:
            continue
        for size in range(min(_PHRASE_MAX, len(words) - i), 0, -1):
            found = _PHRASES.get(tuple(words[i : i + size]))
            if found is not None:
                out.extend(found)
                break
    return out


@lru_cache(maxsize=1 << 16)
def _word(
    raw: str, compounds: bool, concepts_only: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """One word's terms, and its (stemmed) parts for phrase matching."""
    whole = raw.lower()
    if whole in SPELLINGS:
        return _canonical(whole, concepts_only), (_phrase_word(whole),)  # as phrases are keyed
    out: list[str] = []
    parts = _camel_parts(raw)
    if compounds and len(parts) > 1 and not raw.isupper():
        out.append(whole)  # OpenShift, KubePodCrashLooping: the whole word is a term too
    for part in parts:
        if part in STOPWORDS or len(part) < 2:
            continue
        out.extend(t for t in _canonical(part, concepts_only) if t not in STOPWORDS)
    return tuple(out), tuple(_phrase_word(p) for p in parts)


def tokens(text: str, *, compounds: bool = True, concepts_only: bool = False) -> list[str]:
    """Comparable terms of a text: templates dropped, words split, stemmed, stopwords removed,
    and the ops vocabulary applied (spellings, concepts, phrases). `concepts_only`: a word
    that carries a concept gives only the concept ("unreachable" → "down")."""
    out: list[str] = []
    sequence: list[str] = []
    text = strip_templates(text)
    for raw in _WORD_RE.findall(text):
        terms, parts = _word(raw, compounds, concepts_only)
        out.extend(terms)
        sequence.extend(parts)
    out.extend(_phrase_terms(sequence))
    if "-" in text:
        seen = set(out)
        out.extend(t for t in _hyphenated(text, concepts_only) if t not in seen)
    return out


_HYPHENATED_RE = re.compile(r"\b([A-Za-z]{2,})-([A-Za-z]{2,})\b")


def _hyphenated(text: str, concepts_only: bool) -> list[str]:
    """Vocabulary words written with a hyphen (over-committed, crash-looping, file-system): the
    joined word's terms too, when the joined word is one the vocabulary knows."""
    out: list[str] = []
    for left, right in _HYPHENATED_RE.findall(text):
        joined = (left + right).lower()
        if joined in _KNOWN_JOINED or stem(joined) in _KNOWN_JOINED:
            out.extend(_word(joined, False, concepts_only)[0])
    return out


def name_tokens(name: str) -> tuple[str, ...]:
    """The terms of a name in order (KubePodCrashLooping -> kubernetes, pod, crash, loop)."""
    return tuple(tokens(name, compounds=False))


def name_concepts(name: str) -> tuple[str, ...]:
    """A name's terms with synonyms collapsed (KubeNodeUnreachable -> kubernetes, node, down):
    what the name is about, for judging how much of it an alert talks about."""
    return tuple(dict.fromkeys(tokens(name, compounds=False, concepts_only=True)))


def looks_like_identifier(name: str) -> bool:
    """True for machine alert names (KubePodCrashLooping, disk_full), false for prose titles."""
    name = name.strip()
    return bool(name) and " " not in name and bool(_IDENTIFIER_RE.match(name))
