"""The analytics run on a hand-built warehouse: every table written with its documented columns,
a status per series (too short, constant), a non-converged model never used, a spike found on its
day, probabilities that make sense, training only when due."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.registry import ModelRegistry
from ml.service import run_analytics
from ml.tables import TABLES
from siteledger.settings import Settings
from siteledger.state.store import StateStore

DAYS = 500
START = dt.date(2024, 1, 1)
CAPACITY = 100_000.0
SPIKE_DAY = 400
NOW = dt.datetime(2025, 5, 20, 3, 0, tzinfo=dt.UTC)


def _metric_rows(rng: np.random.Generator) -> pd.DataFrame:
    days = pd.date_range(START, periods=DAYS, freq="D")
    t = np.arange(DAYS)
    rain = np.where(rng.random(DAYS) < 0.25, rng.gamma(0.8, 8.0, DAYS), 0.0)
    noise = np.zeros(DAYS)
    for k in range(1, DAYS):
        noise[k] = 0.9 * noise[k - 1] + rng.normal(0, 300)
    stored = np.zeros(DAYS)
    for k in range(DAYS):
        stored[k] = (0.93 * stored[k - 1] if k else 0.0) + rain[k]
    storage = 50_000 + 8_000 * np.sin(2 * np.pi * t / 365.25) + 60 * stored + noise
    demand = 3_000 + 200 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 40, DAYS)
    flow = 1_000 + 100 * np.sin(2 * np.pi * t / 365.25) + rng.normal(0, 20, DAYS)
    flow[SPIKE_DAY] += 8 * 20 * 1.0 + 400  # far beyond the noise
    rows = []

    def add(scope: str, scope_id: str, metric: str, values: np.ndarray, unit: str) -> None:
        for day, value in zip(days, values, strict=True):
            rows.append(("s1", scope, scope_id, metric, day.date(), float(value), unit, True))

    add("node", "dam", "closing_storage_m3", storage, "m3")
    add("node", "dam", "rainfall_m3", rain * 60, "m3")
    add("node", "dam", "inflow_m3", rain * 60 + 500, "m3")
    add("node", "dam", "outflow_m3", np.full(DAYS, 500.0), "m3")
    add("node", "dam", "evaporation_m3", np.zeros(DAYS), "m3")
    add("node", "dam", "seepage_m3", np.zeros(DAYS), "m3")
    add("site", "s1", "demand_m3", demand, "m3")
    add("site", "s1", "rain_mm", rain, "mm")
    add("flow", "f_spiky", "volume_m3", flow, "m3")
    add("flow", "f_flat", "volume_m3", np.full(DAYS, 250.0), "m3")
    # a store that has only a month of levels
    for day in days[-30:]:
        rows.append(("s1", "node", "tiny", "closing_storage_m3", day.date(), 10.0, "m3", True))
    return pd.DataFrame(
        rows,
        columns=["site_id", "scope", "scope_id", "metric", "day", "value", "unit", "is_day_closed"],
    )


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    metrics = _metric_rows(np.random.default_rng(3))
    nodes = pd.DataFrame(
        {
            "site_id": ["s1", "s1"],
            "node_id": ["dam", "tiny"],
            "node_kind": ["store", "store"],
            "capacity_m3": [CAPACITY, 50.0],
            "surface_area_m2": [20_000.0, 10.0],
        }
    )
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("create schema marts")
        con.register("m", metrics)
        con.execute("create table marts.fct_metric_daily as select * from m")
        con.register("n", nodes)
        con.execute("create table marts.dim_nodes as select * from n")
    return settings


def test_one_run_writes_every_table_with_a_status_for_every_series(home: Settings) -> None:
    store = StateStore(home.state_store_url)
    result = run_analytics(home, store, now=NOW)

    # every table written into the build, with exactly its documented columns
    with duckdb.connect(str(home.build_db), read_only=True) as con:
        for table, columns in TABLES.items():
            described = [r[0] for r in con.execute(f"describe marts.{table}").fetchall()]
            if result.tables[table].empty and table in ("fct_change_points",):
                continue
            assert set(described) == set(columns), table
        types = dict(
            (r[0], r[1]) for r in con.execute("describe marts.fct_overflow_risk").fetchall()
        )
        assert types["as_of"] == "DATE" and types["horizon_days"] == "BIGINT"

    status = result.tables["fct_forecast_status"].set_index("series_id")
    assert status.loc["s1/node/dam/closing_storage_m3", "status"] == "ok"
    assert status.loc["s1/site/s1/demand_m3", "status"] == "ok"
    assert status.loc["s1/node/tiny/closing_storage_m3", "status"] == "too_short"
    assert "30 observed days" in status.loc["s1/node/tiny/closing_storage_m3", "reason"]

    fc = result.tables["fct_forecast_daily"]
    dam = fc[fc["series_id"] == "s1/node/dam/closing_storage_m3"]
    assert len(dam) == 90 and dam["horizon_day"].tolist() == list(range(1, 91))
    assert (dam["lo95"] <= dam["lo80"]).all() and (dam["lo80"] <= dam["mean"]).all()
    assert (dam["mean"] <= dam["hi80"]).all() and (dam["hi80"] <= dam["hi95"]).all()
    assert np.allclose(dam["fill_pct_mean"], dam["mean"] / CAPACITY * 100)
    # the seasonal cycle carries on: a year after the series' peak region the forecast is
    # within the cycle's amplitude of the truth's mean level
    assert dam["mean"].between(35_000, 70_000).all()
    demand = fc[fc["series_id"] == "s1/site/s1/demand_m3"]
    assert len(demand) == 30 and demand["mean"].between(2_500, 3_500).all()

    # the spike, on its day, high; the flat flow has a status and no anomalies
    anomalies = result.tables["fct_anomalies"]
    spiky = anomalies[anomalies["series_id"] == "s1/flow/f_spiky/volume_m3"]
    spike_day = (START + dt.timedelta(days=SPIKE_DAY)).isoformat()
    assert spike_day in {pd.Timestamp(d).date().isoformat() for d in spiky["day"]}
    assert set(spiky.loc[pd.to_datetime(spiky["day"]) == spike_day, "direction"]) == {"high"}
    scan = result.tables["fct_analytics_status"]
    flat = scan[scan["series_id"] == "s1/flow/f_flat/volume_m3"]
    assert flat["status"].tolist() == ["constant"]
    assert anomalies[anomalies["series_id"] == "s1/flow/f_flat/volume_m3"].empty

    # at about half full, a day of this rain cannot bring the dam to 80 %, nor to 20 %
    risk = result.tables["fct_overflow_risk"].set_index(["node_id", "horizon_days"])
    assert risk.loc[("dam", 1), "p_above_80"] == 0.0
    assert risk.loc[("dam", 1), "p_below_20"] == 0.0
    assert risk.loc[("dam", 30), "n_paths"] == 20_000
    frame = result.tables["fct_overflow_risk"]
    ok = frame[frame["status"] == "ok"]
    assert set(ok["node_id"]) == {"dam"}
    assert ok[["p_above_80", "p_above_100", "p_below_20"]].stack().between(0, 1).all()
    # the month-long store gets its status, not numbers
    assert set(frame.loc[frame["node_id"] == "tiny", "status"]) == {"too_short"}
    # the probabilities within 30 days include those within a day
    assert risk.loc[("dam", 30), "p_above_80"] >= risk.loc[("dam", 1), "p_above_80"]

    # the dam's storage decomposed: trend + seasonal parts + residual give the value back
    parts = result.tables["fct_metric_decomposition"]
    dam_parts = parts[parts["series_id"] == "s1/node/dam/closing_storage_m3"]
    assert len(dam_parts) == DAYS
    rebuilt = dam_parts[["trend", "seasonal_weekly", "seasonal_annual", "residual"]].sum(axis=1)
    assert np.allclose(rebuilt, dam_parts["value"])
    # the annual cycle's amplitude (8 000 m3) is in the annual part, not the residual
    assert dam_parts["seasonal_annual"].max() - dam_parts["seasonal_annual"].min() > 12_000
    assert set(scan.loc[scan["analysis"] == "decomposition", "status"]) == {"ok"}

    scenarios = result.tables["fct_scenario_projection"]
    assert set(scenarios["scenario_id"]) == {"base"}

    # nothing is due the next night: no training, same models
    again = run_analytics(home, store, now=NOW + dt.timedelta(days=1))
    assert again.trained == []
    assert len(result.trained) == 3  # dam, tiny (too short: recorded with its status), demand
    # a changed setting retrains the models it concerns the same night, not a month later
    (home.home / "analytics.yaml").write_text(
        "forecasts:\n  targets:\n"
        "    - {name: store_volume, scope: node, metric: closing_storage_m3, horizon_days: 90,"
        " rain_decay: 0.8}\n"
        "    - {name: site_demand, scope: site, metric: demand_m3, horizon_days: 30}\n"
    )
    changed = run_analytics(home, store, now=NOW + dt.timedelta(days=2))
    assert sorted(e.series_id for e in changed.trained) == [
        "s1/node/dam/closing_storage_m3",
        "s1/node/tiny/closing_storage_m3",
    ]
    dam = next(e for e in changed.trained if e.series_id == "s1/node/dam/closing_storage_m3")
    assert dam.spec["rain_decay"] == 0.8


def test_a_model_that_did_not_converge_is_never_used(home: Settings) -> None:
    store = StateStore(home.state_store_url)
    run_analytics(home, store, now=NOW)
    registry = ModelRegistry(store)
    current = registry.current()["s1/node/dam/closing_storage_m3"]
    registry.record(
        dataclasses.replace(
            current,
            model_id="failed-retrain",
            status="not_converged",
            reason="the likelihood search stopped at its iteration limit",
            converged=False,
            artefact=None,
            trained_at=NOW + dt.timedelta(hours=1),
        )
    )
    result = run_analytics(home, store, now=NOW + dt.timedelta(hours=2))
    status = result.tables["fct_forecast_status"].set_index("series_id")
    row = status.loc["s1/node/dam/closing_storage_m3"]
    assert row["status"] == "not_converged"
    assert "not usable" in row["reason"] and "iteration limit" in row["reason"]
    fc = result.tables["fct_forecast_daily"]
    assert fc[fc["series_id"] == "s1/node/dam/closing_storage_m3"].empty
    # the other series still forecast
    assert not fc[fc["series_id"] == "s1/site/s1/demand_m3"].empty


def test_hostile_series_get_a_status_and_never_stop_the_run(tmp_path: Path) -> None:
    """Values far outside plausibility, infinities, a lone day a century ahead, a series of one
    day, a store without capacity: each series gets its status; the run completes."""
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    days = pd.date_range(START, periods=200, freq="D")
    rows = []

    def add(scope: str, scope_id: str, metric: str, values: object, when: object = days) -> None:
        for day, value in zip(when, values, strict=True):  # type: ignore[call-overload]
            rows.append(("s1", scope, scope_id, metric, day.date(), float(value), "m3", True))

    huge = rng.normal(1e6, 1e5, 200)
    huge[50] = 1e300
    huge[51] = float("inf")
    huge[52] = -float("inf")
    add("node", "dam", "closing_storage_m3", huge)
    add("site", "s1", "demand_m3", rng.normal(3000, 100, 200))
    add("site", "s1", "rain_mm", np.where(rng.random(200) < 0.3, 5.0, 0.0))
    add("flow", "burst", "volume_m3", np.r_[rng.normal(100, 5, 199), 1e308])
    add("flow", "lonely", "volume_m3", [42.0], [pd.Timestamp("2125-01-01")])
    add("flow", "negative", "volume_m3", -np.abs(rng.normal(50, 5, 200)))
    metrics = pd.DataFrame(
        rows,
        columns=["site_id", "scope", "scope_id", "metric", "day", "value", "unit", "is_day_closed"],
    )
    nodes = pd.DataFrame(
        {
            "site_id": ["s1", "s1"],
            "node_id": ["dam", "nocap"],
            "node_kind": ["store", "store"],
            "capacity_m3": [2e6, None],
            "surface_area_m2": [1e4, 1.0],
        }
    )
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("create schema marts")
        con.register("m", metrics)
        con.execute("create table marts.fct_metric_daily as select * from m")
        con.register("n", nodes)
        con.execute("create table marts.dim_nodes as select * from n")
    result = run_analytics(settings, StateStore(settings.state_store_url), now=NOW)
    status = result.tables["fct_forecast_status"].set_index("series_id")["status"]
    assert set(status.index) == {"s1/node/dam/closing_storage_m3", "s1/site/s1/demand_m3"}
    # the implausible days of the dam (1e300 m3, infinities) are left out, not the dam
    assert status["s1/node/dam/closing_storage_m3"] == "ok"
    scan = result.tables["fct_analytics_status"]
    scanned = set(scan.loc[scan["analysis"] == "anomalies", "series_id"])
    assert {"s1/flow/lonely/volume_m3", "s1/flow/burst/volume_m3"} <= scanned
    lonely = scan[(scan["series_id"] == "s1/flow/lonely/volume_m3")]
    assert lonely["status"].tolist() == ["too_short"]
    # whatever was published is finite where it is numbers
    fc = result.tables["fct_forecast_daily"]
    assert np.isfinite(fc[["mean", "lo95", "hi95"]].to_numpy(dtype=float)).all()
    risk = result.tables["fct_overflow_risk"]
    ok = risk[risk["status"] == "ok"]
    assert ok[["p_above_80", "p_above_100", "p_below_20"]].stack().between(0, 1).all()
