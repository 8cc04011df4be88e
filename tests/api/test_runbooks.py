"""Parse and save runbooks over HTTP; the LLM path against a local stand-in."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.identity import Role
from tests.harness import running_stack, unique
from tests.llm_standin import LlmStandin, serve

pytestmark = pytest.mark.temporal

TEXT = """# {title}

## Mitigation

1. Look at the pods: `kubectl -n $NAMESPACE get pods`
2. Restart: `kubectl -n $NAMESPACE rollout restart deployment/api`
"""


async def test_parse_save_versions_and_diff(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine) as stack:
        author = await stack.person("runbook-author", (Role.AUTHOR,))
        title = unique("Api")
        text = TEXT.format(title=title)
        parsed = await stack.http.post("/api/runbooks/parse", headers=author, content=text)
        assert parsed.status_code == 200, parsed.text
        body = parsed.json()
        assert [s["risk"] for s in body["steps"]] == ["safe", "caution"]
        assert "rollout undo" in body["steps"][1]["rollback"]
        assert body["llm"]["used"] is False

        name = f"{title}.md"
        first = (
            await stack.http.post(
                "/api/runbooks", headers=author, params={"name": name}, content=text
            )
        ).json()
        same = (
            await stack.http.post(
                "/api/runbooks", headers=author, params={"name": name}, content=text
            )
        ).json()
        changed = text.replace("deployment/api", "deployment/web")
        second = (
            await stack.http.post(
                "/api/runbooks", headers=author, params={"name": name}, content=changed
            )
        ).json()
        assert (first["created"], first["runbook"]["version"]) == (True, 1)
        assert (same["created"], same["runbook"]["version"]) == (False, 1)
        assert (second["created"], second["runbook"]["version"]) == (True, 2)
        assert "-2. Restart" in second["diff"]
        assert "deployment/web" in second["diff"]
        rid = second["runbook"]["id"]
        versions = (await stack.http.get(f"/api/runbooks/{rid}/versions", headers=author)).json()
        assert [v["version"] for v in versions] == [1, 2]
        assert (
            await stack.http.post("/api/runbooks/parse", headers=author, content=b"  ")
        ).status_code == 400


async def test_llm_improves_but_never_lowers_risk_and_failures_fall_back(
    client: Client, engine: AsyncEngine
) -> None:
    answer = {
        "title": "API restart",
        "steps": [
            {
                "id": "look",
                "title": "Look at pods",
                "risk": "safe",
                "command": "kubectl -n {{ namespace }} get pods",
            },
            {
                "id": "restart",
                "title": "Restart the API",
                "risk": "safe",
                "command": "kubectl -n {{ namespace }} rollout restart deployment/api",
                "explanation": "clears the stuck connection pool",
            },
        ],
    }
    standin = LlmStandin(answer, script=["valid", "slow"], slow_s=2)
    async with (
        serve(standin) as base,
        running_stack(
            client,
            engine,
            llm_model="openai/standin",
            llm_api_base=base,
            llm_api_key="sk-x",
            llm_timeout_s=0.5,
        ) as stack,
    ):
        author = await stack.person("runbook-author", (Role.AUTHOR,))
        text = TEXT.format(title=unique("Llm"))
        body = (await stack.http.post("/api/runbooks/parse", headers=author, content=text)).json()
        assert body["llm"]["used"] is True
        assert body["title"] == "API restart"
        restart = body["steps"][1]
        assert restart["risk"] == "caution"  # the LLM said safe; the classifier says caution
        assert any("raised from safe" in r for r in restart["risk_reasons"])
        slow = (
            await stack.http.post("/api/runbooks/parse", headers=author, content=text + "\n")
        ).json()
        assert slow["llm"]["used"] is False
        assert "deterministic result used" in slow["llm"]["message"]
        assert [s["risk"] for s in slow["steps"]] == ["safe", "caution"]
