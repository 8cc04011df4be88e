"""Free-text redaction (#16): secrets with no key name in front of them, and the long random
words the audit itself is full of, which must come through untouched."""

from __future__ import annotations

import hashlib
import random
import string
import uuid

import pytest

from domain.audit.entropy import is_aws_secret_key, is_high_entropy
from domain.audit.redact import DEFAULT_REPLACEMENT, Redactor

R = DEFAULT_REPLACEMENT
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKY"
RANDOM_TOKEN = "Zx8Qp2Lm9Rt4Vw7Ky3Nb6Hc1Jd5Fg0Sa"


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()


POSITIVE = [
    # (text, secret, context that stays)
    ("Checkout DB: the password is hunter2-xyz", "hunter2-xyz", "the password is " + R),
    ("password was 'correct horse'", "correct horse", "password was '" + R + "'"),
    ("login with pwd=Sup3rS3cret please", "Sup3rS3cret", "pwd=" + R),
    ("secret=abc123def", "abc123def", "secret=" + R),
    ("the api key is k-9x8y7z6", "k-9x8y7z6", "the api key is " + R),
    ("leaked " + AWS_SECRET + " in the log", AWS_SECRET, "leaked " + R + " in the log"),
    ("aws_secret_access_key = " + AWS_SECRET, AWS_SECRET, "aws_secret_access_key = " + R),
    ("token " + RANDOM_TOKEN + " expires", RANDOM_TOKEN, "token " + R + " expires"),
    ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc", "sk_test_" + R),
    ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_" + R),
    ("AccountName=x;AccountKey=abc/def+ghi==;", "abc/def+ghi==", "AccountKey=" + R + ";"),
    (
        "https://grafana.example.com/explore?orgId=1&token=t0k3n-value&from=now-1h",
        "t0k3n-value",
        "?orgId=1&token=" + R + "&from=now-1h",
    ),
    ("https://s3.example.com/b/o?X-Amz-Signature=ab12cd34", "ab12cd34", "X-Amz-Signature=" + R),
    ("https://acct.blob.core.windows.net/c/b?sv=2020&sig=Zm9vYmFy%3D", "Zm9vYmFy", "sig=" + R),
    ("https://api.example.com/v1?key=AIzaXYZ&q=1", "AIzaXYZ", "?key=" + R + "&q=1"),
    ("https://docs.example.com/d/" + RANDOM_TOKEN + "/edit", RANDOM_TOKEN, "/d/" + R + "/edit"),
]


@pytest.mark.parametrize(("text", "secret", "context"), POSITIVE)
def test_free_text_secret_is_removed_and_context_kept(
    redactor: Redactor, text: str, secret: str, context: str
) -> None:
    out = redactor.redact(text)
    assert secret not in out, out
    assert context in out, out


SHA256 = hashlib.sha256(b"audit record").hexdigest()
NOT_SECRETS = [
    SHA256,
    f"prev_hash={SHA256}",  # `hash` is not a secret's key name
    "sha256:" + SHA256,
    "registry.example.com/payments/api@sha256:" + SHA256,
    "commit 3f2a9b1c4d5e6f708192a3b4c5d6e7f8091a2b3c",  # git SHA
    str(uuid.UUID("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")),
    "run 9bcfa94a-92ea-45b0-aa49-fc3ec75eee00 completed",
    "pod payment-service-canary-7d4b9c8f6d-x2x9q restarted",
    "HOSTNAME=payments-api-5f7b8c9d4-abcde",
    "event 01JD2Q9W8E3K5M7N9P1R3T5V7X",  # ULID (PagerDuty event id)
    "KubePodCrashLooping2024Payments",
    "NooBaaSystemCapacityWarning85",
    "KubePodCrashLooping2bf5c9f1-03307206158f47f9",  # an alert name with a test's suffix
    "PaymentsApiV2Deploymentb7c4e9a1f3",
    "ReplicaSetCreateFailedForDeploymentPaymentsApi",
    "java.lang.IllegalStateException: ConnectionPoolTimeoutException2",
    "/var/lib/docker/overlay2/ABCDEFGHIJ2KLMNOP3QRSTUVWXYZ/diff",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "PWD=/work/app",
    "https://grafana.example.com/d/abc123/payments?orgId=1&var-namespace=payments&from=now-1h",
    "http://prometheus:9090/graph?g0.expr=up%7Bjob%3D%22api%22%7D&g0.tab=1",
    "The password is incorrect",
    "token was expired.",
    "the secret is misconfigured.",
    "incident-generic-Audit1a2b3c4d",
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_audit_identifiers_and_ordinary_words_are_untouched(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text) == text


def test_entropy_checks_directly() -> None:
    assert is_high_entropy(RANDOM_TOKEN)
    assert not is_high_entropy(SHA256)
    assert not is_high_entropy("payment-service-canary-7d4b9c8f6d-x2x9q")
    assert is_aws_secret_key(AWS_SECRET)
    assert not is_aws_secret_key(SHA256[:40])
    assert not is_aws_secret_key("ReplicaSetCreateFailedForDeploymentPayme")


def test_literal_secrets_are_hidden_wherever_they_appear() -> None:
    redactor = Redactor(secrets=["plain-v4lue-123", "plain-v4lue-123-longer"])
    out = redactor.redact("a=plain-v4lue-123-longer b:plain-v4lue-123c")
    assert out == f"a={R} b:{R}c"
    assert redactor.redact(out) == out


def test_random_tokens_are_caught_as_a_rule() -> None:
    """A last-resort net, not a guarantee: 95% of random 24 to 40 character keys are caught."""
    rng = random.Random(16)  # noqa: S311 - reproducible samples, not keys
    alphabet = string.ascii_letters + string.digits
    tokens = ["".join(rng.choices(alphabet, k=n)) for n in (24, 32, 40) for _ in range(300)]
    caught = sum(is_high_entropy(t) for t in tokens)
    assert caught >= 0.95 * len(tokens), caught
