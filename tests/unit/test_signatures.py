"""The verifiers against the contracts' signature vectors: raw bytes only, rotation, windows."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from domain.alerts.signatures import (
    CredentialMismatchError,
    MalformedCredentialError,
    MissingCredentialError,
    hmac_sha256_hex,
    split_secrets,
    verify_authorization,
    verify_grafana,
    verify_header_token,
    verify_pagerduty,
)
from tests.support import CONTRACTS

PD = json.loads((CONTRACTS / "pagerduty" / "webhooks-v3" / "signature-vector.json").read_text())
GF = json.loads((CONTRACTS / "grafana" / "signature-vector.json").read_text())
PD_RAW: bytes = PD["raw_body"].encode()
PD_HEADER: str = PD["headers"]["X-PagerDuty-Signature"]
NEW, OLD = PD["secrets_active_at_sender"]
GF_RAW: bytes = GF["raw_body"].encode()
GF_SECRET: str = GF["secret"]


# --------------------------------------------------------------------------------- PagerDuty


@pytest.mark.parametrize("secrets", [[NEW], [OLD], [OLD, NEW], ["other", NEW], [NEW, "other"]])
def test_pagerduty_vector_verifies_with_any_active_secret(secrets: list[str]) -> None:
    assert PD["expect"]["verify_with_new_secret"]
    assert PD["expect"]["verify_with_old_secret"]
    verify_pagerduty(PD_RAW, PD_HEADER, secrets)


def test_pagerduty_each_single_signature_verifies_with_its_own_secret() -> None:
    first, second = PD_HEADER.split(",")
    verify_pagerduty(PD_RAW, first, [NEW])
    verify_pagerduty(PD_RAW, second, [OLD])
    with pytest.raises(CredentialMismatchError):
        verify_pagerduty(PD_RAW, first, [OLD])
    with pytest.raises(CredentialMismatchError):
        verify_pagerduty(PD_RAW, second, [NEW])


def test_pagerduty_other_secret_is_refused() -> None:
    assert PD["expect"]["verify_with_other_secret"] is False
    with pytest.raises(CredentialMismatchError, match="none of our secrets"):
        verify_pagerduty(PD_RAW, PD_HEADER, ["Zz9-not-the-secret"])


def test_pagerduty_reserialised_body_does_not_verify() -> None:
    pretty = json.dumps(json.loads(PD_RAW), indent=2).encode()
    compact_sorted = json.dumps(json.loads(PD_RAW), sort_keys=True).encode()
    for body in (pretty, compact_sorted, PD_RAW + b"\n", PD_RAW.replace(b"4217", b"4218")):
        with pytest.raises(CredentialMismatchError):
            verify_pagerduty(body, PD_HEADER, [NEW, OLD])


def test_pagerduty_header_spacing_case_and_other_versions_are_tolerated() -> None:
    first, second = (s.strip() for s in PD_HEADER.split(","))
    verify_pagerduty(PD_RAW, f"v0=abc, {second.upper().replace('V1=', 'v1=')}", [OLD])
    verify_pagerduty(PD_RAW, f"  {first} ,v2=ffff", [NEW])


@pytest.mark.parametrize("header", [None, "", "   "])
def test_pagerduty_missing_header(header: str | None) -> None:
    with pytest.raises(MissingCredentialError, match="X-PagerDuty-Signature"):
        verify_pagerduty(PD_RAW, header, [NEW])


@pytest.mark.parametrize("header", ["26638e9c354b", "sha256=26638e9c", "v0=26638e9c", ","])
def test_pagerduty_malformed_header(header: str) -> None:
    with pytest.raises(MalformedCredentialError, match="v1="):
        verify_pagerduty(PD_RAW, header, [NEW])


def test_pagerduty_empty_body_is_malformed() -> None:
    with pytest.raises(MalformedCredentialError, match="empty body"):
        verify_pagerduty(b"", PD_HEADER, [NEW])


def test_pagerduty_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="no PagerDuty"):
        verify_pagerduty(PD_RAW, PD_HEADER, [])


def test_split_secrets_for_rotation() -> None:
    assert split_secrets(f" {OLD} , {NEW},,") == [OLD, NEW]
    assert split_secrets("") == []


# ----------------------------------------------------------------------------------- Grafana


def _grafana_headers(case: str) -> dict[str, Any]:
    headers: dict[str, Any] = GF[case]["headers"]
    return headers


def test_grafana_vector_without_timestamp() -> None:
    signature = _grafana_headers("without_timestamp")["X-Grafana-Alerting-Signature"]
    assert signature == hmac_sha256_hex(GF_SECRET, GF_RAW)
    verify_grafana(GF_RAW, signature, GF_SECRET)
    with pytest.raises(CredentialMismatchError):
        verify_grafana(GF_RAW, signature, "another-secret")
    with pytest.raises(CredentialMismatchError):
        verify_grafana(json.dumps(json.loads(GF_RAW)).encode(), signature, GF_SECRET)
    with pytest.raises(CredentialMismatchError):  # no "sha256=" prefix in Grafana's scheme
        verify_grafana(GF_RAW, f"sha256={signature}", GF_SECRET)


def test_grafana_vector_with_timestamp_inside_and_outside_the_window() -> None:
    headers = _grafana_headers("with_timestamp")
    ts_header = GF["with_timestamp"]["hmacConfig"]["timestampHeader"]
    timestamp, signature = headers[ts_header], headers["X-Grafana-Alerting-Signature"]
    sent = int(timestamp)

    def check(now: float, ts: str | None = timestamp, sig: str = signature) -> None:
        verify_grafana(
            GF_RAW,
            sig,
            GF_SECRET,
            timestamp_header=ts_header,
            timestamp=ts,
            now=now,
            max_skew_s=300,
        )

    check(sent)
    check(sent + 300)
    check(sent - 300)
    with pytest.raises(CredentialMismatchError, match="301s"):
        check(sent + 301)
    with pytest.raises(CredentialMismatchError, match="more than 300s"):
        check(sent - 301)  # far-future timestamps fail too
    with pytest.raises(CredentialMismatchError, match="does not match"):
        check(sent, ts=str(sent + 1))  # the timestamp is part of what was signed
    with pytest.raises(CredentialMismatchError, match="does not match"):
        check(sent, sig=_grafana_headers("without_timestamp")["X-Grafana-Alerting-Signature"])
    with pytest.raises(MissingCredentialError, match=ts_header):
        check(sent, ts=None)
    with pytest.raises(MalformedCredentialError, match="unix time"):
        check(sent, ts="2026-11-20T09:14:02Z")


def test_grafana_missing_signature_names_the_configured_header() -> None:
    with pytest.raises(MissingCredentialError, match="X-Custom-Sig"):
        verify_grafana(GF_RAW, None, GF_SECRET, signature_header="X-Custom-Sig")


# ------------------------------------------------------------------------- shared secrets


def _basic(userpass: str) -> str:
    return "Basic " + base64.b64encode(userpass.encode()).decode()


def test_bearer_tokens() -> None:
    verify_authorization("Bearer s3cret", bearer=["s3cret"])
    verify_authorization("bearer   s3cret ", bearer=["old", "s3cret"])
    with pytest.raises(CredentialMismatchError, match="wrong bearer"):
        verify_authorization("Bearer s3cre", bearer=["s3cret"])
    with pytest.raises(MissingCredentialError, match="Bearer"):
        verify_authorization(None, bearer=["s3cret"])
    with pytest.raises(CredentialMismatchError, match="not accepted"):
        verify_authorization(_basic("am:s3cret"), bearer=["s3cret"])


def test_basic_auth_and_either_scheme() -> None:
    verify_authorization(_basic("am:pa:ss"), basic="am:pa:ss")
    verify_authorization(_basic("am:pa:ss"), bearer=["tok"], basic="am:pa:ss")
    verify_authorization("Bearer tok", bearer=["tok"], basic="am:pa:ss")
    with pytest.raises(CredentialMismatchError, match="basic-auth"):
        verify_authorization(_basic("am:wrong"), basic="am:pa:ss")
    with pytest.raises(MalformedCredentialError, match="base64"):
        verify_authorization("Basic !!not-base64!!", basic="am:pa:ss")
    with pytest.raises(CredentialMismatchError, match="not accepted"):
        verify_authorization("Bearer tok", basic="am:pa:ss")
    with pytest.raises(ValueError, match="no token"):
        verify_authorization("Bearer tok")


def test_header_token() -> None:
    verify_header_token("og-token", "og-token", "X-Ddrun-Token")
    with pytest.raises(CredentialMismatchError, match="X-Ddrun-Token"):
        verify_header_token("og-tokeN", "og-token", "X-Ddrun-Token")
    with pytest.raises(MissingCredentialError):
        verify_header_token(None, "og-token", "X-Ddrun-Token")
    with pytest.raises(MissingCredentialError):
        verify_header_token(" ", "og-token", "X-Ddrun-Token")
