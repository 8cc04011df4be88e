"""The README's copy-paste material works as written (issue #19 item 8): paths it names exist,
the Alertmanager snippet is valid configuration for our webhook, and the slips stay fixed."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.support import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_folders_given_to_commands_exist() -> None:
    named = re.findall(r"(?:--runbooks|import|load)\s+([\w./-]+/)", README)
    assert named, "no folder arguments found: the pattern is stale"
    missing = [path for path in named if path != "DIR/" and not (REPO / path).is_dir()]
    assert not missing, f"README names folders that do not exist: {missing}"
    assert "docs/runbooks" not in README


def test_alertmanager_snippet_points_at_the_webhook_with_a_bearer_token() -> None:
    snippets = [yaml.safe_load(b) for b in _blocks("yaml") if "webhook_configs" in b]
    assert len(snippets) == 1
    config: dict[str, Any] = snippets[0]
    receiver = next(r for r in config["receivers"] if r["name"] == config["route"]["receiver"])
    hook = receiver["webhook_configs"][0]
    assert hook["url"].endswith("/webhooks/alertmanager")
    assert hook["http_config"]["authorization"]["type"] == "Bearer"
    assert "DDRUN_ALERTMANAGER_TOKEN" in README


def test_the_temporal_cli_and_the_api_schema_are_where_the_readme_says() -> None:
    assert ".venv/bin/temporal workflow" in README
    assert "There is no `/docs`" in README
    assert "GET /api/openapi.json" in README
    assert "--since 7d" in README  # a period example that selects what was just done
