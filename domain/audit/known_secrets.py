"""The values of the secrets this process holds, so output that prints them can be redacted.

Patterns only catch secrets that look like secrets; a step that runs `env` prints the agent's
own keys (`DDRUN_PAYLOAD_KEY`, PagerDuty routing keys, ...) which may look like anything. So
the values themselves are collected: every secret field of `Settings` and every environment
variable whose name says it holds one (or whose value is a URL with a password), together with
the encodings they travel in (base64, URL-encoding, JSON escaping).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import quote, quote_plus, urlsplit

from pydantic import BaseModel, SecretBytes, SecretStr

from domain.audit.redact import DEFAULT_REPLACEMENT, Redactor, is_sensitive_key

# Shorter values (`1`, `true`, `admin`) would redact ordinary words everywhere.
MIN_LENGTH = 6
_NAME_WORDS = frozenset(
    {
        "KEY",
        "KEYS",
        "APIKEY",
        "TOKEN",
        "TOKENS",
        "SECRET",
        "SECRETS",
        "PASSWORD",
        "PASSWORDS",
        "PASSWD",
        "PASS",
        "PWD",
        "PASSPHRASE",
        "CREDENTIAL",
        "CREDENTIALS",
        "CREDS",
        "AUTH",
        "DSN",
        "PRIVATE",
        "COOKIE",
        "SIGNATURE",
    }
)
# Names that carry one of the words but hold no secret: the shell's working directories, and
# settings naming a header or a file rather than holding a value.
_NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD"})
_NOT_SECRET_SUFFIXES = ("_HEADER", "_FILE", "_PATH", "_DIR", "_SOCK")
_QUALIFIERS = frozenset(
    {"BASE", "VALUE", "PROD", "PRODUCTION", "STAGING", "DEV", "TEST", "OLD", "NEW", "CURRENT"}
    | {"PREVIOUS", "NEXT", "PRIMARY", "SECONDARY", "B64", "BASE64"}
)
# A short plain word or number (`password`, `bearer`, `8080`) under a secret-looking name is a
# setting, not a secret; hiding it everywhere would also hide the context other rules need.
_PLAIN_WORD = re.compile(r"[A-Za-z]{1,11}|[0-9]{1,9}")
_USERINFO = re.compile(r"[a-z][a-z0-9+.-]*://[^\s/?#@]*@", re.IGNORECASE)


def is_secret_env_name(name: str) -> bool:
    """`DDRUN_PAYLOAD_KEY`, `AWS_SECRET_ACCESS_KEY`, `SENTRY_DSN`, `DB_PASSWORD_2`,
    `dbPassword`; not `OLDPWD`, `REDIS_AUTH_HOST` or `DB_PASSWORD_FILE`.

    The secret word must end the name (before a qualifier such as `_PROD` or `_2`): a word in
    the middle names what the variable configures (`AUTH_HOST`), not what it holds."""
    upper = name.upper()
    if upper in _NOT_SECRET_NAMES or upper.endswith(_NOT_SECRET_SUFFIXES):
        return False
    words = [w for w in re.split(r"[_\-.]+", upper) if w]
    while len(words) > 1 and (words[-1] in _QUALIFIERS or words[-1].isdigit()):
        words.pop()
    return bool(words and words[-1] in _NAME_WORDS) or is_sensitive_key(name)


def _url_password(value: str) -> Iterator[str]:
    if not _USERINFO.search(value):
        return
    for match in _USERINFO.finditer(value):
        try:
            parts = urlsplit(match.group(0) + "host")
        except ValueError:
            continue
        if parts.password:
            yield parts.password
        elif parts.username and len(parts.username) >= 16:  # `https://<token>@github.com`
            yield parts.username


def _expand(value: str) -> Iterator[str]:
    """The value, its URL password, the password of a `user:password` pair, and the items of
    a JSON list/object it may be."""
    yield value
    yield from _url_password(value)
    user, colon, password = value.partition(":")
    if colon and user and password and not re.search(r"\s|//|^[\[{]", value):
        yield password
    if value[:1] in "[{":
        try:
            parsed = json.loads(value)
        except ValueError:
            return
        items = parsed.values() if isinstance(parsed, dict) else parsed
        if isinstance(items, Iterable):
            for item in items:
                if isinstance(item, str):
                    yield from _expand(item)


def environment_secrets(environ: Mapping[str, str]) -> set[str]:
    """Values of the variables whose name says secret, and passwords of any URL value."""
    found: set[str] = set()
    for name, value in environ.items():
        if is_secret_env_name(name):
            found.update(_expand(value))
        else:
            found.update(_url_password(value))
    return found


def _plain(value: object) -> Iterator[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, SecretBytes):
        yield value.get_secret_value().decode(errors="replace")
    elif isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _plain(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _plain(item)


def _holds_secret(value: object) -> bool:
    if isinstance(value, SecretStr | SecretBytes):
        return True
    if isinstance(value, Mapping):
        return any(_holds_secret(v) for v in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_secret(v) for v in value)
    return False


def settings_secrets(settings: BaseModel) -> set[str]:
    """Every `SecretStr` field (also inside lists), fields named like secrets, URL passwords."""
    found: set[str] = set()
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if _holds_secret(value) or is_sensitive_key(name):
            for plain in _plain(value):
                found.update(_expand(plain))
        else:
            for plain in _plain(value):
                found.update(_url_password(plain))
    return found


def _encodings(value: str) -> Iterator[str]:
    yield value
    yield quote(value, safe="")
    yield quote_plus(value, safe="")
    yield json.dumps(value)[1:-1]
    raw = value.encode()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        yield text
        yield text.rstrip("=")


def usable(values: Iterable[str], replacement: str = DEFAULT_REPLACEMENT) -> list[str]:
    """The values worth matching, with their encodings, longest first (so a key that contains
    another is hidden whole); too-short values and plain words are left out."""
    out: set[str] = set()
    for value in values:
        value = value.strip()
        if len(value) < MIN_LENGTH or _PLAIN_WORD.fullmatch(value):
            continue
        for encoded in _encodings(value):
            if len(encoded) >= MIN_LENGTH and encoded not in replacement:
                out.add(encoded)
    return sorted(out, key=lambda v: (-len(v), v))


def redactor_for(
    settings: BaseModel,
    environ: Mapping[str, str] | None = None,
    patterns: Iterable[str] = (),
) -> Redactor:
    """A `Redactor` that also hides this process's own secrets; build once per process."""
    values = settings_secrets(settings)
    if environ is not None:
        values |= environment_secrets(environ)
    return Redactor(patterns, secrets=usable(values))
