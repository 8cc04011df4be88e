"""Audit export of one incident, built from its workflow history."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response

from api.auth import Reader
from api.deps import State
from audit.export import export_incident

router = APIRouter(prefix="/api/incidents", tags=["audit"])

_MEDIA = {"json": "application/x-ndjson", "csv": "text/csv", "pdf": "application/pdf"}
_SUFFIX = {"json": "jsonl", "csv": "csv", "pdf": "pdf"}


@router.get("/{incident_id}/export")
async def export(
    incident_id: str,
    state: State,
    _principal: Reader,
    format: Literal["json", "csv", "pdf"] = "json",
    run_id: str | None = None,
) -> Response:
    settings = state.settings
    key = settings.export_signing_key
    result = await export_incident(
        state.client,
        incident_id,
        run_id=run_id,
        redactor=state.redactor,
        signing_key=key.get_secret_value().encode() if key else None,
    )
    filename = f"{incident_id}.{_SUFFIX[format]}"
    return Response(
        result.render(format),
        media_type=_MEDIA[format],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Ddrun-Final-Hash": result.manifest.final_hash,
        },
    )
