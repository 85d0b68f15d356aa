"""The demo mine's carbon marts match the simulation's carbon truth (ground_truth/carbon_daily.csv).

The truth is the simulated kWh and litres before the meters round them: energy registers read to
0.1 kWh, so a day's delta is within 0.1 kWh (two readings, each rounded by at most 0.05) per
register of the truth; the pit genset's daily meter reads to 0.1 L (within 0.05 L), and a
15-minute fuel flow meter counts whole tenths of its running total (a day within 0.1 L).
demo_mine with 6 bores counts 12 energy registers (6 pumps, 6 bores) and the daily meter: scope 2
within 12 x 0.1 kWh x 0.51 kg/kWh = 0.612 kg, scope 1 within 0.05 L x 2.70972 kg/L = 0.135 kg.
With the power station (demo/energy.py) its grid tie register and two genset fuel meters count
too: 13 registers (0.663 kg) and 0.25 L (0.677 kg). The bounds are computed from the site file.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from demo.write import ground_truth_dir
from siteledger.site import parse_site_text
from siteledger.site.carbon import carbon_meters
from tests.dbt.homes import DEMO_SITE
from tests.dbt.runner import query

GRID_KG_PER_KWH = 0.51
DIESEL_KG_PER_L = 2.70972


def _bounds(home: Path) -> tuple[float, float, float]:
    """(scope 2 kg, litres, scope 1 kg) a day of the marts may differ from the truth by."""
    site = parse_site_text((home / "sites" / f"{DEMO_SITE}.yaml").read_text())
    counted = carbon_meters(site)
    registers = sum(
        1 for m, act, _ in counted if act == "grid_electricity" and site.meter(m).cumulative
    )
    fuel = [site.meter(m) for m, act, _ in counted if act == "diesel"]
    litres = sum(0.05 if m.interval_seconds == 86400 else 0.1 for m in fuel)
    return registers * 0.1 * GRID_KG_PER_KWH + 1e-9, litres + 1e-9, litres * DIESEL_KG_PER_L


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
    scope2_kg, litres, scope1_kg = _bounds(home)
    burned = 0.0
    for row in rows:
        day = truth[row["day"]]
        assert row["scope2_kg_co2e"] == pytest.approx(
            float(day["scope2_kg_co2e"]), abs=scope2_kg
        ), row["day"]
        assert row["scope1_kg_co2e"] == pytest.approx(
            float(day["scope1_kg_co2e"]), abs=scope1_kg
        ), row["day"]
        assert row["diesel_l"] == pytest.approx(float(day["diesel_l"]), abs=litres)
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
