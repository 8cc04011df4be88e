"""Who saved which runbook version from the web app: every version a page creates (pasted,
edited, imported) is recorded with the person and how they proved it, shown in its history."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from api.web.session import WebUser
from db.runbook_import import FolderImport
from db.web import RiskOverride, RunbookEdit, WebStore


async def record_version(
    engine: AsyncEngine,
    user: WebUser,
    runbook_id: str,
    version: int,
    summary: str,
    overrides: list[RiskOverride] | None = None,
) -> None:
    await WebStore(engine).record_edit(
        RunbookEdit(
            runbook_id=runbook_id,
            version=version,
            actor=user.principal.handle,
            authenticated_by=user.principal.credential_label,
            summary=summary,
            overrides=overrides or [],
            at=datetime.now(UTC),
        )
    )


async def record_import(engine: AsyncEngine, user: WebUser, report: FolderImport, how: str) -> None:
    for imported in report.files:
        if imported.status != "unchanged":
            await record_version(
                engine, user, imported.runbook_id, imported.version, f"{how}: {imported.path}"
            )
