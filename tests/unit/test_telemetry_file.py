"""`file:PATH` as the traces endpoint: every span one JSON line, parent links kept, so a
benchmark can read a request's stages back from all of a stack's processes."""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from infra.bytecode import ensure_bytecode
from infra.telemetry import span_exporter


def test_spans_are_appended_to_the_file_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    path.write_text("")
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter(f"file:{path}")))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("outer"), tracer.start_as_current_span("inner"):
        pass
    provider.shutdown()
    spans = [json.loads(line) for line in path.read_text().splitlines()]
    by_name = {s["name"]: s for s in spans}
    assert set(by_name) == {"outer", "inner"}
    assert by_name["inner"]["parent_id"] == by_name["outer"]["context"]["span_id"]
    assert by_name["inner"]["context"]["trace_id"] == by_name["outer"]["context"]["trace_id"]


def test_bytecode_is_written_once_and_only_when_stale(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text("X = 1\n")
    assert ensure_bytecode(tmp_path, ("pkg",))
    compiled = list((package / "__pycache__").glob("mod.*.pyc"))
    assert len(compiled) == 1
    stamp = compiled[0].stat().st_mtime_ns
    assert ensure_bytecode(tmp_path, ("pkg",))
    assert compiled[0].stat().st_mtime_ns == stamp
