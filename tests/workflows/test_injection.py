"""Alert text never reaches a shell unquoted: a hostile label is one literal argument."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.incident import IncidentStatus
from tests.harness import generic_alert, running_stack, unique

pytestmark = pytest.mark.temporal

HOSTILE = [
    "x; touch {pwned}",
    "$(touch {pwned})",
    "`touch {pwned}`",
    "a' ; touch {pwned} ; echo '",
    'a" ; touch {pwned} ; echo "',
    "x\ntouch {pwned}",
    "x && touch {pwned} || true",
]


async def test_malicious_label_values_are_passed_as_literal_arguments(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    pwned = tmp_path / "pwned"
    out = tmp_path / "args"
    async with running_stack(client, engine) as stack:
        for index, template in enumerate(HOSTILE):
            name = unique("Inject")
            value = template.format(pwned=pwned)
            target = out.with_suffix(f".{index}")
            await stack.add_runbook(
                {
                    "id": unique("inj-"),
                    "title": "Echo the pod three ways",
                    "selectors": [{"alertname": name}],
                    "variables": [
                        {"name": "pod", "source": "label:pod"},
                        {"name": "out", "source": "label:out"},
                    ],
                    "steps": [
                        {
                            "id": "echo",
                            "title": "Echo",
                            # unquoted, in double quotes, in single quotes, and as $POD
                            "command": "printf '%s\\n' {{ pod }} \"{{ pod }}\" "
                            "'{{ pod }}' $POD > {{ out }}",
                            "risk": "safe",
                        }
                    ],
                }
            )
            body = generic_alert(name, labels={"pod": value, "out": str(target)})
            response = await stack.post_generic(body)
            assert response.status_code == 202, response.text
            result = await stack.handle(response.json()["incident_id"]).result()
            assert result.status is IncidentStatus.RESOLVED, result.outcome
            # $POD is the prose spelling of the declared variable `pod`: quoted the same way.
            assert target.read_text() == f"{value}\n" * 4
            assert not pwned.exists(), f"{value!r} executed a command"
