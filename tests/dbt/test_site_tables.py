"""The site YAML exported as Parquet tables: one file per table and site, typed, replaced whole."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingestion.site_tables import SCHEMAS, write_site_tables
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
