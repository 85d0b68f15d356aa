"""Charts as inline SVG: storage trend per store, inputs/outputs by category, the Sankey diagram.

Hand-written SVG rather than matplotlib: a 20-store annual report draws 20 trend charts, and
matplotlib costs ~80 ms per figure here against < 1 ms for these; the output is also
deterministic (same data, same bytes). Every label is XML-escaped; nothing refers to a URL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup

from reports.sankey import display_unit, sankey_svg

PALETTE = ("#1f4e79", "#2e86ab", "#6aa84f", "#e69138", "#a64d79", "#7f6000", "#45818e", "#cc0000")
FONT = "font-family:'DejaVu Sans',sans-serif"


def _t(text: Any) -> str:
    return escape(str(text), {'"': "&quot;"})


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _num(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def storage_trend(
    name: str, points: list[list[Any]], capacity: float | None, unit: str = "m3"
) -> Markup:
    """Daily closing storage of one store as a line, with its capacity as a dashed line."""
    w, h, left, right, top, bottom = 340, 150, 44, 8, 18, 22
    values = [p[1] for p in points if p[1] is not None]
    scale = 1000.0 if unit == "ML" else 1.0
    peak = max([*(v / scale for v in values), (capacity or 0) / scale, 1.0])
    ymax = _nice_max(peak * 1.05)
    n = max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return (
            left + (w - left - right) * i / n,
            top + (h - top - bottom) * (1 - (v / scale) / ymax),
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" style="{FONT};font-size:8px">',
        f'<text x="{left}" y="11" font-weight="bold" font-size="9">{_t(name)}</text>',
    ]
    for k in range(5):
        y = top + (h - top - bottom) * k / 4
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd" '
            'stroke-width="0.5"/>'
            f'<text x="{left - 3}" y="{y + 3:.1f}" text-anchor="end" fill="#555">'
            f"{_num(ymax * (1 - k / 4))}</text>"
        )
    if capacity:
        _, y = xy(0, capacity)
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#cc0000" '
            'stroke-dasharray="4 3" stroke-width="0.8"/>'
            f'<text x="{w - right}" y="{y - 2:.1f}" text-anchor="end" fill="#cc0000">'
            "capacity</text>"
        )
    segments: list[Any] = []
    current: list[Any] = []
    for i, (_, value) in enumerate(points):
        if value is None:
            if current:
                segments.append(current)
            current = []
            continue
        x, y = xy(i, value)
        current.append(f"{x:.1f},{y:.1f}")
    if current:
        segments.append(current)
    for seg in segments:
        parts.append(
            f'<polyline fill="none" stroke="{PALETTE[0]}" stroke-width="1.2" '
            f'points="{" ".join(seg)}"/>'
        )
    if points:
        first, last = dt.date.fromisoformat(points[0][0]), dt.date.fromisoformat(points[-1][0])
        parts.append(
            f'<text x="{left}" y="{h - 8}" fill="#555">{first:%d %b %Y}</text>'
            f'<text x="{w - right}" y="{h - 8}" text-anchor="end" fill="#555">'
            f"{last:%d %b %Y}</text>"
        )
    parts.append(f'<text x="4" y="{top - 4}" fill="#555">{_t(display_unit(unit))}</text></svg>')
    return Markup("".join(parts))  # noqa: S704 - every text inside went through _t()


def category_bars(categories: list[dict[str, Any]], unit: str = "m3") -> Markup:
    """Horizontal bars: inputs by source and outputs by destination (non-zero categories)."""
    rows = [c for c in categories if c["volume"] and c["direction"] in ("input", "output")]
    scale = 1000.0 if unit == "ML" else 1.0
    w, bar_h, gap, label_w = 520, 14, 5, 190
    h = 24 + len(rows) * (bar_h + gap) + 16
    vmax = _nice_max(max([r["volume"] / scale for r in rows] or [1.0]))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" style="{FONT};font-size:8px">'
    ]
    y = 16
    for row in rows:
        colour = PALETTE[1] if row["direction"] == "input" else PALETTE[3]
        length = (w - label_w - 70) * (row["volume"] / scale) / vmax
        prefix = "In" if row["direction"] == "input" else "Out"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 10}" text-anchor="end">{prefix}: '
            f"{_t(row['label'])}</text>"
            f'<rect x="{label_w}" y="{y}" width="{max(length, 0.5):.1f}" height="{bar_h}" '
            f'fill="{colour}"/>'
            f'<text x="{label_w + length + 4:.1f}" y="{y + 10}">'
            f"{row['volume'] / scale:,.{1 if unit == 'ML' else 0}f} {_t(display_unit(unit))}</text>"
        )
        y += bar_h + gap
    parts.append(
        f'<rect x="{label_w}" y="4" width="8" height="8" fill="{PALETTE[1]}"/>'
        f'<text x="{label_w + 11}" y="11">inputs (by source)</text>'
        f'<rect x="{label_w + 100}" y="4" width="8" height="8" fill="{PALETTE[3]}"/>'
        f'<text x="{label_w + 111}" y="11">outputs (by destination)</text></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 - every text inside went through _t()


def sankey(flows: list[dict[str, Any]], unit: str = "m3") -> Markup:
    """The site's flows over the period as a Sankey diagram (:mod:`reports.sankey`)."""
    svg = sankey_svg(flows, unit)
    if not svg:
        return Markup("<p>No flows with a volume in the period.</p>")
    return Markup(svg)  # noqa: S704 - every text inside went through escape()


def _fine_max(value: float) -> float:
    """An axis top just above ``value`` (finer steps than :func:`_nice_max`: a forecast chart
    should not spend half its height above the capacity line)."""
    if value <= 0:
        return 1.0
    exp = 10 ** (len(str(int(value))) - 1)
    for step in (1, 1.2, 1.6, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _volume(value: float, unit: str) -> str:
    return f"{value:,.1f}" if unit == "ML" else f"{value:,.0f}"


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _short(text: Any, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def forecast_band(
    name: str,
    history: list[list[Any]],
    forecast: list[dict[str, Any]],
    capacity: float | None,
    unit: str = "m3",
    as_of: str | None = None,
) -> Markup:
    """One store's recent storage and its forecast: the observed days as a line, then the
    forecast mean dashed inside its 95 % band (light) and 80 % band (darker), the capacity and
    its 80 % mark as dashed lines and a vertical marker on the last observed day (``as_of``,
    default the last history day)."""
    w, h, left, right, top, bottom = 340, 188, 44, 8, 26, 50
    scale = 1000.0 if unit == "ML" else 1.0
    days = [_day(p[0]) for p in history] + [_day(f["day"]) for f in forecast]
    if not days:
        return Markup(f"<p>No forecast for {_t(name)}.</p>")  # noqa: S704 - escaped
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    marker = _day(as_of) if as_of else (max(_day(p[0]) for p in history) if history else None)
    values = [p[1] for p in history if p[1] is not None] + [
        f[k] for f in forecast for k in ("mean", "hi95", "hi80") if f.get(k) is not None
    ]
    peak = max([*(v / scale for v in values), (capacity or 0) / scale, 1.0])
    ymax = _fine_max(peak * 1.05)
    plot_h = h - top - bottom

    def x_of(day: Any) -> float:
        return left + (w - left - right) * (_day(day) - first).days / span

    def y_of(v: float) -> float:
        share = min(max((v / scale) / ymax, 0.0), 1.0)  # a band below 0 is drawn at 0
        return top + plot_h * (1 - share)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" style="{FONT};font-size:8px">',
        f'<text x="{left}" y="11" font-weight="bold" font-size="9">{_t(_short(name, 48))}</text>',
    ]
    for k in range(5):
        y = top + plot_h * k / 4
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd" '
            'stroke-width="0.5"/>'
            f'<text x="{left - 3}" y="{y + 3:.1f}" text-anchor="end" fill="#555">'
            f"{_num(ymax * (1 - k / 4))}</text>"
        )
    for lo, hi, fill, cls in (
        ("lo95", "hi95", "#c6dbef", "band95"),
        ("lo80", "hi80", "#7fb0d8", "band80"),
    ):
        band = [f for f in forecast if f.get(lo) is not None and f.get(hi) is not None]
        if len(band) >= 2:
            upper = [f"{x_of(f['day']):.1f},{y_of(f[hi]):.1f}" for f in band]
            lower = [f"{x_of(f['day']):.1f},{y_of(f[lo]):.1f}" for f in reversed(band)]
            parts.append(
                f'<polygon class="{cls}" fill="{fill}" fill-opacity="0.85" stroke="none" '
                f'points="{" ".join(upper + lower)}"/>'
            )
    if capacity:
        for level, label, colour in (
            (capacity, "capacity", "#cc0000"),
            (0.8 * capacity, "80 % of capacity", "#b45f06"),
        ):
            # named in the legend: a label on the plot would lie on the history or the bands
            y = y_of(level)
            parts.append(
                f'<line class="{label.replace(" ", "-").replace("%", "pct")}" x1="{left}" '
                f'x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" '
                'stroke-dasharray="4 3" stroke-width="0.8"/>'
            )
    observed = [f"{x_of(d):.1f},{y_of(v):.1f}" for d, v in history if v is not None]
    if observed:
        parts.append(
            f'<polyline class="observed" fill="none" stroke="{PALETTE[0]}" stroke-width="1.2" '
            f'points="{" ".join(observed)}"/>'
        )
    means = [f for f in forecast if f.get("mean") is not None]
    if means:
        # the dashed mean starts at the last observed day so the two lines join
        start = [observed[-1]] if observed and marker and _day(history[-1][0]) == marker else []
        pts = start + [f"{x_of(f['day']):.1f},{y_of(f['mean']):.1f}" for f in means]
        parts.append(
            f'<polyline class="forecast-mean" fill="none" stroke="{PALETTE[0]}" '
            f'stroke-width="1.2" stroke-dasharray="4 2" points="{" ".join(pts)}"/>'
        )
    if marker is not None and first <= marker <= last:
        x = x_of(marker)
        parts.append(
            f'<line class="as-of" x1="{x:.1f}" x2="{x:.1f}" y1="{top - 8}" y2="{top + plot_h}" '
            'stroke="#333" stroke-width="0.7" stroke-dasharray="1 2"/>'
            f'<text x="{x + 2:.1f}" y="{top - 3}" fill="#333">as of {marker:%d %b %Y}</text>'
        )
    axis_y = top + plot_h + 10
    parts.append(
        f'<text x="{left}" y="{axis_y}" fill="#555">{first:%d %b %Y}</text>'
        f'<text x="{w - right}" y="{axis_y}" text-anchor="end" fill="#555">{last:%d %b %Y}</text>'
    )
    ly = h - 19
    parts.append(
        f'<line x1="{left}" x2="{left + 14}" y1="{ly - 3}" y2="{ly - 3}" stroke="{PALETTE[0]}" '
        'stroke-width="1.2"/>'
        f'<text x="{left + 17}" y="{ly}">observed</text>'
        f'<line x1="{left + 62}" x2="{left + 76}" y1="{ly - 3}" y2="{ly - 3}" '
        f'stroke="{PALETTE[0]}" stroke-width="1.2" stroke-dasharray="4 2"/>'
        f'<text x="{left + 79}" y="{ly}">forecast mean</text>'
        f'<rect x="{left + 142}" y="{ly - 7}" width="10" height="7" fill="#7fb0d8"/>'
        f'<text x="{left + 155}" y="{ly}">80 %</text>'
        f'<rect x="{left + 178}" y="{ly - 7}" width="10" height="7" fill="#c6dbef"/>'
        f'<text x="{left + 191}" y="{ly}">95 % interval</text>'
    )
    if capacity:
        ly += 11
        parts.append(
            f'<line x1="{left}" x2="{left + 14}" y1="{ly - 3}" y2="{ly - 3}" stroke="#cc0000" '
            'stroke-dasharray="4 3" stroke-width="0.8"/>'
            f'<text x="{left + 17}" y="{ly}">capacity ({_volume(capacity / scale, unit)})</text>'
            f'<line x1="{left + 102}" x2="{left + 116}" y1="{ly - 3}" y2="{ly - 3}" '
            'stroke="#b45f06" stroke-dasharray="4 3" stroke-width="0.8"/>'
            f'<text x="{left + 119}" y="{ly}">80 % of capacity</text>'
        )
    parts.append(f'<text x="4" y="{top - 4}" fill="#555">{_t(display_unit(unit))}</text></svg>')
    return Markup("".join(parts))  # noqa: S704 - every text inside went through _t()


def scenario_lines(
    name: str, scenarios: list[dict[str, Any]], capacity: float | None, unit: str = "m3"
) -> Markup:
    """The median (p50) storage of one store under each scenario as a line, the base case
    (``scenario_id`` ``base``) drawn dark and heavier, with a legend and the capacity dashed."""
    w, left, right, top = 340, 44, 8, 26
    plot_h = 112
    drawn = [s for s in scenarios if any(p[1] is not None for p in s["points"])]
    drawn.sort(key=lambda s: (s["scenario_id"] != "base", str(s["name"])))
    if not drawn:
        return Markup(f"<p>No scenario projection for {_t(name)}.</p>")  # noqa: S704 - escaped
    per_row = 2
    legend_rows = (len(drawn) + (1 if capacity else 0) + per_row - 1) // per_row
    h = top + plot_h + 16 + 11 * legend_rows + 4
    scale = 1000.0 if unit == "ML" else 1.0
    days = [_day(p[0]) for s in drawn for p in s["points"]]
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    values = [p[1] for s in drawn for p in s["points"] if p[1] is not None]
    ymax = _fine_max(max([*(v / scale for v in values), (capacity or 0) / scale, 1.0]) * 1.05)

    def xy(day: Any, v: float) -> tuple[float, float]:
        share = min(max((v / scale) / ymax, 0.0), 1.0)
        return (
            left + (w - left - right) * (_day(day) - first).days / span,
            top + plot_h * (1 - share),
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" style="{FONT};font-size:8px">',
        f'<text x="{left}" y="11" font-weight="bold" font-size="9">'
        f"{_t(_short(name, 36))}: scenarios (median)</text>",
    ]
    for k in range(5):
        y = top + plot_h * k / 4
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd" '
            'stroke-width="0.5"/>'
            f'<text x="{left - 3}" y="{y + 3:.1f}" text-anchor="end" fill="#555">'
            f"{_num(ymax * (1 - k / 4))}</text>"
        )
    if capacity:
        _, y = xy(first, capacity)
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#cc0000" '
            'stroke-dasharray="4 3" stroke-width="0.8"/>'
        )
    others = [c for c in PALETTE[1:] if c != "#cc0000"]
    styles = []
    k = 0
    for s in drawn:
        if s["scenario_id"] == "base":
            styles.append((PALETTE[0], "2", ""))
        else:
            styles.append((others[k % len(others)], "1", ' stroke-dasharray="5 2"'))
            k += 1
    # the base case last, so it lies on top of the others
    for s, (colour, width, dash) in sorted(
        zip(drawn, styles, strict=True), key=lambda pair: pair[0]["scenario_id"] == "base"
    ):
        pts = [xy(d, v) for d, v in s["points"] if v is not None]
        parts.append(
            f'<polyline class="scenario" fill="none" stroke="{colour}" stroke-width="{width}"'
            f'{dash} points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}">'
            f"<title>{_t(s['name'])}</title></polyline>"
        )
    axis_y = top + plot_h + 10
    parts.append(
        f'<text x="{left}" y="{axis_y}" fill="#555">{first:%d %b %Y}</text>'
        f'<text x="{w - right}" y="{axis_y}" text-anchor="end" fill="#555">{last:%d %b %Y}</text>'
    )
    col_w = (w - left - right) / per_row
    for i, (s, (colour, width, dash)) in enumerate(zip(drawn, styles, strict=True)):
        x = left + col_w * (i % per_row)
        y = axis_y + 12 + 11 * (i // per_row)
        label = _short(s["name"], 26)
        weight = ' font-weight="bold"' if s["scenario_id"] == "base" else ""
        parts.append(
            f'<line x1="{x:.1f}" x2="{x + 14:.1f}" y1="{y - 3}" y2="{y - 3}" stroke="{colour}" '
            f'stroke-width="{width}"{dash}/>'
            f'<text x="{x + 17:.1f}" y="{y}"{weight}>{_t(label)}</text>'
        )
    if capacity:
        i = len(drawn)
        x = left + col_w * (i % per_row)
        y = axis_y + 12 + 11 * (i // per_row)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x + 14:.1f}" y1="{y - 3}" y2="{y - 3}" stroke="#cc0000" '
            'stroke-dasharray="4 3" stroke-width="0.8"/>'
            f'<text x="{x + 17:.1f}" y="{y}">capacity ({_volume(capacity / scale, unit)})</text>'
        )
    parts.append(f'<text x="4" y="{top - 4}" fill="#555">{_t(display_unit(unit))}</text></svg>')
    return Markup("".join(parts))  # noqa: S704 - every text inside went through _t()
