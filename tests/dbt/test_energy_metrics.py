"""The energy marts' daily figures reach the metric mart the forecasts and trends read
(fct_metric_daily), with their units and month roll-ups (fct_metric_monthly)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.site_tables import write_site_tables
from siteledger.settings import get_settings
from siteledger.site import load_site
from tests.dbt.energy_lake import D1, write_energy_lake
from tests.dbt.runner import query, run_dbt, shared_home
from tests.dbt.test_energy_marts import ENERGY_SITE_FILE, EXACT, SITE


def _build(home: Path) -> None:
    write_site_tables(get_settings(home), load_site(ENERGY_SITE_FILE))
    write_energy_lake(get_settings(home).lake)
    run_dbt(home, "run", "--select", "+fct_metric_monthly")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "energy_site_metrics", _build)


def test_energy_metrics_are_the_marts_figures(home: Path) -> None:
    rows = query(
        home,
        "select scope, scope_id, metric, value, unit, aggregation from marts.fct_metric_daily "
        f"where site_id = '{SITE}' and day = '{D1.isoformat()}' "
        "and scope in ('generator', 'pv_array', 'load', 'site')",
    )
    got = {(r["scope"], r["scope_id"], r["metric"]): r for r in rows}
    marts = {
        ("generator", "genset_1", "energy_kwh"): ("fct_generator_daily", "energy_kwh", "kWh"),
        ("generator", "genset_1", "fuel_l"): ("fct_generator_daily", "fuel_l", "L"),
        ("load", "plant", "energy_kwh"): ("fct_load_daily", "energy_kwh", "kWh"),
        ("load", "plant", "peak_kw"): ("fct_load_daily", "peak_kw", "kW"),
    }
    # genset 1 on D1: 740 kWh and 375.6 L; the plant 1 312 kWh with a 100 kW peak
    assert got[("generator", "genset_1", "energy_kwh")]["value"] == pytest.approx(740, abs=EXACT)
    assert got[("generator", "genset_1", "fuel_l")]["value"] == pytest.approx(375.6, abs=EXACT)
    assert got[("load", "plant", "energy_kwh")]["value"] == pytest.approx(1312, abs=EXACT)
    assert got[("load", "plant", "peak_kw")]["aggregation"] == "max"
    for key, (_mart, _column, unit) in marts.items():
        assert got[key]["unit"] == unit
    site = query(
        home,
        "select generator_kwh, grid_kwh, solar_kwh, load_kwh, total_cost, co2e_kg "
        f"from marts.fct_energy_site_daily where site_id = '{SITE}' and day = '{D1.isoformat()}'",
    )[0]
    assert got[("site", SITE, "energy_cost")]["value"] == pytest.approx(site["total_cost"])
    assert got[("site", SITE, "energy_cost")]["unit"] == "AUD"
    assert got[("site", SITE, "solar_kwh")]["value"] == pytest.approx(site["solar_kwh"])
    assert got[("site", SITE, "energy_co2e_kg")]["value"] == pytest.approx(site["co2e_kg"])
    # the site's diesel is its generators' (genset 1 metered 375.6 L, genset 2 its tank's 70 L)
    assert got[("site", SITE, "fuel_l")]["value"] == pytest.approx(375.6 + 70, abs=EXACT)
    arrays = [k for k in got if k[0] == "pv_array"]
    assert {k[2] for k in arrays} == {"solar_kwh", "performance_index"}


def test_a_loads_peak_rolls_up_to_the_months_highest(home: Path) -> None:
    [month] = query(
        home,
        "select value, aggregation from marts.fct_metric_monthly "
        f"where site_id = '{SITE}' and scope = 'load' and scope_id = 'plant' "
        "and metric = 'peak_kw'",
    )
    # plant: 100 kW on D1, D3's 130 kW the month's highest
    assert month["aggregation"] == "max" and month["value"] == pytest.approx(130, abs=EXACT)
