"""The demo mine's carbon marts match the simulation's carbon truth (ground_truth/carbon_daily.csv).

The truth is the simulated kWh and litres before the meters round them: energy registers read to
0.1 kWh and the genset meter to 0.1 L, so a day's delta is within 0.1 kWh (two readings, each
rounded by at most 0.05) per register of the truth, and its litres within 0.05 L. demo_mine has 7
counted energy registers: scope 2 within 7 x 0.1 kWh x 0.51 kg/kWh = 0.357 kg, scope 1 within
0.05 L x 2.70972 kg/L = 0.135 kg.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from demo.write import ground_truth_dir
from tests.dbt.homes import DEMO_SITE
from tests.dbt.runner import query

SCOPE2_TOLERANCE_KG = 0.36
SCOPE1_TOLERANCE_KG = 0.14


@pytest.fixture(scope="module")
def home(two_sites: Path) -> Path:
    return two_sites


def test_demo_carbon_matches_the_truth_every_closed_day(home: Path) -> None:
    path = ground_truth_dir(home, DEMO_SITE) / "carbon_daily.csv"
    truth = {dt.date.fromisoformat(r["day"]): r for r in csv.DictReader(path.open())}
    rows = query(
        home,
        "select * from marts.fct_carbon_site_daily "
        f"where site_id = '{DEMO_SITE}' and is_day_closed order by day",
    )
    assert len(rows) == len(truth)  # every simulated day closes (the next midnight is read)
    burned = 0.0
    for row in rows:
        day = truth[row["day"]]
        assert row["scope2_kg_co2e"] == pytest.approx(
            float(day["scope2_kg_co2e"]), abs=SCOPE2_TOLERANCE_KG
        ), row["day"]
        assert row["scope1_kg_co2e"] == pytest.approx(
            float(day["scope1_kg_co2e"]), abs=SCOPE1_TOLERANCE_KG
        ), row["day"]
        assert row["diesel_l"] == pytest.approx(float(day["diesel_l"]), abs=0.05)
        assert row["has_every_factor"]
        burned += row["diesel_l"]
    assert burned > 0  # the genset ran on some of the days


def test_the_highveld_mine_has_no_counted_meters_but_its_settings_resolve(home: Path) -> None:
    [row] = query(
        home,
        "select grid_region, grid_edition from staging.stg_site_config__carbon_settings "
        "where site_id = 'demo_highveld'",
    )
    assert (row["grid_region"], row["grid_edition"]) == ("ZA", "DFFE-2021")
    carbon = query(home, "select * from marts.fct_carbon_daily where site_id = 'demo_highveld'")
    assert carbon == []
