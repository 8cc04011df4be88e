"""Tokens for alert-to-runbook matching: alert names and prose reduced to comparable terms.

CamelCase names (KubePodCrashLooping) and prose ("pods keep crashing") must meet on the same
terms, so both go through one splitter, one tiny stemmer and one small ops-vocabulary table.
"""

from __future__ import annotations

import re

_TEMPLATE_RE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_WORD_RE = re.compile(r"[A-Za-z0-9]+")
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
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

# A small, generic ops vocabulary: abbreviations and spellings that name the same thing.
# Each entry expands to the canonical tokens (the original token is replaced).
_CANONICAL: dict[str, tuple[str, ...]] = {
    "k8s": ("kubernetes",),
    "kubernetes": ("kubernetes",),
    "prod": (),
    "production": (),
    "staging": (),
    "kube": ("kubernetes",),
    "apiserver": ("api", "server"),
    "crashloop": ("crash", "loop"),
    "crashloopbackoff": ("crash", "loop", "back", "off"),
    "crashlooping": ("crash", "loop"),
    "crashloops": ("crash", "loop"),
    "oom": ("memory",),
    "oomkilled": ("memory", "kill"),
    "cert": ("certificate",),
    "certs": ("certificate",),
    "tls": ("certificate",),
    "pvc": ("persistent", "volume"),
    "pv": ("persistent", "volume"),
    "hpa": ("horizontal", "pod", "autoscaler"),
    "autoscaler": ("autoscaler",),
    "mem": ("memory",),
    "ram": ("memory",),
    "config": ("configuration",),
    "cfg": ("configuration",),
    "ntp": ("clock", "synchronise"),
    "sync": ("synchronise",),
    "synchronising": ("synchronise",),
    "synchronizing": ("synchronise",),
    "synchronised": ("synchronise",),
    "synchronized": ("synchronise",),
    "syncing": ("synchronise",),
    "fds": ("file", "descriptor"),
    "fd": ("file", "descriptor"),
    "am": ("alertmanager",),
    "ds": ("daemonset",),
    "sts": ("statefulset",),
    "deploy": ("deployment",),
    "failure": ("fail",),
    "failures": ("fail",),
    "errs": ("error",),
    "err": ("error",),
    "errors": ("error",),
    "unavailable": ("down",),
    "unreachable": ("unreachable", "down"),
    "replicas": ("replica",),
    "latency": ("latency",),
    "throttled": ("throttl",),
    "throttling": ("throttl",),
    "throttle": ("throttl",),
}


def strip_templates(text: str) -> str:
    """Drop unrendered Go templates ({{ $labels.pod }}): their words are syntax, not meaning."""
    return _TEMPLATE_RE.sub(" ", text)


def split_words(text: str) -> list[str]:
    """Words of a text, CamelCase and digits split apart, lower-cased."""
    out: list[str] = []
    for word in _WORD_RE.findall(text):
        parts = _CAMEL_RE.findall(word)
        out.extend(p.lower() for p in (parts or [word]))
    return out


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


def _canonical(word: str) -> tuple[str, ...]:
    mapped = _CANONICAL.get(word)
    if mapped is not None:
        return mapped
    stemmed = stem(word)
    return _CANONICAL.get(stemmed, (stemmed,))


def tokens(text: str, *, compounds: bool = True) -> list[str]:
    """Comparable terms of a text: templates dropped, words split, stemmed, stopwords removed."""
    out: list[str] = []
    for raw in _WORD_RE.findall(strip_templates(text)):
        whole = raw.lower()
        if whole in _CANONICAL:
            out.extend(_CANONICAL[whole])
            continue
        parts = split_words(raw)
        if compounds and len(parts) > 1 and not raw.isupper():
            out.append(whole)  # OpenShift, KubePodCrashLooping: the whole word is a term too
        for part in parts:
            if part in STOPWORDS or len(part) < 2:
                continue
            out.extend(t for t in _canonical(part) if t not in STOPWORDS)
    return out


def name_tokens(name: str) -> tuple[str, ...]:
    """The terms of a name in order (KubePodCrashLooping -> kubernetes, pod, crash, loop)."""
    return tuple(tokens(name, compounds=False))


def looks_like_identifier(name: str) -> bool:
    """True for machine alert names (KubePodCrashLooping, disk_full), false for prose titles."""
    name = name.strip()
    return bool(name) and " " not in name and bool(_IDENTIFIER_RE.match(name))
