"""Is this word a random credential? Entropy tests for tokens no named rule recognises.

Random keys look alike whatever issued them: long, mixed letters and digits, no repeated
structure. The audit itself is full of long words that are random too but are not secrets,
so those are refused explicitly: hex (sha256 digests of the chain, git SHAs, Temporal run ids,
UUIDs), words made of short parts (Kubernetes pod names such as `payment-svc-7d4b9c8f6d-x2x9q`,
dotted or dashed identifiers) and words made of words (`NooBaaSystemCapacityWarning85`).
Paths are split at `/` by the caller, so only a random path segment is hidden.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

# Shorter parts of a dashed/underscored word are identifiers (pod hashes are 5-10 characters).
MIN_PART = 20
_HEX = re.compile(r"[0-9a-fA-F]+")
_PARTS = re.compile(r"[-_.]")
_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")
# Runs a word is read in: a capitalised or lower-case word, an acronym, a number.
_RUNS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+|[^A-Za-z0-9]")
_WORDLIKE = re.compile(r"[A-Z]?[a-z]{3,}")


def shannon(word: str) -> float:
    """Bits per character of `word`'s own character distribution."""
    if not word:
        return 0.0
    counts = Counter(word)
    n = len(word)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _class_of(char: str) -> int:
    if char.isdigit():
        return 0
    if char.isupper():
        return 1
    if char.islower():
        return 2
    return 3


def _switch_ratio(word: str) -> float:
    """How often consecutive characters change class (digit/upper/lower/symbol).

    Random base62 changes about 60% of the time; CamelCase words and English far less.
    """
    if len(word) < 2:
        return 0.0
    switches = sum(1 for a, b in itertools.pairwise(word) if _class_of(a) != _class_of(b))
    return switches / (len(word) - 1)


def _wordlike_share(part: str) -> float:
    """How much of `part` reads as words (`Kube`, `Crash`); random text has few such runs."""
    return sum(len(w) for w in _WORDLIKE.findall(part)) / len(part)


def _random_part(part: str) -> bool:
    part = part.strip("=")
    if len(part) < MIN_PART or _HEX.fullmatch(part):
        return False
    has_digit = any(c.isdigit() for c in part)
    has_upper = any(c.isupper() for c in part)
    has_lower = any(c.islower() for c in part)
    if not (has_digit and (has_upper or has_lower)):
        return False
    if not (has_upper and has_lower) and len(part) < 40:
        return False
    if len(part) / len(_RUNS.findall(part)) >= 3.0 or _wordlike_share(part) >= 0.55:
        return False  # made of words: `NooBaaSystemCapacityWarning85`, `KubePodCrash2bf5c9f1`
    # Random text of n characters tops out near log2(n) bits; ask for most of that.
    needed = max(3.5, 0.78 * math.log2(min(len(part), 64)))
    return shannon(part) >= needed and _switch_ratio(part) >= 0.34


def is_high_entropy(word: str) -> bool:
    """Whether `word` (a run of base64/hex-ish characters) holds a random credential."""
    return any(_random_part(part) for part in _PARTS.split(word))


def is_aws_secret_key(word: str) -> bool:
    """A bare 40-character AWS secret access key: base64 alphabet, mixed case, not hex."""
    if not _AWS_SECRET.fullmatch(word) or _HEX.fullmatch(word):
        return False
    has_upper = any(c.isupper() for c in word)
    has_lower = any(c.islower() for c in word)
    has_other = any(c.isdigit() or c in "/+" for c in word)
    return has_upper and has_lower and has_other and shannon(word) >= 4.0
