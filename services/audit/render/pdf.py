"""The incident's evidence report as a PDF a person hands an auditor (SOC 2, ISO 27001).

Bytes only; DejaVu (Unicode) when installed, else core fonts with non-Latin-1 text replaced.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fpdf import FPDF, FontFace, XPos, YPos
from fpdf.fonts import TTFFont

from domain.audit.records import AuditReport, CommandEntry, summarize
from domain.audit.redact import Redactor

FONT_DIRS: tuple[Path, ...] = (
    Path(__file__).resolve().parent / "fonts",  # shipped with the package (DejaVu, free licence)
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
)
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
# Typographic characters the core fonts lack, spelled in ASCII (escapes keep the linter calm).
_LATIN1_FALLBACK = str.maketrans(
    {
        "…": "...",
        "→": "->",
        "←": "<-",
        "\u2014": "-",
        "\u2013": "-",
        "\u201c": '"',
        "\u201d": '"',
        "\u2018": "'",
        "\u2019": "'",
        "✓": "v",
        "✗": "x",
        "•": "*",
        "€": "EUR",
        "\ufffd": "?",
    }
)
_OUTPUT_LINES = 60
_OUTPUT_CHARS = 4000
_CELL_CHARS = 400
_GREY = (90, 90, 90)
_HEAD_FILL = (225, 230, 238)


@dataclass(frozen=True)
class _Fonts:
    sans: str
    mono: str
    unicode: bool
    covered: frozenset[int] = frozenset()


def _default_font_dirs() -> list[Path]:
    dirs = list(FONT_DIRS)
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin:
        dirs.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    return dirs


def unicode_font_dir(dirs: Iterable[Path] | None = None) -> Path | None:
    """The first directory holding DejaVuSans.ttf and DejaVuSansMono.ttf (None: core fonts)."""
    return _find_font_dir(_default_font_dirs() if dirs is None else dirs)


def _find_font_dir(dirs: Iterable[Path]) -> Path | None:
    for directory in dirs:
        if (directory / _FONT_FILES[""]).is_file() and (directory / _FONT_FILES["mono"]).is_file():
            return directory
    return None


class _Report(FPDF):
    """A4 pages with a running header (incident id) and footer (page x of y, final hash)."""

    def __init__(self, incident_id: str, final_hash: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.faces = _Fonts(sans="helvetica", mono="courier", unicode=False)
        self.incident_id = incident_id
        self.final_hash = final_hash
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=16)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(self.faces.sans, size=7)
        self.set_text_color(*_GREY)
        text = self.clean(f"dd0c/run incident audit evidence · {self.incident_id}")
        self.cell(0, 4, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.faces.sans, size=7)
        self.set_text_color(*_GREY)
        text = self.clean(f"Page {self.page_no()} of {{nb}} · export final hash {self.final_hash}")
        self.cell(0, 4, text, align="C")
        self.set_text_color(0, 0, 0)

    def clean(self, text: str) -> str:
        """Printable text for the current fonts: no ANSI codes or control characters."""
        text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
        text = "".join(
            ch
            if ch == "\n" or unicodedata.category(ch) not in {"Cc", "Cs", "Co", "Cn"}
            else "\ufffd"
            for ch in text
        )
        if not self.faces.unicode:
            return text.translate(_LATIN1_FALLBACK).encode("latin-1", "replace").decode("latin-1")
        covered = self.faces.covered
        if all(ord(ch) in covered or ch == "\n" for ch in text):
            return text
        # A glyph the font lacks (CJK, emoji) is spelled as its code point, never dropped.
        return "".join(
            ch if ord(ch) in covered or ch == "\n" else f"<U+{ord(ch):04X}>" for ch in text
        )

    # Building blocks --------------------------------------------------------------------------

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(4)
        self.set_font(self.faces.sans, "B", 13)
        self.cell(0, 8, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.faces.sans, size=9)

    def subheading(self, text: str) -> None:
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(2)
        self.set_font(self.faces.sans, "B", 10)
        self.multi_cell(0, 5, self.clean(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.faces.sans, size=9)

    def paragraph(self, text: str, size: float = 9) -> None:
        self.set_font(self.faces.sans, size=size)
        self.multi_cell(0, 4.5, self.clean(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def mono(self, text: str, size: float = 7.5) -> None:
        self.set_font(self.faces.mono, size=size)
        self.set_fill_color(245, 245, 245)
        self.multi_cell(
            0,
            3.6,
            self.clean(text) or " ",
            align="L",
            fill=True,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.set_font(self.faces.sans, size=9)

    def table_rows(
        self, widths: Sequence[float], header: Sequence[str], rows: Iterable[Sequence[str]]
    ) -> None:
        self.set_font(self.faces.sans, size=8)
        heading = FontFace(emphasis="BOLD", fill_color=_HEAD_FILL)
        with self.table(
            col_widths=tuple(widths),
            width=sum(widths),
            line_height=4,
            text_align="LEFT",
            headings_style=heading,
            padding=1,
        ) as table:
            head = table.row()
            for title in header:
                head.cell(self.clean(title))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(self.clean(_clip(value, _CELL_CHARS)))
        self.set_font(self.faces.sans, size=9)

    def key_values(self, pairs: Sequence[tuple[str, str]], label_width: float = 48) -> None:
        width = self.epw - label_width
        self.table_rows((label_width, width), ("Field", "Value"), pairs)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(value: datetime | str | None, suffix: str = " UTC") -> str:
    """UTC time to the second; naive times are taken as UTC, unparseable text shown as is."""
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value or "—"
        return _when(parsed, suffix)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") + suffix


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m {secs:02d}s"
    return f"{sign}{minutes}m {secs:02d}s"


def _excerpt(text: str) -> str:
    lines = text.splitlines()
    if len(lines) > _OUTPUT_LINES:
        cut = len(lines) - _OUTPUT_LINES
        half = _OUTPUT_LINES // 2
        lines = [*lines[:half], f"… [{cut} lines omitted] …", *lines[-half:]]
    out = "\n".join(lines)
    if len(out) > _OUTPUT_CHARS:
        half = _OUTPUT_CHARS // 2
        out = f"{out[:half]}\n… [{len(out) - 2 * half} characters omitted] …\n{out[-half:]}"
    return out


def _runbook(report: AuditReport) -> str:
    if not report.runbook_id:
        return "none matched"
    version = f" v{report.runbook_version}" if report.runbook_version is not None else ""
    title = f": {report.runbook_title}" if report.runbook_title else ""
    return f"{report.runbook_id}{version}{title}"


def _summary_pairs(report: AuditReport) -> list[tuple[str, str]]:
    ack = _when(report.acknowledged_at)
    if report.acknowledged_by:
        ack = f"{ack} by {report.acknowledged_by}"
    return [
        ("Incident ID", report.incident_id),
        ("Title", report.title or "—"),
        ("Service", report.service or "—"),
        ("Severity", report.severity or "—"),
        ("Status", report.status or "—"),
        ("Opened", _when(report.opened_at)),
        ("Acknowledged", ack),
        ("Closed", _when(report.closed_at)),
        ("MTTA (time to acknowledge)", _duration(report.mtta)),
        ("MTTR (time to resolve)", _duration(report.mttr)),
        ("Runbook", _runbook(report)),
        ("Match reason", report.match_reason or "—"),
        ("Outcome", report.outcome or "—"),
        ("Approvals / commands", f"{len(report.approvals)} / {len(report.commands)}"),
    ]


def _manifest_pairs(report: AuditReport) -> list[tuple[str, str]]:
    m = report.manifest
    signature = "none (unsigned export)"
    if m.signature is not None:
        key = f", key {m.signature.key_id}" if m.signature.key_id else ""
        signature = f"{m.signature.algorithm}{key}: {m.signature.value}"
    return [
        ("Format", f"{m.format} v{m.format_version} ({m.hash_algorithm} chain)"),
        ("Final hash", m.final_hash),
        ("Record count", str(m.record_count)),
        ("Namespace", m.source.namespace),
        ("Workflow ID", m.source.workflow_id),
        ("Run ID", m.source.run_id),
        ("History length", f"{m.source.history_length} events"),
        ("Generated at", _when(m.generated_at)),
        ("Exporter", m.exporter),
        ("Signature", signature),
        ("Export file", report.export_file or "—"),
    ]


_VERIFY_TEXT = (
    "How to verify: run ddrun export verify FILE on the JSON Lines export ({file}). "
    "It recomputes every record's SHA-256 over its canonical JSON (sorted keys, no "
    "whitespace, UTF-8), checks that each record names the previous record's hash (the "
    "first names 64 zeros), that the record count and the last hash equal this manifest, "
    "and, given the organisation's export key, the manifest's HMAC-SHA256 signature. "
    "Any changed, removed, added or reordered record is reported by its sequence number. "
    "This report is a view of that export; the hashes above tie it to the file."
)


def _command_block(pdf: _Report, entry: CommandEntry, redactor: Redactor) -> None:
    title = f"{entry.step_id}: {entry.step_title}" if entry.step_title else entry.step_id
    pdf.subheading(("Rollback " if entry.purpose == "rollback" else "Step ") + title)
    exit_code = "—" if entry.exit_code is None else str(entry.exit_code)
    duration = "—" if entry.duration_ms is None else f"{entry.duration_ms / 1000:.1f} s"
    facts = (
        f"Exit code {exit_code} · outcome {entry.outcome or '—'} · attempt {entry.attempt}"
        f" · agent {entry.agent or '—'} · started {_when(entry.started_at)}"
        f" · finished {_when(entry.finished_at)} · duration {duration}"
    )
    pdf.paragraph(facts, size=8)
    pdf.paragraph("Command:", size=8)
    pdf.mono(redactor.redact(entry.command))
    if entry.output_excerpt:
        shortened = " (shortened)" if entry.output_truncated else ""
        pdf.paragraph(f"Output excerpt, redacted{shortened}:", size=8)
        pdf.mono(_excerpt(redactor.redact(entry.output_excerpt)), size=7)
    if entry.output_digest:
        pdf.paragraph(f"Full output digest: {entry.output_digest}", size=8)


def _timeline_rows(records: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    return [
        [
            str(r.get("seq", "")),
            _when(str(r.get("at", "")), suffix=""),
            str(r.get("kind", "")),
            str(r.get("actor") or "—"),
            summarize(r, max_chars=240),
            str(r.get("hash", ""))[:10],
        ]
        for r in records
    ]


def _register_fonts(pdf: FPDF, directory: Path | None) -> _Fonts:
    if directory is None:
        return _Fonts(sans="helvetica", mono="courier", unicode=False)
    regular = directory / _FONT_FILES[""]
    bold = directory / _FONT_FILES["B"]
    pdf.add_font("ddsans", "", str(regular))
    pdf.add_font("ddsans", "B", str(bold if bold.is_file() else regular))
    pdf.add_font("ddmono", "", str(directory / _FONT_FILES["mono"]))
    covered: set[int] | None = None
    for name in ("ddsans", "ddsansB", "ddmono"):
        font = pdf.fonts[name]
        if isinstance(font, TTFFont):
            codepoints = set(font.cmap)
            covered = codepoints if covered is None else covered & codepoints
    return _Fonts(sans="ddsans", mono="ddmono", unicode=True, covered=frozenset(covered or ()))


def render_pdf(
    report: AuditReport,
    *,
    font_dirs: Sequence[Path] | None = None,
    redactor: Redactor | None = None,
) -> bytes:
    """The evidence report as PDF bytes.

    `font_dirs` are searched for DejaVuSans.ttf/DejaVuSansMono.ttf (default: system places and
    matplotlib); `[]` forces the core fonts. Commands and outputs pass through `redactor` (the
    default one) once more before they are printed.
    """
    redactor = redactor or Redactor()
    pdf = _Report(report.incident_id, report.manifest.final_hash)
    fonts = pdf.faces = _register_fonts(pdf, unicode_font_dir(font_dirs))
    pdf.set_title(pdf.clean(f"Audit evidence: incident {report.incident_id}"))
    pdf.set_author("dd0c/run")
    pdf.set_creator(pdf.clean(report.manifest.exporter))
    pdf.set_creation_date(report.manifest.generated_at)
    pdf.add_page()

    pdf.set_font(fonts.sans, "B", 18)
    pdf.cell(0, 10, "Incident audit evidence", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(fonts.sans, size=11)
    pdf.multi_cell(
        0, 5.5, pdf.clean(report.title or report.incident_id), new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(3)
    pdf.key_values(_summary_pairs(report))
    pdf.ln(3)
    pdf.paragraph(
        f"Integrity: this report covers {report.manifest.record_count} chained records exported "
        f"from workflow {report.manifest.source.workflow_id} (run {report.manifest.source.run_id})"
        f"; final hash {report.manifest.final_hash}. See section 6 for how to verify it.",
        size=8,
    )

    pdf.heading("1. Timeline")
    if report.records:
        pdf.table_rows(
            (10, 34, 27, 25, 64, 20),
            ("Seq", "Time (UTC)", "Kind", "Actor", "What happened", "Hash"),
            _timeline_rows(report.records),
        )
    else:
        pdf.paragraph("No records.")

    pdf.heading("2. Approvals and human decisions")
    if report.approvals:
        rows = [
            [
                a.step_title or a.step_id,
                a.decision,
                a.approver,
                f"{a.channel} ({a.authenticated_by or 'credential not recorded'})",
                _when(a.at, ""),
                a.comment,
            ]
            for a in report.approvals
        ]
        pdf.table_rows(
            (30, 17, 26, 33, 34, 40),
            ("Step", "Decision", "By", "Channel / credential", "When (UTC)", "Comment"),
            rows,
        )
    else:
        pdf.paragraph("None recorded: no step needed a human decision.")

    pdf.heading("3. Commands and outcomes")
    for entry in report.step_commands:
        _command_block(pdf, entry, redactor)
    if not report.step_commands:
        pdf.paragraph("No commands ran.")

    pdf.heading("4. Escalations")
    if report.escalations:
        rows = [
            [_when(e.at, ""), str(e.level), e.target, e.step_id or "—", e.reason]
            for e in report.escalations
        ]
        header = ("When (UTC)", "Level", "Paged", "Step", "Why")
        pdf.table_rows((34, 13, 38, 30, 65), header, rows)
    else:
        pdf.paragraph("None: every human input arrived in time.")

    pdf.heading("5. Rollbacks")
    for entry in report.rollbacks:
        _command_block(pdf, entry, redactor)
    if not report.rollbacks:
        pdf.paragraph("None: nothing was rolled back.")

    pdf.heading("6. Export manifest and verification")
    pdf.key_values(_manifest_pairs(report), label_width=32)
    pdf.ln(2)
    pdf.paragraph(_VERIFY_TEXT.format(file=report.export_file or "the .jsonl file"), size=8.5)
    pdf.ln(1)
    pdf.mono(f"ddrun export verify {report.export_file or 'INCIDENT.jsonl'}", size=8.5)
    return bytes(pdf.output())
