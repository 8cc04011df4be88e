"""The raw history attached to an export is redacted inside its base64 payloads too (#16)."""

from __future__ import annotations

import base64
import json
from typing import Any

from domain.audit.redact import Redactor
from services.audit.history_redaction import redact_history

SECRET = "hunter2-xyz"


def _payload(value: Any, encoding: str = "json/plain") -> dict[str, Any]:
    return {
        "metadata": {"encoding": base64.b64encode(encoding.encode()).decode()},
        "data": base64.b64encode(json.dumps(value).encode()).decode(),
    }


def _decoded(payload: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(payload["data"]))


def test_payloads_and_messages_are_redacted_and_clean_payloads_keep_their_bytes() -> None:
    leaky = _payload({"stdout": f"password is {SECRET}", "exit_code": 0})
    clean = _payload({"stdout": "ok"})
    binary = {
        "metadata": {"encoding": base64.b64encode(b"binary/encrypted").decode()},
        "data": "AA",
    }
    history = {
        "events": [
            {"activityTaskCompletedEventAttributes": {"result": {"payloads": [leaky, clean]}}},
            {"activityTaskFailedEventAttributes": {"failure": {"message": f"pwd={SECRET}"}}},
            {"other": {"payloads": [binary]}, "runId": "9bcfa94a-92ea-45b0-aa49-fc3ec75eee00"},
        ]
    }
    out = redact_history(history, Redactor())
    done = out["events"][0]["activityTaskCompletedEventAttributes"]["result"]["payloads"]
    assert _decoded(done[0]) == {"stdout": "password is [REDACTED]", "exit_code": 0}
    assert done[1] == clean
    assert out["events"][1]["activityTaskFailedEventAttributes"]["failure"]["message"] == (
        "pwd=[REDACTED]"
    )
    assert out["events"][2] == history["events"][2]
    assert SECRET not in json.dumps(out)
