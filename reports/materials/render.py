"""The materials reports as HTML (for the PDF) and as a workbook.

The HTML comes from a sandboxed template like every report's (:mod:`reports.render.html`): the
shipped stylesheet inlined, nothing fetched. The monthly reports share one template
(``materials_report.html.j2``) whose sections follow the definition; the certificate of
analysis and the recall report have their own.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from markupsafe import Markup

from reports.materials.catalogue import MATERIALS_METRICS

_DIGITS = {"%": 1, "ratio": 2, "currency": 2, "days": 0, "count": 0, "kg": 1, "qty": 2}


def number(value: Any, digits: int = 0) -> str:
    """A figure as a reader sees it: thousands grouped, "n/a" for none, never "-0"."""
    if value is None:
        return "n/a"
    value = float(value)
    if not math.isfinite(value):
        return "n/a"
    if abs(value) < 0.5 * 10**-digits:
        value = 0.0
    return f"{value:,.{digits}f}"


def qty(value: Any) -> str:
    """A quantity in a material's base unit: up to three decimals, trailing zeros dropped."""
    if value is None:
        return "n/a"
    text = number(value, 3)
    return text.rstrip("0").rstrip(".") if "." in text else text


def metric_text(key: str, value: Any) -> str:
    return number(value, _DIGITS.get(MATERIALS_METRICS[key][1], 2))


def metric_unit(key: str, currency: str | None = None) -> str:
    unit = MATERIALS_METRICS[key][1]
    return {"currency": currency or "", "ratio": "", "count": "", "qty": ""}.get(unit, unit)


def _change(now: Any, before: Any) -> str:
    if now is None or before is None or before == 0:
        return "n/a"
    return f"{100.0 * (now - before) / abs(before):+.1f} %"


def _context(payload: dict[str, Any], header: dict[str, Any]) -> dict[str, Any]:
    from reports.render.html import TEMPLATES

    currency = payload["site"].get("currency")
    names = payload.get("names", {})

    def name(kind: str, key: Any) -> str:
        if key is None:
            return ""
        return str(names.get(kind, {}).get(key) or key)

    def unit_of(kind: str, key: Any) -> str:
        return str(names.get(f"{kind}_unit", {}).get(key) or "")

    return {
        "payload": payload,
        "d": payload["definition"],
        "site": payload["site"],
        "period": payload["period"],
        "m": payload["metrics"],
        # every metric's previous value, None where the month before has none (or is no
        # complete month of the site)
        "prior": {k: (payload["comparison"]["metrics"] or {}).get(k) for k in MATERIALS_METRICS},
        "r": header,
        "has": payload["definition"]["sections"],
        "currency": currency or "",
        "metric_label": lambda k: MATERIALS_METRICS[k][0],
        "metric_text": metric_text,
        "metric_unit": lambda k: metric_unit(k, currency),
        "change": _change,
        "num": number,
        "qty": qty,
        "money": lambda v: number(v, 2),
        "pct": lambda v: "n/a" if v is None else f"{number(v, 1)} %",
        "name": name,
        "unit_of": unit_of,
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

# payload part -> (sheet title, [(column header, key)]) in the order the sheets appear
_SHEETS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "products",
        "Products",
        (
            ("product", "product_id"),
            ("qty sold", "qty_sold"),
            ("revenue", "revenue"),
            ("COGS", "cogs"),
            ("margin", "margin"),
            ("margin %", "margin_pct"),
            ("previous margin %", "margin_pct_previous"),
            ("change (points)", "margin_change_pct_points"),
            ("floor %", "margin_floor_pct"),
        ),
    ),
    (
        "batches",
        "Batches",
        (
            ("batch", "batch_id"),
            ("product", "product_id"),
            ("recipe", "recipe_id"),
            ("version", "recipe_version"),
            ("output lot", "output_lot_id"),
            ("finished", "finished_on"),
            ("planned qty", "planned_qty"),
            ("actual qty", "actual_qty"),
            ("yield %", "yield_pct"),
            ("planned cost", "planned_cost"),
            ("actual cost", "actual_cost"),
            ("cost variance", "cost_variance"),
            ("price variance", "price_variance"),
            ("usage variance", "usage_variance"),
            ("revenue", "revenue"),
            ("margin", "margin"),
            ("margin %", "margin_pct"),
        ),
    ),
    (
        "variances",
        "Variances",
        (
            ("material", "material_id"),
            ("batches", "batches"),
            ("in recipe", "in_recipe"),
            ("planned qty", "planned_qty"),
            ("actual qty", "actual_qty"),
            ("planned cost", "planned_cost"),
            ("actual cost", "actual_cost"),
            ("price variance", "price_variance"),
            ("usage variance", "usage_variance"),
            ("cost variance", "cost_variance"),
        ),
    ),
    (
        "recipes",
        "Recipes",
        (
            ("recipe", "recipe_id"),
            ("version", "version"),
            ("product", "product_id"),
            ("yield qty", "yield_qty"),
            ("cost at the month's prices", "cost_at_month_price"),
            ("per unit", "cost_per_unit"),
            ("cost at current prices", "cost_current"),
            ("per unit, current", "cost_per_unit_current"),
            ("change %", "change_pct"),
        ),
    ),
    (
        "jobs",
        "Jobs",
        (
            ("job type", "job_type_id"),
            ("jobs", "jobs"),
            ("area m2", "area_m2"),
            ("revenue", "revenue"),
            ("cost", "total_cost"),
            ("margin", "margin"),
            ("margin %", "margin_pct"),
        ),
    ),
    (
        "customers",
        "Customers",
        (
            ("customer", "customer_id"),
            ("jobs", "jobs"),
            ("revenue", "revenue"),
            ("cost", "total_cost"),
            ("margin", "margin"),
            ("margin %", "margin_pct"),
        ),
    ),
    (
        "powder_waste",
        "Powder waste",
        (
            ("powder", "powder_material_id"),
            ("jobs", "jobs"),
            ("issued kg", "powder_issued_kg"),
            ("theoretical kg", "theoretical_powder_kg"),
            ("waste kg", "powder_waste_kg"),
            ("waste %", "powder_waste_pct"),
            ("coverage m2/kg", "actual_coverage_m2_per_kg"),
            ("theoretical m2/kg", "theoretical_coverage_m2_per_kg"),
            ("waste cost", "powder_waste_cost"),
        ),
    ),
    (
        "stock",
        "Stock",
        (
            ("material", "material_id"),
            ("opening qty", "opening_qty"),
            ("opening value", "opening_value"),
            ("in qty", "inflow_qty"),
            ("in value", "inflow_value"),
            ("issued qty", "issued_qty"),
            ("issued cost", "cogs"),
            ("waste qty", "waste_qty"),
            ("waste value", "waste_value"),
            ("closing qty", "closing_qty"),
            ("closing value", "closing_value"),
            ("mean stock value", "avg_inventory_value"),
            ("turnover", "turnover"),
            ("days on hand", "days_on_hand"),
        ),
    ),
    (
        "ageing",
        "Ageing",
        (
            ("material", "material_id"),
            ("0-30 d qty", "age_0_30_qty"),
            ("0-30 d value", "age_0_30_value"),
            ("31-60 d qty", "age_31_60_qty"),
            ("31-60 d value", "age_31_60_value"),
            ("61-90 d qty", "age_61_90_qty"),
            ("61-90 d value", "age_61_90_value"),
            ("over 90 d qty", "age_over_90_qty"),
            ("over 90 d value", "age_over_90_value"),
            ("qty", "qty"),
            ("value", "value"),
        ),
    ),
    (
        "expiring",
        "Expiring lots",
        (
            ("lot", "lot_id"),
            ("material", "material_id"),
            ("received", "received_on"),
            ("expiry", "expiry_date"),
            ("days to expiry", "days_to_expiry"),
            ("qty", "qty"),
            ("value", "value"),
            ("expired", "is_expired"),
        ),
    ),
    (
        "reorder",
        "Below reorder point",
        (
            ("material", "material_id"),
            ("on hand", "on_hand_qty"),
            ("reorder point", "reorder_point"),
            ("safety stock", "safety_stock"),
            ("mean daily demand", "mean_daily_demand"),
            ("lead time d", "lead_time_days"),
            ("fixed", "is_fixed"),
        ),
    ),
    (
        "suppliers",
        "Suppliers",
        (
            ("supplier", "supplier_id"),
            ("orders", "orders"),
            ("on time", "orders_on_time"),
            ("in full", "orders_in_full"),
            ("OTIF", "orders_otif"),
            ("OTIF %", "otif_pct"),
            ("receipts", "receipts"),
            ("received value", "received_value"),
            ("purchase price variance", "purchase_price_variance"),
        ),
    ),
    (
        "prices",
        "Prices",
        (
            ("material", "material_id"),
            ("receipts", "receipts"),
            ("mean unit cost", "avg_unit_cost"),
            ("min", "min_unit_cost"),
            ("max", "max_unit_cost"),
            ("previous month's mean", "previous_avg_unit_cost"),
            ("change %", "avg_unit_cost_change_pct"),
        ),
    ),
    (
        "price_rises",
        "Price rises",
        (
            ("receipt", "receipt_id"),
            ("lot", "lot_id"),
            ("material", "material_id"),
            ("supplier", "supplier_id"),
            ("received", "received_day"),
            ("qty", "qty"),
            ("unit cost", "unit_cost"),
            ("previous", "previous_unit_cost"),
            ("change %", "price_change_pct"),
            ("limit %", "limit_pct"),
            ("purchase price variance", "purchase_price_variance"),
        ),
    ),
)


def render_xlsx(payload: dict[str, Any], header: dict[str, Any]) -> bytes:
    """A monthly materials report as a workbook: the report's facts, its metrics against the
    month before, and a sheet for each table it has."""
    from reports.render.tabular import PlainWorkbook

    site = payload["site"]
    book = PlainWorkbook()
    book.report_sheet(payload, header)
    book.summary_sheet(
        payload,
        lambda k: (MATERIALS_METRICS[k][0], metric_unit(k, site.get("currency"))),
        "previous month",
    )
    names = payload.get("names", {})
    kinds = {
        "product_id": "product",
        "material_id": "material",
        "customer_id": "customer",
        "supplier_id": "supplier",
        "job_type_id": "job_type",
        "powder_material_id": "material",
    }
    for part, title, columns in _SHEETS:
        rows = payload.get(part) or []
        if not rows:
            continue
        headers = [h for h, _ in columns]
        first_key = columns[0][1]
        kind = kinds.get(first_key)
        if kind is not None:
            headers.insert(1, "name")
        out = []
        for r in rows:
            values = [r.get(k) for _, k in columns]
            if kind is not None:
                values.insert(1, names.get(kind, {}).get(r.get(first_key)) or r.get(first_key))
            out.append(values)
        book.sheet(title, headers, out)
    if payload["data_quality"]["notes"]:
        book.sheet("Notes", ["note"], [[n] for n in payload["data_quality"]["notes"]])
    return book.to_bytes()
