"""The site YAML validator: every problem reported with file, line, key path and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli.main import cli
from siteledger.site import SiteConfigError, dump_site, load_site, parse_site_text
from siteledger.site.curves import level_to_volume, volume_to_level

FIXTURE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"


def _data() -> dict:
    return yaml.safe_load(FIXTURE.read_text())


def _problems(data: dict | str) -> list[str]:
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(SiteConfigError) as info:
        parse_site_text(text, "site.yaml")
    return [str(p) for p in info.value.problems]


def _only(problems: list[str], needle: str) -> str:
    hits = [p for p in problems if needle in p]
    assert len(hits) == 1, f"{needle!r} not exactly once in {problems}"
    return hits[0]


def test_fixture_is_valid_and_round_trips():
    site = load_site(FIXTURE)
    assert site.site.timezone == "Australia/Perth"
    assert [m.id for m in site.meters if m.redundancy_group] == ["FT-400A", "FT-400B"]
    again = parse_site_text(dump_site(site))
    assert again == site


def test_a_site_without_nodes_has_no_water_model_and_a_flow_still_needs_its_nodes():
    workshop = parse_site_text(
        "site: {id: workshop, name: Workshop, timezone: Australia/Perth}\n"
        "materials:\n  materials:\n    - {id: wax, unit: kg}\n"
    )
    assert (workshop.nodes, workshop.flows, workshop.meters) == ([], [], [])
    assert [m.id for m in workshop.materials.materials] == ["wax"]
    problems = _problems(
        "site: {id: workshop, name: Workshop, timezone: Australia/Perth}\n"
        "flows:\n  - {id: f, from: a, to: b, quality: 1, method: measured}\n"
    )
    assert _only(problems, "flows[0].from").endswith("unknown node 'a'")


def test_unknown_node_in_flow_names_path_line_and_suggestion():
    data = _data()
    data["flows"][2]["to"] = "plnt"
    problem = _only(_problems(data), "unknown node 'plnt'")
    assert problem.startswith("site.yaml:")
    assert "flows[2].to" in problem
    assert "did you mean 'plant'" in problem


def test_curve_not_monotonic_and_below_capacity():
    data = _data()
    data["nodes"][2]["stage_storage"] = [[0, 0], [2, 30000], [1.5, 20000], [3, 50000]]
    problems = _problems(data)
    assert _only(problems, "level 1.5 does not rise above 2").count("nodes[2].stage_storage[2]")
    assert _only(problems, "volume 20000.0 does not rise above 30000.0")
    assert _only(problems, "below capacity_m3 100000")


def test_every_problem_is_reported_at_once():
    data = _data()
    data["meters"][1]["id"] = "FT-100"  # duplicate id
    data["meters"][2]["unit"] = "furlongs"  # unknown unit
    data["meters"][3]["unit"] = "mm"  # wrong dimension for flow_rate (semantic, after structure)
    data["flows"][0]["waf_input_source"] = "rain_water"
    problems = _problems(data)
    # structural problems first: the unknown unit
    assert _only(problems, "unknown unit 'furlongs'").count("meters[2].unit")
    data["meters"][2]["unit"] = "m"
    problems = _problems(data)
    assert _only(problems, "duplicate id 'FT-100'").count("meters[1].id")
    assert _only(problems, "unit 'mm' measures length").count("meters[3].unit")
    assert _only(problems, "unknown category 'rain_water'").count("flows[0].waf_input_source")
    assert len(problems) == 3


def test_structural_errors_name_the_key_path():
    data = _data()
    data["site"]["timezone"] = "Mars/Olympus"
    data["meters"][0]["measurand"] = "flow_rat"
    data["meters"][0]["interval"] = "fortnightly"
    data["nodes"][2]["capacity_m3"] = -5
    data["nodes"][0]["colour"] = "blue"
    problems = _problems(data)
    assert _only(problems, "unknown time zone 'Mars/Olympus'").count("site.timezone")
    assert "did you mean 'flow_rate'" in _only(problems, "unknown measurand")
    assert _only(problems, "'fortnightly' is not like").count("meters[0].interval")
    assert _only(problems, "greater than 0").count("nodes[2].capacity_m3")
    assert _only(problems, "unknown key").count("nodes[0].colour")


def test_line_numbers_point_at_the_offending_key():
    text = FIXTURE.read_text().replace("to: plant, method", "to: plnt, method")
    problems = _problems(text)
    line_no = next(i for i, line in enumerate(text.splitlines(), 1) if "to: plnt" in line)
    assert _only(problems, "unknown node 'plnt'").startswith(f"site.yaml:{line_no}:")


def test_duplicate_yaml_key_is_an_error_not_last_wins():
    text = FIXTURE.read_text().replace("  name: Small Test Site\n", "  name: A\n  name: B\n", 1)
    problem = _only(_problems(text), "duplicate key 'name'")
    assert "not valid YAML" in problem


def test_semantic_checks_on_meters_estimations_and_modbus():
    data = _data()
    data["meters"][0]["rollover"] = 1000  # flow rate is not cumulative
    data["meters"][4]["redundancy_group"] = "other"  # leaves plant_feed with one meter
    data["meters"][2]["node"] = "river"  # level sensor on a non-store
    data["estimations"][0]["params"]["pan_meter"] = "EP-9"
    data["estimations"][1]["params"]["rate_pct_per_month"] = 150
    data["meters"][5]["modbus"] = {"register": 10, "data_type": "float32"}
    data["meters"][6]["modbus"] = {"register": 11, "data_type": "uint16"}
    problems = _problems(data)
    assert _only(problems, "only cumulative registers roll over").count("meters[0].rollover")
    assert _only(problems, "group 'plant_feed' has only one meter")
    assert _only(problems, "a level sensor needs a store")
    assert _only(problems, "unknown meter 'EP-9'").count("estimations[0].params.pan_meter")
    assert _only(problems, "150 is not a percentage")
    assert _only(problems, "overlaps meter 'FQ-500'").count("meters[6].modbus.register")


def test_estimation_rule_params_are_checked_per_method():
    data = _data()
    data["estimations"][1]["params"] = {"node": "dam", "rate": 0.5}
    problem = _only(_problems(data), "method seepage")
    assert "needs params ['rate_pct_per_month']" in problem
    assert "does not take params ['rate']" in problem


@pytest.mark.parametrize("value", [{"a": 1}, ["RG-1", "RG-2"], 7, None])
def test_an_estimation_parameter_that_names_a_meter_must_be_an_id(value: object):
    data = _data()
    rule = next(r for r in data["estimations"] if "node" in r["params"])
    rule["params"]["node"] = value
    problem = _only(_problems(data), ".params.node")
    assert "must be a node id" in problem


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "expected a mapping at the top, got an empty document"),
        (b"- just\n- a list\n", "expected a mapping at the top, got list"),
        (b"\x00\x01\x02binary", "binary file"),
        ("site: {id: caf\u00e9}".encode("latin-1"), "not UTF-8"),
        (b"site: [unclosed\n", "not valid YAML"),
        (
            b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + b"".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n".encode()
                for i in range(7)
            ),
            "YAML expands to more than",
        ),
        (b"site: &s {id: x, self: *s}\n", ":1: site.self: an alias refers to the collection"),
        (b"site: " + b"[" * 20_000 + b"]" * 20_000, "nest"),
    ],
)
def test_hostile_config_files_get_a_clear_error(tmp_path: Path, content: bytes, needle: str):
    path = tmp_path / "site.yaml"
    path.write_bytes(content)
    with pytest.raises(SiteConfigError) as info:
        load_site(path)
    assert needle in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(SiteConfigError, match="cannot read"):
        load_site(tmp_path / "nope.yaml")


def test_cli_validate_prints_problems_and_exits_1(tmp_path: Path):
    data = _data()
    data["flows"][0]["from"] = "rivr"
    data["meters"][0]["id"] = "FT-400A"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, sort_keys=False))
    result = CliRunner().invoke(cli, ["config", "validate", str(bad), str(FIXTURE)])
    assert result.exit_code == 1
    assert f"{bad}:" in result.output
    assert "flows[0].from: unknown node 'rivr'" in result.output
    assert "meters[3].id: duplicate id 'FT-400A'" in result.output
    assert "2 problem(s)" in result.output
    assert f"{FIXTURE}: ok" in result.output


def test_cli_validate_ok_exits_0():
    result = CliRunner().invoke(cli, ["config", "validate", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert "9 meters" in result.output


def test_stage_storage_interpolation_and_inverse():
    curve = [(0.0, 0.0), (2.0, 30000.0), (4.0, 70000.0)]
    assert level_to_volume(curve, 1.0) == pytest.approx(15000.0)
    assert level_to_volume(curve, 3.0) == pytest.approx(50000.0)
    assert volume_to_level(curve, 50000.0) == pytest.approx(3.0)
    # beyond the last point the end segment is extended, not clamped
    assert level_to_volume(curve, 4.5) == pytest.approx(80000.0)
