"""temporal-dev.yml is live configuration: the code's search attributes and flags come from it."""

from __future__ import annotations

from pathlib import Path

from infra.dev_stack import DevStack
from schemas import search_attributes as sa


def test_declared_search_attributes_match_the_workflow_keys() -> None:
    stack = DevStack.load()
    kinds = {"KEYWORD": "Keyword", "INT": "Int", "BOOL": "Bool", "KEYWORD_LIST": "KeywordList"}
    assert stack.search_attributes == {
        key.name: kinds[key.indexed_value_type.name] for key in sa.ALL
    }


def test_server_command_carries_every_declared_setting() -> None:
    stack = DevStack.load()
    cmd = stack.server_command("temporal", Path("/data"), port=7400, ui_port=8400)
    joined = " ".join(cmd)
    assert "--db-filename /data/temporal.db" in joined
    assert "--port 7400" in joined
    assert "--ui-port 8400" in joined
    assert "--sqlite-pragma journal_mode=wal" in joined
    assert "--dynamic-config-value history.transferProcessorMaxPollRPS=1000" in joined
    assert "--search-attribute IncidentStatus=Keyword" in joined
    assert "WorkflowTimeSkippingEnabled" not in joined
    assert "frontend.WorkflowTimeSkippingEnabled=true" in " ".join(
        stack.dynamic_config_args(for_tests=True)
    )
