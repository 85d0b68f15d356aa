"""The air quality marts on the demo mine reproduce its ground truth, and the air quality
analytics read them (one full ``dbt build`` of the two-site home)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from demo.air import MONITOR, WIND_DIRECTION_METER
from demo.drivers import STEPS_PER_DAY
from demo.simulate import simulate
from ml.air import AIR_QUALITY_TABLES, run_air_quality
from siteledger.settings import get_settings
from siteledger.site import load_site
from tests.dbt.homes import DEMO_DAYS, DEMO_SITE
from tests.dbt.runner import build_db, query, run_dbt

START = dt.date(2025, 7, 1)


@pytest.fixture(scope="module")
def home(two_sites: Path) -> Path:
    return two_sites


def test_daily_pm_means_are_the_demo_truth_and_the_aqi_follows_them(home: Path):
    truth = pd.read_csv(home / "demo" / "ground_truth" / "air_quality_daily.csv")
    rows = query(
        home,
        "select * from marts.fct_air_quality_daily "
        f"where site_id = '{DEMO_SITE}' and monitor_id = '{MONITOR}' order by day",
    )
    by_day = {row["day"].isoformat(): row for row in rows}
    assert len(truth) == DEMO_DAYS
    for t in truth.itertuples():
        row = by_day[t.day]
        # every hour complete: the 24-hour mean is the mean of the day's 96 readings
        assert row["pm10_completeness_pct"] == 100.0 and row["pm25_completeness_pct"] == 100.0
        assert row["pm10_24h_ug_m3"] == pytest.approx(t.pm10_mean_ug_m3, abs=1e-3)
        assert row["pm25_24h_ug_m3"] == pytest.approx(t.pm25_mean_ug_m3, abs=1e-3)
        assert row["pm10_truncated_ug_m3"] == np.floor(row["pm10_24h_ug_m3"])
        assert row["aqi"] == max(row["pm10_aqi"], row["pm25_aqi"])
        assert row["is_high_dust_day"] == (row["pm10_24h_ug_m3"] >= 150.0)
    # the closing midnight reading alone opens the next day: 1 hour of 24, no 24-hour mean
    after = by_day[(START + dt.timedelta(days=DEMO_DAYS)).isoformat()]
    assert after["pm10_24h_ug_m3"] is None and after["aqi"] is None
    assert after["pm10_completeness_pct"] == pytest.approx(0.0)


def test_daily_wind_direction_is_the_vector_mean_of_the_vane(home: Path):
    site = load_site(home / "sites" / f"{DEMO_SITE}.yaml")
    sim = simulate(site, start=START, days=DEMO_DAYS, seed=7)
    vane = sim.grid_readings[WIND_DIRECTION_METER]
    rows = query(
        home,
        f"select * from marts.fct_weather_daily where site_id = '{DEMO_SITE}' order by day",
    )
    by_day = {row["day"]: row for row in rows}
    for d in range(DEMO_DAYS):
        radians = np.radians(vane[d * STEPS_PER_DAY : (d + 1) * STEPS_PER_DAY])
        sin, cos = np.sin(radians).mean(), np.cos(radians).mean()
        row = by_day[START + dt.timedelta(days=d)]
        assert row["wind_direction_mean_deg"] == pytest.approx(
            np.degrees(np.arctan2(sin, cos)) % 360, abs=1e-5
        )
        assert row["wind_direction_steadiness"] == pytest.approx(np.hypot(sin, cos), abs=1e-5)


def test_the_analytics_read_the_marts_and_say_why_ten_days_are_too_few(home: Path):
    result = run_air_quality(get_settings(home), db_path=build_db(home), write=False)
    for name, columns in AIR_QUALITY_TABLES.items():
        assert list(result.tables[name].columns) == list(columns)
    effect = result.tables["fct_dust_suppression_effect"]
    assert effect[["site_id", "monitor_id", "status"]].values.tolist() == [
        [DEMO_SITE, MONITOR, "too_short"]
    ]
    assert effect["n_days"].iloc[0] == DEMO_DAYS
    skill = result.tables["fct_air_quality_forecast_skill"]
    assert skill["horizon_days"].tolist() == [1, 2]
    assert set(skill["status"]) == {"too_short"}
    assert result.tables["fct_air_quality_forecast"].empty


def test_a_window_run_ends_where_the_full_build_does(home: Path, tmp_path: Path):
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    tables = (
        "intermediate.int_air_quality_hourly",
        "marts.fct_air_quality_daily",
        "marts.fct_weather_daily",
    )

    def snapshot() -> dict[str, list[dict]]:
        return {table: query(copy, f"select * from {table} order by all") for table in tables}

    before = snapshot()
    window = {"start_day": "2025-07-04", "end_day": "2025-07-05"}
    run_dbt(copy, "build", "--select", "int_air_quality_hourly+", dbt_vars=window)
    after = snapshot()
    assert len(before["marts.fct_air_quality_daily"]) == DEMO_DAYS + 1
    for table in tables:
        assert after[table] == before[table], table


def test_the_dagster_asset_writes_the_three_tables_into_the_build(home: Path, tmp_path: Path):
    from dagster import materialize

    from orchestration.keys import AIR_QUALITY as AIR_QUALITY_KEYS
    from orchestration.resources import SiteledgerHome
    from orchestration.sustainability.air import air_quality_analytics

    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    result = materialize(
        [air_quality_analytics], resources={"siteledger": SiteledgerHome(home=str(copy))}
    )
    assert result.success
    written = {event.asset_key for event in result.get_asset_materialization_events()}
    assert written == set(AIR_QUALITY_KEYS)
    rows = query(copy, "select site_id, status from marts.fct_dust_suppression_effect")
    assert rows == [{"site_id": DEMO_SITE, "status": "too_short"}]
    assert query(copy, "select count(*) as n from marts.fct_air_quality_forecast_skill") == [
        {"n": 2}
    ]
