"""A synthetic published site with any number of stores and months (benchmarks, unit tests).

Every month: groundwater 1 000 m3 per store (measured, Cat 1) and rain 500 m3 per store
(estimated, Cat 2) in; evaporation 300 m3 per store (estimated, Cat 2) and a creek discharge of
900 m3 per store (measured, Cat 2) out; each store rises 300 m3, so the balance closes exactly.
Store ``k`` also feeds the plant 2 000 m3 of worked water (a task), which returns it to store k.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reports.data import PERIOD_KINDS, PublishedSite
from reports.periods import add_months, month_end, period_containing


def synthetic_site(
    n_stores: int = 3, n_months: int = 12, start: dt.date = dt.date(2025, 7, 1)
) -> PublishedSite:
    site_id = "synthetic"
    stores = [f"store_{k:02d}" for k in range(1, n_stores + 1)]
    months = [add_months(start, i) for i in range(n_months)]
    gw, rain, evap, disch, feed = 1000.0, 500.0, 300.0, 900.0, 2000.0
    rise = gw + rain - evap - disch
    nodes: dict[str, dict[str, Any]] = {
        s: {
            "node_id": s,
            "node_name": f"Storage dam {s[-2:]}",
            "node_type": "dam",
            "node_kind": "store",
            "capacity_m3": 100_000.0,
        }
        for s in stores
    }
    nodes["plant"] = {
        "node_id": "plant",
        "node_name": "Plant",
        "node_type": "ore_processing",
        "node_kind": "task",
        "capacity_m3": None,
    }
    site_rows: dict[dt.date, dict[str, Any]] = {}
    node_months: list[dict[str, Any]] = []
    store_days: list[dict[str, Any]] = []
    by_category: list[dict[str, Any]] = []
    by_quality: list[dict[str, Any]] = []
    sankey: list[dict[str, Any]] = []
    n = len(stores)
    for i, month in enumerate(months):
        days = month_end(month).day
        opening = n * (10_000.0 + i * rise)
        row: dict[str, Any] = {
            "site_id": site_id,
            "month_start": month,
            "first_day": month,
            "last_day": month_end(month),
            "n_days": days,
            "n_days_incomplete": 0,
            "inputs_m3": n * (gw + rain),
            "input_surface_water_m3": n * rain,
            "input_groundwater_m3": n * gw,
            "input_sea_water_m3": 0.0,
            "input_third_party_water_m3": 0.0,
            "input_other_m3": 0.0,
            "outputs_m3": n * (evap + disch),
            "output_surface_water_m3": n * disch,
            "output_groundwater_m3": 0.0,
            "output_sea_water_m3": 0.0,
            "output_third_party_water_m3": 0.0,
            "output_evaporation_m3": n * evap,
            "output_entrainment_m3": 0.0,
            "output_other_m3": 0.0,
            "diversions_m3": 0.0,
            "opening_storage_m3": opening,
            "closing_storage_m3": opening + n * rise,
            "storage_change_m3": n * rise,
            "closure_error_m3": 0.0,
            "closure_error_pct": 0.0,
            "closure_threshold_pct": 5.0,
            "closure_status": "within_threshold",
            "task_feed_m3": n * feed,
            "task_feed_raw_m3": 0.0,
            "task_feed_worked_m3": n * feed,
            "task_feed_treated_m3": 0.0,
            "ore_feed_t": 10_000.0 * n,
            "input_measured_m3": n * gw,
            "input_estimated_m3": n * rain,
            "input_simulated_m3": 0.0,
            "output_measured_m3": n * disch,
            "output_estimated_m3": n * evap,
            "output_simulated_m3": 0.0,
            "n_flows_missing": 0,
        }
        site_rows[month] = row
        for s in stores:
            start_volume = 10_000.0 + i * rise
            node_months.append(
                {
                    "node_id": s,
                    "node_kind": "store",
                    "month_start": month,
                    "opening_storage_m3": start_volume,
                    "closing_storage_m3": start_volume + rise,
                    "storage_change_m3": rise,
                    "inflow_m3": gw + rain + feed,
                    "outflow_m3": evap + disch + feed,
                    "rainfall_m3": rain,
                    "evaporation_m3": evap,
                    "seepage_m3": 0.0,
                    "balance_error_m3": 0.0,
                    "balance_threshold_pct": 10.0,
                    "n_days_incomplete": 0,
                }
            )
            for d in range(days):
                store_days.append(
                    {
                        "node_id": s,
                        "day": month + dt.timedelta(days=d),
                        "closing_storage_m3": start_volume + rise * (d + 1) / days,
                    }
                )
            for flow, src, dst, kind_src, kind_dst, direction, cat, q, method, volume in (
                (
                    f"{s}_bore",
                    "borefield",
                    s,
                    "source",
                    "store",
                    "input",
                    "groundwater",
                    1,
                    "measured",
                    gw,
                ),
                (
                    f"{s}_rain",
                    "rain",
                    s,
                    "source",
                    "store",
                    "input",
                    "surface_water",
                    2,
                    "estimated",
                    rain,
                ),
                (
                    f"{s}_evap",
                    s,
                    "evaporation",
                    "store",
                    "destination",
                    "output",
                    "evaporation",
                    2,
                    "estimated",
                    evap,
                ),
                (
                    f"{s}_discharge",
                    s,
                    "creek",
                    "store",
                    "destination",
                    "output",
                    "surface_water",
                    2,
                    "measured",
                    disch,
                ),
                (
                    f"{s}_to_plant",
                    s,
                    "plant",
                    "store",
                    "task",
                    "internal",
                    None,
                    2,
                    "measured",
                    feed,
                ),
                (
                    f"plant_to_{s}",
                    "plant",
                    s,
                    "task",
                    "store",
                    "internal",
                    None,
                    3,
                    "measured",
                    feed,
                ),
            ):
                sankey.append(
                    {
                        "period_start": month,
                        "flow_id": flow,
                        "flow_name": flow.replace("_", " "),
                        "source_node_id": src,
                        "source_node_name": src.replace("_", " ").title(),
                        "source_node_kind": kind_src,
                        "target_node_id": dst,
                        "target_node_name": dst.replace("_", " ").title(),
                        "target_node_kind": kind_dst,
                        "volume_m3": volume,
                        "direction": direction,
                        "waf_category": cat,
                        "quality_category": q,
                        "method": method,
                        "n_days_missing": 0,
                    }
                )
        node_months.append(
            {
                "node_id": "plant",
                "node_kind": "task",
                "month_start": month,
                "opening_storage_m3": None,
                "closing_storage_m3": None,
                "storage_change_m3": 0.0,
                "inflow_m3": n * feed,
                "outflow_m3": n * feed,
                "rainfall_m3": 0.0,
                "evaporation_m3": 0.0,
                "seepage_m3": 0.0,
                "balance_error_m3": 0.0,
                "balance_threshold_pct": 10.0,
                "n_days_incomplete": 0,
            }
        )
        for pos, (direction, cat, q, volume, measured, estimated) in enumerate(
            (
                ("input", "groundwater", 1, n * gw, n * gw, 0.0),
                ("input", "surface_water", 2, n * rain, 0.0, n * rain),
                ("output", "surface_water", 2, n * disch, n * disch, 0.0),
                ("output", "evaporation", 2, n * evap, 0.0, n * evap),
            )
        ):
            common = {
                "direction": direction,
                "waf_category": cat,
                "volume_m3": volume,
                "measured_m3": measured,
                "estimated_m3": estimated,
                "simulated_m3": 0.0,
            }
            by_category.append({"period_start": month, "category_position": pos, **common})
            by_quality.append(
                {"month_start": month, "quality_category": q, "quality_class": "high", **common}
            )
    site = {
        "site_id": site_id,
        "site_name": f"Synthetic site ({n_stores} stores)",
        "organisation": "Example Resources Ltd",
        "region": "Test region",
        "timezone": "Australia/Perth",
        "regulators": "EPA",
        "is_water_stressed": False,
        "closure_threshold_pct": 5.0,
        "quality_high_categories": "1,2",
        "financial_year_start_month": 7,
    }
    site_periods, node_periods = _period_rows(site_rows, node_months)
    return PublishedSite(
        "synthetic-version",
        site,
        site_rows,
        node_months,
        store_days,
        nodes,
        by_quality,
        by_category,
        sankey,
        site_periods=site_periods,
        node_periods=node_periods,
    )


def _period_rows(
    site_rows: dict[dt.date, dict[str, Any]], node_months: list[dict[str, Any]]
) -> tuple[dict[tuple[str, dt.date], dict[str, Any]], dict[tuple[str, dt.date], list[dict]]]:
    """What the period marts hold for these months. Every synthetic month closes exactly and
    stays within every threshold, so a period is its months' sums with storage from the first
    opening to the last closing and the ratios of the sums."""
    site_periods: dict[tuple[str, dt.date], dict[str, Any]] = {}
    grouped: dict[tuple[str, dt.date], list[dict[str, Any]]] = {}
    for kind, mart_kind in PERIOD_KINDS.items():
        for month, row in sorted(site_rows.items()):
            period = period_containing(kind, month)  # type: ignore[arg-type]
            grouped.setdefault((mart_kind, period.start), []).append(row)
            site_periods.setdefault((mart_kind, period.start), {"period_key": period.key})
    for key, rows in grouped.items():
        out = site_periods[key]
        for col, value in rows[0].items():
            if col.endswith("_m3") or col in ("ore_feed_t", "n_days", "n_days_incomplete"):
                out[col] = _total([r[col] for r in rows])
            else:
                out[col] = value
        out["opening_storage_m3"] = rows[0]["opening_storage_m3"]
        out["closing_storage_m3"] = rows[-1]["closing_storage_m3"]
        out["reused_m3"] = out["task_feed_worked_m3"]
        out["recycled_m3"] = out["task_feed_treated_m3"]
        out["reuse_ratio"] = out["task_feed_worked_m3"] / out["task_feed_m3"]
        out["recycling_ratio"] = (out["task_feed_worked_m3"] + out["task_feed_treated_m3"]) / out[
            "task_feed_m3"
        ]
        out["water_intensity_m3_per_t"] = out["inputs_m3"] / out["ore_feed_t"]
        for method in ("measured", "estimated", "simulated"):
            out[f"input_{method}_pct"] = 100.0 * out[f"input_{method}_m3"] / out["inputs_m3"]
            out[f"output_{method}_pct"] = 100.0 * out[f"output_{method}_m3"] / out["outputs_m3"]
    node_periods: dict[tuple[str, dt.date], list[dict[str, Any]]] = {}
    for key in site_periods:
        months = {r["month_start"] for r in grouped[key]}
        by_node: dict[str, list[dict[str, Any]]] = {}
        for r in node_months:
            if r["month_start"] in months:
                by_node.setdefault(r["node_id"], []).append(r)
        node_periods[key] = [
            {
                **rows[0],
                **{c: _total([r[c] for r in rows]) for c in rows[0] if c.endswith("_m3")},
                "opening_storage_m3": rows[0]["opening_storage_m3"],
                "closing_storage_m3": rows[-1]["closing_storage_m3"],
                "n_days_incomplete": 0,
                "balance_error_pct": 0.0,
                "balance_status": "within_threshold",
            }
            for rows in by_node.values()
        ]
    return site_periods, node_periods


def _total(values: list[Any]) -> Any:
    return None if any(v is None for v in values) else sum(values)
