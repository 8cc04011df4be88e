"""The agent hides the values of its own secrets (#16): every secret setting, every secret-named
environment variable, in the encodings they are printed in."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
from pydantic import SecretStr

from domain.audit.known_secrets import (
    environment_secrets,
    is_secret_env_name,
    redactor_for,
    settings_secrets,
)
from domain.audit.redact import DEFAULT_REPLACEMENT as R
from schemas.settings import Settings


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DDRUN_PAYLOAD_KEY", True),
        ("DDRUN_PAGERDUTY_ROUTING_KEYS", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("GITHUB_TOKEN", True),
        ("PGPASSWORD", True),
        ("MYSQL_PWD", True),
        ("SENTRY_DSN", True),
        ("GOOGLE_CREDENTIALS", True),
        ("dbPassword", True),
        ("PWD", False),
        ("OLDPWD", False),
        ("DDRUN_OPSGENIE_TOKEN_HEADER", False),
        ("DB_PASSWORD_FILE", False),
        ("SSH_AUTH_SOCK", False),
        ("HOME", False),
        ("KEYBOARD_LAYOUT", False),
        ("REDIS_AUTH_HOST", False),
        ("SECRET_KEY_BASE", True),
        ("DB_PASSWORD_2", True),
        ("DDRUN_ALERTMANAGER_BASIC_AUTH", True),
        ("DDRUN_SLACK_SIGNING_SECRET", True),
    ],
)
def test_secret_environment_names(name: str, secret: bool) -> None:
    assert is_secret_env_name(name) is secret


def test_environment_values_json_items_and_url_passwords() -> None:
    found = environment_secrets(
        {
            "DDRUN_PAGERDUTY_ROUTING_KEYS": json.dumps(["rk-one-111111", "rk-two-222222"]),
            "ORDERS_DATABASE_URL": "postgresql://app:db-pw-123@db:5432/orders",
            "DDRUN_ALERTMANAGER_BASIC_AUTH": "ddrun:am-basic-pw",
            "HOME": "/root",
        }
    )
    assert {"rk-one-111111", "rk-two-222222", "db-pw-123", "am-basic-pw"} <= found
    assert "/root" not in found


def _secret_fields() -> list[str]:
    return [
        name
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    ]


def test_every_secret_setting_is_collected() -> None:
    """A SecretStr setting added later is collected without anyone listing it."""
    fields = _secret_fields()
    assert {"payload_key", "pagerduty_routing_keys", "slack_bot_token"} <= set(fields)
    values: dict[str, Any] = {}
    for i, name in enumerate(fields):
        value = SecretStr(f"planted-{name}-{i}")
        values[name] = [value] if name == "pagerduty_routing_keys" else value
    settings = Settings(**values, database_url="postgresql+asyncpg://app:dbpw-xyz@db/app")
    found = settings_secrets(settings)
    assert {f"planted-{name}-{i}" for i, name in enumerate(fields)} <= found
    assert "dbpw-xyz" in found


def test_values_and_their_encodings_are_redacted_but_not_short_words() -> None:
    key = "q8V3nR6tY1wZ4cF7hJ0kM2pS5uX9bD3gL6oQ1eT4iA8="
    settings = Settings(payload_key=SecretStr(key), codec_token=SecretStr("bearer"))
    redactor = redactor_for(settings, {"APP_SECRET": "s3cr/t+value&x", "AUTH_MODE": "password"})
    b64 = base64.b64encode(key.encode()).decode()
    text = f"k={key} b={b64} u={quote('s3cr/t+value&x', safe='')} mode=password bearer"
    out = redactor.redact(text)
    assert out == f"k={R} b={R} u={R} mode=password bearer"
