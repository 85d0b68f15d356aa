"""The site YAML exported as Parquet tables: one file per table and site, typed, replaced whole."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingestion.site_tables import ENERGY_SCHEMAS, SCHEMAS, write_site_tables
from siteledger.settings import Settings, get_settings
from siteledger.site import load_site
from siteledger.units import MEASURANDS, UNITS
from tests.dbt.homes import HAND_SITE_FILE

SMALL_SITE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"
HAND_SITE = Path(__file__).parent / "fixtures" / "hand_site.yaml"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return get_settings(tmp_path)


def _rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def test_every_table_lands_where_dbt_reads_it(settings: Settings) -> None:
    written = write_site_tables(settings, load_site(SMALL_SITE))
    config = settings.lake / "config"
    assert set(written) == set(SCHEMAS)
    assert written["nodes"] == config / "nodes" / "site=small_site.parquet"
    assert written["units"] == config / "units" / "catalogue.parquet"
    for name, path in written.items():
        assert pq.read_schema(path).equals(SCHEMAS[name]), name
    assert sorted(p.name for p in config.rglob("*") if p.is_file() and p.suffix != ".parquet") == []


def test_curves_flows_and_meters_keep_the_yaml_values(settings: Settings) -> None:
    written = write_site_tables(settings, load_site(SMALL_SITE))
    curve = [
        (r["point_index"], r["level_m"], r["volume_m3"]) for r in _rows(written["stage_storage"])
    ]
    assert curve == [(0, 0.0, 0.0), (1, 2.0, 30000.0), (2, 4.0, 70000.0), (3, 5.0, 100000.0)]
    flows = {r["flow_id"]: r for r in _rows(written["flows"])}
    assert flows["river_to_dam"]["from_node_id"] == "river"
    assert flows["river_to_dam"]["waf_input_source"] == "surface_water"
    assert flows["dam_seepage"]["waf_output_destination"] == "groundwater"
    meters = {r["meter_id"]: r for r in _rows(written["meters"])}
    assert meters["FQ-200"]["rollover"] == 1_000_000
    assert meters["FT-100"]["interval_seconds"] == 900
    assert (meters["FT-100"]["valid_min"], meters["FT-100"]["valid_max"]) == (0, 500)
    assert meters["FT-400A"]["redundancy_group"] == "plant_feed"
    assert meters["EP-1"]["manual"] is True


def test_estimation_params_become_typed_columns(settings: Settings) -> None:
    written = write_site_tables(settings, load_site(HAND_SITE))
    rules = {r["flow_id"]: r for r in _rows(written["estimation_rules"])}
    evaporation = rules["dam_evaporation"]
    assert (evaporation["method"], evaporation["pan_meter"], evaporation["node"]) == (
        "pan_evaporation",
        "EP-1",
        "dam",
    )
    assert evaporation["pan_factor"] == 0.7
    assert evaporation["rate_pct_per_month"] is None
    assert rules["dam_seepage"]["rate_pct_per_month"] == 0.5
    assert rules["rain_on_dam"]["classification"] == "estimated"


def test_unit_catalogue_is_the_one_python_uses(settings: Settings) -> None:
    written = write_site_tables(settings, load_site(SMALL_SITE))
    units = {r["symbol"]: (r["dimension"], r["factor"]) for r in _rows(written["units"])}
    assert units == {u.symbol: (u.dimension, u.factor) for u in UNITS.values()}
    measurands = {r["name"]: r for r in _rows(written["measurands"])}
    assert measurands["totaliser"]["canonical_unit"] == MEASURANDS["totaliser"].canonical_unit
    assert measurands["totaliser"]["cumulative"] is True


def test_rewriting_replaces_a_site_and_leaves_others(settings: Settings) -> None:
    small = load_site(SMALL_SITE)
    write_site_tables(settings, small)
    write_site_tables(settings, load_site(HAND_SITE))
    small.thresholds.closure_error_pct = 2.5
    written = write_site_tables(settings, small)
    assert _rows(written["thresholds"])[0]["closure_error_pct"] == 2.5
    sites = sorted(p.name for p in (settings.lake / "config" / "sites").iterdir())
    assert sites == ["site=hand_site.parquet", "site=small_site.parquet"]


def test_the_organisation_name_is_the_files_only_for_the_files_organisation() -> None:
    from ingestion.site_tables import site_tables
    from siteledger.site.organisation import parse_organisation_text

    org = parse_organisation_text(
        "organisation: {id: acme, name: Acme Mining Ltd, financial_year_start_month: 1}\n"
        "regions: [{id: WA, name: Western Australia}]\n"
    )
    hand = load_site(HAND_SITE_FILE)  # names its own organisation, Test Org, in region WA
    [row] = site_tables(hand, org)["sites"].to_pylist()
    assert (row["organisation"], row["organisation_name"]) == ("Test Org", "Test Org")
    assert (row["region_name"], row["financial_year_start_month"]) == ("Western Australia", 1)
    own = hand.model_copy(update={"site": hand.site.model_copy(update={"organisation": None})})
    [row] = site_tables(own, org)["sites"].to_pylist()
    assert (row["organisation"], row["organisation_name"]) == ("acme", "Acme Mining Ltd")


@pytest.mark.slow
def test_energy_staging_models_build_for_sites_with_and_without_energy(tmp_path: Path) -> None:
    """Every energy table reaches its staging model typed, with its grain tests passing; a site
    without an ``energy:`` section has its settings row and no other energy rows."""
    from tests.dbt.runner import query, run_dbt
    from tests.siteledger.test_energy_settings import energy_site_text

    settings = get_settings(tmp_path)
    write_site_tables(settings, load_site(HAND_SITE))
    energy_site = tmp_path / "energy_site.yaml"
    energy_site.write_text(energy_site_text())
    write_site_tables(settings, load_site(energy_site))
    run_dbt(tmp_path, "build", "--select", "stg_site_config__energy_*")

    def rows(sql: str) -> list[tuple]:
        return [tuple(r.values()) for r in query(tmp_path, sql)]

    assert rows(
        "select site_id, currency, latitude, unaccounted_alert_l_per_day "
        "from staging.stg_site_config__energy_settings order by site_id"
    ) == [("hand_site", "AUD", None, 50.0), ("small_site", "AUD", -31.95, 50.0)]
    assert rows(
        "select period_name, iso_dow, start_minute, end_minute "
        "from staging.stg_site_config__energy_tariff_periods "
        "where period_name = 'overnight' order by iso_dow"
    ) == [
        ("overnight", 1, 0, 360),
        ("overnight", 5, 1380, 1440),
        ("overnight", 6, 0, 360),
        ("overnight", 7, 1380, 1440),
    ]
    assert rows(
        "select generator_id, f0_l_per_h_per_kw_rated, f0_defaulted "
        "from staging.stg_site_config__energy_generators order by generator_id"
    ) == [("genset_1", 0.015, False), ("genset_2", 0.035, True)]
    assert rows(
        "select valid_from::varchar, price_per_l from staging.stg_site_config__energy_fuel_prices "
        "order by valid_from"
    ) == [("2025-01-01", 1.8), ("2025-07-01", 1.95)]
    counts = query(
        tmp_path,
        "select "
        + ", ".join(
            f"(select count(*) from staging.stg_site_config__{name} "
            f"where site_id = 'hand_site') as {name}"
            for name in ENERGY_SCHEMAS
        ),
    )[0]
    assert counts == {name: int(name == "energy_settings") for name in ENERGY_SCHEMAS}
    described = query(tmp_path, "describe staging.stg_site_config__energy_load_hours")
    assert [(c["column_name"], c["column_type"]) for c in described] == [
        ("site_id", "VARCHAR"),
        ("load_id", "VARCHAR"),
        ("iso_dow", "INTEGER"),
        ("start_minute", "INTEGER"),
        ("end_minute", "INTEGER"),
    ]
