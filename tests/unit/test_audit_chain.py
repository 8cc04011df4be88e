"""The audit export is tamper-evident: any change names the first record that no longer fits.

Records are chained by SHA-256 over canonical JSON; the manifest pins count and final hash and
is signed with HMAC. Tampering is done on the serialized JSON Lines file, byte by byte.
"""

from __future__ import annotations

import io
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from domain.audit import (
    GENESIS_HASH,
    ExportSource,
    Manifest,
    build_chain,
    canonical_json,
    make_manifest,
    read_jsonl,
    record_hash,
    verify,
    verify_file,
    write_jsonl,
)
from domain.audit.redact import Redactor

KEY = b"org-export-key-0123456789"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SOURCE = ExportSource(
    namespace="default",
    workflow_id="incident-alertmanager-KubePodCrashLooping-186c9aae249125a2",
    run_id="6f1c2a9e-1b2c-4d5e-8f90-a1b2c3d4e5f6",
    history_length=412,
)
N = 100


def _records(n: int = N) -> list[dict[str, Any]]:
    kinds = ["alert", "step_started", "step_completed", "approval", "escalation"]
    return [
        {
            "seq": i,
            "at": T0 + timedelta(seconds=7 * i),
            "kind": kinds[i % len(kinds)],
            "actor": None if i % 3 else f"user-{i}",
            "data": {"message": f"record number {i} \u2013 Zürich ✓", "exit_code": i % 4},
        }
        for i in range(1, n + 1)
    ]


@pytest.fixture
def chain() -> list[dict[str, Any]]:
    return build_chain(_records())


@pytest.fixture
def manifest(chain: list[dict[str, Any]]) -> Manifest:
    return make_manifest(chain, SOURCE, KEY, key_id="2024-q2", generated_at=T0)


@pytest.fixture
def export_file(tmp_path: Path, chain: list[dict[str, Any]], manifest: Manifest) -> Path:
    path = tmp_path / "incident.jsonl"
    write_jsonl(path, chain, manifest)
    return path


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def _write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


# Building ---------------------------------------------------------------------------------


def test_chain_links_from_genesis_and_hashes_canonical_json(chain: list[dict[str, Any]]) -> None:
    assert chain[0]["prev_hash"] == GENESIS_HASH == "0" * 64
    for before, record in itertools.pairwise(chain):
        assert record["prev_hash"] == before["hash"]
    first = chain[0]
    body = {k: v for k, v in first.items() if k != "hash"}
    assert first["hash"] == record_hash(first)
    assert canonical_json(body).startswith(b'{"actor":null,"at":"2024-05-01T12:00:07+00:00"')
    assert first["at"] == "2024-05-01T12:00:07+00:00", "datetimes become ISO 8601"


def test_build_chain_numbers_records_and_refuses_gaps() -> None:
    chain = build_chain([{"at": "t", "kind": "k", "actor": None, "data": {}}] * 3)
    assert [r["seq"] for r in chain] == [1, 2, 3]
    with pytest.raises(ValueError, match="seq must be"):
        build_chain([{"seq": 2, "at": "t", "kind": "k", "actor": None, "data": {}}])
    with pytest.raises(ValueError, match="lacks"):
        build_chain([{"at": "t", "kind": "k", "data": {}}])
    with pytest.raises(ValueError, match="data must be a dict"):
        build_chain([{"at": "t", "kind": "k", "actor": None, "data": "x"}])


def test_build_chain_can_redact_and_cleans_undecodable_text() -> None:
    chain = build_chain(
        [
            {
                "at": "t",
                "kind": "step_completed",
                "actor": None,
                "data": {"stdout": "password=hunter2 \udcff", "token": "abc"},
            }
        ],
        redactor=Redactor(),
    )
    assert chain[0]["data"] == {"stdout": "password=[REDACTED] \ufffd", "token": "[REDACTED]"}
    assert verify(chain, make_manifest(chain, SOURCE)).ok


def test_manifest_fields(chain: list[dict[str, Any]], manifest: Manifest) -> None:
    assert manifest.record_count == N
    assert manifest.final_hash == chain[-1]["hash"]
    assert manifest.source == SOURCE
    assert manifest.signature is not None
    assert manifest.signature.algorithm == "hmac-sha256"
    assert manifest.signature.key_id == "2024-q2"
    assert manifest.exporter.startswith("ddrun")
    assert manifest.format_version == 1


def test_empty_chain_verifies() -> None:
    manifest = make_manifest([], SOURCE, KEY)
    assert manifest.final_hash == GENESIS_HASH
    assert verify([], manifest, KEY).ok


# Verifying in memory ----------------------------------------------------------------------


def test_original_verifies_with_and_without_key(
    chain: list[dict[str, Any]], manifest: Manifest
) -> None:
    with_key = verify(chain, manifest, KEY)
    assert with_key.ok, with_key.reason
    assert with_key.signature_checked
    assert with_key.first_bad_seq is None
    without = verify(chain, manifest)
    assert without.ok
    assert not without.signature_checked
    assert "not checked" in without.reason


def test_rewritten_and_rehashed_chain_is_caught_by_the_manifest(
    chain: list[dict[str, Any]], manifest: Manifest
) -> None:
    forged = _records()
    forged[41]["data"]["exit_code"] = 0
    result = verify(build_chain(forged), manifest, KEY)
    assert not result.ok
    assert "final hash" in result.reason


def test_forged_manifest_for_a_rehashed_chain_fails_the_signature(manifest: Manifest) -> None:
    forged = _records()
    forged[41]["data"]["exit_code"] = 0
    forged_chain = build_chain(forged)
    forged_manifest = manifest.model_copy(update={"final_hash": forged_chain[-1]["hash"]})
    result = verify(forged_chain, forged_manifest, KEY)
    assert not result.ok
    assert "signature" in result.reason
    assert verify(forged_chain, forged_manifest).ok, "without the key only integrity is known"


def test_signature_checks(chain: list[dict[str, Any]], manifest: Manifest) -> None:
    assert not verify(chain, manifest, b"another key").ok
    unsigned = make_manifest(chain, SOURCE, None, generated_at=T0)
    result = verify(chain, unsigned, KEY)
    assert not result.ok
    assert "not signed" in result.reason
    moved = manifest.model_copy(
        update={"source": SOURCE.model_copy(update={"workflow_id": "incident-other"})}
    )
    assert "signature" in verify(chain, moved, KEY).reason


# Tampering with the file ------------------------------------------------------------------


def test_file_round_trip(
    export_file: Path, chain: list[dict[str, Any]], manifest: Manifest
) -> None:
    records, read_manifest = read_jsonl(export_file)
    assert records == chain
    assert read_manifest == manifest
    assert len(_lines(export_file)) == N + 1
    assert json.loads(_lines(export_file)[-1])["format"] == "ddrun-audit-export"
    result = verify_file(export_file, KEY)
    assert result.ok, result.reason
    assert result.record_count == N


def test_file_objects_work_too(chain: list[dict[str, Any]], manifest: Manifest) -> None:
    buffer = io.StringIO()
    write_jsonl(buffer, chain, manifest)
    buffer.seek(0)
    assert verify_file(buffer, KEY).ok


@pytest.mark.parametrize("k", [1, 2, 17, 50, 99, 100])
@pytest.mark.parametrize("field", ['"message":"record', '"kind":"', '"at":"2024'])
def test_one_byte_changed_in_a_string_value_names_that_record(
    export_file: Path, k: int, field: str
) -> None:
    lines = _lines(export_file)
    line = bytearray(lines[k - 1])
    at = line.index(field.encode()) + len(field)
    original = line[at]
    line[at] = original + 1 if chr(original).isalnum() and chr(original) not in "9zZ" else 0x41
    assert line[at] != original
    lines[k - 1] = bytes(line)
    _write_lines(export_file, lines)
    result = verify_file(export_file, KEY)
    assert not result.ok
    assert result.first_bad_seq == k, result.reason
    assert "changed" in result.reason


@pytest.mark.parametrize("k", [1, 33, 100])
@pytest.mark.parametrize("field", ['"hash":"', '"prev_hash":"'])
def test_changed_hash_fields_name_that_record(export_file: Path, k: int, field: str) -> None:
    lines = _lines(export_file)
    line = bytearray(lines[k - 1])
    at = line.index(field.encode()) + len(field)
    line[at] = ord("a") if line[at] != ord("a") else ord("b")
    lines[k - 1] = bytes(line)
    _write_lines(export_file, lines)
    result = verify_file(export_file, KEY)
    assert (result.ok, result.first_bad_seq) == (False, k), result.reason


def test_invalid_utf8_or_broken_json_names_that_record(export_file: Path) -> None:
    lines = _lines(export_file)
    lines[9] = lines[9].replace(b"record number", b"record \xffumber")
    lines[19] = lines[19][:-1]
    _write_lines(export_file, lines)
    result = verify_file(export_file, KEY)
    assert (result.ok, result.first_bad_seq) == (False, 10), result.reason


@pytest.mark.parametrize("k", [1, 50, 99])
def test_deleted_record(export_file: Path, k: int) -> None:
    lines = _lines(export_file)
    del lines[k - 1]
    _write_lines(export_file, lines)
    result = verify_file(export_file, KEY)
    assert (result.ok, result.first_bad_seq) == (False, k), result.reason


def test_deleted_last_record_is_truncation(export_file: Path) -> None:
    lines = _lines(export_file)
    del lines[N - 1]
    _write_lines(export_file, lines)
    result = verify_file(export_file, KEY)
    assert (result.ok, result.first_bad_seq) == (False, N)
    assert "truncated" in result.reason


@pytest.mark.parametrize("k", [1, 42, 99])
def test_reordered_records(export_file: Path, k: int) -> None:
    lines = _lines(export_file)
    lines[k - 1], lines[k] = lines[k], lines[k - 1]
    _write_lines(export_file, lines)
    result = verify_file(export_file, KEY)
    assert (result.ok, result.first_bad_seq) == (False, k), result.reason


def test_truncated_tail_against_manifest(export_file: Path) -> None:
    lines = _lines(export_file)
    _write_lines(export_file, [*lines[: N - 5], lines[-1]])
    result = verify_file(export_file, KEY)
    assert (result.ok, result.first_bad_seq) == (False, N - 4)
    assert f"{N - 5} of {N}" in result.reason


def test_appended_record(export_file: Path, chain: list[dict[str, Any]]) -> None:
    extra = build_chain([*_records(), {"at": "t", "kind": "x", "actor": "mallory", "data": {}}])
    lines = _lines(export_file)
    _write_lines(export_file, [*lines[:-1], canonical_json(extra[-1]), lines[-1]])
    result = verify_file(export_file, KEY)
    assert (result.ok, result.first_bad_seq) == (False, N + 1)


def test_file_cut_mid_way_has_no_manifest(export_file: Path) -> None:
    data = export_file.read_bytes()
    export_file.write_bytes(data[: len(data) // 2])
    result = verify_file(export_file, KEY)
    assert not result.ok
    assert "manifest" in result.reason


@pytest.mark.parametrize(
    "change",
    [
        ('"record_count":100', '"record_count":99'),
        ('"history_length":412', '"history_length":411'),
        ('"run_id":"6f1c', '"run_id":"7f1c'),
    ],
)
def test_changed_manifest_fails_the_signature(export_file: Path, change: tuple[str, str]) -> None:
    lines = _lines(export_file)
    assert change[0].encode() in lines[-1]
    lines[-1] = lines[-1].replace(change[0].encode(), change[1].encode())
    _write_lines(export_file, lines)
    result = verify_file(export_file, KEY)
    assert not result.ok
    assert "signature" in result.reason


def test_tampered_signature(export_file: Path) -> None:
    lines = _lines(export_file)
    manifest = json.loads(lines[-1])
    value = manifest["signature"]["value"]
    manifest["signature"]["value"] = ("0" if value[0] != "0" else "1") + value[1:]
    lines[-1] = canonical_json(manifest)
    _write_lines(export_file, lines)
    result = verify_file(export_file, KEY)
    assert not result.ok
    assert "bad manifest signature" in result.reason
    assert verify_file(export_file).ok, "without the key, the signature is not checked"


def test_unknown_manifest_fields_are_refused(export_file: Path) -> None:
    lines = _lines(export_file)
    manifest = json.loads(lines[-1])
    manifest["approved_by_auditor"] = True
    lines[-1] = canonical_json(manifest)
    _write_lines(export_file, lines)
    assert not verify_file(export_file).ok


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    notes=st.lists(st.text(max_size=40), min_size=1, max_size=8),
    pick=st.data(),
)
def test_any_single_byte_change_in_a_record_names_it(
    tmp_path: Path, notes: list[str], pick: st.DataObject
) -> None:
    records = [
        {"at": f"2024-05-01T12:00:{i:02d}Z", "kind": "note", "actor": "a", "data": {"n": note}}
        for i, note in enumerate(notes)
    ]
    chain = build_chain(records)
    manifest = make_manifest(chain, SOURCE, KEY, generated_at=T0)
    buffer = io.StringIO()
    write_jsonl(buffer, chain, manifest)
    lines = buffer.getvalue().encode("utf-8").split(b"\n")[:-1]
    k = pick.draw(st.integers(1, len(chain)), label="k")
    line = bytearray(lines[k - 1])
    at = pick.draw(st.integers(0, len(line) - 1), label="at")
    new = pick.draw(st.integers(0, 255).filter(lambda b: b != line[at]), label="byte")
    line[at] = new
    try:
        same = json.loads(bytes(line).decode("utf-8")) == chain[k - 1]
    except ValueError:
        same = False
    assume(not same)  # e.g. `\u001f` → `\u001F`: the same content, so nothing was changed
    lines[k - 1] = bytes(line)
    path = tmp_path / "fuzz.jsonl"
    _write_lines(path, lines)
    result = verify_file(path, KEY)
    assert not result.ok
    assert result.first_bad_seq == k, result.reason
