"""Local stand-ins for the third-party services dd0c/run talks to (Slack, PagerDuty).

Why: the product is tested without the internet, and mocking `WebClient` would only prove that we
call our own mocks. These stand-ins speak the vendors' real wire shapes (taken from the shared
contract fixtures), keep state so that errors fall out of it (a second `conversations.create` with
the same name answers `name_taken` because the channel exists), and record every call so tests
assert on what the product actually sent.

Modules:
- `slack_api`: the Slack Web API (`/api/<method>`) plus `response_url` receivers.
- `pagerduty_events`: the PagerDuty Events API v2 (`/v2/enqueue`) and REST `PUT /incidents/{id}`.
- `statuspage`: the Atlassian Statuspage REST API's incident endpoints (`/v1/pages/{id}/incidents`).
- `server`: run any of them under uvicorn on 127.0.0.1, in the test's event loop or in a thread.
- `signing`: build signed inbound requests (Slack, PagerDuty v3 webhooks, Grafana).

The shared contract folder lives next to the repository (`<repo>/../shared/contracts`); the helpers
below find it and fail loudly when it is missing rather than letting tests silently skip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = (REPO_ROOT / ".." / "shared").resolve()
CONTRACTS = SHARED / "contracts"


def contract_path(relative: str) -> Path:
    """Absolute path of a file under `shared/contracts`; raises if the folder or file is absent."""
    if not CONTRACTS.is_dir():
        raise FileNotFoundError(
            f"shared contracts not found at {CONTRACTS} (expected <repo>/../shared/contracts)"
        )
    path = CONTRACTS / relative
    if not path.is_file():
        raise FileNotFoundError(f"contract fixture missing: {path}")
    return path


def load_contract(relative: str) -> Any:
    """Parse a JSON fixture, e.g. `load_contract("slack/interactivity/block_actions.json")`."""
    return json.loads(contract_path(relative).read_text(encoding="utf-8"))
