"""Site and organisation files: every input, however broken, gives a clean parse or a list of
problems located by file and line, never another exception; a fuzz over mutated valid files
(the small test site, the demo's site) and generated documents holds to that."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demo.site import build_demo_site
from ingestion.site_tables import site_tables
from siteledger.site import ConfigProblem, SiteConfigError, parse_site_text
from siteledger.site.loader import dump_site, validate_site_file
from siteledger.site.organisation import (
    Organisation,
    parse_organisation_text,
    parse_site_in_organisation,
    validate_files,
)
from tests.yaml_fuzz import FUZZ_SETTINGS, documents, mutations

SMALL_SITE = (Path(__file__).resolve().parents[1] / "fixtures" / "small_site.yaml").read_text()

ORGANISATION = """\
organisation:
  id: test_org
  name: Test Org
  financial_year_start_month: 7
  data_start: 2025-07-01
  timezone: Australia/Perth
regions:
  - {id: WA, name: Western Australia}
  - {id: NT, name: Northern Territory}
"""
MEMBER_SITE = SMALL_SITE.replace("organisation: Test Org", "organisation: test_org")


@functools.cache
def demo_site_text() -> str:
    return dump_site(build_demo_site(n_bores=2))


def _assert_located(exc: SiteConfigError, text: str, file: str) -> None:
    assert exc.problems
    last_line = text.count("\n") + 2
    for problem in exc.problems:
        assert isinstance(problem, ConfigProblem)
        assert problem.file == file
        assert problem.line is None or 1 <= problem.line <= last_line, problem
        assert str(problem).startswith(file)


def check_site(text: str, file: str = "fuzz.yaml") -> None:
    try:
        site = parse_site_text(text, file)
    except SiteConfigError as exc:
        _assert_located(exc, text, file)
        return
    # a file the validator accepts can be written to the site tables
    site_tables(site, Organisation())


def check_organisation(text: str, file: str = "organisation.yaml") -> None:
    try:
        org = parse_organisation_text(text, file)
    except SiteConfigError as exc:
        _assert_located(exc, text, file)
        return
    try:
        parse_site_in_organisation(MEMBER_SITE, org, "small_site.yaml")
    except SiteConfigError as exc:  # the site may not fit a mutated organisation
        _assert_located(exc, MEMBER_SITE, "small_site.yaml")


# -- known crashes, one by one ---------------------------------------------------------------------

PAN = "pan_factor: 0.7"
CASES = [
    ("mapping parameter", PAN, "pan_factor: {a: 1}", ":55: estimations[0].params.pan_factor"),
    ("list parameter", PAN, "pan_factor: [1, 2]", ":55: estimations[0].params.pan_factor"),
    ("mapping as a meter id", "pan_meter: EP-1", "pan_meter: {a: 1}", "must be a meter id"),
    ("impossible date", "  region: WA\n", "  region: WA\n  data_start: 2025-13-40\n", ":8:"),
    (
        "30 February",
        "  region: WA\n",
        "  region: WA\n  data_start: 2025-02-30\n",
        "site.data_start",
    ),
    ("self-referencing alias", "  regulators: [DWER]", "  regulators: &r [*r]", ":9:"),
    ("self-referencing mapping", "  regulators: [DWER]", "  regulators: &r {a: *r}", ":9:"),
    ("alias without anchor", "  regulators: [DWER]", "  regulators: *nowhere", ":9:"),
    ("huge integer", PAN, "pan_factor: " + "9" * 5000, ":55: estimations[0].params.pan_factor"),
    ("huge integer elsewhere", "capacity_m3: 100000", "capacity_m3: " + "9" * 5000, ":20:"),
    ("NaN parameter", PAN, "pan_factor: .nan", ":55: estimations[0].params.pan_factor: "),
    ("infinite parameter", PAN, "pan_factor: .inf", ":55: estimations[0].params.pan_factor: "),
    ("overflowing float", PAN, "pan_factor: 1e400", ":55: estimations[0].params.pan_factor"),
    ("NaN capacity", "capacity_m3: 100000", "capacity_m3: .nan", ":20: nodes[2].capacity_m3"),
    ("NaN threshold", "closure_error_pct: 5", "closure_error_pct: .nan", ":58: thresholds"),
    (
        "binary tag",
        "  name: Small Test Site",
        "  name: !!binary aGVsbG8=",
        ":5: site.name: not valid YAML: the tag !!binary",
    ),
    (
        "set tag",
        "  regulators: [DWER]",
        "  regulators: !!set {a, b}",
        ":9: site.regulators: not valid YAML: the tag !!set",
    ),
    ("python tag", "  regulators: [DWER]", "  regulators: !!python/name:os.system", ":9:"),
    (
        "a tag its value does not fit",
        "  regulators: [DWER]",
        "  regulators: [!!bool maybe]",
        ":9: site.regulators[0]: not valid YAML: 'maybe' cannot be read as !!bool",
    ),
    ("a mapping tag on a list", "  regulators: [DWER]", "  regulators: !!map [1]", ":9:"),
    ("complex key", "  regulators: [DWER]", "  ? [1, 2]\n  : x", ":9:"),
    ("deep nesting", "  regulators: [DWER]", "  regulators: " + "[" * 1000 + "]" * 1000, ":9:"),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), CASES, ids=[c[0] for c in CASES])
def test_broken_site_files_give_located_problems(tmp_path, name, old, new, expected):
    assert old in SMALL_SITE
    path = tmp_path / "site.yaml"
    path.write_text(SMALL_SITE.replace(old, new, 1))
    problems = validate_site_file(path)
    assert problems, name
    text = "\n".join(str(p) for p in problems)
    assert all(str(p).startswith(str(path)) for p in problems), text
    assert expected in text, text


def test_the_fuzz_seeds_are_valid():
    parse_site_text(SMALL_SITE)
    parse_site_text(demo_site_text())
    parse_site_in_organisation(MEMBER_SITE, parse_organisation_text(ORGANISATION), "s.yaml")


def test_a_broken_organisation_file_is_listed_with_its_sites(tmp_path):
    org = tmp_path / "organisation.yaml"
    org.write_text(ORGANISATION.replace("data_start: 2025-07-01", "data_start: 2025-13-01"))
    site = tmp_path / "site.yaml"
    site.write_text(SMALL_SITE.replace("  regulators: [DWER]", "  regulators: &r [*r]"))
    problems = [str(p) for p in validate_files(org, [site])]
    assert problems[0].startswith(f"{org}:5: organisation.data_start: "), problems
    assert problems[1].startswith(f"{site}:9: "), problems
    assert len(problems) == 2


# -- fuzz -----------------------------------------------------------------------------------------


@FUZZ_SETTINGS
@given(text=mutations(SMALL_SITE))
def test_fuzz_mutated_small_site_gives_a_clean_parse_or_listed_problems(text):
    check_site(text)


# the demo's site is 2 200 lines: fewer examples keep the test at a few seconds
@settings(FUZZ_SETTINGS, max_examples=40)
@given(data=st.data())
def test_fuzz_mutated_demo_site_gives_a_clean_parse_or_listed_problems(data):
    check_site(data.draw(mutations(demo_site_text())))


SITE_KEYS = ["site", "nodes", "flows", "meters", "estimations", "thresholds", "file_layouts"]


@FUZZ_SETTINGS
@given(text=documents(SITE_KEYS))
def test_fuzz_generated_site_documents_give_a_clean_parse_or_listed_problems(text):
    check_site(text)


@FUZZ_SETTINGS
@given(text=mutations(ORGANISATION))
def test_fuzz_mutated_organisation_gives_a_clean_parse_or_listed_problems(text):
    check_organisation(text)


@FUZZ_SETTINGS
@given(text=documents(["organisation", "regions"]))
def test_fuzz_generated_organisation_documents_give_a_clean_parse_or_listed_problems(text):
    check_organisation(text)


def test_validate_files_never_raises_on_unreadable_files(tmp_path):
    org = tmp_path / "organisation.yaml"
    org.mkdir()  # a folder where the file belongs
    site = tmp_path / "site.yaml"
    site.write_bytes(b"site: {id: x, name: \xff}\n")
    problems = [str(p) for p in validate_files(org, [site, tmp_path / "gone.yaml"])]
    assert problems == [
        f"{org}: <root>: cannot read: Is a directory",
        f"{site}: <root>: not UTF-8 text (bad byte at offset 20)",
        f"{tmp_path / 'gone.yaml'}: <root>: cannot read: No such file or directory",
    ]
