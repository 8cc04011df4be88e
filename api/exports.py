"""Audit export of one incident, or of every incident of a period, built from workflow history.

`/export` answers the rendered file alone; the bundles answer a zip holding everything the CLI
writes (the export, the raw history beside a JSON export, a period's index), so `ddrun export`
needs no Temporal client of its own and signs with the server's key.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Reader
from api.deps import AppState, State
from api.errors import BadRequestError, NotFoundError
from services.audit.export import IncidentExport, export_incident, export_period

router = APIRouter(prefix="/api", tags=["audit"])

Format = Literal["json", "csv", "pdf"]
_MEDIA = {"json": "application/x-ndjson", "csv": "text/csv", "pdf": "application/pdf"}
_SUFFIX = {"json": "jsonl", "csv": "csv", "pdf": "pdf"}
ZIP = "application/zip"
#: Member names in an incident bundle: the export, and beside a JSON export the raw history.
EXPORT_MEMBER = "export"
HISTORY_MEMBER = "history.json"
MANIFEST_MEMBER = "manifest.json"


def _signing_key(state: AppState) -> bytes | None:
    key = state.settings.export_signing_key
    return key.get_secret_value().encode() if key else None


async def _export(state: AppState, incident_id: str, run_id: str | None) -> IncidentExport:
    try:
        return await export_incident(
            state.client,
            incident_id,
            run_id=run_id,
            redactor=state.redactor,
            signing_key=_signing_key(state),
        )
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            run = f" run {run_id}" if run_id else ""
            raise NotFoundError(f"no incident {incident_id!r}{run}") from err
        raise


@router.get("/incidents/{incident_id}/export")
async def export(
    incident_id: str,
    state: State,
    _principal: Reader,
    format: Format = "json",
    run_id: str | None = None,
) -> Response:
    result = await _export(state, incident_id, run_id)
    filename = f"{incident_id}.{_SUFFIX[format]}"
    return Response(
        result.render(format),
        media_type=_MEDIA[format],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Ddrun-Final-Hash": result.manifest.final_hash,
        },
    )


@router.get("/incidents/{incident_id}/export/bundle")
async def export_bundle(
    incident_id: str,
    state: State,
    _principal: Reader,
    format: Format = "json",
    run_id: str | None = None,
) -> Response:
    """A zip of `export` (the rendered file), `manifest.json` and, for JSON, `history.json`,
    all from one reading of the history, so they always belong together."""
    result = await _export(state, incident_id, run_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(EXPORT_MEMBER, result.render(format))
        bundle.writestr(MANIFEST_MEMBER, result.manifest.model_dump_json())
        if format == "json":
            bundle.writestr(HISTORY_MEMBER, result.history_json)
    return Response(buffer.getvalue(), media_type=ZIP)


@router.get("/exports")
async def export_period_bundle(
    state: State,
    _principal: Reader,
    since: datetime,
    until: datetime,
    format: Format = "json",
) -> Response:
    """Every incident run started in [since, until): a zip of one file per run and index.json."""
    if since.tzinfo is None or until.tzinfo is None:
        raise BadRequestError("since and until need a time zone (e.g. 2026-07-01T00:00:00+00:00)")
    if until <= since:
        raise BadRequestError("until is not after since")
    with tempfile.TemporaryDirectory(prefix="ddrun-export-") as tmp:
        index = await export_period(
            state.client,
            since,
            until,
            Path(tmp),
            fmt=format,
            redactor=state.redactor,
            signing_key=_signing_key(state),
        )
        bundle = await asyncio.to_thread(_zip_folder, Path(tmp))
    return Response(bundle, media_type=ZIP, headers={"X-Ddrun-Count": str(index["count"])})


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.iterdir()):
            bundle.write(path, path.name)
    return buffer.getvalue()
