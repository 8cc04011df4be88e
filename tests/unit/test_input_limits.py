"""The limits hostile input meets before it can hurt: JSON parsing, times, folded keywords."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from api.body import MAX_DEPTH, MAX_INT_DIGITS, nesting_depth_exceeds, parse_json
from api.errors import BadRequestError
from schemas.bounded_text import fit_bytes, keyword
from schemas.webhooks.generic import GenericAlertBody
from schemas.webhooks.opsgenie import OpsgenieAlert


def _refused(raw: bytes) -> str:
    with pytest.raises(BadRequestError) as caught:
        parse_json(raw)
    return caught.value.message


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ("[]", False),
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, False),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), True),
        ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), True),
        ("[" * 5000, True),  # unbalanced: still too deep
        ('["' + "[" * 500 + '"]', False),  # brackets inside a string do not count
        ('["\\"' + "[" * 500 + '"]', False),  # nor after an escaped quote
        ("[" + "[]," * 10_000 + "[]]", False),  # wide is not deep
    ],
)
def test_nesting_depth(text: str, too_deep: bool) -> None:
    assert nesting_depth_exceeds(text) is too_deep


def test_every_blow_up_is_a_400_naming_it() -> None:
    assert "nests deeper" in _refused(b"[" * 5000 + b"]" * 5000)
    assert f"{5000} digits" in _refused(b"1" * 5000)
    assert parse_json(b"-" + b"9" * MAX_INT_DIGITS) == -int("9" * MAX_INT_DIGITS)
    assert "digits" in _refused(b"[" + b"9" * (MAX_INT_DIGITS + 1) + b"]")
    assert "out of range" in _refused(b"[1e999]")
    assert "NaN" in _refused(b'{"a": NaN}')
    assert "Infinity" in _refused(b"[-Infinity]")
    assert "surrogate" in _refused(b'["\\ud800"]')
    assert "surrogate" in _refused(b'{"k\\udc00": 1}')
    assert parse_json(b'["\\ud83d\\ude00"]') == ["\U0001f600"]  # a pair is fine
    assert parse_json(b'["\\\\ud800"]') == ["\\ud800"]  # an escaped backslash, not an escape
    assert "not UTF-8" in _refused("[1]".encode("utf-16"))
    assert "empty" in _refused(b" \n")
    assert "not valid JSON" in _refused(b"{")


def test_times_outside_the_range_are_refused_naming_the_field() -> None:
    for bad in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00", "10000-01-01T00:00:00Z"):
        with pytest.raises(ValidationError) as caught:
            GenericAlertBody.model_validate({"name": "x", "starts_at": bad})
        assert caught.value.errors()[0]["loc"] == ("starts_at",)
    zero = GenericAlertBody.model_validate({"name": "x", "ends_at": "0001-01-01T00:00:00Z"})
    assert zero.ends_at == datetime(1, 1, 1, tzinfo=UTC)  # Go's zero time: "not set"
    for field, bad in (("createdAt", 10**30), ("updatedAt", -1), ("createdAt", 2**63)):
        with pytest.raises(ValidationError) as caught:
            OpsgenieAlert.model_validate({"alertId": "a", field: bad})
        assert caught.value.errors()[0]["loc"] == (field,)


@settings(max_examples=300)
@given(st.text(max_size=600), st.integers(min_value=40, max_value=2048))
def test_keywords_fit_are_stable_and_keep_short_values(value: str, limit: int) -> None:
    folded = keyword(value, limit)
    assert len(folded.encode("utf-8")) <= limit
    assert folded == keyword(value, limit)
    assert keyword(folded, limit) == folded  # folding twice changes nothing (replay-safe)
    if len(value.encode()) <= limit and value.isprintable():
        assert folded == value


@given(st.text(min_size=1, max_size=50))
def test_long_values_differing_only_at_the_end_stay_apart(tail: str) -> None:
    base = "service-" + "é" * 300
    assert fit_bytes(base + tail, 200) != fit_bytes(base + tail + "x", 200)
    assert keyword("nul\x00" + tail, 200) != keyword("nul\x01" + tail, 200)
    assert "\x00" not in keyword("nul\x00" + tail, 200)


def test_json_dumps_of_folded_values_is_plain_utf8() -> None:
    folded = keyword("a\ud800b" + "😀" * 100, 200)
    json.dumps(folded, ensure_ascii=False).encode("utf-8")  # no lone surrogate survives
