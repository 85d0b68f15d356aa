"""Solar forecasts in the analytics run: each PV array of the site files gets its production
30 days ahead in ``fct_forecast_daily`` with a status, from the array's own record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml

from ml.service import run_analytics
from ml.solar import array_specs, clearsky_daily_kwh
from siteledger.settings import Settings
from siteledger.site import dump_site, parse_site_text
from siteledger.state.store import StateStore

FIXTURE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"
START = dt.date(2024, 1, 1)
DAYS = 400
NOW = dt.datetime(2025, 2, 10, 3, 0, tzinfo=dt.UTC)


def _site_text() -> str:
    data = yaml.safe_load(FIXTURE.read_text())
    data["site"]["timezone"] = "Australia/Perth"
    data["meters"] += [
        {"id": "JP-921", "measurand": "power", "unit": "kW"},
        {"id": "RI-921", "measurand": "irradiance", "unit": "W/m2"},
    ]
    data["energy"] = {
        "location": {"latitude": -31.95, "longitude": 116.05, "altitude_m": 250},
        "pv_arrays": [
            {
                "id": "pv_roof",
                "kwp": 200,
                "tilt_deg": 20,
                "azimuth_deg": 0,
                "inverter_kw": 180,
                "power_meter": "JP-921",
                "irradiance_meter": "RI-921",
            }
        ],
    }
    return yaml.safe_dump(data, sort_keys=False)


def test_each_array_gets_a_calibrated_forecast_with_a_status(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    site = parse_site_text(_site_text(), "site.yaml")
    (settings.sites_dir / f"{site.site.id}.yaml").write_text(dump_site(site))
    spec = array_specs(site)["pv_roof"]
    sky = clearsky_daily_kwh(spec, START, DAYS)
    index = np.random.default_rng(5).beta(8.0, 2.0, DAYS)
    metrics = pd.DataFrame(
        {
            "site_id": site.site.id,
            "scope": "pv_array",
            "scope_id": "pv_roof",
            "metric": "solar_kwh",
            "day": [d.date() for d in sky.index],
            "value": sky.to_numpy() * index,
            "unit": "kWh",
            "is_day_closed": True,
        }
    )
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("create schema marts")
        con.register("m", metrics)
        con.execute("create table marts.fct_metric_daily as select * from m")

    result = run_analytics(settings, StateStore(settings.state_store_url), now=NOW)

    series = f"{site.site.id}/pv_array/pv_roof/solar_kwh"
    status = result.tables["fct_forecast_status"].set_index("series_id")
    assert status.loc[series, "status"] == "ok"
    assert status.loc[series, "model_type"] == "pvlib_clearsky_climatology"
    assert status.loc[series, "backtest_warning"] == ""
    fc = result.tables["fct_forecast_daily"]
    solar = fc[fc["series_id"] == series].sort_values("day")
    assert len(solar) == 30 and solar["horizon_day"].tolist() == list(range(1, 31))
    assert (solar["target"] == "solar_production").all() and (solar["unit"] == "kWh").all()
    future = clearsky_daily_kwh(spec, START + dt.timedelta(days=DAYS), 30).to_numpy()
    # the mean is the clear sky times the February index of the record (beta(8, 2): 0.8)
    ratio = solar["mean"].to_numpy() / future
    assert np.all((ratio > 0.72) & (ratio < 0.88))
    assert (solar["lo95"] <= solar["lo80"]).all() and (solar["hi80"] <= solar["hi95"]).all()
    assert (solar["hi95"] <= future * 1.0 + 1e-9).all()


def test_an_array_without_a_record_says_so(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    site = parse_site_text(_site_text(), "site.yaml")
    (settings.sites_dir / f"{site.site.id}.yaml").write_text(dump_site(site))
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("create schema marts")
    result = run_analytics(settings, StateStore(settings.state_store_url), now=NOW)
    status = result.tables["fct_forecast_status"]
    solar = status[status["target"] == "solar_production"]
    assert solar["status"].tolist() == ["too_short"]
    assert "0 measured days" in solar["reason"].iloc[0]
