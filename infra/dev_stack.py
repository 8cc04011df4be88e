"""temporal-dev.yml: the declared embedded Temporal stack, and the command line built from it."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

DEFAULT_STACK_FILE = Path(__file__).resolve().parents[1] / "temporal-dev.yml"


class _Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ip: str = "127.0.0.1"
    port: int


class _Persistence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    db_file: str = "temporal.db"
    sqlite_pragmas: dict[str, str] = Field(default_factory=dict)


class DevStack(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: str = "default"
    retention: str = "2160h"
    frontend: _Endpoint
    ui: _Endpoint
    persistence: _Persistence = Field(default_factory=_Persistence)
    dynamic_config: dict[str, object] = Field(default_factory=dict)
    log_level: str = "warn"
    search_attributes: dict[str, str]
    test_dynamic_config: dict[str, object] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = DEFAULT_STACK_FILE) -> DevStack:
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))

    def dynamic_config_args(self, *, for_tests: bool = False) -> list[str]:
        values = {**self.dynamic_config, **(self.test_dynamic_config if for_tests else {})}
        args: list[str] = []
        for key, value in values.items():
            rendered = str(value).lower() if isinstance(value, bool) else str(value)
            args += ["--dynamic-config-value", f"{key}={rendered}"]
        return args

    def pragma_args(self) -> list[str]:
        args: list[str] = []
        for key, value in self.persistence.sqlite_pragmas.items():
            args += ["--sqlite-pragma", f"{key}={value}"]
        return args

    def search_attribute_args(self) -> list[str]:
        args: list[str] = []
        for name, kind in self.search_attributes.items():
            args += ["--search-attribute", f"{name}={kind}"]
        return args

    def server_command(
        self,
        temporal_bin: str,
        data_dir: Path,
        *,
        port: int | None = None,
        ui_port: int | None = None,
        headless: bool = False,
        for_tests: bool = False,
    ) -> list[str]:
        """`temporal server start-dev` with everything this file declares."""
        cmd = [
            temporal_bin,
            "server",
            "start-dev",
            "--db-filename",
            str(data_dir / self.persistence.db_file),
            "--ip",
            self.frontend.ip,
            "--port",
            str(port or self.frontend.port),
            "--log-level",
            self.log_level,
            *self.pragma_args(),
            *self.dynamic_config_args(for_tests=for_tests),
            *self.search_attribute_args(),
        ]
        if self.namespace != "default":
            cmd += ["--namespace", self.namespace]
        if headless:
            cmd.append("--headless")
        else:
            cmd += ["--ui-ip", self.ui.ip, "--ui-port", str(ui_port or self.ui.port)]
            cmd.append("--ui-disable-news-fetch")
        return cmd
