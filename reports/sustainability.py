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
}

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
    }
