"""The metering reports as HTML (for the PDF) and as a workbook.

The HTML comes from the sandboxed template every report uses (:mod:`reports.render.html`: the
shipped stylesheet inlined, nothing fetched); the PDF from the shared WeasyPrint renderer. One
template (``metering_report.html.j2``) serves both monthly reports: its sections follow the
definition. Figures use the materials reports' number formats; the trend chart is inline SVG in
the style of :mod:`reports.charts`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from reports.charts import FONT, PALETTE, _nice_max, _num, _t
from reports.materials.render import number
from reports.metering.catalogue import METERING_METRICS

_DIGITS = {"currency": 2, "count": 0, "m3": 1, "score": 1}


def metric_text(key: str, value: Any) -> str:
    return number(value, _DIGITS.get(METERING_METRICS[key][1], 2))


def metric_unit(key: str, currency: str | None = None) -> str:
    unit = METERING_METRICS[key][1]
    return {"currency": currency or "", "count": "", "score": "/ 100", "m3": "m³"}.get(unit, unit)


def _change(now: Any, before: Any) -> str:
    if now is None or before is None or before == 0:
        return "n/a"
    return f"{100.0 * (now - before) / abs(before):+.1f} %"


def trend_chart(rows: list[dict[str, Any]]) -> Markup:
    """Bars of collections and earned revenue by month (the last twelve)."""
    if not rows:
        return Markup("")
    w, h, left, bottom, top = 560, 170, 56, 24, 18
    vmax = _nice_max(
        max(
            [r.get("collections") or 0.0 for r in rows]
            + [r.get("earned_revenue") or 0.0 for r in rows]
        )
    )
    slot = (w - left - 10) / len(rows)
    bar = max(2.0, slot * 0.35)
    plot_h = h - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" style="{FONT};font-size:8px">'
    ]
    for i in range(5):
        y = top + plot_h * i / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{w - 10}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">'
            f"{_t(_num(vmax * (4 - i) / 4))}</text>"
        )
    for i, r in enumerate(rows):
        x = left + slot * i + slot * 0.12
        for j, key in enumerate(("collections", "earned_revenue")):
            value = r.get(key) or 0.0
            height = plot_h * value / vmax
            parts.append(
                f'<rect x="{x + j * bar:.1f}" y="{top + plot_h - height:.1f}" '
                f'width="{bar:.1f}" height="{height:.1f}" fill="{PALETTE[1 if j == 0 else 3]}"/>'
            )
        parts.append(
            f'<text x="{x + bar:.1f}" y="{h - 10}" text-anchor="middle">'
            f"{_t(str(r['month'])[2:7])}</text>"
        )
    parts.append(
        f'<rect x="{left}" y="4" width="8" height="8" fill="{PALETTE[1]}"/>'
        f'<text x="{left + 11}" y="11">collections</text>'
        f'<rect x="{left + 80}" y="4" width="8" height="8" fill="{PALETTE[3]}"/>'
        f'<text x="{left + 91}" y="11">earned revenue</text></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 - every text inside went through _t()


def _context(payload: dict[str, Any], header: dict[str, Any]) -> dict[str, Any]:
    from reports.render.html import TEMPLATES

    currency = payload["site"].get("currency")
    return {
        "payload": payload,
        "d": payload["definition"],
        "site": payload["site"],
        "period": payload["period"],
        "m": payload["metrics"],
        "prior": {k: (payload["comparison"]["metrics"] or {}).get(k) for k in METERING_METRICS},
        "r": header,
        "has": payload["definition"]["sections"],
        "currency": currency or "",
        "metric_label": lambda k: METERING_METRICS[k][0],
        "metric_text": metric_text,
        "metric_unit": lambda k: metric_unit(k, currency),
        "change": _change,
        "num": number,
        "money": lambda v: number(v, 2),
        "pct": lambda v: "n/a" if v is None else f"{number(v, 1)} %",
        "label": lambda v: "" if v is None else str(v).replace("_", " "),
        "segment": lambda v: (
            (payload.get("names") or {}).get("segment", {}).get(v)
            or ("" if v is None else str(v).replace("_", " "))
        ),
        "trend_chart": trend_chart(payload.get("trend") or []),
        "accent": header.get("branding", {}).get("accent_colour", "#1f4e79"),
        "branding": header.get("branding", {}),
        "css": Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),  # noqa: S704
    }


def render_html(
    payload: dict[str, Any],
    header: dict[str, Any],
    template_name: str,
    template_dirs: list[Path] | None = None,
) -> str:
    """The report as one self-contained HTML document."""
    from reports.render.html import render_template

    return render_template(template_name, _context(payload, header), template_dirs)


# -- the workbook --------------------------------------------------------------------------------

_GROUP = (
    ("purchases", "purchases"),
    ("credit sold", "credit_sold"),
    ("collections", "collections"),
    ("voucher cost", "voucher_cost"),
    ("share of collections %", "share_pct"),
)
# payload part -> (sheet title, [(column header, key)]) in the order the sheets appear
SHEETS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("by_method", "By payment method", (("payment method", "payment_method"), *_GROUP)),
    ("by_provider", "By provider", (("provider", "provider"), *_GROUP)),
    ("by_segment", "By segment", (("segment", "segment"), *_GROUP)),
    (
        "trend",
        "Revenue by month",
        (
            ("month", "month"),
            ("collections", "collections"),
            ("credit sold", "credit_sold"),
            ("earned revenue", "earned_revenue"),
            ("deferred revenue, closing", "deferred_revenue_closing"),
            ("emergency debt, closing", "emergency_debt_closing"),
        ),
    ),
    (
        "vouchers",
        "Top vouchers",
        (
            ("voucher", "voucher_code"),
            ("type", "discount_type"),
            ("value", "value"),
            ("redemptions", "redemptions"),
            ("customers", "customers"),
            ("credit", "amount"),
            ("discount (cost)", "discount"),
            ("paid", "final_amount"),
            ("uses left", "remaining_uses"),
        ),
    ),
    (
        "segments",
        "Consumption by segment",
        (
            ("segment", "segment"),
            ("customers", "customers"),
            ("m3", "volume_m3"),
            ("m3 per customer", "volume_per_customer_m3"),
            ("previous month m3", "prev_month_m3"),
            ("MoM %", "mom_change_pct"),
            ("same month last year m3", "same_month_last_year_m3"),
            ("YoY %", "yoy_change_pct"),
        ),
    ),
    ("status", "Meter status", (("status", "status"), ("meters", "meters"))),
    (
        "problem_meters",
        "Offline and warning",
        (
            ("meter", "meter_id"),
            ("customer", "customer_id"),
            ("name", "customer_name"),
            ("status", "status"),
            ("last seen (UTC)", "last_seen_at"),
            ("battery %", "battery_pct"),
            ("signal dBm", "signal_dbm"),
            ("health score", "health_score"),
            ("issues", "issues"),
            ("days offline", "offline_days"),
            ("days with a warning", "warning_days"),
        ),
    ),
    (
        "batteries",
        "Low batteries",
        (
            ("meter", "meter_id"),
            ("customer", "customer_id"),
            ("name", "customer_name"),
            ("battery %", "battery_pct"),
            ("at the month's start %", "battery_pct_month_start"),
            ("signal dBm", "signal_dbm"),
            ("issues", "issues"),
        ),
    ),
    (
        "technicians",
        "Maintenance by technician",
        (
            ("technician", "technician"),
            ("overdue", "overdue"),
            ("due soon", "due_soon"),
            ("done in the month", "done"),
        ),
    ),
    (
        "tasks",
        "Maintenance due",
        (
            ("task", "task_id"),
            ("meter", "meter_id"),
            ("customer", "customer_id"),
            ("type", "task_type"),
            ("technician", "technician"),
            ("due", "due_date"),
            ("state", "state"),
            ("days overdue", "days_overdue"),
        ),
    ),
)


def render_xlsx(payload: dict[str, Any], header: dict[str, Any]) -> bytes:
    """A metering report as a workbook: the report's facts, its metrics against the month
    before, and a sheet for each table it has."""
    from reports.render.tabular import PlainWorkbook

    site = payload["site"]
    book = PlainWorkbook()
    book.report_sheet(payload, header)
    book.summary_sheet(
        payload,
        lambda k: (METERING_METRICS[k][0], metric_unit(k, site.get("currency"))),
        "previous month",
    )
    for part, title, columns in SHEETS:
        rows = payload.get(part) or []
        if not rows:
            continue
        book.sheet(title, [h for h, _ in columns], [[r.get(k) for _, k in columns] for r in rows])
    if payload["data_quality"]["notes"]:
        book.sheet("Notes", ["note"], [[n] for n in payload["data_quality"]["notes"]])
    return book.to_bytes()
