"""The sustainability section of a report: read from the published sustainability marts.

The figures are rows of the marts (``fct_sustainability_period``,
``fct_sustainability_ranking_period``, ``fct_sustainability_goals_daily``): the scoring and the
goal rules live in dbt only. A warehouse published before the marts existed gives a section that
says so instead of figures.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from reports.periods import Period

# table -> the columns the section reads; a table without them is treated as absent
SUSTAINABILITY_TABLES: dict[str, tuple[str, ...]] = {
    "fct_sustainability_period": (
        "site_id",
        "metric",
        "period_kind",
        "period_start",
        "period_key",
        "unit",
        "value",
        "n_days",
        "previous_period_value",
        "change_vs_previous_pct",
        "same_period_last_year_value",
        "change_vs_last_year_pct",
        "weight",
        "best_value",
        "worst_value",
        "score",
    ),
    "fct_sustainability_ranking_period": (
        "site_id",
        "period_kind",
        "period_start",
        "period_key",
        "sustainability_index",
        "n_components_scored",
        "n_components",
        "weight_covered_pct",
        "organisation_rank",
        "n_sites_ranked",
    ),
    "fct_sustainability_goals_daily": (
        "site_id",
        "goal_id",
        "day",
        "metric",
        "unit",
        "owner",
        "start_day",
        "due_day",
        "target_value",
        "baseline_value",
        "current_value",
        "progress_pct",
        "expected_pct",
        "status",
    ),
    "fct_air_quality_daily": (
        "site_id",
        "monitor_id",
        "monitor_name",
        "day",
        "aqi",
        "aqi_category",
        "pm10_24h_ug_m3",
        "pm25_24h_ug_m3",
        "is_high_dust_day",
    ),
    "fct_dust_suppression_effect": (
        "site_id",
        "monitor_id",
        "status",
        "reason",
        "first_day",
        "last_day",
        "n_days",
        "effect_ug_m3_per_100m3",
        "effect_lo_ug_m3",
        "effect_hi_ug_m3",
        "p_value",
        "confidence",
        "recommendation",
    ),
    "fct_air_quality_forecast_skill": (
        "site_id",
        "monitor_id",
        "horizon_days",
        "status",
        "n_forecasts",
        "mae_ug_m3",
        "mae_persistence_ug_m3",
        "skill",
        "pod",
        "far",
        "csi",
    ),
    "fct_discharge_exceedances": (
        "site_id",
        "limit_id",
        "sample_point_id",
        "parameter_id",
        "limit_basis",
        "period_start",
        "period_end",
        "n_results",
        "n_below_detection",
        "value",
        "unit",
        "limit_min",
        "limit_max",
        "status",
        "margin_pct",
        "licence_reference",
    ),
    "fct_environmental_incidents": (
        "site_id",
        "incident_id",
        "incident_type",
        "node_id",
        "flow_id",
        "started_day",
        "ended_day",
        "volume_m3",
        "severity",
        "status",
        "is_reported_to_authority",
        "reported_on",
        "authority_reference",
        "source",
        "description",
    ),
}
# US EPA AQI categories in order (docs/air-quality.md)
AQI_CATEGORIES = (
    "Good",
    "Moderate",
    "Unhealthy for Sensitive Groups",
    "Unhealthy",
    "Very Unhealthy",
    "Hazardous",
    "Beyond the AQI",
)

METRIC_LABELS = {
    "water_intensity_m3_per_t": "Water intensity (inputs per tonne of ore)",
    "fresh_water_intensity_m3_per_t": "Fresh-water intensity (raw water fed to tasks per tonne)",
    "recycling_ratio_pct": "Recycling ratio ((worked + treated) ÷ water fed to tasks)",
    "reuse_ratio_pct": "Reuse ratio (worked ÷ water fed to tasks)",
    "carbon_kg_per_m3": "Carbon per m³ pumped (scope 1 + 2)",
    "aqi": "Air quality index (worst monitor, daily)",
}
PERIOD_KINDS = {"monthly": "month", "quarterly": "quarter", "annual": "year"}
GOAL_STATUS_LABELS = {
    "achieved": "achieved",
    "on_track": "on track",
    "at_risk": "at risk",
    "off_track": "off track",
    "missed": "missed",
    "no_baseline": "no baseline",
    "no_data": "no data",
}


def load_sustainability(
    con: duckdb.DuckDBPyConnection, tables: set[str], site_id: str
) -> dict[str, list[dict[str, Any]]]:
    """The site's rows of the sustainability marts, by table; absent tables are left out."""
    out: dict[str, list[dict[str, Any]]] = {}
    for table, needed in SUSTAINABILITY_TABLES.items():
        if table not in tables:
            continue
        columns = {r[0] for r in con.execute(f'describe "{table}"').fetchall()}
        if any(c not in columns for c in needed):
            continue
        cursor = con.execute(
            f'select {", ".join(needed)} from "{table}" where site_id = ?',  # noqa: S608
            [site_id],
        )
        names = [d[0] for d in cursor.description]
        out[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


def _in_period(rows: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    kind = PERIOD_KINDS[period.kind]
    return [r for r in rows if r["period_kind"] == kind and r["period_start"] == period.start]


def _goals(rows: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """Each goal's standing on the last day of the period it has a row for."""
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["day"] > period.end:
            continue
        current = latest.get(row["goal_id"])
        if current is None or row["day"] > current["day"]:
            latest[row["goal_id"]] = row
    return [
        {
            "goal_id": g["goal_id"],
            "metric": g["metric"],
            "label": METRIC_LABELS.get(g["metric"], g["metric"]),
            "unit": g["unit"],
            "owner": g["owner"],
            "start": _iso(g["start_day"]),
            "due": _iso(g["due_day"]),
            "as_of": _iso(g["day"]),
            "baseline": g["baseline_value"],
            "target": g["target_value"],
            "current": g["current_value"],
            "progress_pct": g["progress_pct"],
            "expected_pct": g["expected_pct"],
            "status": g["status"],
            "status_label": GOAL_STATUS_LABELS.get(g["status"], g["status"]),
        }
        for g in sorted(latest.values(), key=lambda g: g["goal_id"])
    ]


def sustainability_section(
    marts: dict[str, list[dict[str, Any]]], period: Period
) -> dict[str, Any]:
    """The section's content for ``period``: the index and rank, every metric with its
    comparisons and score, and the goals as they stood at the period's end."""
    if "fct_sustainability_period" not in marts:
        return {
            "available": False,
            "note": "This warehouse version was published without the sustainability marts.",
        }
    metrics = sorted(
        _in_period(marts["fct_sustainability_period"], period),
        key=lambda r: (r["weight"] is None, r["metric"]),
    )
    ranking = _in_period(marts.get("fct_sustainability_ranking_period", []), period)
    index = ranking[0] if ranking else {}
    return {
        "available": True,
        "index": {
            "value": index.get("sustainability_index"),
            "rank": index.get("organisation_rank"),
            "n_sites_ranked": index.get("n_sites_ranked"),
            "n_components_scored": index.get("n_components_scored"),
            "n_components": index.get("n_components"),
            "weight_covered_pct": index.get("weight_covered_pct"),
        },
        "metrics": [
            {
                "metric": r["metric"],
                "label": METRIC_LABELS.get(r["metric"], r["metric"]),
                "unit": r["unit"],
                "value": r["value"],
                "n_days": r["n_days"],
                "previous": r["previous_period_value"],
                "change_vs_previous_pct": r["change_vs_previous_pct"],
                "last_year": r["same_period_last_year_value"],
                "change_vs_last_year_pct": r["change_vs_last_year_pct"],
                "weight": r["weight"],
                "best": r["best_value"],
                "worst": r["worst_value"],
                "score": r["score"],
            }
            for r in metrics
        ],
        "goals": _goals(marts.get("fct_sustainability_goals_daily", []), period),
        "air": _air(marts.get("fct_air_quality_daily", []), period),
        "discharge_limits": _discharge_limits(marts.get("fct_discharge_exceedances", []), period),
        "incidents": _incidents(marts.get("fct_environmental_incidents", []), period),
        # estimated over the whole history at the time of the report: shown, not a period figure
        "analysis": _analysis(marts),
    }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _air(rows: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """Per dust monitor: the period's days by AQI category, high dust days and PM10."""
    monitors: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if period.start <= row["day"] <= period.end:
            monitors.setdefault(row["monitor_id"], []).append(row)
    out = []
    for monitor_id, days in sorted(monitors.items()):
        sorted_days = sorted(days, key=lambda d: d["day"])
        rated = [d for d in days if d["aqi"] is not None]
        pm10 = [d["pm10_24h_ug_m3"] for d in days if d["pm10_24h_ug_m3"] is not None]
        pm25 = [d["pm25_24h_ug_m3"] for d in days if d["pm25_24h_ug_m3"] is not None]
        out.append(
            {
                "monitor_id": monitor_id,
                "name": days[0]["monitor_name"] or monitor_id,
                "n_days": len(days),
                "n_days_rated": len(rated),
                "days_by_category": {
                    c: sum(1 for d in rated if d["aqi_category"] == c) for c in AQI_CATEGORIES
                },
                "high_dust_days": sum(1 for d in days if d["is_high_dust_day"]),
                "high_dust_dates": [_iso(d["day"]) for d in sorted_days if d["is_high_dust_day"]],
                "aqi_max": max((d["aqi"] for d in rated), default=None),
                "pm10_mean_ug_m3": _mean(pm10),
                "pm10_max_ug_m3": max(pm10, default=None),
                "pm25_mean_ug_m3": _mean(pm25),
            }
        )
    return out


def _analysis(marts: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The dust-suppression finding and the PM10 forecast's verification, as published."""
    return {
        "dust_suppression": [
            {k: _iso(v) for k, v in r.items() if k != "site_id"}
            for r in sorted(
                marts.get("fct_dust_suppression_effect", []), key=lambda r: r["monitor_id"] or ""
            )
        ],
        "forecast_skill": [
            {k: v for k, v in r.items() if k != "site_id"}
            for r in sorted(
                marts.get("fct_air_quality_forecast_skill", []),
                key=lambda r: (r["monitor_id"] or "", r["horizon_days"]),
            )
        ],
    }


def _discharge_limits(rows: list[dict[str, Any]], period: Period) -> dict[str, Any]:
    """Every licence limit evaluated in the period: how many evaluations, and each exceedance."""
    inside = [r for r in rows if period.start <= r["period_start"] <= period.end]
    limits: dict[str, dict[str, Any]] = {}
    for r in sorted(inside, key=lambda r: (r["limit_id"], r["period_start"])):
        limit = limits.setdefault(
            r["limit_id"],
            {
                "limit_id": r["limit_id"],
                "sample_point_id": r["sample_point_id"],
                "parameter_id": r["parameter_id"],
                "basis": r["limit_basis"],
                "unit": r["unit"],
                "limit_min": r["limit_min"],
                "limit_max": r["limit_max"],
                "reference": r["licence_reference"],
                "n_evaluated": 0,
                "n_exceeded": 0,
                "n_indeterminate": 0,
                "worst_margin_pct": None,
            },
        )
        limit["n_evaluated"] += 1
        limit["n_exceeded"] += r["status"] == "exceeded"
        limit["n_indeterminate"] += r["status"] == "indeterminate"
        if r["margin_pct"] is not None and r["status"] != "indeterminate":
            worst = limit["worst_margin_pct"]
            limit["worst_margin_pct"] = (
                r["margin_pct"] if worst is None else min(worst, r["margin_pct"])
            )
    exceedances = [
        {
            "limit_id": r["limit_id"],
            "parameter_id": r["parameter_id"],
            "sample_point_id": r["sample_point_id"],
            "period_start": _iso(r["period_start"]),
            "period_end": _iso(r["period_end"]),
            "value": r["value"],
            "unit": r["unit"],
            "limit_min": r["limit_min"],
            "limit_max": r["limit_max"],
            "margin_pct": r["margin_pct"],
            "n_below_detection": r["n_below_detection"],
        }
        for r in sorted(inside, key=lambda r: (r["period_start"], r["limit_id"]))
        if r["status"] == "exceeded"
    ]
    return {"limits": list(limits.values()), "exceedances": exceedances}


def _incidents(rows: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """Incidents that started in the period or were still open during it."""
    out = []
    for r in rows:
        ended = r["ended_day"]
        if r["started_day"] > period.end or (ended is not None and ended < period.start):
            continue
        out.append({k: _iso(v) for k, v in r.items() if k != "site_id"})
    return sorted(out, key=lambda r: (r["started_day"], r["incident_id"]))
