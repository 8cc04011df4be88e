"""Remove credentials from text and JSON-like data before it becomes audit evidence.

Rules keep the context (`password=[REDACTED]`, `ghp_[REDACTED]`) so evidence stays readable.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar, cast

from domain.audit.entropy import is_aws_secret_key, is_high_entropy

DEFAULT_REPLACEMENT = "[REDACTED]"
_MAX_PASSES = 4

T = TypeVar("T")

# Key names whose value is a secret when they end the key: `DB_PASSWORD`, `dbPassword`,
# `aws_secret_access_key`, `X-Api-Key`, `routing_key` (PagerDuty), `MYSQL_PWD`, ...
_KEYWORDS = (
    r"pass(?:word|wd|phrase)|pwd|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|secret[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key"
    r"|session[_-]?key|routing[_-]?key|integration[_-]?key|service[_-]?key|client[_-]?secret"
    r"|account[_-]?key|shared[_-]?access[_-]?key"
)
_SENSITIVE_KEY = re.compile(
    r"(?i)(?:" + _KEYWORDS + r"|authorization|proxy[_-]?authorization|cookie|credentials?|auth)$"
)
# A value as it appears after `key=` / `key: `: escaped-JSON string, JSON string, shell single
# quotes, or a bare word (which stops at whitespace and the usual delimiters).
_VALUE = (
    r"""\\"[^"\n]*?\\"|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'"""
    r"""|\$\{[^}\s]*\}(?![^\s"',;&)}\]])|\$\([^)\n]*\)|[^\s"',;&)}\]]+"""
)
_NOT_SECRETS = frozenset({"true", "false", "null", "none", "nil", "<none>", "yes", "no", "~"})
_ENV_REF = re.compile(r"^(?:\$\{[^}]*\}|\$\(.*|\$[A-Z_][A-Z0-9_]*|\{\{.*\}\}|\*+)$", re.DOTALL)


def is_sensitive_key(name: str) -> bool:
    """Whether a field named `name` holds a secret (`password`, `dbPassword`, `X-Api-Key`, ...)."""
    key = name.strip().strip("\"'")
    match = _SENSITIVE_KEY.search(key)
    if not match:
        return False
    word = key[match.start() :]
    if word.lower() in {"pwd", "auth"}:
        # Short words only at a word boundary: `MYSQL_PWD` and `basicAuth`, not `OLDPWD`/`oauth`.
        if match.start() == 0:
            return word.lower() == "auth" or len(key) > 3
        before = key[match.start() - 1]
        camel = before.islower() and word[0].isupper()
        return before in "_.- " or camel
    return True


def _unquote(value: str) -> str:
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return value[len(quote) : -len(quote)]
    return value


def _quoted(value: str, replacement: str) -> str:
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return quote + replacement + quote
    return replacement


def _plausible_secret(value: str) -> bool:
    """False for values that only look like an assignment: refs, placeholders, booleans."""
    inner = _unquote(value).strip()
    if not inner or inner.lower() in _NOT_SECRETS or inner.startswith("<"):
        return False
    return not _ENV_REF.match(inner)


def _is_basic_credential(value: str) -> bool:
    """`Basic <b64>` outside a header is only a credential when it decodes to `user:pass`."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return ":" in text and text.isprintable()


def _overlaps(text: str, start: int, end: int, replacement: str) -> bool:
    """Whether [start, end) touches an earlier replacement: keeps `redact` idempotent."""
    stop = max(end, start + 1) + len(replacement) - 1
    return text.find(replacement, max(0, start - len(replacement) + 1), stop) != -1


Accept = Callable[[re.Match[str]], bool]


def _accept_value(match: re.Match[str]) -> bool:
    return _plausible_secret(match.group("v"))


def _accept_key_value(match: re.Match[str]) -> bool:
    key = match.group("k").lstrip("-")
    if key.lower() == "pwd":
        # `pwd=hunter2` is a password; the shell's `PWD=/home/app` is a directory.
        return not _unquote(match.group("v")).startswith(("/", "~")) and _accept_value(match)
    return is_sensitive_key(key) and _accept_value(match)


def _accept_any(_match: re.Match[str]) -> bool:
    return True


def _accept_basic(match: re.Match[str]) -> bool:
    return _is_basic_credential(match.group("v"))


# Query parameters that carry a credential though their name is not one of `_KEYWORDS`:
# bare `key`, signed-URL signatures (S3, GCS, CloudFront, Azure SAS `sig`), OAuth codes.
_SENSITIVE_PARAMS = frozenset(
    {
        "key",
        "sig",
        "signature",
        "code",
        "jwt",
        "session",
        "sessionid",
        "hmac",
        "otp",
        "ticket",
        "pass",
        "pw",
        "policy",
        "credential",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "key-pair-id",
        "googleaccessid",
    }
)


def _accept_query_param(match: re.Match[str]) -> bool:
    name = match.group("k")
    sensitive = name.lower() in _SENSITIVE_PARAMS or is_sensitive_key(name)
    return sensitive and _accept_value(match)


# Words after "password is" that describe it rather than being it.
_DESCRIPTION = re.compile(
    r"an?|the|is|was|not|set|to|be|been|being|now|also|and|or|for|of|in|on|at|ok|too|very"
    r"|still|(?:in)?correct|(?:in)?valid|wrong|expired|required|missing|empty|changed|reset"
    r"|rotated|weak|strong|short|long|blank|unset|null|none|undefined|revoked|stale|old|new"
    r"|same|different|needed|(?:un)?known|stored|saved|here|below|above"
)


def _accept_prose(match: re.Match[str]) -> bool:
    word = _unquote(match.group("v")).strip(".,;:!?)`")
    if not word or _DESCRIPTION.fullmatch(word.lower()) or not _accept_value(match):
        return False
    # "the secret is misconfigured" talks about a Kubernetes Secret; only a password is
    # plausibly a plain word, other subjects need a value that is not one.
    return match.group("k").lower().startswith("pass") or not word.isalpha()


def _accept_aws_secret(match: re.Match[str]) -> bool:
    return is_aws_secret_key(match.group("v"))


def _accept_high_entropy(match: re.Match[str]) -> bool:
    return is_high_entropy(match.group("v"))


@dataclass(frozen=True)
class _Rule:
    """A pattern whose group `v` (or `group`) is the secret; the rest of the match is kept."""

    name: str
    regex: re.Pattern[str]
    accept: Accept = _accept_value
    group: str | int = "v"
    keep_quotes: bool = True
    keep_space: bool = False


def _rule(name: str, pattern: str, accept: Accept = _accept_value, **kw: bool) -> _Rule:
    return _Rule(name, re.compile(pattern), accept, **kw)


_BUILTIN: tuple[_Rule, ...] = (
    _rule(
        "pem-private-key",
        r"(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?P<v>.*?)"
        r"(?=-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        _accept_any,
        keep_space=True,
        keep_quotes=False,
    ),
    _rule(
        "url-credentials",
        r"(?i)\b[a-z][a-z0-9+.-]*://[^:/?#@\s\"'<>]*:(?P<v>[^@/\s\"'<>]+)(?=@)",
        keep_quotes=False,
    ),
    _rule(
        "authorization-header",
        r"(?i)\b(?:proxy-)?authorization\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?"
        r"(?:(?:bearer|basic|token|digest|negotiate|apikey|sso-key|ssws|hmac)[ \t]+)?"
        r"(?P<v>[^\s\"'\\][^\r\n\"'\\]*)",
        keep_quotes=False,
    ),
    _rule(
        "cookie-header",
        r"(?im)^[ \t]*(?:[<>][ \t]*)?(?:set-)?cookie[ \t]*:[ \t]*(?P<v>[^\r\n]+)",
        keep_quotes=False,
    ),
    _rule("bearer-token", r"(?i)\bbearer[ \t]+(?P<v>[A-Za-z0-9._~+/-]{16,}=*)", keep_quotes=False),
    _rule(
        "basic-credential",
        r"\bBasic[ \t]+(?P<v>[A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])",
        _accept_basic,
    ),
    _rule(
        "k8s-env-yaml",
        r"(?im)^[ \t-]*name:[ \t]*[\"']?(?P<k>[A-Za-z0-9_.-]*?(?:" + _KEYWORDS + r"))[\"']?"
        r"[ \t]*\r?\n[ \t]*value:[ \t]*(?P<v>" + _VALUE + r")",
        _accept_key_value,
    ),
    _rule(
        "k8s-env-json",
        r"(?i)\\?\"name\\?\"[ \t]*:[ \t]*\\?\"(?P<k>[A-Za-z0-9_.-]*?(?:" + _KEYWORDS + r"))\\?\""
        r"[ \t]*,[ \t]*\\?\"value\\?\"[ \t]*:[ \t]*(?P<v>" + _VALUE + r")",
        _accept_key_value,
    ),
    _rule(
        "key-value",
        r"(?i)(?<![A-Za-z0-9_])(?P<k>[A-Za-z0-9_.-]*?(?:" + _KEYWORDS + r"))"
        r"(?:\\?[\"'])?[ \t]*(?::=|=>|=|:)[ \t]*(?P<v>" + _VALUE + r")",
        _accept_key_value,
    ),
    _rule(
        "cli-flag",
        r"(?i)(?<![\w-])(?P<k>--?(?:[a-z0-9]+-)*(?:password|passwd|token|secret|api-key|apikey"
        r"|access-key|secret-key|client-secret|auth-token))[ \t]+(?P<v>\"[^\"\n]*\"|'[^'\n]*'"
        r"|[^\s\"'-]\S*)",
        _accept_key_value,
    ),
    _rule(
        "curl-user",
        r"\b(?:curl|wget)\b[^\n|;]*?\s(?:-u|--user|--proxy-user|--http-password|--password)"
        r"(?:[ \t]+|=)[\"']?[^\s:\"'@]*:?(?P<v>[^\s\"']+)",
    ),
    _rule(
        "mysql-p",
        r"\bmysql(?:dump|admin|import|show|check|slap|binlog)?\b[^\n|;]*?\s-p"
        r"(?P<v>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'-]\S*)",
    ),
    _rule(
        "cli-password-arg",
        r"\b(?:redis-cli\b[^\n|;]*?\s-a|sshpass\b[^\n|;]*?\s-p)[ \t]+"
        r"(?P<v>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'-]\S*)",
    ),
    _rule(
        "aws-access-key-id",
        r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)"
        r"(?P<v>[A-Z0-9]{16})\b",
        _accept_any,
    ),
    _rule("github-token", r"\bgh[pousr]_(?P<v>[A-Za-z0-9]{36,251})\b", _accept_any),
    _rule("github-pat", r"\bgithub_pat_(?P<v>[A-Za-z0-9_]{22,255})", _accept_any),
    _rule("gitlab-token", r"\bglpat-(?P<v>[A-Za-z0-9_-]{20,})", _accept_any),
    _rule("slack-token", r"\bxox[abposre]-(?P<v>[A-Za-z0-9-]{10,})", _accept_any),
    # dd0c/run's own API tokens (db/people.py): the id may stay, the secret never.
    _rule("ddrun-token", r"\bddr_[0-9a-f]{12}_(?P<v>[A-Za-z0-9_-]{20,})", _accept_any),
    _rule("slack-app-token", r"\bxapp-(?P<v>[A-Za-z0-9-]{10,})", _accept_any),
    _rule(
        "slack-webhook",
        r"https://hooks\.slack\.com/(?:services|workflows)/[A-Z0-9]+/[A-Z0-9]+/"
        r"(?P<v>[A-Za-z0-9]{16,})",
        _accept_any,
    ),
    _rule("stripe-key", r"\b(?:sk|rk)_(?:live|test)_(?P<v>[A-Za-z0-9]{16,})", _accept_any),
    _rule("stripe-webhook-secret", r"\bwhsec_(?P<v>[A-Za-z0-9+/=]{16,})", _accept_any),
    _rule("google-api-key", r"\bAIza(?P<v>[0-9A-Za-z_-]{35})\b", _accept_any),
    _rule("npm-token", r"\bnpm_(?P<v>[A-Za-z0-9]{36})\b", _accept_any),
    _rule("openai-style-key", r"\bsk-(?:proj-|ant-)?(?P<v>[A-Za-z0-9_-]{32,})", _accept_any),
    _rule(
        "jwt",
        r"\b(?P<v>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})",
        _accept_any,
    ),
    _rule(
        "url-query-param",
        r"[?&;#](?P<k>[A-Za-z0-9_.\[\]-]+)=(?P<v>[^&#\s\"'<>\\]+)",
        _accept_query_param,
        keep_quotes=False,
    ),
    _rule(
        "password-in-prose",
        r"(?i)\b(?P<k>pass(?:word|wd|phrase|code)|pwd|pin|secret|token|api[ _-]?key|credentials?)"
        r"[ \t]+(?:is|was)[ \t]+(?:now[ \t]+|still[ \t]+|set[ \t]+to[ \t]+)?"
        r"(?P<v>\"[^\"\n]*\"|'[^'\n]*'|`[^`\n]*`|[^\s\"',;]+)",
        _accept_prose,
    ),
    _rule(
        "aws-secret-access-key",
        r"(?<![A-Za-z0-9/+=])(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        _accept_aws_secret,
    ),
    # Last: anything long and random that no named rule explained.
    _rule(
        "high-entropy",
        r"(?<![A-Za-z0-9+=_-])(?P<v>[A-Za-z0-9+_-]{20,}={0,2})(?![A-Za-z0-9+=_-])",
        _accept_high_entropy,
    ),
)

# Kubernetes Secret manifests: values under `data:` / `stringData:` are the secret itself.
_K8S_KIND_YAML = re.compile(r"""(?m)^[ \t-]*kind:[ \t]*["']?Secret["']?[ \t]*\r?$""")
_K8S_KIND_JSON = re.compile(r"""\\?"kind\\?"[ \t]*:[ \t]*\\?"Secret\\?\"""")
_K8S_DATA_LINE = re.compile(r"^([ \t]*)(?:data|stringData):[ \t]*\r?$")
_K8S_ENTRY = re.compile(r"^([ \t]*[^\s:#][^:]*:[ \t]*)(.*?)([ \t]*\r?)$")
_K8S_DATA_JSON = re.compile(
    r"""(?P<q>\\?")(?:data|stringData)(?P=q)[ \t\r\n]*:[ \t\r\n]*\{(?P<body>[^{}]*)\}"""
)
_K8S_PAIR_PLAIN = re.compile(r'("(?:[^"\\\n]|\\.)*"[ \t\r\n]*:[ \t\r\n]*)"(?:[^"\\\n]|\\.)*"')
_K8S_PAIR_ESCAPED = re.compile(r'(\\"[^"\\]*\\"[ \t\r\n]*:[ \t\r\n]*)\\".*?\\"(?=\s*[,}])')
_BLOCK_SCALARS = frozenset({"|", "|-", "|+", ">", ">-", ">+"})


class Redactor:
    """Replaces secrets in text (`redact`) and in JSON-like data (`redact_obj`).

    `patterns` are extra regular expressions: a named group `secret` marks the part to hide,
    otherwise the whole match is hidden. `secrets` are literal values hidden wherever they
    appear, whatever surrounds them (see `known_secrets`); they are compiled once, here, so
    build one Redactor per process. `redact` is idempotent.
    """

    def __init__(
        self,
        patterns: Iterable[str] = (),
        replacement: str = DEFAULT_REPLACEMENT,
        *,
        secrets: Iterable[str] = (),
    ):
        if not replacement:
            raise ValueError("replacement must not be empty")
        self.replacement = replacement
        literals = sorted({s for s in secrets if s and s not in replacement}, key=len, reverse=True)
        self._known = re.compile("|".join(map(re.escape, literals))) if literals else None
        extra: list[_Rule] = []
        for pattern in patterns:
            try:
                regex = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad redaction pattern {pattern!r}: {exc}") from exc
            group: str | int = "secret" if "secret" in regex.groupindex else 0
            extra.append(_Rule(f"custom:{pattern}", regex, _accept_custom(group), group))
        self._rules = (*_BUILTIN, *extra)

    def redact(self, text: str) -> str:
        """`text` with every recognised secret replaced; the key names around them are kept."""
        if self._known is not None:
            text = self._known.sub(self.replacement, text)
        for _ in range(_MAX_PASSES):
            before = text
            text = self._k8s_secret(text)
            for rule in self._rules:
                text = rule.regex.sub(self._replacer(rule), text)
            if text == before:
                break
        return text

    def redact_obj(self, obj: T) -> T:
        """A copy of a dict/list/str structure: sensitive keys' values wholly, strings by rule."""
        return cast(T, self._obj(obj))

    def _obj(self, obj: object) -> object:
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, Mapping):
            return self._mapping(obj)
        if isinstance(obj, list):
            return [self._obj(item) for item in obj]
        if isinstance(obj, tuple):
            return tuple(self._obj(item) for item in obj)
        return obj

    def _mapping(self, obj: Mapping[object, object]) -> dict[object, object]:
        k8s_secret = obj.get("kind") == "Secret"
        name = obj.get("name")
        env_secret = isinstance(name, str) and is_sensitive_key(name)
        out: dict[object, object] = {}
        for key, value in obj.items():
            hide = isinstance(key, str) and is_sensitive_key(key)
            hide = hide or (env_secret and key == "value")
            if hide and value not in (None, "") and not isinstance(value, bool):
                out[key] = self.replacement
            elif k8s_secret and key in ("data", "stringData") and isinstance(value, Mapping):
                out[key] = dict.fromkeys(value, self.replacement)
            else:
                out[key] = self._obj(value)
        return out

    def _replacer(self, rule: _Rule) -> Callable[[re.Match[str]], str]:
        replacement = self.replacement

        def replace(match: re.Match[str]) -> str:
            whole = match.group(0)
            start, end = match.span(rule.group)
            if _overlaps(match.string, start, end, replacement) or not rule.accept(match):
                return whole
            secret = match.group(rule.group)
            masked = _quoted(secret, replacement) if rule.keep_quotes else replacement
            if rule.keep_space:
                stripped = secret.strip()
                lead = secret[: len(secret) - len(secret.lstrip())]
                trail = secret[len(secret.rstrip()) :]
                masked = lead + replacement + trail if stripped else secret
            offset = match.start()
            return whole[: start - offset] + masked + whole[end - offset :]

        return replace

    def _k8s_secret(self, text: str) -> str:
        if _K8S_KIND_YAML.search(text):
            text = self._k8s_yaml(text)
        if _K8S_KIND_JSON.search(text):
            text = _K8S_DATA_JSON.sub(self._k8s_json_block, text)
        return text

    def _k8s_json_block(self, match: re.Match[str]) -> str:
        whole = match.group(0)
        body = match.group("body")
        quote = '\\"' if match.group("q") == '\\"' else '"'
        pair = _K8S_PAIR_ESCAPED if quote == '\\"' else _K8S_PAIR_PLAIN
        new_body = pair.sub(lambda m: m.group(1) + quote + self.replacement + quote, body)
        return whole[: match.start("body") - match.start()] + new_body + "}"

    def _k8s_yaml(self, text: str) -> str:
        lines = text.split("\n")
        block_indent: int | None = None
        key_indent: int | None = None
        for i, line in enumerate(lines):
            stripped = line.lstrip(" \t")
            indent = len(line) - len(stripped)
            if block_indent is not None and stripped.strip():
                if indent <= block_indent:
                    block_indent = key_indent = None
                else:
                    key_indent = indent if key_indent is None else key_indent
                    lines[i] = self._k8s_yaml_line(line, indent, key_indent)
                    continue
            data = _K8S_DATA_LINE.match(line)
            if data:
                block_indent, key_indent = len(data.group(1)), None
        return "\n".join(lines)

    def _k8s_yaml_line(self, line: str, indent: int, key_indent: int) -> str:
        if indent > key_indent:  # the content of a block scalar (`key: |`)
            return line[:indent] + self.replacement
        entry = _K8S_ENTRY.match(line)
        if not entry or not entry.group(2) or entry.group(2) in _BLOCK_SCALARS:
            return line
        return entry.group(1) + _quoted(entry.group(2), self.replacement) + entry.group(3)


def _accept_custom(group: str | int) -> Accept:
    def accept(match: re.Match[str]) -> bool:
        return bool(match.group(group))

    return accept
