"""Estimation parameters: the ore moisture basis is explicit, densities and factors lie in their
physical ranges (a problem with file and line where they do not), and the site tables state
every default a rule relies on."""

from __future__ import annotations

import textwrap

import pytest

from ingestion.site_tables import site_tables
from siteledger.site import SiteConfigError, parse_site_text

SITE = textwrap.dedent(
    """\
    site: {id: ore_site, name: Ore site}
    nodes:
      - {id: mine, kind: source}
      - {id: plant, kind: task}
      - id: dam
        kind: store
        capacity_m3: 1000
        surface_area_m2: 100
        stage_storage: [[0, 0], [1, 1000]]
      - {id: air, kind: destination}
    flows:
      - {id: ore_water, from: mine, to: plant, waf_input_source: other, method: estimated}
      - {id: evap, from: dam, to: air, waf_output_destination: evaporation, method: estimated}
    meters:
      - {id: WT-1, measurand: ore_mass, unit: t, interval: 1d}
      - {id: MT-1, measurand: moisture, unit: "%", interval: 1d}
      - {id: EP-1, measurand: evaporation_pan, unit: mm, interval: 1d}
    estimations:
      - flow: ore_water
        method: ore_moisture
        params:
          ore_meter: WT-1
          moisture_meter: MT-1
          moisture_basis: wet_mass
          water_density_t_per_m3: 1.0
      - flow: evap
        method: pan_evaporation
        params: {pan_meter: EP-1, node: dam}
    """
)
ORE = "      moisture_basis: wet_mass\n      water_density_t_per_m3: 1.0\n"


def _problems(text: str) -> list[str]:
    with pytest.raises(SiteConfigError) as err:
        parse_site_text(text, "site.yaml")
    return [str(p) for p in err.value.problems]


def _ore(params: str) -> str:
    assert ORE in SITE
    return SITE.replace(ORE, textwrap.indent(textwrap.dedent(params), " " * 6))


def test_the_seed_is_valid_and_states_its_defaults():
    site = parse_site_text(SITE)
    rules = {row["flow_id"]: row for row in site_tables(site)["estimation_rules"].to_pylist()}
    # a pan factor the file leaves out is written in, and said to be the default
    assert rules["evap"]["pan_factor"] == 0.7
    assert rules["evap"]["defaulted_params"] == "pan_factor = 0.7 (default)"
    assert rules["ore_water"]["moisture_basis"] == "wet_mass"
    assert rules["ore_water"]["defaulted_params"] is None


def test_a_rule_without_its_moisture_basis_is_refused():
    problems = _problems(_ore("water_density_t_per_m3: 1.0\n"))
    assert problems == [
        "site.yaml:19: estimations[0]: method ore_moisture needs params ['moisture_basis']; "
        "moisture_basis is one of wet_mass, dry_mass, volume"
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            "moisture_basis: wet_mass\nwater_density_t_per_m3: 2.7\n",
            ":25: estimations[0].params.water_density_t_per_m3: 2.7 is not a water density "
            "between 0.95 and 1.3 t/m3",
        ),
        ("moisture_basis: dry_mass\nwater_density_t_per_m3: 0.5\n", "0.5 is not a water density"),
        (
            "moisture_basis: volume\nbulk_density_t_per_m3: 9\n",
            ":25: estimations[0].params.bulk_density_t_per_m3: 9 is not an ore bulk density "
            "between 0.5 and 6 t/m3",
        ),
        (
            "moisture_basis: volume\n",
            ":21: estimations[0].params: the volume basis needs bulk_density_t_per_m3",
        ),
        (
            "moisture_basis: volume\nbulk_density_t_per_m3: 2.5\nwater_density_t_per_m3: 1.0\n",
            ":26: estimations[0].params.water_density_t_per_m3: the volume basis gives water m3 "
            "directly",
        ),
        (
            "moisture_basis: wet_mass\nbulk_density_t_per_m3: 2.5\n",
            ":25: estimations[0].params.bulk_density_t_per_m3: only the volume basis uses",
        ),
        (
            "moisture_basis: weight\n",
            ":24: estimations[0].params.moisture_basis: 'weight' is not one of wet_mass, "
            "dry_mass, volume",
        ),
        ("moisture_basis: [wet_mass]\n", "['wet_mass'] is not one of wet_mass"),
        (
            "moisture_basis: wet_mass\nwater_density_t_per_m3: .nan\n",
            ":25: estimations[0].params.water_density_t_per_m3: must be a finite number",
        ),
    ],
)
def test_ore_moisture_parameters_must_be_physical(params, expected):
    problems = _problems(_ore(params))
    assert any(expected in p for p in problems), problems


def test_ore_moisture_needs_a_moisture_source():
    text = _ore("moisture_basis: wet_mass\n").replace("      moisture_meter: MT-1\n", "")
    problems = _problems(text)
    assert any(
        ":21: estimations[0].params: ore_moisture needs moisture_pct or moisture_meter" in p
        for p in problems
    ), problems


@pytest.mark.parametrize("basis", ["wet_mass", "dry_mass"])
def test_each_mass_basis_parses_and_reaches_the_site_tables(basis):
    site = parse_site_text(_ore(f"moisture_basis: {basis}\nmoisture_pct: 3.4\n"))
    row = site_tables(site)["estimation_rules"].to_pylist()[0]
    assert (row["moisture_basis"], row["moisture_pct"]) == (basis, 3.4)
    assert row["water_density_t_per_m3"] == 1.0
    assert row["defaulted_params"] == "water_density_t_per_m3 = 1 (default)"


def test_the_volume_basis_parses_with_its_bulk_density():
    site = parse_site_text(_ore("moisture_basis: volume\nbulk_density_t_per_m3: 2.5\n"))
    row = site_tables(site)["estimation_rules"].to_pylist()[0]
    assert (row["moisture_basis"], row["bulk_density_t_per_m3"]) == ("volume", 2.5)
    # water density does not enter the volume basis, so no default is written for it
    assert row["water_density_t_per_m3"] is None and row["defaulted_params"] is None


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("node: dam}", "node: dam, pan_factor: 0}", "0 is not a pan coefficient above 0"),
        ("node: dam}", "node: dam, pan_factor: 2.7}", "2.7 is not a pan coefficient"),
        ("node: dam}", "node: dam, pan_factor: .inf}", "must be a finite number"),
        ("node: dam}", "node: dam, area_m2: 0}", "0 is not an area in m2 above 0"),
        ("node: dam}", "node: dam, pan_factor: '0.7'}", "must be a number, got '0.7'"),
    ],
)
def test_other_estimation_parameters_must_be_physical(old, new, expected):
    problems = _problems(SITE.replace(old, new))
    assert any(":28: estimations[1].params." in p and expected in p for p in problems), problems
