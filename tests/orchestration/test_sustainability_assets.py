"""The emission-factor seed and the sustainability marts sit in the one Dagster definitions:
the seed is an asset of its own group that the carbon models depend on, loaded by the same
`dbt build` as the models (full and nightly)."""

from __future__ import annotations

from dagster import AssetKey

from orchestration.definitions import defs
from orchestration.water.assets import manifest
from siteledger.dbt import NIGHTLY_ARGS

SEED = AssetKey(["reference", "emission_factors"])


def test_the_emission_factor_seed_is_a_reference_asset_upstream_of_the_carbon_marts():
    graph = defs.resolve_asset_graph()
    seed = graph.get(SEED)
    assert seed.group_name == "reference"
    assert seed.description and "emission factors" in seed.description.lower()
    factors = graph.get(AssetKey(["intermediate", "int_carbon_meter_factors"]))
    assert SEED in factors.parent_keys
    for mart in ("fct_carbon_daily", "fct_carbon_site_daily", "fct_water_reuse_daily"):
        node = graph.get(AssetKey(["marts", mart]))
        assert node.group_name == "sustainability", mart
        assert node.description, mart
    checks = {key.name for key in graph.asset_check_keys if key.asset_key == SEED}
    assert "one_row_per_region_and_scope_and_activity_and_edition" in checks


def test_the_seed_is_built_by_the_same_dbt_invocation_as_the_models():
    # one @dbt_assets block holds every dbt node: a run of the water models (full or a night's
    # window, `dbt build` without a resource-type filter on seeds) loads the seed with them
    graph = defs.resolve_asset_graph()
    block = graph.get(SEED).assets_def
    assert AssetKey(["marts", "fct_carbon_site_daily"]) in block.keys
    assert AssetKey(["intermediate", "int_store_water_state_daily"]) in block.keys
    assert "seed" not in NIGHTLY_ARGS
    seeds = [n for n in manifest["nodes"].values() if n["resource_type"] == "seed"]
    assert [(n["name"], n["schema"]) for n in seeds] == [("emission_factors", "reference")]
