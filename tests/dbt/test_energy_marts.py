"""The energy marts reproduce a hand computation of fixtures/energy_site.yaml.

Readings in tests/dbt/energy_lake.py. D1-D3 = 2025-07-04 (Friday) to 2025-07-06 (Sunday),
Australia/Perth; 15-minute meters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingestion.site_tables import write_site_tables
from siteledger.settings import get_settings
from siteledger.site import load_site
from tests.dbt.energy_lake import D1, D2, D3, D4, write_energy_lake
from tests.dbt.runner import query, run_dbt, shared_home

ENERGY_SITE_FILE = Path(__file__).parent / "fixtures" / "energy_site.yaml"
SITE = "energy_site"
SELECT = ("--select", "+path:models/marts/energy")
EXACT = 1e-9

# --- fuel curve (HOMER): L/h = F0 x rated + F1 x P; SFC(p) = F1 + F0 / p with F0 0.08, F1 0.25 --
# 10 %: 0.25 + 0.08 / 0.10 = 1.05; 25 %: 0.25 + 0.32 = 0.57; 50 %: 0.25 + 0.16 = 0.41;
# 100 %: 0.25 + 0.08 = 0.33 L/kWh.
SFC = {10.0: 1.05, 25.0: 0.57, 50.0: 0.41, 100.0: 0.33}
# genset 1, D1: 4 h each at 10, 25, 50, 100 kW of 100 kW, stopped 16:00-24:00:
#   energy 40 + 100 + 200 + 400 = 740 kWh; curve litres 40 x 1.05 + 100 x 0.57 + 200 x 0.41
#   + 400 x 0.33 = 42 + 57 + 82 + 132 = 313 L; metered 1.2 x 313 = 375.6 L (ratio 1.2);
#   running 16 h, mean load 740 / (100 x 16) = 0.4625; below 30 %: 10 and 25 kW = 8 h, one run
#   (00:00-08:00) of 8 h.
# genset 1, D2: 50 kW x 24 h = 1 200 kWh, curve 1 200 x 0.41 = 492 L = metered.
#   30 days to D2: (375.6 + 492) / (313 + 492) = 867.6 / 805 = 1.077764 over 2 days.
# genset 2 (40 kW, F0 defaulted to 0.08 at <= 40 kW, F1 0.25), D1: 20 kW x 8 h = 160 kWh, curve
#   (0.08 x 40 + 0.25 x 20) x 8 = 65.6 L; fuel = its day tank's draw 1 000 - 930 = 70 L.
# fuel price 1.80 /L from 2025-07-01, 2.00 from 2025-07-05; diesel AU NGA-2024 2.70972 kg/L.
DIESEL = 38.6 * 70.2 / 1000
GRID_FACTOR = 0.51  # AU-WA-SWIS NGA-2024
SOLAR_FACTOR = 0.041  # IPCC AR5 rooftop median
G1_FUEL = {D1: 375.6, D2: 492.0, D3: 0.0}
G1_CURVE = {D1: 313.0, D2: 492.0, D3: 0.0}
G1_KWH = {D1: 740.0, D2: 1200.0, D3: 0.0}

# --- PV (100 kWp, 80 kW inverter): POA 800 W/m2 09:00-15:00 on D1, D2; 1 100 on D3 ------------
# H_POA = 6 h x 0.8 = 4.8 kWh/m2 (6.6 on D3). Expected AC at 800 W/m2, 20 degC, 2 m/s =
# 61.971991 kW (tests/dbt/test_energy_pvlib.py), x 6 h = 371.831948 kWh; at 1 100 W/m2 the
# inverter clips at 80 kW: 480 kWh.
# D1: 64 kW x 6 h = 384 kWh; PR = 384 / (100 x 4.8) = 0.8; PI = 384 / 371.831948 = 1.032725.
# D2: 0 kW 09:00-10:00 (4 intervals at 800 W/m2 > 50: zero production), 50 kW x 5 h = 250 kWh;
#   PR = 250 / 480 = 0.520833; PI = 250 / 371.831948 = 0.672347 < 0.90: 1 day below.
# D3: 60 kW x 6 h = 360 kWh; PR = 360 / 660 = 0.545455; PI = 360 / 480 = 0.75: 2 days below.
PV_AC_800 = 61.97199141284466

# --- grid: 20 kW (5 kWh a step); peak Mon-Fri 07:00-23:00 at 0.32, else 0.15 ----------------
# D1 (Fri): 80 kW at 17:00-17:15 (+15 kWh): 96 x 5 + 15 = 495 kWh; peak 64 steps x 5 + 15 = 335
#   kWh x 0.32 = 107.20; off-peak 32 x 5 = 160 x 0.15 = 24.00; energy cost 131.20. Demand
#   17:00-17:30 = (20 + 5) kWh / 0.5 h = 50 kW.
# D2 (Sat): 60 kW 10:00-10:30: 480 + 20 = 500 kWh, all off-peak: 75.00; demand 15 x 2 / 0.5 = 60.
# D3 (Sun): 480 kWh x 0.15 = 72.00; demand 20 kW.
# July: 1 475 kWh, energy 278.20, daily charges 3 x 2.40 = 7.20, billed demand 60 kW x 18.50 =
#   1 110.00; total 1 395.40; 1 395.40 / 1 475 = 0.946034 /kWh.

# --- loads -------------------------------------------------------------------------------------
# plant D1 (Fri, hours 06:00-18:00): 10 kW 2 h + 8 kW 4 h + 100 kW 12 h + 10 kW 6 h
#   = 20 + 32 + 1 200 + 60 = 1 312 kWh; peak 100; mean 1 312 / 24 = 54.666667; load factor
#   0.546667; baseload = the 8 lowest half-hours (02:00-06:00 at 8 kW) = 8; out of hours
#   1 312 - 1 200 = 112 kWh, share 0.085366.
# plant D2 (Sat, no hours): 20 kW x 24 = 480, all out of hours; D3: 30 kW with 130 kW at
#   12:00-12:15: 720 + 25 = 745 kWh, peak 130, mean 31.041667, load factor 0.238782, baseload 30.
# camp: 15 kW x 24 = 360 kWh a day, no operating hours (out of hours null).

# --- cost by source and cost centre (July) ----------------------------------------------------
# fuel: D1 (375.6 + 70) x 1.80 = 802.08; D2 492 x 2.00 = 984.00 -> 1 786.08
# grid bill 1 395.40; solar (384 + 250 + 360) = 994 kWh x 0.05 = 49.70; supply 3 231.18.
# loads: processing 1 312 + 480 + 745 = 2 537 kWh; camp 3 x 360 = 1 080; total 3 617:
#   processing 3 231.18 x 2 537 / 3 617 = 2 266.381991; camp 3 231.18 x 1 080 / 3 617 = 964.798009.
SUPPLY = 1786.08 + 1395.4 + 49.7


def _build(home: Path) -> None:
    write_site_tables(get_settings(home), load_site(ENERGY_SITE_FILE))
    write_energy_lake(get_settings(home).lake)
    run_dbt(home, "run", *SELECT)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "energy_site", _build)


def _rows(home: Path, table: str, *keys: str) -> dict[Any, dict[str, Any]]:
    rows = query(home, f"select * from marts.{table} where site_id = '{SITE}'")
    return {tuple(row[key] for key in keys): row for row in rows}


def test_fuel_curve_sfc_at_10_25_50_100_pct_load() -> None:
    # HOMER: SFC(p) = F1 + F0 / p, the figures of the domain notes
    for kw, sfc in SFC.items():
        p = kw / 100
        assert 0.25 + 0.08 / p == pytest.approx(sfc, abs=1e-12)


def test_generator_fuel_against_the_curve(home: Path) -> None:
    rows = _rows(home, "fct_generator_daily", "generator_id", "day")
    d1 = rows[("genset_1", D1)]
    assert d1["energy_kwh"] == pytest.approx(740.0, abs=EXACT)
    assert d1["expected_fuel_l"] == pytest.approx(313.0, abs=EXACT)
    # the curve's litres per kWh block by block: 42 / 40 = 1.05, 57 / 100 = 0.57, ...
    assert d1["expected_fuel_l"] == pytest.approx(
        40 * SFC[10.0] + 100 * SFC[25.0] + 200 * SFC[50.0] + 400 * SFC[100.0], abs=EXACT
    )
    assert d1["fuel_l"] == pytest.approx(375.6, abs=EXACT)
    assert d1["fuel_basis"] == "meter"
    assert d1["efficiency_ratio"] == pytest.approx(1.2, abs=EXACT)
    assert d1["sfc_l_per_kwh"] == pytest.approx(375.6 / 740, abs=EXACT)
    assert d1["expected_sfc_l_per_kwh"] == pytest.approx(313 / 740, abs=EXACT)
    assert d1["running_hours"] == pytest.approx(16.0, abs=EXACT)
    assert d1["mean_load_fraction"] == pytest.approx(0.4625, abs=EXACT)
    assert d1["low_load_hours"] == pytest.approx(8.0, abs=EXACT)
    assert d1["max_low_load_run_hours"] == pytest.approx(8.0, abs=EXACT)
    assert d1["fuel_cost"] == pytest.approx(375.6 * 1.80, abs=EXACT)
    assert d1["co2e_kg"] == pytest.approx(375.6 * DIESEL, abs=1e-6)
    d2 = rows[("genset_1", D2)]
    assert d2["expected_sfc_l_per_kwh"] == pytest.approx(SFC[50.0], abs=EXACT)
    assert d2["fuel_cost"] == pytest.approx(492 * 2.00, abs=EXACT)
    assert d2["fuel_30d_l"] == pytest.approx(867.6, abs=EXACT)
    assert d2["expected_fuel_30d_l"] == pytest.approx(805.0, abs=EXACT)
    assert d2["efficiency_ratio_30d"] == pytest.approx(867.6 / 805, abs=EXACT)
    assert d2["n_days_30d"] == 2
    assert d2["low_load_hours"] == 0
    d3 = rows[("genset_1", D3)]
    assert d3["running_hours"] == 0 and d3["efficiency_ratio"] is None
    # a stopped day neither counts nor breaks the 30-day figures
    assert d3["efficiency_ratio_30d"] == pytest.approx(867.6 / 805, abs=EXACT)
    assert d3["n_days_30d"] == 2


def test_tank_fed_generator_takes_its_tanks_draw(home: Path) -> None:
    rows = _rows(home, "fct_generator_daily", "generator_id", "day")
    d1 = rows[("genset_2", D1)]
    assert d1["fuel_basis"] == "tank"
    assert d1["energy_kwh"] == pytest.approx(160.0, abs=EXACT)
    assert d1["expected_fuel_l"] == pytest.approx(65.6, abs=EXACT)
    assert d1["fuel_l"] == pytest.approx(70.0, abs=EXACT)
    assert d1["efficiency_ratio"] == pytest.approx(70 / 65.6, abs=EXACT)
    assert d1["fuel_cost"] == pytest.approx(126.0, abs=EXACT)


def test_tank_balance_with_a_delivery_and_unaccounted_fuel(home: Path) -> None:
    rows = _rows(home, "fct_fuel_tank_daily", "tank_id", "day")
    # D1: 5 000 + 0 - 4 500 = 500 drawn; genset 1 metered 375.6: 124.4 unaccounted (> 50)
    d1 = rows[("bulk_tank", D1)]
    assert (d1["opening_l"], d1["closing_l"], d1["delivered_l"]) == (5000.0, 4500.0, 0.0)
    assert d1["drawn_l"] == pytest.approx(500.0, abs=EXACT)
    assert d1["metered_use_l"] == pytest.approx(375.6, abs=EXACT)
    assert d1["unaccounted_l"] == pytest.approx(124.4, abs=EXACT)
    assert d1["unaccounted_alert_l_per_day"] == 50.0
    # D2: 4 500 + 2 000 delivered - 6 000 = 500 drawn; 492 metered: 8 unaccounted
    d2 = rows[("bulk_tank", D2)]
    assert d2["delivered_l"] == pytest.approx(2000.0, abs=EXACT)
    assert d2["drawn_l"] == pytest.approx(500.0, abs=EXACT)
    assert d2["unaccounted_l"] == pytest.approx(8.0, abs=EXACT)
    # D3: 6 000 - 5 990 = 10 drawn with the genset stopped: 10 unaccounted
    assert rows[("bulk_tank", D3)]["unaccounted_l"] == pytest.approx(10.0, abs=EXACT)
    # D4 holds only its opening dip: no closing yet
    assert rows[("bulk_tank", D4)]["closing_l"] is None
    # the day tank feeds an unmetered genset: nothing to account against
    assert rows[("day_tank", D1)]["drawn_l"] == pytest.approx(70.0, abs=EXACT)
    assert rows[("day_tank", D1)]["unaccounted_l"] is None


def test_solar_performance_ratio_and_index(home: Path) -> None:
    rows = _rows(home, "fct_solar_daily", "day")
    d1, d2, d3 = rows[(D1,)], rows[(D2,)], rows[(D3,)]
    assert d1["energy_kwh"] == pytest.approx(384.0, abs=EXACT)
    assert d1["poa_kwh_per_m2"] == pytest.approx(4.8, abs=EXACT)
    assert d1["performance_ratio"] == pytest.approx(0.8, abs=EXACT)
    assert d1["expected_kwh"] == pytest.approx(6 * PV_AC_800, abs=1e-9)
    assert d1["performance_index"] == pytest.approx(384 / (6 * PV_AC_800), abs=EXACT)
    assert d1["zero_production_intervals"] == 0 and d1["days_below_pi"] == 0
    assert d1["co2e_kg"] == pytest.approx(384 * SOLAR_FACTOR, abs=EXACT)
    assert d2["performance_ratio"] == pytest.approx(250 / 480, abs=EXACT)
    assert d2["performance_index"] == pytest.approx(250 / (6 * PV_AC_800), abs=EXACT)
    assert d2["zero_production_intervals"] == 4
    assert d2["days_below_pi"] == 1
    assert d3["expected_kwh"] == pytest.approx(480.0, abs=EXACT)  # clipped at 80 kW
    assert d3["poa_kwh_per_m2"] == pytest.approx(6.6, abs=EXACT)
    assert d3["performance_ratio"] == pytest.approx(360 / 660, abs=EXACT)
    assert d3["performance_index"] == pytest.approx(0.75, abs=EXACT)
    assert d3["days_below_pi"] == 2
    assert (d3["pi_alert_threshold"], d3["pi_alert_days"]) == (0.9, 2)


def test_grid_time_of_use_and_demand(home: Path) -> None:
    days = _rows(home, "fct_grid_daily", "day")
    assert days[(D1,)]["import_kwh"] == pytest.approx(495.0, abs=EXACT)
    assert days[(D1,)]["energy_cost"] == pytest.approx(131.2, abs=EXACT)
    assert days[(D1,)]["peak_kw"] == pytest.approx(50.0, abs=EXACT)
    assert days[(D2,)]["energy_cost"] == pytest.approx(75.0, abs=EXACT)
    assert days[(D2,)]["peak_kw"] == pytest.approx(60.0, abs=EXACT)
    assert days[(D3,)]["energy_cost"] == pytest.approx(72.0, abs=EXACT)
    assert days[(D1,)]["daily_charge"] == 2.4
    periods = _rows(home, "fct_grid_period_daily", "day", "period_name")
    assert periods[(D1, "peak")]["kwh"] == pytest.approx(335.0, abs=EXACT)
    assert periods[(D1, "peak")]["cost"] == pytest.approx(107.2, abs=EXACT)
    assert periods[(D1, "off_peak")]["kwh"] == pytest.approx(160.0, abs=EXACT)
    assert periods[(D1, "off_peak")]["rate_per_kwh"] == 0.15
    assert (D2, "peak") not in periods  # Saturday: no time-of-use period
    [month] = query(home, f"select * from marts.fct_grid_monthly where site_id = '{SITE}'")
    assert month["import_kwh"] == pytest.approx(1475.0, abs=EXACT)
    assert month["energy_cost"] == pytest.approx(278.2, abs=EXACT)
    assert month["daily_charges"] == pytest.approx(7.2, abs=EXACT)
    assert month["billed_demand_kw"] == pytest.approx(60.0, abs=EXACT)
    assert month["demand_charge"] == pytest.approx(1110.0, abs=EXACT)
    assert month["total_cost"] == pytest.approx(1395.4, abs=EXACT)
    assert month["cost_per_kwh"] == pytest.approx(1395.4 / 1475, abs=EXACT)


def test_load_baseload_load_factor_and_out_of_hours(home: Path) -> None:
    rows = _rows(home, "fct_load_daily", "load_id", "day")
    d1 = rows[("plant", D1)]
    assert d1["energy_kwh"] == pytest.approx(1312.0, abs=EXACT)
    assert d1["peak_kw"] == pytest.approx(100.0, abs=EXACT)
    assert d1["mean_kw"] == pytest.approx(1312 / 24, abs=EXACT)
    assert d1["load_factor"] == pytest.approx(1312 / 24 / 100, abs=EXACT)
    assert d1["baseload_kw"] == pytest.approx(8.0, abs=EXACT)
    assert d1["out_of_hours_kwh"] == pytest.approx(112.0, abs=EXACT)
    assert d1["out_of_hours_share"] == pytest.approx(112 / 1312, abs=EXACT)
    assert d1["cost_centre_id"] == "processing"
    assert rows[("plant", D2)]["out_of_hours_share"] == pytest.approx(1.0, abs=EXACT)
    d3 = rows[("plant", D3)]
    assert d3["energy_kwh"] == pytest.approx(745.0, abs=EXACT)
    assert d3["peak_kw"] == pytest.approx(130.0, abs=EXACT)
    assert d3["load_factor"] == pytest.approx(745 / 24 / 130, abs=EXACT)
    assert d3["baseload_kw"] == pytest.approx(30.0, abs=EXACT)
    assert d3["anomaly_kwh_per_day"] == 700.0
    camp = rows[("camp", D1)]
    assert camp["energy_kwh"] == pytest.approx(360.0, abs=EXACT)
    assert camp["out_of_hours_kwh"] is None


def test_cost_per_kwh_by_source(home: Path) -> None:
    rows = _rows(home, "fct_energy_cost_daily", "day", "source")
    generator = rows[(D1, "generator")]
    assert generator["kwh"] == pytest.approx(900.0, abs=EXACT)
    assert generator["cost"] == pytest.approx(802.08, abs=EXACT)
    assert generator["cost_per_kwh"] == pytest.approx(802.08 / 900, abs=EXACT)
    assert generator["co2e_kg"] == pytest.approx(445.6 * DIESEL, abs=1e-6)
    grid = rows[(D1, "grid")]
    assert grid["cost"] == pytest.approx(131.2 + 2.4, abs=EXACT)
    assert grid["cost_per_kwh"] == pytest.approx(133.6 / 495, abs=EXACT)
    assert grid["co2e_kg"] == pytest.approx(495 * GRID_FACTOR, abs=1e-9)
    solar = rows[(D1, "solar")]
    assert solar["cost_per_kwh"] == pytest.approx(0.05, abs=EXACT)
    assert solar["co2e_kg"] == pytest.approx(384 * SOLAR_FACTOR, abs=EXACT)
    site = _rows(home, "fct_energy_site_daily", "day")
    assert site[(D1,)]["total_cost"] == pytest.approx(802.08 + 133.6 + 19.2, abs=EXACT)
    assert site[(D1,)]["load_kwh"] == pytest.approx(1312 + 360, abs=EXACT)
    assert site[(D1,)]["daily_cost_alert"] == 900.0
    assert site[(D3,)]["generator_kwh"] == 0


def test_cost_centres_share_the_months_supply_cost_by_kwh(home: Path) -> None:
    rows = _rows(home, "fct_energy_cost_centre_monthly", "cost_centre_id")
    processing, camp = rows[("processing",)], rows[("camp",)]
    assert processing["kwh"] == pytest.approx(2537.0, abs=EXACT)
    assert camp["kwh"] == pytest.approx(1080.0, abs=EXACT)
    assert processing["cost"] == pytest.approx(SUPPLY * 2537 / 3617, abs=1e-9)
    assert camp["cost"] == pytest.approx(SUPPLY * 1080 / 3617, abs=1e-9)
    assert processing["cost"] + camp["cost"] == pytest.approx(3231.18, abs=1e-9)
    [month] = query(home, f"select * from marts.fct_energy_site_monthly where site_id = '{SITE}'")
    assert month["total_cost"] == pytest.approx(3231.18, abs=1e-9)
    assert month["generator_kwh"] == pytest.approx(2100.0, abs=EXACT)
    assert month["grid_kwh"] == pytest.approx(1475.0, abs=EXACT)
    assert month["solar_kwh"] == pytest.approx(994.0, abs=EXACT)
    assert month["fuel_l"] == pytest.approx(937.6, abs=EXACT)
    assert month["total_kwh_mom_pct"] is None  # no June


ENERGY_INTERMEDIATE = (
    "int_energy_meter_intervals",
    "int_energy_generator_daily",
    "int_energy_tank_daily",
    "int_energy_solar_expected",
    "int_energy_solar_daily",
    "int_energy_grid_intervals",
    "int_energy_emission_factors",
)
ENERGY_MARTS = {
    "fct_generator_daily": ("generator_id", "day"),
    "fct_fuel_tank_daily": ("tank_id", "day"),
    "fct_solar_daily": ("array_id", "day"),
    "fct_grid_daily": ("grid_id", "day"),
    "fct_grid_period_daily": ("grid_id", "day", "period_name"),
    "fct_grid_monthly": ("grid_id", "month"),
    "fct_load_daily": ("load_id", "day"),
    "fct_energy_cost_daily": ("day", "source"),
    "fct_energy_cost_centre_monthly": ("month", "cost_centre_id"),
    "fct_energy_site_daily": ("day",),
    "fct_energy_site_monthly": ("month",),
}


def _nights(home: Path) -> None:
    """A full build on D1 alone, then window runs night by night as the days arrive."""
    settings = get_settings(home)
    write_site_tables(settings, load_site(ENERGY_SITE_FILE))
    write_energy_lake(settings.lake, through=D1)
    run_dbt(home, "run", *SELECT)
    for day in (D2, D3, D4):
        write_energy_lake(settings.lake, through=day)
        run_dbt(home, "run", *SELECT, dbt_vars={"start_day": str(day), "end_day": str(day)})


def test_nightly_window_runs_equal_the_full_build(
    home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    nightly = shared_home(tmp_path_factory, "energy_nights", _nights)
    for table, keys in ENERGY_MARTS.items():
        full = _rows(home, table, *keys)
        nights = _rows(nightly, table, *keys)
        assert full.keys() == nights.keys(), table
        for key, row in full.items():
            for column, value in row.items():
                other = nights[key][column]
                if isinstance(value, float):
                    assert other == pytest.approx(value, abs=1e-9), (table, key, column)
                else:
                    assert other == value, (table, key, column)


def test_dbt_grain_and_unit_tests_of_the_energy_models_pass(home: Path) -> None:
    # grain of every energy model on the hand site, and the unit tests of tariff period
    # assignment, demand intervals, baseload and the month-over-month / year-over-year changes
    run_dbt(home, "test", "--select", "path:models/marts/energy", *ENERGY_INTERMEDIATE)
