"""The materials forecasts: each material's daily issued quantity (material_demand) and the FIFO
cost per unit of its stock (material_unit_cost), 30 days ahead, as default targets of the
forecasting module, run on a hand-built metric mart with the rows fct_metric_daily gives a
materials site."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.service import run_analytics
from ml.settings import DEFAULT_TARGETS
from siteledger.settings import Settings
from siteledger.state.store import StateStore

DAYS = 400
START = dt.date(2025, 1, 1)
NOW = dt.datetime(2026, 2, 6, 3, 0, tzinfo=dt.UTC)


def _rows() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    days = pd.date_range(START, periods=DAYS, freq="D")
    weekday = np.array([d.weekday() < 5 for d in days])
    # olive oil: 12 kg issued on a working day (batches), none at the weekend
    issued = np.where(weekday, 12.0 + rng.normal(0, 1.0, DAYS), 0.0)
    # its stock's FIFO cost per kg creeping up from 4.00 to 5.00 over the 400 days
    cost = 4.0 + np.arange(DAYS) / (DAYS - 1) + rng.normal(0, 0.01, DAYS)
    rows = []
    for i, day in enumerate(days):
        closed = i < DAYS - 1  # the marts' as-of day is still open
        rows.append(
            (
                "soap",
                "material",
                "olive_oil",
                "issued_qty",
                day.date(),
                issued[i],
                "kg",
                "sum",
                closed,
                False,
            )
        )
        rows.append(
            (
                "soap",
                "material",
                "olive_oil",
                "unit_cost",
                day.date(),
                cost[i],
                "EUR/kg",
                "mean",
                closed,
                False,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "site_id",
            "scope",
            "scope_id",
            "metric",
            "day",
            "value",
            "unit",
            "aggregation",
            "is_day_closed",
            "is_estimated",
        ],
    )


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("create schema marts")
        con.register("m", _rows())
        con.execute("create table marts.fct_metric_daily as select * from m")
        con.execute(
            "create table marts.dim_nodes (site_id varchar, node_id varchar, node_kind varchar, "
            "capacity_m3 double, surface_area_m2 double)"
        )
    return settings


def test_materials_targets_are_defaults_without_rain():
    targets = {t.name: t for t in DEFAULT_TARGETS}
    demand, cost = targets["material_demand"], targets["material_unit_cost"]
    assert (demand.scope, demand.metric, demand.horizon_days, demand.use_rain) == (
        "material",
        "issued_qty",
        30,
        False,
    )
    assert (cost.scope, cost.metric, cost.horizon_days, cost.use_rain) == (
        "material",
        "unit_cost",
        30,
        False,
    )


def test_a_materials_demand_and_its_unit_cost_are_forecast_30_days(home: Settings) -> None:
    store = StateStore(home.state_store_url)
    try:
        result = run_analytics(home, store, now=NOW)
    finally:
        store.dispose()
    status = result.tables["fct_forecast_status"].set_index("series_id")
    demand_id = "soap/material/olive_oil/issued_qty"
    cost_id = "soap/material/olive_oil/unit_cost"
    assert status.loc[demand_id, "status"] == "ok", status.loc[demand_id, "reason"]
    assert status.loc[cost_id, "status"] == "ok", status.loc[cost_id, "reason"]
    assert status.loc[demand_id, "target"] == "material_demand"
    assert status.loc[cost_id, "target"] == "material_unit_cost"

    fc = result.tables["fct_forecast_daily"]
    demand = fc[fc["series_id"] == demand_id].copy()
    assert demand["horizon_day"].tolist() == list(range(1, 31))
    # the forecast starts the day after the last closed day (the as-of day is still open)
    last_closed = START + dt.timedelta(days=DAYS - 2)
    first = pd.Timestamp(demand["day"].iloc[0]).date()
    assert first == last_closed + dt.timedelta(days=1)
    # the working week's rhythm carries on: ~12 kg on a working day, ~0 at the weekend, and
    # 30 days' total near 12 kg x the working days among them
    demand["weekday"] = [pd.Timestamp(d).weekday() for d in demand["day"]]
    working = demand[demand["weekday"] < 5]["mean"]
    weekend = demand[demand["weekday"] >= 5]["mean"]
    assert working.between(9, 15).all() and weekend.abs().lt(3).all()
    assert demand["mean"].sum() == pytest.approx(12 * len(working), rel=0.15)
    assert (demand["lo95"] <= demand["mean"]).all() and (demand["mean"] <= demand["hi95"]).all()

    cost = fc[fc["series_id"] == cost_id]
    assert len(cost) == 30
    # the cost's creep goes on: about 1/400 per day from the last ~5.00, within a few cents
    assert cost["mean"].iloc[-1] == pytest.approx(5.0 + 30 / 400, abs=0.08)
    assert cost["mean"].is_monotonic_increasing or cost["mean"].diff().dropna().ge(-0.01).all()
