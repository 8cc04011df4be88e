"""Charts as inline SVG, drawn on the server: no chart library, no script, nothing to load.

Every text placed in the SVG is escaped here; the result is safe to insert as markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#64748b")


def _svg(width: int, height: int, body: str, title: str) -> Markup:
    return Markup(  # noqa: S704 - every text in `body` was escaped where it was built
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def bars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    maximum: float | None = None,
    colors: Sequence[str] = PALETTE,
) -> Markup:
    """Horizontal bars, one per (label, value), the value printed at the bar's end."""
    width, row, label_w = 520, 26, 170
    height = max(row * len(items) + 10, 40)
    top = maximum if maximum else max((v for _, v in items), default=0) or 1
    parts = []
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        w = max(0.0, (width - label_w - 70) * value / top)
        color = colors[i % len(colors)]
        shown = f"{value:.0f}{unit}" if value >= 10 or value == int(value) else f"{value:.1f}{unit}"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12" '
            f'fill="#334155">{escape(label[:28])}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" rx="3" '
            f'fill="{color}"><title>{escape(label)}: {escape(shown)}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="12" '
            f'fill="#0f172a">{escape(shown)}</text>'
        )
    if not items:
        parts.append('<text x="10" y="24" font-size="13" fill="#64748b">no data yet</text>')
    return _svg(width, height, "".join(parts), title)


def donut(parts: Sequence[tuple[str, float]], *, title: str, center: str = "") -> Markup:
    """Shares of a whole, with a legend."""
    total = sum(v for _, v in parts)
    cx, cy, r, stroke = 80, 80, 58, 26
    circumference = 2 * math.pi * r
    body = [
        f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="#e2e8f0" '
        f'stroke-width="{stroke}"/>'
    ]
    offset = 0.0
    for i, (label, value) in enumerate(parts):
        if total <= 0 or value <= 0:
            continue
        length = circumference * value / total
        body.append(
            f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="{PALETTE[i % len(PALETTE)]}" '
            f'stroke-width="{stroke}" stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
            f'stroke-dashoffset="{-offset:.2f}" transform="rotate(-90 {cx} {cy})">'
            f"<title>{escape(label)}: {value:.0f}</title></circle>"
        )
        offset += length
    body.append(
        f'<text x="{cx}" y="{cy + 6}" text-anchor="middle" font-size="18" font-weight="bold" '
        f'fill="#0f172a">{escape(center)}</text>'
    )
    for i, (label, value) in enumerate(parts):
        y = 30 + i * 24
        share = f"{100 * value / total:.0f}%" if total else "-"
        body.append(
            f'<rect x="180" y="{y - 11}" width="14" height="14" rx="2" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="200" y="{y}" font-size="12" fill="#334155">'
            f"{escape(label)}: {value:.0f} ({share})</text>"
        )
    return _svg(420, 170, "".join(body), title)


def lines(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    unit: str = "",
) -> Markup:
    """One line per series over shared x labels (weeks); gaps where a value is None."""
    width, height, left, bottom, top_pad = 560, 220, 50, 30, 14
    values = [v for _, vs in series for v in vs if v is not None]
    top = max(values, default=0) or 1
    plot_w, plot_h = width - left - 110, height - bottom - top_pad
    n = max(len(labels) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + plot_w * i / n, top_pad + plot_h * (1 - v / top)

    body = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" '
        'stroke="#94a3b8"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end" font-size="11" '
        f'fill="#64748b">{top:.0f}{escape(unit)}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" font-size="11" '
        'fill="#64748b">0</text>',
    ]
    step = max(1, len(labels) // 6)
    for i, label in enumerate(labels):
        if i % step == 0:
            x, _ = xy(i, 0)
            body.append(
                f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" font-size="11" '
                f'fill="#64748b">{escape(label)}</text>'
            )
    for k, (name, vs) in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        points = [xy(i, v) for i, v in enumerate(vs) if v is not None]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2.5"/>'
            )
            body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in points]
        body.append(
            f'<rect x="{left + plot_w + 14}" y="{top_pad + 20 * k}" width="12" height="12" '
            f'fill="{color}"/><text x="{left + plot_w + 30}" y="{top_pad + 10 + 20 * k}" '
            f'font-size="12" fill="#334155">{escape(name)}</text>'
        )
    return _svg(width, height, "".join(body), title)
