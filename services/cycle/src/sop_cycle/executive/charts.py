"""Inline SVG charts for the executive review pack: no script, no external asset.

One chart kind covers the pack: grouped bars and lines over months on a left axis, with
optional lines on a right (percent) axis. Missing values leave gaps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

Series = Mapping[str, Sequence[float | None]]
PALETTE = ("#2f6db5", "#e08a2c", "#4c9a53", "#b8433a", "#7d5ba6", "#6b6b6b")
WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 60, 36, 56


def _nice_max(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * 10**exponent
        if top >= value:
            return float(top)
    return float(10 ** (exponent + 1))


def _fmt(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def _finite(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def chart(
    title: str,
    months: Sequence[str],
    *,
    bars: Series | None = None,
    lines: Series | None = None,
    percent_lines: Series | None = None,
    unit: str = "",
) -> str:
    """An SVG with grouped ``bars`` and ``lines`` on the left axis, ``percent_lines`` (ratios,
    0.85 = 85 %) on the right axis."""
    bars, lines, percent_lines = bars or {}, lines or {}, percent_lines or {}
    n = max(len(months), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    left_values = [v for s in (*bars.values(), *lines.values()) for v in _finite(s)]
    top = _nice_max(max(left_values, default=0.0))
    right_values = [v for s in percent_lines.values() for v in _finite(s)]
    right_top = _nice_max(max(right_values, default=1.0) * 100) / 100
    slot = plot_w / n

    def x(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    def y(v: float, scale: float) -> float:
        return TOP + plot_h - (v / scale) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for k in range(5):  # grid and left axis labels
        value = top * k / 4
        gy = y(value, top)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{gy + 4:.1f}" font-size="10" text-anchor="end">'
            f"{_fmt(value)}</text>"
        )
        if percent_lines:
            out.append(
                f'<text x="{WIDTH - RIGHT + 6}" y="{gy + 4:.1f}" font-size="10">'
                f"{right_top * k / 4:.0%}</text>"
            )
    if unit:
        out.append(f'<text x="8" y="{TOP - 8}" font-size="10">{escape(unit)}</text>')
    step = max(1, math.ceil(n / 12))
    for i, month in enumerate(months):
        if i % step == 0:
            out.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" '
                f'text-anchor="middle">{escape(month)}</text>'
            )
    colour = iter(PALETTE * 3)
    legend: list[tuple[str, str, str]] = []
    width = slot * 0.8 / max(len(bars), 1)
    for b, (name, values) in enumerate(bars.items()):
        fill = next(colour)
        legend.append((name, fill, "bar"))
        for i, v in enumerate(values):
            if v is None or not math.isfinite(v):
                continue
            bx = LEFT + slot * i + slot * 0.1 + b * width
            by = y(max(v, 0.0), top)
            out.append(
                f'<rect x="{bx:.1f}" y="{by:.1f}" width="{width:.1f}" '
                f'height="{TOP + plot_h - by:.1f}" fill="{fill}"><title>{escape(name)} '
                f"{escape(months[i])}: {v:,.0f}</title></rect>"
            )
    for scale, group, dashed in ((top, lines, False), (right_top, percent_lines, True)):
        for name, values in group.items():
            stroke = next(colour)
            legend.append((name, stroke, "line"))
            segments: list[list[str]] = [[]]
            for i, v in enumerate(values):
                if v is None or not math.isfinite(v):
                    segments.append([])
                    continue
                segments[-1].append(f"{x(i):.1f},{y(v, scale):.1f}")
            dash = ' stroke-dasharray="6 3"' if dashed else ""
            for points in segments:
                if points:
                    out.append(
                        f'<polyline fill="none" stroke="{stroke}" stroke-width="2"{dash} '
                        f'points="{" ".join(points)}"/>'
                    )
    lx = LEFT
    for name, fill, kind in legend:
        ly = HEIGHT - 16
        mark = (
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{fill}"/>'
            if kind == "bar"
            else f'<line x1="{lx}" x2="{lx + 12}" y1="{ly - 4}" y2="{ly - 4}" '
            f'stroke="{fill}" stroke-width="2"/>'
        )
        out.append(f'{mark}<text x="{lx + 16}" y="{ly}" font-size="11">{escape(name)}</text>')
        lx += 24 + 7 * len(name)
    out.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#666"/>'
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        'stroke="#666"/></svg>'
    )
    return "".join(out)
