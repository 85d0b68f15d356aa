"""Analytics rows (forecasts, status, models, overflow risk, scenarios) for the synthetic site, as
the analytics run publishes them: set on a :class:`PublishedSite` directly or written into a
published warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

SITE = "synthetic"
STORES = ("store_01", "store_02", "store_03")
CAPACITY = 100_000.0


def analytics_rows(
    as_of: dt.date = dt.date(2025, 7, 31),
    site_id: str = SITE,
    stores: tuple[str, ...] = STORES,
    horizon: int = 90,
) -> dict[str, list[dict[str, Any]]]:
    """Every store rising towards its capacity with widening bands; the first store's risk of
    overflow within 30 days is 0.237; a site-demand series; one series without a model."""
    forecast: list[dict[str, Any]] = []
    for k, node in enumerate(stores):
        series = f"{site_id}/node/{node}/closing_storage_m3"
        for h in range(1, horizon + 1):
            mean = 10_300.0 + (400.0 + 500.0 * k) * h
            w80, w95 = 60.0 * h**0.5 * 10, 92.0 * h**0.5 * 10
            forecast.append(
                {
                    "site_id": site_id,
                    "series_id": series,
                    "target": "store_volume",
                    "scope": "node",
                    "scope_id": node,
                    "metric": "closing_storage_m3",
                    "unit": "m3",
                    "model_id": f"m-{node}",
                    "as_of": as_of,
                    "day": as_of + dt.timedelta(days=h),
                    "horizon_day": h,
                    "mean": mean,
                    "lo80": mean - w80,
                    "hi80": mean + w80,
                    "lo95": mean - w95,
                    "hi95": mean + w95,
                    "capacity_m3": CAPACITY,
                    "fill_pct_mean": 100.0 * mean / CAPACITY,
                    "fill_pct_lo95": 100.0 * (mean - w95) / CAPACITY,
                    "fill_pct_hi95": 100.0 * (mean + w95) / CAPACITY,
                    "level_m_mean": None,
                    "level_m_lo95": None,
                    "level_m_hi95": None,
                }
            )
    demand_series = f"{site_id}/site/{site_id}/demand_m3"
    for h in range(1, 31):
        mean = 1000.0 + h
        forecast.append(
            {
                "site_id": site_id,
                "series_id": demand_series,
                "target": "site_demand",
                "scope": "site",
                "scope_id": site_id,
                "metric": "demand_m3",
                "unit": "m3",
                "model_id": "m-demand",
                "as_of": as_of,
                "day": as_of + dt.timedelta(days=h),
                "horizon_day": h,
                "mean": mean,
                "lo80": mean - 100.0,
                "hi80": mean + 100.0,
                "lo95": mean - 150.0,
                "hi95": mean + 150.0,
                **dict.fromkeys(
                    (
                        "capacity_m3",
                        "fill_pct_mean",
                        "fill_pct_lo95",
                        "fill_pct_hi95",
                        "level_m_mean",
                        "level_m_lo95",
                        "level_m_hi95",
                    )
                ),
            }
        )
    status = [
        {
            "site_id": site_id,
            "series_id": f"{site_id}/node/{node}/closing_storage_m3",
            "target": "store_volume",
            "status": "ok",
            "reason": "",
            "model_id": f"m-{node}",
            "model_type": "seasonal_regression",
            "trained_at": dt.datetime(2025, 7, 1, 3, 0),
            "last_day": as_of,
            "n_days": 400,
        }
        for node in stores
    ] + [
        {
            "site_id": site_id,
            "series_id": demand_series,
            "target": "site_demand",
            "status": "ok",
            "reason": "",
            "model_id": "m-demand",
            "model_type": "seasonal_regression",
            "trained_at": dt.datetime(2025, 7, 1, 3, 0),
            "last_day": as_of,
            "n_days": 400,
        },
        {
            "site_id": site_id,
            "series_id": f"{site_id}/site/{site_id}/inflow_m3",
            "target": "site_inflow",
            "status": "too_short",
            "reason": "only 12 days of history, 60 needed",
            "model_id": None,
            "model_type": None,
            "trained_at": None,
            "last_day": as_of,
            "n_days": 12,
        },
    ]
    registry = [
        {
            "model_id": r["model_id"],
            "series_id": r["series_id"],
            "site_id": site_id,
            "target": r["target"],
            "model_type": "seasonal_regression",
            "status": "ok",
            "backtest_mase": 0.8 + 0.05 * i,
            "backtest_mape": 3.1,
            "backtest_within_10pct_share": 0.9,
            "backtest_coverage_80": 0.79,
            "backtest_coverage_95": 0.931 + 0.01 * i,
            "trained_at": dt.datetime(2025, 7, 1, 3, 0),
            "next_retrain_at": dt.datetime(2025, 8, 1, 3, 0),
            "is_current": True,
        }
        for i, r in enumerate(status)
        if r["model_id"]
    ]
    registry.append({**registry[0], "model_id": "m-old", "backtest_mase": 9.9, "is_current": False})
    risk = []
    for k, node in enumerate(stores):
        for days, p80, p100, p20 in ((1, 0.0, 0.0, 0.0), (30, 0.61, 0.237, 0.004)):
            risk.append(
                {
                    "site_id": site_id,
                    "node_id": node,
                    "as_of": as_of,
                    "horizon_days": days,
                    "p_above_80": p80 / (k + 1),
                    "p_above_100": p100 / (k + 1),
                    "p_below_20": p20,
                    "n_paths": 20_000,
                    "status": "ok",
                    "reason": "",
                }
            )
    scenarios = []
    for node in stores:
        for scenario_id, name, slope, p_end in (
            ("base", "Base case", 400.0, 0.237),
            ("wet", "Wet season (+50 % rain)", 650.0, 0.58),
            ("plant_shutdown", "Plant shutdown <2 weeks> & no draw", 250.0, 0.05),
        ):
            for h in range(1, horizon + 1):
                p50 = 10_300.0 + slope * h
                scenarios.append(
                    {
                        "site_id": site_id,
                        "scenario_id": scenario_id,
                        "scenario_name": name,
                        "node_id": node,
                        "day": as_of + dt.timedelta(days=h),
                        "horizon_day": h,
                        "p10_volume_m3": p50 * 0.9,
                        "p50_volume_m3": p50,
                        "p90_volume_m3": p50 * 1.1,
                        "p_above_100": p_end * h / horizon,
                        "extra_column": "ignored",
                    }
                )
    return {
        "fct_forecast_daily": forecast,
        "fct_forecast_status": status,
        "fct_model_registry": registry,
        "fct_overflow_risk": risk,
        "fct_scenario_projection": scenarios,
    }


def write_analytics(db_path: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Write ``tables`` into the published file, as the publish copies the analytics tables."""
    with duckdb.connect(str(db_path)) as con:
        for name, rows in tables.items():
            frame = pd.DataFrame(rows)
            con.register("staged_rows", frame)
            con.execute(f'create or replace table "{name}" as select * from staged_rows')
            con.unregister("staged_rows")
