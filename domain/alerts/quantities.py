"""What numbers in an alert say: "92% of its quota", "78% used" and "3% space left" mean
nearly full, though no word says so.

A runbook for a resource close to its limit is named for it (…AlmostFull, …NearFull,
…AlmostOutOfSpace); an alert gives the figure instead. A share of a resource in use at or above
NEARLY_FULL (and below 100%), or a share left at or below NEARLY_EMPTY, adds the terms
"almost" and "fill". Percentages of anything else (CPU > 90%, 5% of requests failing) say
nothing about fullness and add nothing.

A share of anything failing ("errors on 8% of calls", "SERVFAIL for >1% of queries") is an
error *rate*, which runbooks name as high (…ErrorsHigh, HighNumberOfFailed…): it adds "high".
"""

from __future__ import annotations

import re

from domain.alerts.text import tokens

NEARLY_FULL = 70.0
NEARLY_EMPTY = 30.0
_NUMBER = r"(\d{1,3}(?:\.\d+)?)\s*%"
_GAP = r"(?:[\s\w.]*?\W)??"  # a few words between the figure and what it measures
_USED_RE = re.compile(
    rf"{_NUMBER}\W+{_GAP}(?:full|used|in use|allocated|\w*quota|capacity|utili[sz]ed)\b",
    re.IGNORECASE,
)
# "disk 92%", "capacity 95%", "inodes: 97%": a share straight after a thing that fills is how
# full it is (CPU 92% or memory 92% is load, not fullness).
_FILLS_RE = re.compile(
    r"\b(?:disks?|filesystems?|fs|volumes?|storage|capacity|inodes?|pvcs?|quota)"
    r"(?:\s+(?:usage|use|used|at|is))?\s*[:=]?\s*" + _NUMBER,
    re.IGNORECASE,
)
_LEFT_RE = re.compile(rf"{_NUMBER}\W+{_GAP}(?:left|free|remaining|available)\b", re.IGNORECASE)
NEARLY_FULL_TERMS = "almost fill"
ERROR_RATE_TERMS = "high"
_PERCENT_RE = re.compile(_NUMBER)
_FAULT = "fault"  # the concept every failure word carries (vocabulary.CONCEPTS)
_MAX_GAP_CHARS = 45  # the figure and its noun within a short phrase


def nearly_full(text: str) -> bool:
    """True when the text gives a resource's use as a share close to its whole."""
    for match in _USED_RE.finditer(text):
        if len(match.group(0)) <= _MAX_GAP_CHARS and NEARLY_FULL <= float(match.group(1)) < 100:
            return True
    for match in _FILLS_RE.finditer(text):
        if NEARLY_FULL <= float(match.group(1)) < 100:
            return True
    for match in _LEFT_RE.finditer(text):
        if len(match.group(0)) <= _MAX_GAP_CHARS and float(match.group(1)) <= NEARLY_EMPTY:
            return True
    return False


# "memory > 90%", "CPU above 85%": a share over a bound is a high reading.
_ABOVE_RE = re.compile(r"(?:>=?|≥|\babove|\bover)\s*" + _NUMBER, re.IGNORECASE)
ABOVE_TERMS = "high"


def above_bound(text: str) -> bool:
    """True when the text gives a share over a bound (> 90%, above 85%)."""
    return bool(_ABOVE_RE.search(text))


def error_rate(text: str) -> bool:
    """True when the text gives a share of something failing: a percentage and a failure."""
    return bool(_PERCENT_RE.search(text)) and _FAULT in tokens(text)
