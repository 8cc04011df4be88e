"""Runtime settings, read from `DDRUN_*` environment variables.

Declared here, built only in entry points (CLI, workers, API factory) and passed down, so tests
construct their own and nothing reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    runbooks_dir: Path | None = Field(
        default=None, description="Folder of YAML runbooks loaded into the database at start-up"
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
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
    promote_after_clean_runs: int = Field(default=10, ge=1)
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP traces endpoint; tracing export is off when unset"
    )
    agent_max_output_bytes: int = Field(default=64 * 1024, ge=1024)
    agent_max_concurrent_commands: int = Field(default=8, ge=1)
    alertmanager_token: SecretStr | None = None
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

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'ddrun.db').resolve()}"
