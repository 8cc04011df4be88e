"""Structured JSON logs and OpenTelemetry tracing, set up once per process entry point.

Tracing is always wired (the Temporal interceptor propagates context in headers); spans are only
exported when an OTLP endpoint is configured, so the default costs nothing and sends nothing.
`file:PATH` instead of an endpoint appends each span as one JSON line to PATH (every process of
a stack may share one file): how `bench/webhook_latency.py --profile` collects its breakdown.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

FILE_PREFIX = "file:"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: greppable at 3am, ingestible by any log pipeline."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = f"{span.trace_id:032x}"
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def span_exporter(target: str) -> SpanExporter:
    """`file:PATH`: spans appended to PATH as JSON lines; anything else: an OTLP/HTTP endpoint."""
    if target.startswith(FILE_PREFIX):
        out = open(target.removeprefix(FILE_PREFIX), "a", encoding="utf-8")  # noqa: SIM115 - kept open for the process
        return ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=target)


def setup_tracing(service_name: str, otlp_endpoint: str | None) -> TracerProvider | None:
    """Install a global tracer provider exporting over OTLP/HTTP, or to a file (`file:PATH`),
    or nothing when unconfigured."""
    if not otlp_endpoint:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    # A large queue: a benchmark's burst must not drop the spans it is measured by.
    provider.add_span_processor(
        BatchSpanProcessor(
            span_exporter(otlp_endpoint), max_queue_size=65536, schedule_delay_millis=500
        )
    )
    trace.set_tracer_provider(provider)
    return provider
