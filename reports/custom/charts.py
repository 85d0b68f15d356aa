"""Line and bar charts of a custom report, as inline SVG in the style of :mod:`reports.charts`
(its palette, font, axis steps and escaping): same data, same bytes, nothing fetched."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from reports.charts import FONT, PALETTE, _nice_max, _num, _short, _t
from reports.sankey import display_unit


def xy_chart(
    kind: str, title: str, series: list[dict[str, Any]], unit: str = "", x_label: str = ""
) -> Markup:
    """Each series (``name``, ``points`` as [x, y]) over the union of their x values, as lines
    or as grouped bars; a missing or empty y leaves a gap."""
    xs = sorted({p[0] for s in series for p in s["points"] if p[0] is not None}, key=str)
    if not xs:
        return Markup(f"<p>No data for {_t(title or 'this chart')} in the period.</p>")  # noqa: S704
    values = [p[1] for s in series for p in s["points"] if p[1] is not None]
    w, left, right, top, plot_h = 520, 52, 10, 24, 150
    per_row = 3
    legend_rows = (len(series) + per_row - 1) // per_row
    h = top + plot_h + 18 + 12 * legend_rows + 4
    high = _nice_max(max([*values, 0.0]) * 1.05) if any(v > 0 for v in values) else 0.0
    low = -_nice_max(-min([*values, 0.0]) * 1.05) if any(v < 0 for v in values) else 0.0
    if high == low:
        high = 1.0
    span = high - low
    index = {x: i for i, x in enumerate(xs)}
    n = len(xs)
    plot_w = w - left - right

    def y_of(v: float) -> float:
        return top + plot_h * (1 - (v - low) / span)

    def x_of(i: float) -> float:
        if kind == "bar":
            return left + plot_w * (i + 0.5) / n
        return left + plot_w * (i / max(n - 1, 1))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" style="{FONT};font-size:8px">',
        f'<text x="{left}" y="12" font-weight="bold" font-size="9">{_t(_short(title, 80))}</text>',
    ]
    for k in range(5):
        v = high - span * k / 4
        y = y_of(v)
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd" '
            'stroke-width="0.5"/>'
            f'<text x="{left - 3}" y="{y + 3:.1f}" text-anchor="end" fill="#555">{_num(v)}</text>'
        )
    if low < 0:
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y_of(0):.1f}" y2="{y_of(0):.1f}" '
            'stroke="#888" stroke-width="0.7"/>'
        )
    group_w = min(plot_w / n * 0.8, 28.0 * max(len(series), 1))
    bar_w = group_w / max(len(series), 1)
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        pts = [(index[x], v) for x, v in s["points"] if x is not None]
        if kind == "bar":
            for i, v in pts:
                if v is None:
                    continue
                x0 = x_of(i) - group_w / 2 + k * bar_w
                y0, y1 = sorted((y_of(v), y_of(0.0)))
                parts.append(
                    f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{max(bar_w - 0.5, 0.5):.1f}" '
                    f'height="{max(y1 - y0, 0.3):.1f}" fill="{colour}"><title>{_t(s["name"])}'
                    f"</title></rect>"
                )
            continue
        segment: list[str] = []
        ends: list[tuple[int | None, Any]] = [*pts, (None, None)]
        for j, v in ends:
            if v is None or j is None:
                if len(segment) == 1:
                    cx, cy = segment[0].split(",")
                    parts.append(f'<circle cx="{cx}" cy="{cy}" r="1.6" fill="{colour}"/>')
                elif segment:
                    parts.append(
                        f'<polyline fill="none" stroke="{colour}" stroke-width="1.3" '
                        f'points="{" ".join(segment)}"/>'
                    )
                segment = []
                continue
            segment.append(f"{x_of(j):.1f},{y_of(v):.1f}")
    axis_y = top + plot_h + 11
    labels = [0, n - 1] if n > 1 else [0]
    if n > 2:
        labels.insert(1, (n - 1) // 2)
    for i in labels:
        anchor = (
            "start"
            if i == 0 and kind != "bar"
            else "end"
            if i == n - 1 and kind != "bar"
            else "middle"
        )
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{axis_y}" text-anchor="{anchor}" fill="#555">'
            f"{_t(_short(xs[i], 24))}</text>"
        )
    col_w = plot_w / per_row
    for k, s in enumerate(series):
        lx = left + col_w * (k % per_row)
        ly = axis_y + 13 + 12 * (k // per_row)
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 6}" width="10" height="6" '
            f'fill="{PALETTE[k % len(PALETTE)]}"/>'
            f'<text x="{lx + 13:.1f}" y="{ly}">{_t(_short(s["name"], 30))}</text>'
        )
    caption = display_unit(unit) if unit else ""
    if x_label:
        caption = f"{caption} by {x_label}" if caption else f"by {x_label}"
    parts.append(f'<text x="{w - right}" y="12" text-anchor="end" fill="#555">{_t(caption)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inside went through _t()
