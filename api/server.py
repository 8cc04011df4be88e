"""Serve the HTTP API: `ddrun api` calls `serve` (settings from the environment)."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from api.auth import check_bind
from infra.telemetry import setup_logging, setup_tracing
from schemas.settings import Settings


def serve(host: str, port: int, workers: int | None = None) -> None:  # noqa: ARG001
    """Run the API on `host:port` until stopped. One process: `workers` is accepted for the
    multi-process server that replaces this (api/admission.py), and ignored here."""
    settings = Settings(api_host=host, api_port=port)
    setup_logging()
    check_bind(settings)  # InsecureBindError: authentication off on a non-loopback address
    setup_tracing("ddrun-api", settings.otel_exporter_otlp_endpoint)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)
