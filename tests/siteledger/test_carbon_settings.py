"""A site's `carbon:` settings: format, cross-references and the seed checked when it loads; the
meters that count resolved the way the docs say; the settings reach the lake's config tables."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingestion.site_tables import site_tables
from siteledger.site import SiteConfigError, dump_site, parse_site_text
from siteledger.site.carbon import carbon_meters, seed_factor

FIXTURE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"

PUMP_METERS = [
    {"id": "JQ-1", "measurand": "energy", "unit": "kWh", "flow": "bores_to_dam", "rollover": 1e6},
    {"id": "JI-1", "measurand": "power", "unit": "kW", "flow": "bores_to_dam"},
    {"id": "JI-2", "measurand": "power", "unit": "kW", "flow": "dam_to_creek"},
    {"id": "FL-1", "measurand": "fuel", "unit": "L", "interval": "1d", "node": "plant"},
]


def _site(carbon: dict | None = None, meters: list[dict] | None = None) -> str:
    data = yaml.safe_load(FIXTURE.read_text())
    data["meters"] += meters if meters is not None else PUMP_METERS
    if carbon is not None:
        data["carbon"] = carbon
    return yaml.safe_dump(data, sort_keys=False)


def _problems(text: str) -> list[str]:
    with pytest.raises(SiteConfigError) as info:
        parse_site_text(text, "site.yaml")
    return [str(p) for p in info.value.problems]


def test_a_site_without_carbon_settings_counts_its_meters_without_a_grid_factor():
    site = parse_site_text(_site())
    assert site.carbon.grid_region is None
    assert (site.carbon.fuel_region, site.carbon.fuel_edition) == ("GLOBAL", "default")
    # JI-1 shares its flow with the JQ-1 register and would count the same pump twice
    assert carbon_meters(site) == [
        ("JQ-1", "grid_electricity", 2),
        ("JI-2", "grid_electricity", 2),
        ("FL-1", "diesel", 1),
    ]


def test_listed_meters_are_the_ones_that_count_and_the_settings_round_trip():
    carbon = {
        "grid_region": "AU-WA-SWIS",
        "grid_edition": "NGA-2024",
        "diesel_factor_kg_per_l": 2.68,
        "grid_meters": ["JI-1"],
        "fuel_meters": [],
    }
    site = parse_site_text(_site(carbon))
    assert carbon_meters(site) == [("JI-1", "grid_electricity", 2)]
    assert parse_site_text(dump_site(site)) == site
    [row] = site_tables(site)["carbon_settings"].to_pylist()
    assert row == {
        "site_id": "small_site",
        "grid_region": "AU-WA-SWIS",
        "grid_edition": "NGA-2024",
        "scope2_basis": "location",
        "fuel_region": "GLOBAL",
        "fuel_edition": "default",
        "diesel_factor_kg_per_l": 2.68,
    }
    assert site_tables(site)["carbon_meters"].to_pylist() == [
        {"site_id": "small_site", "meter_id": "JI-1", "activity": "grid_electricity", "scope": 2}
    ]


def test_a_badly_written_region_or_a_lone_edition_is_refused_with_the_reason():
    problems = _problems(_site({"grid_region": "Western Australia", "grid_edition": "NGA-2024"}))
    assert any("carbon.grid_region" in p and "pattern" in p for p in problems), problems
    problems = _problems(_site({"grid_region": "AU-WA-SWIS"}))
    assert any("grid_region and grid_edition go together" in p for p in problems), problems
    problems = _problems(_site({"scope2_basis": "market"}))
    assert any("carbon.scope2_basis" in p for p in problems), problems
    problems = _problems(_site({"diesel_factor_kg_per_l": -2.7}))
    assert any("carbon.diesel_factor_kg_per_l" in p for p in problems), problems


def test_a_factor_the_seed_lacks_is_refused_naming_the_known_ones():
    problems = _problems(_site({"grid_region": "AU-WA-SWIS", "grid_edition": "NGA-2019"}))
    [problem] = [p for p in problems if "carbon.grid_region" in p]
    assert "no grid electricity factor for AU-WA-SWIS/NGA-2019" in problem
    assert "AU-WA-SWIS/NGA-2024" in problem and "ZA/DFFE-2021" in problem
    problems = _problems(_site({"fuel_region": "NZ", "fuel_edition": "MfE-2024"}))
    [problem] = [p for p in problems if "carbon.fuel_region" in p]
    assert "no diesel factor for NZ/MfE-2024" in problem and "AU/NGA-2024" in problem
    # the site's own diesel factor needs no seed row
    parse_site_text(
        _site({"fuel_region": "NZ", "fuel_edition": "MfE-2024", "diesel_factor_kg_per_l": 2.7})
    )


def test_unknown_or_unfit_meters_are_reported_at_their_place_in_the_list():
    problems = _problems(_site({"grid_meters": ["JQ-1", "JQ-9", "FL-1"], "fuel_meters": ["JQ-1"]}))
    assert any("carbon.grid_meters[1]" in p and "unknown meter 'JQ-9'" in p for p in problems)
    assert any(
        "carbon.grid_meters[2]" in p and "'FL-1' measures fuel, not energy or power" in p
        for p in problems
    )
    assert any("carbon.fuel_meters[0]" in p and "measures energy, not fuel" in p for p in problems)


def test_seed_factors_are_read_from_the_shipped_table():
    assert seed_factor("AU-WA-SWIS", 2, "grid_electricity", "NGA-2024") == 0.51
    assert seed_factor("GLOBAL", 1, "diesel", "default") == 2.70
    assert seed_factor("AU", 1, "diesel", "NGA-2024") == pytest.approx(38.6 * 70.2 / 1000)
    with pytest.raises(KeyError, match="no grid_electricity scope 2 factor for XX/none"):
        seed_factor("XX", 2, "grid_electricity", "none")
