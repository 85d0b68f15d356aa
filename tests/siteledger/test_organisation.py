"""The organisation file and the organisation -> region -> site hierarchy: every problem is listed
with file, line and key path, and a whole home is checked at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli.main import cli
from siteledger.site import SiteConfigError, load_organisation, parse_organisation_text
from siteledger.site.organisation import (
    Organisation,
    data_start,
    parse_site_in_organisation,
    validate_files,
    validate_home,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"

ORGANISATION = """\
organisation:
  id: example_resources
  name: Example Resources Ltd
  financial_year_start_month: 7
  data_start: 2025-07-01
regions:
  - id: wa_south_west
    name: South West, Western Australia
  - id: highveld
    name: Highveld, South Africa
"""


def _org_problems(text: str) -> list[str]:
    with pytest.raises(SiteConfigError) as info:
        parse_organisation_text(text, "organisation.yaml")
    return [str(p) for p in info.value.problems]


def _site_text(**site: object) -> str:
    data = yaml.safe_load(FIXTURE.read_text())
    data["site"].update(site)
    return yaml.safe_dump(data, sort_keys=False)


def _home(tmp_path: Path, organisation: str | None, **sites: str) -> Path:
    (tmp_path / "sites").mkdir()
    if organisation is not None:
        (tmp_path / "organisation.yaml").write_text(organisation)
    for name, text in sites.items():
        (tmp_path / "sites" / f"{name}.yaml").write_text(text)
    return tmp_path


def test_the_organisation_file_is_read_with_its_regions():
    org = parse_organisation_text(ORGANISATION)
    assert org.organisation.id == "example_resources"
    assert org.organisation.financial_year_start_month == 7
    assert org.organisation.data_start == dt.date(2025, 7, 1)
    assert [r.id for r in org.regions] == ["wa_south_west", "highveld"]
    assert org.region_name("highveld") == "Highveld, South Africa"


def test_no_organisation_file_is_the_default_organisation(tmp_path: Path):
    org = load_organisation(tmp_path / "organisation.yaml")
    assert org.organisation.id == "default"
    assert org.organisation.financial_year_start_month == 7
    assert org.regions == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "organisation:\n  id: x\n  name: X\n  financial_year_start_month: July\n",
            "organisation.yaml:4: organisation.financial_year_start_month: "
            "Input should be a valid integer",
        ),
        (
            "organisation:\n  id: x\n  name: X\n  financial_year_start_month: 13\n",
            "organisation.yaml:4: organisation.financial_year_start_month: "
            "Input should be less than or equal to 12",
        ),
        (
            "organisation:\n  id: x\n  name: X\n  financial_year_start_month: 0\n",
            "organisation.yaml:4: organisation.financial_year_start_month: "
            "Input should be greater than or equal to 1",
        ),
        (
            "organisation:\n  id: x\n  name: X\n  fy_start: 7\n",
            "organisation.yaml:4: organisation.fy_start: unknown key",
        ),
        ("sites: []\n", "organisation.yaml:1: sites: unknown key"),
        (
            "organisation:\n  id: x\n  name: X\n  timezone: Africa/Jo'burg\n",
            'organisation.yaml:4: organisation.timezone: unknown time zone "Africa/Jo\'burg"',
        ),
        (
            "organisation:\n  id: x\n  name: X\n  data_start: 2025-02-30\n",
            "organisation.yaml:4: organisation.data_start: Input should be a valid date",
        ),
        (
            "regions:\n  - {id: north, name: North}\n  - {id: south, name: South}\n"
            "  - {id: north, name: North again}\n",
            "organisation.yaml:4: regions[2].id: duplicate region id 'north'",
        ),
        ("regions:\n  - id: north\n", "organisation.yaml:2: regions[0].name: Field required"),
        ("regions: north\n", "organisation.yaml:1: regions: Input should be a valid list"),
        ("organisation: Example Resources\n", "organisation.yaml:1: organisation: Input should"),
        ("", "organisation.yaml:1: <root>: expected a mapping at the top, got an empty document"),
        ("- a\n- b\n", "organisation.yaml:1: <root>: expected a mapping at the top, got list"),
        ("organisation: {id: x\n", "organisation.yaml:2: <root>: not valid YAML"),
    ],
)
def test_malformed_organisation_files_list_their_problems(text: str, expected: str):
    problems = _org_problems(text)
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_of_an_organisation_file_is_listed_at_once():
    text = (
        "organisation:\n  id: Bad Id\n  financial_year_start_month: 14\n  colour: blue\n"
        "regions:\n  - {id: a, name: A}\n"
    )
    problems = _org_problems(text)
    assert [p.split(": ")[0:2] for p in problems] == [
        ["organisation.yaml:2", "organisation.id"],
        ["organisation.yaml:3", "organisation.financial_year_start_month"],
        ["organisation.yaml:4", "organisation.colour"],
    ]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\x00\x01\x02binary", "binary file (contains NUL bytes), not YAML"),
        (b"organisation:\n  name: \xff\xfe\n", "not UTF-8 text"),
        (b"", "expected a mapping at the top, got an empty document"),
    ],
)
def test_hostile_organisation_files_are_problems_not_tracebacks(
    tmp_path: Path, content: bytes, needle: str
):
    path = tmp_path / "organisation.yaml"
    path.write_bytes(content)
    with pytest.raises(SiteConfigError) as info:
        load_organisation(path)
    assert needle in str(info.value)
    [problem] = validate_files(path, [])
    assert needle in str(problem)


def test_a_site_in_an_unknown_region_names_the_known_ones():
    org = parse_organisation_text(ORGANISATION)
    text = _site_text(organisation="example_resources", region="kalahari")
    with pytest.raises(SiteConfigError) as info:
        parse_site_in_organisation(text, org, "site.yaml")
    [problem] = info.value.problems
    assert str(problem) == (
        "site.yaml:5: site.region: unknown region 'kalahari'; "
        "the organisation's regions: wa_south_west, highveld"
    )


def test_a_site_of_another_organisation_is_a_problem():
    org = parse_organisation_text(ORGANISATION)
    text = _site_text(organisation="Test Org", region="highveld")
    with pytest.raises(SiteConfigError) as info:
        parse_site_in_organisation(text, org, "site.yaml")
    [problem] = info.value.problems
    assert str(problem) == (
        "site.yaml:4: site.organisation: organisation 'Test Org' is not the organisation "
        "file's 'example_resources'"
    )


def test_a_site_without_a_region_where_regions_exist_and_an_early_data_start():
    org = parse_organisation_text(ORGANISATION)
    text = _site_text(organisation="", region="", data_start="2025-06-30")
    with pytest.raises(SiteConfigError) as info:
        parse_site_in_organisation(text, org, "site.yaml")
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("site.region", "no region; the organisation's regions: wa_south_west, highveld"),
        (
            "site.data_start",
            "2025-06-30 is before the organisation's data_start 2025-07-01: day partitions "
            "start there, so earlier days would never be built",
        ),
    ]


def test_a_site_that_fits_keeps_its_hierarchy_and_first_day():
    org = parse_organisation_text(ORGANISATION)
    text = _site_text(organisation="", region="highveld", data_start="2025-09-01")
    site = parse_site_in_organisation(text, org)
    assert (site.site.organisation, site.site.region) == ("", "highveld")
    assert site.site.data_start == dt.date(2025, 9, 1)
    # the organisation's first day wins; without it, the earliest site's
    assert data_start(org, [site]) == dt.date(2025, 7, 1)
    assert data_start(Organisation(), [site]) == dt.date(2025, 9, 1)


def test_validate_home_checks_the_organisation_and_every_site(tmp_path: Path):
    good = _site_text(organisation="example_resources", region="wa_south_west")
    stray = _site_text(organisation="example_resources", region="atlantis")
    home = _home(tmp_path, ORGANISATION, a_site=good, b_copy=good, c_stray=stray)
    problems = [str(p) for p in validate_home(home)]
    assert problems == [
        f"{home}/sites/c_stray.yaml:5: site.region: unknown region 'atlantis'; "
        "the organisation's regions: wa_south_west, highveld",
        f"{home}/sites/b_copy.yaml: site.id: site 'small_site' is also defined in "
        f"{home}/sites/a_site.yaml",
    ]


def test_validate_home_with_a_broken_organisation_file_still_checks_the_sites(tmp_path: Path):
    broken_site = _site_text(timezone="Mars/Olympus")
    home = _home(tmp_path, "regions: [1, 2\n", site=broken_site)
    problems = [str(p) for p in validate_home(home)]
    assert len(problems) == 2
    assert problems[0].startswith(f"{home}/organisation.yaml:2: <root>: not valid YAML")
    assert problems[1].startswith(f"{home}/sites/site.yaml:6: site.timezone: unknown time zone")


def test_cli_validates_the_home_without_files(tmp_path: Path):
    good = _site_text(organisation="example_resources", region="highveld")
    home = _home(tmp_path, ORGANISATION, site=good)
    result = CliRunner().invoke(cli, ["--home", str(home), "config", "validate"])
    assert result.exit_code == 0, result.output
    assert f"{home}/organisation.yaml: ok — organisation example_resources: 2 regions" in (
        result.output
    )
    assert f"{home}/sites/site.yaml: ok — site small_site" in result.output

    (home / "organisation.yaml").write_text(ORGANISATION.replace("highveld", "lowveld"))
    result = CliRunner().invoke(cli, ["--home", str(home), "config", "validate"])
    assert result.exit_code == 1
    assert "site.yaml:5: site.region: unknown region 'highveld'" in result.output
    assert f"{home}/sites/site.yaml: 1 problem(s)" in result.output


def test_cli_checks_sites_against_an_organisation_file_given_with_them(tmp_path: Path):
    site = tmp_path / "site.yaml"
    site.write_text(_site_text(organisation="example_resources", region=""))
    organisation = tmp_path / "organisation.yaml"
    organisation.write_text(ORGANISATION)
    alone = CliRunner().invoke(cli, ["config", "validate", str(site)])
    assert alone.exit_code == 0, alone.output
    together = CliRunner().invoke(cli, ["config", "validate", str(organisation), str(site)])
    assert together.exit_code == 1
    assert f"{site}:5: site.region: no region; the organisation's regions:" in together.output
    organisation.write_bytes(b"\x00\x00")
    broken = CliRunner().invoke(cli, ["config", "validate", str(organisation), str(site)])
    assert broken.exit_code == 1
    assert f"{organisation}: <root>: binary file" in broken.output
    assert broken.exception is None or isinstance(broken.exception, SystemExit)
