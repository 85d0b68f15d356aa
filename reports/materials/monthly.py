"""The monthly materials reports' figures: the month's costs and margins, and its inventory.

Every figure belongs to the month, whenever the report is made: sums over the month's rows of
the daily and monthly marts, and positions at the month's last day. The marts' own as-of
figures (``fct_material_inventory_metrics``, the lot balances' remaining stock) describe the
day the records end, which moves with every import; a month's report restates them at its
end instead, so that making it again from the same records gives the same figures:

- stock at the month's end is the daily stock mart's row of that day;
- the lots holding it are the newest layers received by then (FIFO draws the oldest first, so
  what is left of a material is always its latest receipts): the stock is laid on the lots
  from the newest back, which gives their ageing buckets (0-30, 31-60, 61-90, over 90 days
  since receipt) and which of them expire within the site's warning period;
- the reorder point at the month's end is the marts' formula on the 365 days to that day:
  mean daily issued quantity d, its sample standard deviation sd_d, the material's lead time L
  and its standard deviation sd_L (days): d x L + z x sqrt(L sd_d^2 + d^2 sd_L^2), unless the
  material fixes one;
- turnover is annualised: the month's COGS x 365 / its days over its mean daily stock value;
  days on hand = 365 / turnover.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from typing import TYPE_CHECKING, Any

from reports.materials.catalogue import MATERIALS_METRICS
from reports.materials.data import MaterialsData, by
from reports.periods import Period, add_months
from reports.tables import keyed_figures

if TYPE_CHECKING:
    from reports.definitions import ReportDefinition

SCHEMA_ID = "siteledger-materials-report-1.0"
AGEING_BUCKETS = (("0_30", 0, 30), ("31_60", 31, 60), ("61_90", 61, 90), ("over_90", 91, None))
TRAILING_DAYS = 365
DEFAULT_EXPIRY_ALERT_DAYS = 30


def _sum(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(sum(values)) if values else None


def _div(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


def _pct(num: float | None, den: float | None) -> float | None:
    ratio = _div(num, den)
    return None if ratio is None else 100.0 * ratio


def _in_month(rows: list[dict[str, Any]], period: Period, key: str = "month") -> list[dict]:
    return [r for r in rows if r.get(key) == period.start]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


# -- costs and margins -------------------------------------------------------------------------


def product_rows(data: MaterialsData, period: Period) -> list[dict[str, Any]]:
    keys = (
        "qty_sold",
        "revenue",
        "cogs",
        "margin",
        "margin_pct",
        "margin_pct_previous",
        "margin_change_pct_points",
        "margin_floor_pct",
    )
    return [
        {"product_id": r["product_id"], **{k: r.get(k) for k in keys}}
        for r in _in_month(data.table("fct_product_margins_monthly"), period)
    ]


def batch_rows(data: MaterialsData, period: Period) -> list[dict[str, Any]]:
    keys = (
        "product_id",
        "recipe_id",
        "recipe_version",
        "output_lot_id",
        "planned_qty",
        "actual_qty",
        "yield_pct",
        "yield_alert_pct",
        "planned_cost",
        "actual_cost",
        "cost_variance",
        "price_variance",
        "usage_variance",
        "revenue",
        "margin",
        "margin_pct",
    )
    rows = []
    for r in data.table("fct_batches"):
        if r.get("month") != period.start:
            continue
        row = {"batch_id": r["batch_id"], **{k: r.get(k) for k in keys}}
        row["finished_on"] = _iso(data.local_day(r.get("finished_at")))
        row["is_yield_below_alert"] = (
            r.get("yield_pct") is not None
            and r.get("yield_alert_pct") is not None
            and r["yield_pct"] < r["yield_alert_pct"]
        )
        rows.append(row)
    return rows


def variance_rows(data: MaterialsData, batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The month's batches' materials: planned (recipe x scale) against actual, by material;
    price variance (SP - AP) x AQ, usage variance (SQ - AQ) x SP."""
    ids = {b["batch_id"] for b in batches}
    lines = [r for r in data.table("fct_batch_costs") if r["batch_id"] in ids]
    out = []
    for material_id, rows in by(lines, "material_id").items():
        out.append(
            {
                "material_id": material_id,
                "batches": len({r["batch_id"] for r in rows}),
                "in_recipe": any(r.get("is_in_recipe") for r in rows),
                **{
                    k: _sum(rows, k)
                    for k in (
                        "planned_qty",
                        "actual_qty",
                        "planned_cost",
                        "actual_cost",
                        "price_variance",
                        "usage_variance",
                        "cost_variance",
                    )
                },
            }
        )
    return out


def recipe_rows(data: MaterialsData, period: Period) -> list[dict[str, Any]]:
    keys = (
        "product_id",
        "yield_qty",
        "yield_unit",
        "cost_at_month_price",
        "cost_per_unit",
        "cost_current",
        "cost_per_unit_current",
    )
    out = []
    for r in _in_month(data.table("fct_recipe_costs"), period):
        if r.get("is_version_in_force") is False:
            continue
        row = {
            "recipe_id": r["recipe_id"],
            "version": r.get("version"),
            **{k: r.get(k) for k in keys},
        }
        row["change_pct"] = _pct(
            None
            if r.get("cost_current") is None or r.get("cost_at_month_price") is None
            else r["cost_current"] - r["cost_at_month_price"],
            r.get("cost_at_month_price"),
        )
        out.append(row)
    return out


def _job_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    revenue, cost, margin = _sum(rows, "revenue"), _sum(rows, "total_cost"), _sum(rows, "margin")
    return {
        "jobs": int(_sum(rows, "jobs") or 0),
        "area_m2": _sum(rows, "area_m2"),
        "revenue": revenue,
        "total_cost": cost,
        "margin": margin,
        "margin_pct": _pct(margin, revenue),
    }


def job_rows(data: MaterialsData, period: Period) -> list[dict[str, Any]]:
    rows = _in_month(data.table("fct_job_profitability_monthly"), period)
    return [
        {"job_type_id": job_type, **_job_totals(of)}
        for job_type, of in by(rows, "job_type_id").items()
    ]


def customer_rows(data: MaterialsData, period: Period) -> list[dict[str, Any]]:
    rows = _in_month(data.table("fct_job_profitability_monthly"), period)
    out = [
        {"customer_id": customer, **_job_totals(of)}
        for customer, of in by(rows, "customer_id").items()
    ]
    return sorted(out, key=lambda r: (-(r["revenue"] or 0.0), r["customer_id"]))


def powder_rows(data: MaterialsData, period: Period) -> list[dict[str, Any]]:
    keys = (
        "jobs",
        "powder_issued_kg",
        "theoretical_powder_kg",
        "powder_waste_kg",
        "powder_waste_pct",
        "actual_coverage_m2_per_kg",
        "theoretical_coverage_m2_per_kg",
        "powder_waste_cost",
    )
    return [
        {"powder_material_id": r["powder_material_id"], **{k: r.get(k) for k in keys}}
        for r in _in_month(data.table("fct_powder_waste_monthly"), period)
    ]


# -- inventory ---------------------------------------------------------------------------------


def _daily_by_material(data: MaterialsData) -> dict[str, dict[dt.date, dict[str, Any]]]:
    out: dict[str, dict[dt.date, dict[str, Any]]] = {}
    for r in data.table("fct_material_inventory_daily"):
        out.setdefault(r["material_id"], {})[r["day"]] = r
    return out


def stock_rows(data: MaterialsData, period: Period) -> list[dict[str, Any]]:
    """Each material's month: stock at its start and end, what came in and went out, waste,
    mean stock value and the annualised turnover."""
    days = (period.end - period.start).days + 1
    before = period.start - dt.timedelta(days=1)
    out = []
    for material_id, daily in sorted(_daily_by_material(data).items()):
        month = [row for day, row in sorted(daily.items()) if period.start <= day <= period.end]
        if not month:
            continue
        opening = daily.get(before, {})
        closing = daily.get(period.end, month[-1])
        cogs = _sum(month, "cogs") or 0.0
        avg_value = statistics.fmean(r.get("on_hand_value") or 0.0 for r in month)
        turnover = _div(cogs * TRAILING_DAYS / days, avg_value)
        out.append(
            {
                "material_id": material_id,
                "opening_qty": opening.get("on_hand_qty", 0.0),
                "opening_value": opening.get("on_hand_value", 0.0),
                "inflow_qty": _sum(month, "inflow_qty"),
                "inflow_value": _sum(month, "inflow_value"),
                "issued_qty": _sum(month, "issued_qty"),
                "cogs": cogs,
                "waste_qty": _sum(month, "waste_qty"),
                "waste_value": _sum(month, "waste_value"),
                "unallocated_qty": _sum(month, "unallocated_qty"),
                "closing_qty": closing.get("on_hand_qty"),
                "closing_value": closing.get("on_hand_value"),
                "avg_inventory_value": avg_value,
                "turnover": turnover,
                "days_on_hand": _div(TRAILING_DAYS, turnover),
            }
        )
    return out


def lots_at(data: MaterialsData, day: dt.date) -> list[dict[str, Any]]:
    """The lots holding each material's stock at the end of ``day``: its stock laid on the
    layers received by then, newest first (FIFO leaves the latest units). Each with its
    remaining quantity and value, age and days to expiry at ``day``."""
    closing = {
        m: rows.get(day, {}).get("on_hand_qty") or 0.0
        for m, rows in _daily_by_material(data).items()
    }
    out = []
    layers = [
        r
        for r in data.table("fct_material_lot_balances")
        if r.get("received_day") is not None and r["received_day"] <= day
    ]
    for material_id, rows in by(layers, "material_id").items():
        left = closing.get(material_id, 0.0)
        newest_first = sorted(
            rows,
            key=lambda r: (r["received_day"], str(r.get("received_at") or ""), r["lot_id"]),
            reverse=True,
        )
        for r in newest_first:
            if left <= 0:
                break
            qty = min(left, r.get("received_qty") or 0.0)
            left -= qty
            if qty <= 0:
                continue
            expiry = r.get("expiry_date")
            out.append(
                {
                    "lot_id": r["lot_id"],
                    "material_id": material_id,
                    "supplier_id": r.get("supplier_id"),
                    "received_on": r["received_day"].isoformat(),
                    "expiry_date": _iso(expiry),
                    "qty": qty,
                    "unit_cost": r.get("unit_cost"),
                    "value": None if r.get("unit_cost") is None else qty * r["unit_cost"],
                    "age_days": (day - r["received_day"]).days,
                    "days_to_expiry": None if expiry is None else (expiry - day).days,
                    "expiry_alert_days": r.get("expiry_alert_days"),
                }
            )
    return sorted(out, key=lambda r: (r["material_id"], r["received_on"], r["lot_id"]))


def bucket_of(age_days: int) -> str:
    for name, low, high in AGEING_BUCKETS:
        if age_days >= low and (high is None or age_days <= high):
            return name
    return AGEING_BUCKETS[0][0]  # a lot received after the day cannot hold its stock


def ageing_rows(lots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for material_id, rows in by(lots, "material_id").items():
        row: dict[str, Any] = {"material_id": material_id}
        for name, _, _ in AGEING_BUCKETS:
            of = [r for r in rows if bucket_of(r["age_days"]) == name]
            row[f"age_{name}_qty"] = _sum(of, "qty") or 0.0
            row[f"age_{name}_value"] = _sum(of, "value") or 0.0
        row["qty"] = _sum(rows, "qty")
        row["value"] = _sum(rows, "value")
        out.append(row)
    return out


def expiring_rows(lots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lots holding stock at the month's end that had expired or expire within the site's
    warning period after it, soonest first."""
    out = []
    for r in lots:
        if r["days_to_expiry"] is None:
            continue
        warn = r.get("expiry_alert_days")
        warn = DEFAULT_EXPIRY_ALERT_DAYS if warn is None else warn
        if r["days_to_expiry"] <= warn:
            out.append({**r, "is_expired": r["days_to_expiry"] <= 0})
    return sorted(out, key=lambda r: (r["days_to_expiry"], r["lot_id"]))


def reorder_rows(data: MaterialsData, period: Period) -> list[dict[str, Any]]:
    """Each material's reorder point at the month's end (the marts' formula on the 365 days to
    it) against its stock then; the parameters (lead time, its spread, z, a reorder point the
    site file fixes) are the material's settings as the metrics mart carries them."""
    params = {r["material_id"]: r for r in data.table("fct_material_inventory_metrics")}
    out = []
    for material_id, daily in sorted(_daily_by_material(data).items()):
        start = period.end - dt.timedelta(days=TRAILING_DAYS - 1)
        window = [
            float(r.get("issued_qty") or 0.0) for d, r in daily.items() if start <= d <= period.end
        ]
        if period.end not in daily or not window:
            continue
        p = params.get(material_id, {})
        lead = p.get("lead_time_days")
        lead = 7.0 if lead is None else float(lead)
        lead_sd = float(p.get("lead_time_sd_days") or 0.0)
        z = p.get("service_level_z")
        d = statistics.fmean(window)
        sd = statistics.stdev(window) if len(window) > 1 else 0.0
        safety = None if z is None else z * math.sqrt(lead * sd**2 + d**2 * lead_sd**2)
        fixed = p.get("reorder_point") if p.get("is_reorder_point_fixed") else None
        point = fixed if fixed is not None else (None if safety is None else d * lead + safety)
        on_hand = daily[period.end].get("on_hand_qty")
        out.append(
            {
                "material_id": material_id,
                "on_hand_qty": on_hand,
                "mean_daily_demand": d,
                "demand_sd": sd,
                "lead_time_days": lead,
                "lead_time_sd_days": lead_sd,
                "service_level_z": z,
                "safety_stock": safety,
                "reorder_point": point,
                "is_fixed": fixed is not None,
                "below_reorder_point": (
                    on_hand is not None and point is not None and on_hand < point
                ),
            }
        )
    return out


def supplier_rows(data: MaterialsData, period: Period) -> list[dict[str, Any]]:
    keys = (
        "orders",
        "orders_on_time",
        "orders_in_full",
        "orders_otif",
        "otif_pct",
        "receipts",
        "received_value",
        "purchase_price_variance",
    )
    return [
        {"supplier_id": r["supplier_id"], **{k: r.get(k) for k in keys}}
        for r in _in_month(data.table("fct_supplier_performance"), period)
    ]


def price_rows(data: MaterialsData, period: Period) -> list[dict[str, Any]]:
    keys = (
        "receipts",
        "avg_unit_cost",
        "min_unit_cost",
        "max_unit_cost",
        "previous_avg_unit_cost",
        "avg_unit_cost_change_pct",
    )
    return [
        {"material_id": r["material_id"], **{k: r.get(k) for k in keys}}
        for r in _in_month(data.table("fct_material_price_monthly"), period)
    ]


def price_rises(data: MaterialsData, period: Period) -> list[dict[str, Any]]:
    """The month's receipts dearer than the material's receipt before by more than the site's
    limit (price_rise_alert_pct, 10 % unless the site sets it)."""
    out = []
    for r in _in_month(data.table("fct_material_prices"), period):
        limit = r.get("price_rise_alert_pct")
        limit = 10.0 if limit is None else limit
        flagged = r.get("is_price_rise_alert")  # the mart's own flag, where it has one
        if flagged is None:
            flagged = r.get("price_change_pct") is not None and r["price_change_pct"] > limit
        if flagged:
            out.append(
                {
                    k: _iso(r.get(k))
                    for k in (
                        "receipt_id",
                        "lot_id",
                        "material_id",
                        "supplier_id",
                        "received_day",
                        "qty",
                        "unit_cost",
                        "previous_unit_cost",
                        "price_change_pct",
                        "purchase_price_variance",
                    )
                }
                | {"limit_pct": limit}
            )
    return out


# -- the month's metrics -------------------------------------------------------------------------


def period_metrics(data: MaterialsData, period: Period) -> dict[str, Any]:
    """Every metric of :data:`MATERIALS_METRICS` the month has (None where it has no figure)."""
    products = product_rows(data, period)
    batches = batch_rows(data, period)
    jobs = _job_totals(_in_month(data.table("fct_job_profitability_monthly"), period))
    powder = powder_rows(data, period)
    stock = stock_rows(data, period)
    lots = lots_at(data, period.end)
    reorder = reorder_rows(data, period)
    suppliers = supplier_rows(data, period)
    revenue, cogs = _sum(products, "revenue"), _sum(products, "cogs")
    margin = _sum(products, "margin")
    yields = [b["yield_pct"] for b in batches if b["yield_pct"] is not None]
    # a count of none means nothing at a site that never makes batches (a job shop) or jobs
    makes_batches = bool(data.table("fct_batches"))
    takes_jobs = bool(data.table("fct_job_profitability_monthly"))
    issued = _sum(powder, "powder_issued_kg")
    waste = _sum(powder, "powder_waste_kg")
    days = (period.end - period.start).days + 1
    cogs_stock = _sum(stock, "cogs")
    avg_value = _sum(stock, "avg_inventory_value")
    turnover = _div(None if cogs_stock is None else cogs_stock * TRAILING_DAYS / days, avg_value)
    orders = _sum(suppliers, "orders")
    covered = {d for d in data.days() if period.start <= d <= period.end}
    return {
        "revenue": revenue,
        "cogs": cogs,
        "gross_margin": margin,
        "gross_margin_pct": _pct(margin, revenue),
        "batches": len(batches) if makes_batches else None,
        "batch_planned_cost": _sum(batches, "planned_cost"),
        "batch_actual_cost": _sum(batches, "actual_cost"),
        "batch_cost_variance": _sum(batches, "cost_variance"),
        "price_variance": _sum(batches, "price_variance"),
        "usage_variance": _sum(batches, "usage_variance"),
        "mean_yield_pct": statistics.fmean(yields) if yields else None,
        "batches_below_yield": (
            sum(1 for b in batches if b["is_yield_below_alert"]) if makes_batches else None
        ),
        "jobs": jobs["jobs"] if takes_jobs else None,
        "job_revenue": jobs["revenue"],
        "job_cost": jobs["total_cost"],
        "job_margin": jobs["margin"],
        "job_margin_pct": jobs["margin_pct"],
        "powder_issued_kg": issued,
        "powder_waste_kg": waste,
        "powder_waste_pct": _pct(waste, issued),
        "on_hand_value": _sum(stock, "closing_value"),
        "on_hand_value_start": _sum(stock, "opening_value"),
        "received_value": _sum(_in_month(data.table("fct_material_prices"), period), "cost"),
        "issued_cost": cogs_stock,
        "waste_value": _sum(stock, "waste_value"),
        "avg_inventory_value": avg_value,
        "turnover": turnover,
        "days_on_hand": _div(TRAILING_DAYS, turnover),
        "lots_expiring": sum(1 for r in expiring_rows(lots) if not r["is_expired"]),
        "lots_expired": sum(1 for r in expiring_rows(lots) if r["is_expired"]),
        "materials_below_reorder_point": sum(1 for r in reorder if r["below_reorder_point"]),
        "supplier_orders": None if orders is None else int(orders),
        "supplier_otif_pct": _pct(_sum(suppliers, "orders_otif"), orders),
        "purchase_price_variance": _sum(suppliers, "purchase_price_variance"),
        "n_days": len(covered),
    }


# -- the payload ---------------------------------------------------------------------------------


def build_monthly_payload(
    data: MaterialsData,
    site: dict[str, Any],
    definition: ReportDefinition,
    period: Period,
    warehouse_version: str,
) -> dict[str, Any]:
    """The whole content of one monthly materials report (without its registry header)."""
    sections = definition.sections
    has = set(sections)
    metrics = period_metrics(data, period)
    before_start = add_months(period.start, -1)
    before = next((p for p in data.months() if p.start == before_start), None)
    batches = batch_rows(data, period) if {"batches", "variances"} & has else []
    lots = lots_at(data, period.end) if {"ageing", "expiring"} & has else []
    payload: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "domain": "materials",
        "definition": definition_block(definition),
        "site": site_block(data, site),
        "period": period.as_dict(),
        "warehouse_version": warehouse_version,
        "metrics": metrics,
        "comparison": {
            "period": None if before is None else before.as_dict(),
            "metrics": None if before is None else period_metrics(data, before),
        },
        "products": product_rows(data, period) if "products" in has else [],
        "batches": batches if "batches" in has else [],
        "variances": variance_rows(data, batches) if "variances" in has else [],
        "recipes": recipe_rows(data, period) if "recipes" in has else [],
        "jobs": job_rows(data, period) if "jobs" in has else [],
        "customers": customer_rows(data, period) if "customers" in has else [],
        "powder_waste": powder_rows(data, period) if "powder_waste" in has else [],
        "stock": stock_rows(data, period) if "stock" in has else [],
        "ageing": ageing_rows(lots) if "ageing" in has else [],
        "expiring": expiring_rows(lots) if "expiring" in has else [],
        "reorder": (
            [r for r in reorder_rows(data, period) if r["below_reorder_point"]]
            if "reorder" in has
            else []
        ),
        "suppliers": supplier_rows(data, period) if "suppliers" in has else [],
        "prices": price_rows(data, period) if "prices" in has else [],
        "price_rises": price_rises(data, period) if "prices" in has else [],
        "names": names_block(data),
        "data_quality": {"notes": []},
    }
    expected = (period.end - period.start).days + 1
    if metrics["n_days"] != expected:
        payload["data_quality"]["notes"].append(
            f"{metrics['n_days']} of {expected} days have materials records"
        )
    short = _sum(payload["stock"], "unallocated_qty")
    if short:
        payload["data_quality"]["notes"].append(
            "some issues in the month drew more than the stock recorded (short stock, costed "
            "at nothing): check the receipts and counts"
        )
    return payload


def definition_block(definition: ReportDefinition) -> dict[str, Any]:
    return {
        "id": definition.id,
        "title": definition.title,
        "regulator": definition.regulator,
        "report_type": definition.report_type,
        "domain": "materials",
        "unit": definition.unit,
        "period": definition.period,
        "sections": definition.sections,
        "metrics": definition.metrics,
        "narrative": definition.narrative,
        "fingerprint": definition.fingerprint,
    }


def site_block(data: MaterialsData, site: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": site["site_id"],
        "name": site.get("site_name"),
        "organisation": site.get("organisation_name") or site.get("organisation"),
        "region": site.get("region_name") or site.get("region"),
        "timezone": site.get("timezone"),
        "currency": data.currency,
    }


def names_block(data: MaterialsData) -> dict[str, dict[str, str]]:
    """Names and units the site file gives its ids (prose: left out of a version's identity)."""
    return {kind: dict(sorted(names.items())) for kind, names in sorted(data.names.items())}


# the parts a restatement diff compares, and the key of each part's rows
FIGURE_KEYS: dict[str, str] = {
    "products": "product_id",
    "batches": "batch_id",
    "variances": "material_id",
    "jobs": "job_type_id",
    "customers": "customer_id",
    "powder_waste": "powder_material_id",
    "stock": "material_id",
    "ageing": "material_id",
    "suppliers": "supplier_id",
}


def figures(payload: dict[str, Any]) -> dict[str, Any]:
    """The figures a restatement diff compares."""
    return keyed_figures(payload, FIGURE_KEYS)


def metric_label(key: str) -> str:
    return MATERIALS_METRICS[key][0]
