"""What each alert source can prove about a request, checked in constant time.

PagerDuty and Grafana sign the raw body with HMAC-SHA256 (contracts/README.md §1); Alertmanager,
Opsgenie and the generic webhook can only present a shared secret (bearer, basic or a custom
header). Always verify the bytes as received: re-encoded JSON never verifies.

Errors say what was wrong without echoing any secret; callers map them to HTTP statuses
(PagerDuty's reference verifier: missing or malformed → 400, no match → 403).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Sequence


class VerificationError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingCredentialError(VerificationError):
    """The request carries no signature or token at all."""


class MalformedCredentialError(VerificationError):
    """A signature or token is present but cannot be checked (bad format, empty body)."""


class CredentialMismatchError(VerificationError):
    """Checked and wrong: no signature matches, wrong token, or a timestamp out of its window."""


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def split_secrets(value: str) -> list[str]:
    """`old,new` while a secret rotates: every non-empty entry, in order."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _any_equal(expected: Sequence[bytes], given: Sequence[bytes]) -> bool:
    # Every pair is compared (no early exit), each in constant time.
    matched = False
    for mine in expected:
        for theirs in given:
            matched |= hmac.compare_digest(mine, theirs)
    return matched


def verify_pagerduty(raw: bytes, header: str | None, secrets: Sequence[str]) -> None:
    """`X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`: valid if any of our secrets (several while
    rotating) produced any of the signatures."""
    if not secrets:
        raise ValueError("no PagerDuty webhook secret to verify with")
    if header is None or not header.strip():
        raise MissingCredentialError("missing X-PagerDuty-Signature header")
    if not raw:
        raise MalformedCredentialError("empty body: nothing to verify")
    given = [
        entry.strip()[3:].lower().encode()
        for entry in header.split(",")
        if entry.strip().startswith("v1=")
    ]
    if not given:
        raise MalformedCredentialError("X-PagerDuty-Signature has no v1=<hex> signature")
    expected = [hmac_sha256_hex(secret, raw).encode() for secret in secrets]
    if not _any_equal(expected, given):
        raise CredentialMismatchError("X-PagerDuty-Signature matches none of our secrets")


def verify_grafana(
    raw: bytes,
    signature: str | None,
    secret: str,
    *,
    signature_header: str = "X-Grafana-Alerting-Signature",
    timestamp_header: str | None = None,
    timestamp: str | None = None,
    now: float | None = None,
    max_skew_s: int = 300,
) -> None:
    """Bare hex HMAC-SHA256 of the body, or of `timestamp:body` when the contact point has a
    timestamp header configured; then the timestamp must be within `max_skew_s` of `now`."""
    if signature is None or not signature.strip():
        raise MissingCredentialError(f"missing {signature_header} header")
    message = raw
    if timestamp_header is not None:
        if timestamp is None or not timestamp.strip():
            raise MissingCredentialError(f"missing {timestamp_header} header")
        if not timestamp.strip().isdigit():
            raise MalformedCredentialError(f"{timestamp_header} is not a unix time in seconds")
        message = timestamp.strip().encode() + b":" + raw
    expected = hmac_sha256_hex(secret, message).encode()
    if not hmac.compare_digest(expected, signature.strip().lower().encode()):
        raise CredentialMismatchError(f"{signature_header} does not match the body")
    if timestamp is not None and timestamp_header is not None:
        skew = abs((time.time() if now is None else now) - int(timestamp.strip()))
        if skew > max_skew_s:
            raise CredentialMismatchError(
                f"{timestamp_header} is {skew:.0f}s from our clock (more than {max_skew_s}s)"
            )


def verify_authorization(
    header: str | None, *, bearer: Sequence[str] = (), basic: str | None = None
) -> None:
    """`Authorization: Bearer <token>` (any of `bearer`) or `Basic <base64 user:password>`."""
    accepted = " or ".join(s for s, on in (("Bearer", bearer), ("Basic", basic)) if on)
    if not accepted:
        raise ValueError("no token or basic credentials to verify with")
    if header is None or not header.strip():
        raise MissingCredentialError(f"missing Authorization header ({accepted})")
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and bearer:
        if not _any_equal([t.encode() for t in bearer], [credentials.encode()]):
            raise CredentialMismatchError("wrong bearer token")
        return
    if scheme.lower() == "basic" and basic is not None:
        try:
            decoded = base64.b64decode(credentials, validate=True)
        except (binascii.Error, ValueError) as err:
            raise MalformedCredentialError("Basic credentials are not valid base64") from err
        if not hmac.compare_digest(decoded, basic.encode()):
            raise CredentialMismatchError("wrong basic-auth user or password")
        return
    # Never echo what was sent: a header without a scheme is the secret itself.
    shown = scheme if scheme.isalpha() and len(scheme) <= 10 else "(not a scheme)"
    raise CredentialMismatchError(f"Authorization scheme {shown!r} not accepted ({accepted})")


def verify_header_token(value: str | None, expected: str, header: str) -> None:
    """A shared secret in a custom header (Opsgenie's integration headers)."""
    if value is None or not value.strip():
        raise MissingCredentialError(f"missing {header} header")
    if not hmac.compare_digest(value.strip().encode(), expected.encode()):
        raise CredentialMismatchError(f"wrong {header} token")
