"""Redaction: secrets in command output and alert text never reach the audit export.

Each positive case names the secret that must disappear and the context that must stay (the
key name), so the evidence stays readable; the negative cases are ordinary output that must
come through unchanged.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.audit.redact import DEFAULT_REPLACEMENT, Redactor, is_sensitive_key

R = DEFAULT_REPLACEMENT
GH_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
GH_PAT = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n"
    "aFDrBz9vFqU4yL5d7kLZ1x2V0ZtKfTT0pcTbkBbNJnAWYp1kqzsjBbK9nQ==\n"
    "-----END RSA PRIVATE KEY-----"
)
BASIC = base64.b64encode(b"admin:s3cr3t-pw").decode()
K8S_SECRET_YAML = """apiVersion: v1
data:
  password: c3VwZXJzZWNyZXQ=
  username: YWRtaW4=
kind: Secret
metadata:
  name: db-credentials
  namespace: payments
type: Opaque
"""
K8S_SECRET_JSON = """{
    "apiVersion": "v1",
    "data": {
        "password": "c3VwZXJzZWNyZXQ=",
        "username": "YWRtaW4="
    },
    "kind": "Secret",
    "metadata": {"name": "db-credentials"}
}"""
K8S_STRINGDATA = """apiVersion: v1
kind: Secret
metadata:
  name: tls
stringData:
  config.yaml: |
    endpoint: https://example.com
    apikey: supersecretvalue
  token: plain-token-value
"""

# (text, the secret that must vanish, context that must remain)
POSITIVE: list[tuple[str, str, str]] = [
    ("password=hunter2", "hunter2", "password=" + R),
    ("db password: hunter2", "hunter2", "password: " + R),
    ("PASSWORD='correct horse'", "correct horse", f"PASSWORD='{R}'"),
    ('{"password": "p@ss\\"w0rd"}', "p@ss", f'"password": "{R}"'),
    ("passwd:letmein", "letmein", "passwd:" + R),
    ("DB_PASSWORD=Tr0ub4dor&3 ./migrate", "Tr0ub4dor", "DB_PASSWORD=" + R),
    ("secret=abc123def", "abc123def", "secret=" + R),
    ("client_secret: 8f7e6d5c4b3a", "8f7e6d5c4b3a", "client_secret: " + R),
    ("token=deadbeefcafe", "deadbeefcafe", "token=" + R),
    ("https://api.example.com/v1?access_token=tok123&page=2", "tok123", "&page=2"),
    ("api_key=AbCdEf123456", "AbCdEf123456", "api_key=" + R),
    ("X-Api-Key: 0123456789abcdef", "0123456789abcdef", "X-Api-Key: " + R),
    ('"apiKey": "k-998877"', "k-998877", f'"apiKey": "{R}"'),
    ("Authorization: Bearer abc.def.ghi-xyz", "abc.def.ghi-xyz", "Authorization: Bearer " + R),
    (
        'curl -H "Authorization: Bearer 9f8e7d6c5b4a" https://x',
        "9f8e7d6c5b4a",
        '"Authorization: Bearer ' + R + '" https://x',
    ),
    (f"Authorization: Basic {BASIC}", BASIC, "Authorization: Basic " + R),
    (f"sent header Basic {BASIC} to proxy", BASIC, "Basic " + R + " to proxy"),
    ("> authorization: token ghs_notlongenough", "ghs_notlongenough", "authorization: token"),
    ("Cookie: session=abcdef0123456789", "abcdef0123456789", "Cookie: " + R),
    ("found AKIAIOSFODNN7EXAMPLE in env", "IOSFODNN7EXAMPLE", "AKIA" + R + " in env"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI",
        "aws_secret_access_key = " + R,
    ),
    (
        '"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",',
        "wJalrXUtnFEMI",
        f'"SecretAccessKey": "{R}",',
    ),
    ('"SessionToken": "FwoGZXIvYXdzEBYaDH"', "FwoGZXIvYXdzEBYaDH", f'"SessionToken": "{R}"'),
    (f"cloning with {GH_TOKEN}", GH_TOKEN[4:], "ghp_" + R),
    (f"GITHUB_TOKEN={GH_PAT}", GH_PAT[11:], "GITHUB_TOKEN=" + R),
    (f"remote: {GH_PAT} accepted", GH_PAT[11:], "github_pat_" + R),
    ("slack token xoxb-1234567890-0987654321-AbCdEfGh", "1234567890", "xoxb-" + R),
    ("xoxp-2222222222-3333333333-abcdefabcdef", "2222222222", "xoxp-" + R),
    ("SLACK_APP=xapp-1-A0123-456-abcdef", "A0123-456", "SLACK_APP=xapp-" + R),
    (
        "webhook https://hooks.slack.com/services/T0ABC/B0DEF/abcdefghijklmnop1234",
        "abcdefghijklmnop1234",
        "https://hooks.slack.com/services/T0ABC/B0DEF/" + R,
    ),
    ("routing_key: 0123456789abcdef0123456789abcdef", "0123456789abcdef", "routing_key: " + R),
    ('{"routing_key":"aabbccddeeff00112233445566778899"}', "aabbccddeeff", '"routing_key":"'),
    ("integration_key=fedcba9876543210fedcba9876543210", "fedcba98", "integration_key=" + R),
    (PEM + "\nnext line", "MIIEowIBAAKCAQEA", "-----BEGIN RSA PRIVATE KEY-----"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "b3BlbnNzaC1r", "OPENSSH"),
    (
        '"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n'
        '-----END PRIVATE KEY-----\\n"',
        "MIIEvQIBADANBg",
        '"private_key": "',
    ),
    (f"jwt={JWT}", "SflKxwRJSMeKKF2QT4fw", "jwt="),
    (f"id_token {JWT} expired", "eyJzdWIi", " expired"),
    ("postgres://app:s3cretPW@db.prod:5432/payments", "s3cretPW", "postgres://app:" + R + "@db"),
    ("postgresql://app:s3cret@db/payments?sslmode=require", "s3cret", "@db/payments"),
    ("mysql://root:rootpw@10.0.0.5:3306/shop", "rootpw", "mysql://root:" + R + "@10.0.0.5"),
    ("redis://:redispass@cache:6379/0", "redispass", "redis://:" + R + "@cache"),
    ("rediss://default:pw-123@cache.example.com:6380", "pw-123", "rediss://default:"),
    ("amqp://guest:guestpw@rabbit:5672/", "guestpw", "amqp://guest:" + R + "@rabbit"),
    ("mongodb+srv://admin:m0ng0pw@cluster0.x.mongodb.net/db", "m0ng0pw", "mongodb+srv://admin:"),
    ("https://deploy:tok3n@git.example.com/org/repo.git", "tok3n", "https://deploy:" + R + "@git"),
    ("jdbc:mysql://user:jdbcpw@host:3306/db", "jdbcpw", "jdbc:mysql://user:"),
    ("PGPASSWORD=pgpw123 psql -h db -U app", "pgpw123", "PGPASSWORD=" + R + " psql"),
    ("MYSQL_PWD=mypw mysqldump shop", "mypw", "MYSQL_PWD=" + R + " mysqldump"),
    ("mysql -u root -p'rootpw!' -h db shop", "rootpw!", "-p'" + R + "'"),
    ("mysqladmin -uroot -prootpw status", "rootpw", "-p" + R + " status"),
    ("psql --password=pgsecret -h db", "pgsecret", "--password=" + R),
    ("vault login --token s.abcdef123456 -method=token", "s.abcdef123456", "--token " + R),
    ("docker login --password 'dockpw' registry", "dockpw", "--password '" + R + "'"),
    ("curl -u admin:curlpw https://api", "curlpw", "-u admin:" + R),
    ("redis-cli -h cache -a redispw PING", "redispw", "-a " + R + " PING"),
    ("sshpass -p sshpw ssh host", "sshpw", "-p " + R),
    (K8S_SECRET_YAML, "c3VwZXJzZWNyZXQ=", "  password: " + R),
    (K8S_SECRET_YAML, "YWRtaW4=", "  username: " + R),
    (K8S_SECRET_JSON, "c3VwZXJzZWNyZXQ=", f'"password": "{R}"'),
    (K8S_STRINGDATA, "supersecretvalue", "name: tls"),
    (K8S_STRINGDATA, "plain-token-value", "  token: " + R),
    (
        "kind: Secret\nmetadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-"
        'configuration: {"apiVersion":"v1","data":{"tls.key":"LS0tLS1CRUdJTg=="},"kind":"Secret"}',
        "LS0tLS1CRUdJTg==",
        '"tls.key":"' + R,
    ),
    (
        "env:\n- name: DB_PASSWORD\n  value: pl41nt3xt\n- name: LOG_LEVEL\n  value: debug",
        "pl41nt3xt",
        "value: debug",
    ),
    ('{"name": "API_TOKEN", "value": "tok-777"}', "tok-777", '"name": "API_TOKEN"'),
    ("Password: Sup3r$ecret!", "Sup3r$ecret!", "Password: " + R),
    ("OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnop", "OPENAI"),
    ("glpat-abcdefghij0123456789xyz in .netrc", "abcdefghij0123456789", "glpat-" + R),
]


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()


def test_there_are_many_realistic_cases() -> None:
    assert len(POSITIVE) >= 40


@pytest.mark.parametrize(("text", "secret", "context"), POSITIVE)
def test_secret_is_removed_and_context_kept(
    redactor: Redactor, text: str, secret: str, context: str
) -> None:
    out = redactor.redact(text)
    assert secret not in out, out
    assert context in out, out
    assert R in out


# Ordinary output that must come through byte for byte.
NEGATIVE = [
    "NAME                              READY   STATUS             RESTARTS      AGE\n"
    "payments-api-7d9c8b6f5d-x2x9z     0/1     CrashLoopBackOff   7 (2m ago)    14m\n"
    "payments-worker-5f6b7c8d9-abcde   1/1     Running            0             3d",
    "deployment.apps/payments-api rolled back",
    "deployment.apps/payments-api restarted",
    "Image: registry.example.com/payments/api@sha256:"
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "ghcr.io/org/app:v1.2.3@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "incident 3f2b9c1e-8d4a-4f6b-9e2d-1a2b3c4d5e6f opened at 2024-05-01T12:34:56.789Z",
    '2024-05-01T12:34:56+00:00 level=info msg="request served" status=200 duration=12ms',
    "Events:\n  Type     Reason   Age   From     Message\n"
    "  Warning  BackOff  2m    kubelet  Back-off restarting failed container api",
    "NAME                  TYPE                                  DATA   AGE\n"
    "default-token-x7k2p   kubernetes.io/service-account-token   3      41d\n"
    "db-credentials        Opaque                                2      12d",
    "Volumes:\n  kube-api-access-x2x9z:\n    Type:                    Projected\n"
    "    TokenExpirationSeconds:  3607\n    ConfigMapName:           kube-root-ca.crt",
    "  certs:\n    Type:        Secret (a volume populated by a Secret)\n"
    "    SecretName:  payments-tls\n    Optional:    false",
    "Environment:\n  DB_PASSWORD:  <set to the key 'password' in secret 'db'>  Optional: false",
    "PWD=/home/runner/work OLDPWD=/home/runner",
    'export DB_PASSWORD=${DB_PASSWORD}; psql "postgres://app:$DB_PASSWORD@db/app"',
    "git log --oneline\n3b9bfc4 bench README\n11eb865 ruff format",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "Connecting to http://payments-api.payments.svc:8080/healthz ... 200 OK",
    "postgres://db.prod.internal:5432/payments",
    "email alice@example.com approved step restart-pods via slack",
    "max_tokens=512 tokens_used=498 token_count=12",
    "automountServiceAccountToken: false\nsecretName: payments-tls",
    "kubectl create secret generic db --dry-run=client -o name",
    "docker run -u 1000:1000 --rm alpine id",
    "Basic authentication is disabled on this endpoint",
    "The bearer token flow is documented at /docs/auth",
    "CPU usage 93.5% on node ip-10-0-3-17.eu-west-1.compute.internal",
    "apiVersion: v1\nkind: ConfigMap\ndata:\n  LOG_LEVEL: debug\n  FEATURE_X: 'true'",
    "exit code 137 (OOMKilled), restarts=7, uid=8c9d0e1f-2a3b-4c5d-6e7f-8a9b0c1d2e3f",
    "password: true\nsecret: null\ntoken: ''",
    "Zürich → 東京: 完了 ✓",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_ordinary_output_is_untouched(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text) == text


def test_redact_obj_hides_sensitive_keys_whole_and_scans_strings(redactor: Redactor) -> None:
    obj = {
        "step": "restart",
        "password": "hunter2",
        "dbPassword": 12345,
        "Authorization": "Bearer xyz",
        "credentials": {"user": "a", "pass": "b"},
        "token": None,
        "secretName": "payments-tls",
        "output": ["ok", "connected to postgres://app:pw@db/app"],
        "nested": {"api_key": "k", "count": 3, "enabled": True},
        "env": [{"name": "DB_PASSWORD", "value": "pl41n"}, {"name": "MODE", "value": "x"}],
        "secret": {"kind": "Secret", "data": {"a": "YQ==", "b": "Yg=="}},
        "tuple": ("token=abc", 1),
    }
    out = redactor.redact_obj(obj)
    assert out["password"] == R
    assert out["dbPassword"] == R
    assert out["Authorization"] == R
    assert out["credentials"] == R
    assert out["token"] is None
    assert out["secretName"] == "payments-tls"
    assert out["output"] == ["ok", f"connected to postgres://app:{R}@db/app"]
    assert out["nested"] == {"api_key": R, "count": 3, "enabled": True}
    assert out["env"] == [{"name": "DB_PASSWORD", "value": R}, {"name": "MODE", "value": "x"}]
    assert out["secret"] == R
    assert out["tuple"] == (f"token={R}", 1)
    assert obj["password"] == "hunter2", "the input is not modified"


def test_redact_obj_kubernetes_secret_object(redactor: Redactor) -> None:
    secret = {"kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "cGFzcw=="}}
    out = redactor.redact_obj(secret)
    assert out == {"kind": "Secret", "metadata": {"name": "db"}, "data": {"password": R}}


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [
        ("password", True),
        ("DB_PASSWORD", True),
        ("dbPassword", True),
        ("x-api-key", True),
        ("aws_secret_access_key", True),
        ("MYSQL_PWD", True),
        ("basicAuth", True),
        ("auth", True),
        ("routing_key", True),
        ("PWD", False),
        ("OLDPWD", False),
        ("oauth", False),
        ("author", False),
        ("secretName", False),
        ("tokens_used", False),
        ("private_key_id", False),
        ("key", False),
    ],
)
def test_sensitive_key_names(key: str, sensitive: bool) -> None:
    assert is_sensitive_key(key) is sensitive


def test_custom_patterns_and_replacement() -> None:
    redactor = Redactor(
        patterns=[r"ACME-[0-9]{6}", r"customer=(?P<secret>\w+)"], replacement="<hidden>"
    )
    out = redactor.redact("ticket ACME-123456 customer=bigbank password=x")
    assert out == "ticket <hidden> customer=<hidden> password=<hidden>"
    assert redactor.redact(out) == out


def test_bad_custom_pattern_is_refused() -> None:
    with pytest.raises(ValueError, match="bad redaction pattern"):
        Redactor(patterns=["(unclosed"])


def test_truncated_private_key_is_hidden_to_the_end(redactor: Redactor) -> None:
    out = redactor.redact("key:\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB9k... [truncated]")
    assert "MHcCAQEEIB9k" not in out
    assert out.startswith("key:\n-----BEGIN EC PRIVATE KEY-----")


def test_large_output_is_fast(redactor: Redactor) -> None:
    line = "payments-api-7d9c8b6f5d-x2x9z 1/1 Running 0 3d 10.0.3.17 node-a <none> <none>\n"
    text = line * 900 + "password=hunter2\n"
    out = redactor.redact(text)
    assert out.endswith(f"password={R}\n")


# Fragments that mix secrets with the delimiters and prefixes the rules look at.
FRAGMENTS = st.sampled_from(
    [
        "password=",
        "password: ",
        "token ",
        "--token ",
        "Authorization: ",
        "Bearer ",
        "Basic ",
        BASIC,
        "postgres://u:",
        "@host",
        "://",
        ":",
        "=",
        '"',
        "'",
        '\\"',
        "\n",
        " ",
        "  ",
        "AKIA",
        "ghp_",
        GH_TOKEN,
        JWT,
        "-----BEGIN PRIVATE KEY-----",
        "-----END PRIVATE KEY-----",
        "kind: Secret\n",
        "data:\n",
        '"kind": "Secret"',
        '"data": {"k": "v"}',
        "- name: DB_PASSWORD\n  value: ",
        "mysql -p",
        R,
        "[",
        "]",
        "REDACTED",
        "xoxb-",
        "abc123",
        "${X}",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=14).map("".join))
def test_redact_is_idempotent(text: str) -> None:
    redactor = Redactor()
    once = redactor.redact(text)
    assert redactor.redact(once) == once


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_redact_is_idempotent_on_any_text(text: str) -> None:
    redactor = Redactor()
    once = redactor.redact(text)
    assert redactor.redact(once) == once
