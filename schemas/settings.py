"""Runtime settings, read from `DDRUN_*` environment variables.

Declared here, built only in entry points (CLI, workers, API factory) and passed down, so tests
construct their own and nothing reads the environment at import time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.severity import SeverityPolicy


def default_api_workers() -> int:
    """Two API processes where there are two cores: under a burst one process's CPU (about
    6 ms per alert) is what limits intake, not Temporal (bench/README, issue 13)."""
    return min(2, os.cpu_count() or 1)


#: Written by `ddrun dev` into its data folder: where that stack's API and Temporal listen.
STACK_FILE = "stack.json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DDRUN_", extra="ignore")

    data_dir: Path = Path(".ddrun")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default is a SQLite file in data_dir. "
        "Production: postgresql+asyncpg://user@host/db",
    )
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    orchestrator_task_queue: str = "ddrun-orchestrator"
    agent_task_queue: str = "ddrun-agent"
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    api_url: str = "http://127.0.0.1:8080"
    api_workers: int = Field(
        default_factory=default_api_workers,
        ge=1,
        description="API worker processes (uvicorn), each with one Temporal client "
        "(default: 2, or 1 on a single core)",
    )
    webhook_max_in_flight: int = Field(
        default=64,
        ge=1,
        description="Webhook requests handled at once per API process; more get 429 + Retry-After",
    )
    intake_concurrency: int = Field(
        default=16,
        ge=1,
        description="Alerts handed to Temporal at once per API process (the rest wait their "
        "turn in the database)",
    )
    intake_ack_wait_s: float = Field(
        default=5.0,
        ge=0,
        description="How long a webhook whose alert is the only one on its way waits for "
        "Temporal to take it before answering 202 with queued: true (it is in the database "
        "either way); with others on their way it is answered at once",
    )
    intake_lease_s: float = Field(
        default=15.0,
        gt=0,
        description="Accepted alerts of an API process that stopped are delivered by another "
        "(or the restarted one) after this",
    )
    intake_max_queued: int = Field(
        default=10_000,
        ge=1,
        description="Accepted alerts one API process holds for Temporal; more get 429",
    )
    auth_enabled: bool = Field(
        default=True,
        description="Every /api route needs a token. false: local development only, loopback "
        "only; actions are recorded as dev-unauthenticated",
    )
    runbooks_dir: Path | None = Field(
        default=None, description="Folder of YAML runbooks loaded into the database at start-up"
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    workflow_sandbox: bool = Field(
        default=False,
        description="Run the incident workflows in Temporal's strict sandbox (re-imported per "
        "run, non-deterministic calls refused), as the test suite does; about 2 ms per "
        "workflow task",
    )
    runbook_cache_s: float = Field(
        default=2.0, ge=0, description="How stale the webhook's view of runbooks may be"
    )
    escalation_levels: list[str] = Field(
        default_factory=lambda: ["primary-oncall", "secondary-oncall", "incident-commander"]
    )
    blast_radius: int = Field(
        default=3,
        ge=0,
        description="Incidents executing automatically at once, per runbook "
        "and per service (0: no limit)",
    )
    intake_check_fresh_s: float = Field(
        default=0.5,
        ge=0,
        description="How old the kill-switch read taken with an alert's intake may be when its "
        "workflow's first task begins, to count as the first automatic step's check (0: the "
        "step always reads again)",
    )
    promote_after_clean_runs: int = Field(default=10, ge=1)
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces endpoint, or file:PATH (one JSON span a line, for "
        "benchmarks); tracing export is off when unset",
    )
    agent_max_output_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        description="Per stream (stdout, stderr): the head and tail a step returns; the full "
        "returned output is stored (step_outputs), the incident keeps an excerpt and its sha256",
    )
    agent_max_concurrent_commands: int = Field(default=8, ge=1)
    # --- inbound alert sources (api/webhooks): a source with no secret accepts loopback only
    heartbeat_alerts: list[str] = Field(
        default_factory=lambda: ["Watchdog", "InfoInhibitor", "DeadMansSwitch"],
        description="Alert names that only prove the alerting pipeline is alive (acknowledged, "
        "never an incident); alerts with severity `none` are heartbeats too",
    )
    heartbeat_severities: list[str] = Field(
        default_factory=lambda: ["none"],
        description="Severity label values that mark an alert as a heartbeat",
    )
    service_labels: list[str] = Field(
        default_factory=lambda: [
            "service",
            "app.kubernetes.io/name",
            "app",
            "application",
            "namespace",
            "job",
        ],
        min_length=1,
        description="Alertmanager/Grafana labels naming the service, in order: the first one "
        "present (with a value not in service_ignored_values) wins (JSON list)",
    )
    service_ignored_values: list[str] | None = Field(
        default=None,
        description="Label values that never name a service (the scrape target, e.g. "
        "`kubelet`); unset: the built-in list of Kubernetes monitoring components (JSON list)",
    )
    alertmanager_token: SecretStr | None = Field(
        default=None, description="Bearer token Alertmanager's http_config sends"
    )
    alertmanager_basic_auth: SecretStr | None = Field(
        default=None, description="user:password for Alertmanager's basic_auth"
    )
    pagerduty_webhook_secret: SecretStr | None = Field(
        default=None,
        description="PagerDuty v3 subscription secret; comma-separate old,new while rotating",
    )
    grafana_webhook_secret: SecretStr | None = Field(
        default=None, description="Grafana contact point hmacConfig.secret"
    )
    grafana_signature_header: str = "X-Grafana-Alerting-Signature"
    grafana_timestamp_header: str | None = Field(
        default=None, description="Set when the contact point signs timestamp:body"
    )
    opsgenie_token: SecretStr | None = Field(
        default=None, description="Secret the Opsgenie integration sends in a custom header"
    )
    opsgenie_token_header: str = "X-Ddrun-Token"  # noqa: S105 - a header name, not a secret
    generic_webhook_token: SecretStr | None = Field(
        default=None, description="Bearer token for the generic JSON webhook"
    )
    webhook_max_skew_s: int = Field(default=300, ge=1, description="Signed timestamps' window")
    delivery_retention_s: int = Field(
        default=7 * 24 * 3600,
        ge=3600,
        description="How long a signed delivery's id is remembered, so a replay changes nothing; "
        "longer than any sender retries (PagerDuty, Slack, Grafana, Opsgenie: hours at most)",
    )
    delivery_lease_s: int = Field(
        default=30,
        ge=1,
        description="A delivery claimed by a request that never finished (the API died) is "
        "handled again by a retry after this",
    )
    # --- one incident per problem
    correlation_window_s: int = Field(
        default=900,
        ge=0,
        description="Alerts for the same service and runbook within this join the open "
        "incident as related alerts (0: off)",
    )
    reopen_window_s: int = Field(
        default=1800,
        ge=0,
        description="An alert firing again this soon after its incident closed reopens it "
        "as a new linked run (0: off)",
    )
    match_threshold: float = Field(
        default=0.74, ge=0.0, le=1.0, description="Below this confidence: no runbook matched"
    )
    # --- Slack (the 3am interface); off without a bot token
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_oncall_users: list[str] = Field(
        default_factory=list, description="Slack user ids invited to every incident channel"
    )
    slack_channel_prefix: str = "inc"
    slack_reuse_channel: str | None = Field(
        default=None, description="Post every incident in this existing channel id instead"
    )
    slack_incidents_channel: str | None = Field(
        default=None,
        description="Channel id where P2/P3 incidents post (P0/P1 get their own war room, "
        "incident-YYYY-MM-DD-<slug>); unset: every incident gets its own channel",
    )
    video_call_template: str | None = Field(
        default=None,
        description="A P0 war room pins a video call made from this URL ({incident_id} is "
        "replaced), e.g. https://meet.example.com/{incident_id}",
    )
    approval_policy_file: Path | None = Field(
        default=None, description="YAML policy: who may approve what (see README)"
    )
    # --- paging through PagerDuty Events API v2
    pagerduty_events_url: str = "https://events.pagerduty.com/v2/enqueue"
    pagerduty_routing_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Events API v2 routing key per escalation level, in order (JSON list)",
    )
    no_runbook_timeout_s: int | None = Field(
        default=None,
        ge=1,
        description="An incident no runbook matched escalates (or, with no escalation levels, "
        "closes) when nobody acted within this many seconds; unset: it waits for a person",
    )
    continue_as_new_after_events: int | None = Field(
        default=None,
        ge=100,
        description="A long quiet wait (no runbook, held open) continues in a new run after "
        "this many history events; unset: when Temporal suggests it",
    )
    hold_open_while_firing: bool = Field(
        default=True,
        description="A runbook that ends while its alert still fires (or with a failed step) "
        "leaves the incident open until the alert resolves or a person resolves it",
    )
    ack_timeout_s: int | None = Field(
        default=None, ge=1, description="Escalate an incident nobody acknowledged within this"
    )
    resolve_timeout_s: int | None = Field(
        default=None, ge=1, description="Escalate an incident still open after this"
    )
    severity_policy: SeverityPolicy = Field(
        default_factory=SeverityPolicy,
        description="P0-P3: the default level, the alert labels and words mapped to a level, "
        "what each level means and its response deadlines in seconds (JSON)",
    )
    sla_timers: bool = Field(
        default=True,
        description="Run each level's response deadlines as timers; a missed one pages the "
        "next level",
    )
    status_update_reminders: bool = Field(
        default=True,
        description="Remind the commander or comms lead when a status update is due "
        "(cadence per level in the severity policy)",
    )
    status_page_components: list[str] = Field(
        default_factory=list,
        description="Components the public status page always lists (besides services with "
        "published incidents)",
    )
    executive_emails: list[str] = Field(
        default_factory=list,
        description="Who is emailed about P0/P1 incidents (within the level's deadline) and "
        "their resolution (JSON list); empty: nobody",
    )
    executive_slack_channel: str | None = Field(
        default=None,
        description="Slack channel id where executives are told about P0/P1 incidents and "
        "their resolution, besides (or instead of) email; unset: none",
    )
    engineering_channel: str | None = Field(
        default=None,
        description="Slack channel id of engineering-wide updates: an open incident posts "
        "there at its level's cadence (severity policy engineering_update_s, default P0 "
        "hourly); unset: none",
    )
    # --- an Atlassian Statuspage-compatible API: approved public updates are pushed there
    statuspage_api_url: str = Field(
        default="https://api.statuspage.io",
        description="Base URL of the Statuspage API (the push calls {base}/v1/pages/...)",
    )
    statuspage_page_id: str | None = Field(
        default=None, description="The page to push to; unset (or no API key): no push"
    )
    statuspage_api_key: SecretStr | None = Field(
        default=None, description="Statuspage API key (sent as `Authorization: OAuth <key>`)"
    )
    statuspage_components: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Service name to the page's component ids an incident of it affects "
        '(JSON, e.g. {"checkout": ["8kbf7d35c070"]}); `*`: any other service',
    )
    statuspage_timeout_s: float = Field(default=10.0, gt=0, description="Per Statuspage call")
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "ddrun@localhost"
    soak_period: bool = Field(
        default=True,
        description="Watch a resolved incident for its level's soak period before resolving; "
        "an alert firing again sends it back to mitigating",
    )
    ic_approvals: bool = Field(
        default=True,
        description="P0 changes need the incident commander's approval; P1 changes the "
        "commander's and one other engineer's (the two-person rule, driven by the IC role)",
    )
    redact_patterns: list[str] = Field(
        default_factory=list,
        description="Extra regular expressions to redact from command output and alerts "
        "(a named group `secret` marks the part to hide)",
    )
    llm_model: str | None = Field(
        default=None, description="litellm model (e.g. openai/gpt-4o-mini); unset: offline only"
    )
    llm_api_base: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(default=30.0, gt=0)
    llm_max_output_tokens: int = Field(default=4000, ge=256)
    match_llm_timeout_s: float = Field(
        default=3.0,
        gt=0,
        description="How long a webhook waits for the LLM's re-ranking before the offline "
        "match stands (the workflow's own choice waits at most 10 s)",
    )
    embedding_model: str | None = Field(
        default=None,
        description="litellm embedding model (e.g. openai/text-embedding-3-small); unset: "
        "offline text matching only. Never a local model: no weights are downloaded",
    )
    embedding_api_base: str | None = None
    embedding_api_key: SecretStr | None = None
    embedding_timeout_s: float = Field(
        default=2.0, gt=0, description="Past this the offline score stands for that match"
    )
    embedding_weight: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="Share of the embedding similarity in a candidate's blended score",
    )
    payload_key: SecretStr | None = Field(
        default=None,
        description="base64 AES key (16/24/32 bytes): Temporal stores payloads encrypted",
    )
    codec_allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:8233", "http://127.0.0.1:8233"],
        description="Origins (the Temporal UI) allowed to call the /codec endpoints",
    )
    codec_token: SecretStr | None = Field(
        default=None, description="Bearer token the /codec endpoints require, when set"
    )
    export_signing_key: SecretStr | None = Field(
        default=None, description="HMAC key that signs export manifests"
    )
    # -- the web app (api/web) ------------------------------------------------------------
    web_cookie_secure: bool = Field(
        default=True,
        description="Session cookies only over HTTPS; false only for plain-HTTP loopback use",
    )
    web_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    web_temporal_ui_url: str = Field(
        default="http://localhost:8233", description="Where incident pages link the Temporal UI"
    )
    web_oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect issuer URL; unset: single sign-on is off"
    )
    web_oidc_client_id: str | None = None
    web_oidc_client_secret: SecretStr | None = None
    web_oidc_name: str = Field(default="single sign-on", description="The login button's label")
    web_history_wait_s: float = Field(
        default=0.05,
        ge=0,
        le=60,
        description="How long a page waits for the first incident-history read before it shows "
        "'loading history' and polls",
    )
    web_sla_minutes: dict[str, float] = Field(
        default_factory=lambda: {
            "critical": 60.0,
            "p1": 60.0,
            "sev1": 60.0,
            "error": 240.0,
            "high": 240.0,
            "p2": 240.0,
            "warning": 480.0,
        },
        description="Time to resolve that meets the SLA, in minutes, by severity (lower case)",
    )
    web_sla_default_minutes: float = Field(
        default=1440, gt=0, description="The SLA for a severity not in web_sla_minutes"
    )

    @model_validator(mode="after")
    def _find_the_stack(self) -> Settings:
        """A stack `ddrun dev` runs says where it listens in `<data dir>/stack.json`: with
        DDRUN_DATA_DIR alone (or `ddrun --stack DIR`) the CLI reaches that stack. What was set
        explicitly (environment, arguments) always wins."""
        try:
            found = json.loads((self.data_dir / STACK_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return self
        if not isinstance(found, dict):
            return self
        for name in ("api_url", "temporal_address", "temporal_namespace"):
            value = found.get(name)
            if name not in self.model_fields_set and isinstance(value, str) and value:
                setattr(self, name, value)
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'ddrun.db').resolve()}"
