"""Definitions load with every problem named; periods; requirement checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reports.definitions import DefinitionError, load_definition, load_definitions
from reports.periods import (
    complete_periods,
    organisation_fy_start_month,
    parse_period,
    period_containing,
    previous,
)
from reports.validation import check
from tests.reports.sample import _definition, sample_payload

GOOD = """
id: custom_return
title: Custom return
regulator: EPA
report_type: custom
period: monthly
sections: [summary, requirements]
metrics: [inputs, outputs]
due: {days_after_period_end: 10}
"""


def _write(tmp_path: Path, text: str, name: str = "d.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_definitions_load():
    ids = {d.id: d for d in load_definitions()}
    assert set(ids) == {
        "monthly_water_return",
        "quarterly_discharge_report",
        "annual_water_report",
        "annual_organisation_water_report",
        "monthly_sustainability_report",
        "weekly_energy_summary",
        "monthly_energy_cost_report",
        "monthly_materials_cost_report",
        "monthly_inventory_report",
        "certificate_of_analysis",
        "materials_recall_report",
        "monthly_metering_revenue_report",
        "metering_device_health_report",
    }
    assert ids["annual_organisation_water_report"].scope == "organisation"
    assert {d.scope for d in ids.values() if d.id != "annual_organisation_water_report"} == {"site"}
    assert ids["annual_water_report"].unit == "ML"
    # the financial year is the organisation's: no shipped definition declares its own
    assert all(d.financial_year_start_month is None for d in ids.values())
    assert ids["annual_water_report"].fy_start_month(1) == 1
    assert ids["quarterly_discharge_report"].due_date(dt.date(2025, 9, 30)) == dt.date(2025, 10, 28)


def test_an_internal_report_applies_whatever_regulators_a_site_names():
    ids = {d.id: d for d in load_definitions()}
    internal = ids["monthly_sustainability_report"]
    assert internal.audience == "internal"
    assert internal.applies_to("demo_mine", ["WA DWER", "WA DEMIRS"])
    assert internal.applies_to("highveld", ["DWS (South Africa)"])
    # a regulator's return still goes only to sites under that regulator
    assert not ids["monthly_water_return"].applies_to("highveld", ["DWS (South Africa)"])


def test_the_audience_field_leaves_existing_fingerprints_alone(tmp_path: Path):
    plain = load_definition(_write(tmp_path, GOOD))
    explicit = load_definition(_write(tmp_path, GOOD + "audience: regulator\n", "e.yaml"))
    internal = load_definition(_write(tmp_path, GOOD + "audience: internal\n", "i.yaml"))
    assert plain.fingerprint == explicit.fingerprint
    assert internal.fingerprint != plain.fingerprint


def test_a_home_definition_overrides_a_shipped_one_by_id(tmp_path: Path):
    folder = tmp_path / "definitions"
    folder.mkdir()
    _write(folder, GOOD.replace("custom_return", "monthly_water_return"), "override.yaml")
    found = {d.id: d for d in load_definitions(tmp_path)}
    assert found["monthly_water_return"].title == "Custom return"
    assert len(found) == 13  # the thirteen shipped, one of them overridden


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("id: [unclosed", "cannot read YAML"),
        ("- a list", "must be a YAML mapping"),
        (GOOD.replace("[inputs, outputs]", "[inputs, volume_of_the_moon]"), "volume_of_the_moon"),
        (GOOD.replace("[summary, requirements]", "[summary, gossip]"), "unknown sections"),
        (GOOD.replace("period: monthly", "period: weekly"), "period"),
        (GOOD + "recipients: ['a@b.c, evil@x.y']\n", "not e-mail addresses"),
        (GOOD + "template: ../../etc/passwd\n", "must be a file name"),
        (GOOD + "requirements: [{id: r1, metric: inputs, min: 5, max: 1}]\n", "above max"),
        (GOOD + "requirements: [{id: r1, metric: inputs}]\n", "needs min, max or both"),
        (GOOD + "colour: red\n", "colour"),
        (
            GOOD.replace("due: {days_after_period_end: 10}", "due: {days_after_period_end: -1}"),
            "days_after_period_end",
        ),
        (GOOD.replace("id: custom_return", "id: 'Bad Id!'"), "id"),
    ],
)
def test_bad_definitions_are_refused_with_the_reason(tmp_path: Path, text: str, problem: str):
    with pytest.raises(DefinitionError) as err:
        load_definition(_write(tmp_path, text))
    assert problem in str(err.value)
    assert str(tmp_path) in str(err.value)


def test_binary_garbage_is_refused(tmp_path: Path):
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage\x00")
    with pytest.raises(DefinitionError):
        load_definition(path)


def test_an_organisation_report_is_annual_and_shows_no_site_tables(tmp_path: Path):
    org = GOOD.replace("period: monthly", "period: annual") + "scope: organisation\n"
    assert load_definition(_write(tmp_path, org)).scope == "organisation"
    with pytest.raises(DefinitionError, match="an organisation report is annual"):
        load_definition(_write(tmp_path, GOOD + "scope: organisation\n", "monthly.yaml"))
    with pytest.raises(DefinitionError, match=r"sections \['facilities'\] need a site"):
        load_definition(
            _write(
                tmp_path,
                org.replace("[summary, requirements]", "[summary, facilities]"),
                "facilities.yaml",
            )
        )
    with pytest.raises(DefinitionError, match="the sites section is for organisation reports"):
        load_definition(
            _write(tmp_path, GOOD.replace("[summary, requirements]", "[summary, sites]"), "s.yaml")
        )


def test_a_definition_may_only_repeat_the_organisations_financial_year(tmp_path: Path):
    path = _write(tmp_path, GOOD + "financial_year_start_month: 7\n")
    definition = load_definition(path)
    assert definition.fy_start_month(7) == 7
    with pytest.raises(DefinitionError, match="disagrees with the organisation's") as err:
        definition.fy_start_month(1)
    assert err.value.path == str(path)


def test_the_financial_year_comes_from_the_organisation_file(tmp_path: Path):
    assert organisation_fy_start_month(tmp_path / "organisation.yaml") == 7  # no file: July
    (tmp_path / "organisation.yaml").write_text(
        "organisation: {id: acme, name: Acme, financial_year_start_month: 1}\n"
    )
    assert organisation_fy_start_month(tmp_path / "organisation.yaml") == 1


def test_periods_follow_the_financial_year():
    q = period_containing("quarterly", dt.date(2025, 8, 15), 7)
    assert (q.key, q.start, q.end) == ("FY2026-Q1", dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    y = period_containing("annual", dt.date(2026, 6, 30), 7)
    assert (y.key, y.start, y.end) == ("FY2026", dt.date(2025, 7, 1), dt.date(2026, 6, 30))
    assert period_containing("annual", dt.date(2026, 3, 1), 1).key == "2026"
    assert period_containing("quarterly", dt.date(2026, 3, 1), 1).key == "2026-Q1"
    assert parse_period("quarterly", "FY2026-Q3", 7).start == dt.date(2026, 1, 1)
    assert parse_period("monthly", "2024-02").end == dt.date(2024, 2, 29)
    assert parse_period("annual", "FY2026", 7) == y
    assert previous(q, 7).key == "FY2025-Q4"
    with pytest.raises(ValueError, match="not a quarterly period key"):
        parse_period("quarterly", "FY2026-Q5", 7)
    months = {dt.date(2025, m, 1) for m in (7, 8, 9, 10, 11)}
    assert [p.key for p in complete_periods("quarterly", months, 7)] == ["FY2026-Q1"]
    assert complete_periods("annual", months, 7) == []


def test_requirements_are_checked_in_the_report_unit():
    payload = sample_payload("annual_water_report")  # 3 stores x 12 months x 1 000 m3 = 36 ML
    definition = _definition("annual_water_report").model_copy(deep=True)
    results, errors = check(definition, payload)
    assert errors == [] and all(r["passed"] for r in results)
    gw = next(r for r in results if r["metric"] == "input_groundwater")
    assert gw["value"] == pytest.approx(36.0) and gw["unit"] == "ML"
    definition.requirements[1].max = 30.0
    _, errors = check(definition, payload)
    assert errors == [
        "annual-groundwater-entitlement: Inputs: Groundwater 36.0 ML breaches the maximum 30 ML "
        "(Groundwater licence GWL 000001 - annual entitlement, ML)"
    ]
    payload["metrics"]["closure_error_abs_pct"] = None  # no inputs: closure % unknown
    _, errors = check(definition, payload)
    assert any("cannot be computed" in e for e in errors)
    payload["metrics"]["n_days"] = 300
    _, errors = check(definition, payload)
    assert any("has data on 300 of 365 days" in e for e in errors)


def test_a_custom_json_definition_renders_with_its_own_sandboxed_template(tmp_path: Path):
    import json

    from reports.definitions import template_dirs
    from reports.render.html import render_html
    from tests.reports.sample import sample_header

    folder = tmp_path / "definitions"
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "branded.html.j2").write_text(
        "<h1>{{ d.title }} for {{ site.name }}</h1><p>inputs {{ vol(m.inputs) }} {{ unit }}</p>"
        "{% for row in summary_rows %}<i>{{ row.label }}</i>{% endfor %}"
    )
    definition = json.loads(json.dumps(GOOD_DICT))
    definition["template"] = "branded.html.j2"
    (folder / "branded.json").write_text(json.dumps(definition))
    loaded = next(d for d in load_definitions(tmp_path) if d.id == "custom_return")
    assert loaded.template == "branded.html.j2"
    payload = sample_payload("annual_water_report")
    payload["definition"]["title"] = loaded.title
    html = render_html(payload, sample_header(), loaded.template, template_dirs(loaded))
    assert "<h1>Custom return for Synthetic site (3 stores)</h1>" in html
    assert "<p>inputs 54.0 ML</p>" in html  # 3 stores x 12 months x 1 500 m3


GOOD_DICT = {
    "id": "custom_return",
    "title": "Custom return",
    "regulator": "EPA",
    "report_type": "custom",
    "period": "monthly",
    "sections": ["summary"],
    "metrics": ["inputs"],
    "due": {"days_after_period_end": 10},
}


def test_site_file_requirements_of_the_same_period_apply_and_unknown_metrics_are_named():
    from reports.validation import site_requirements
    from siteledger.site.models import Requirement

    definition = _definition("annual_water_report")  # in ML
    reqs = [
        Requirement(
            id="GW.Licence-1",
            metric="input_groundwater",
            period="year",
            max=30_000.0,
            unit="m3",
            reference="GWL 1",
        ),
        Requirement(id="gw-ml", metric="input_groundwater", period="year", max=40.0, unit="ML"),
        Requirement(id="gw-t", metric="input_groundwater", period="year", max=1.0, unit="t"),
        Requirement(id="monthly-only", metric="inputs", period="month", max=1.0),
        Requirement(id="odd", metric="dissolved_unicorns", period="year", max=1.0),
    ]
    specs, warnings = site_requirements(definition, reqs)
    assert [(s.id, s.max) for s in specs] == [("site-GW.Licence-1", 30.0), ("site-gw-ml", 40.0)]
    assert warnings == [
        "site requirement gw-t: unit 't' does not fit metric 'input_groundwater'; not checked",
        "site requirement odd: metric 'dissolved_unicorns' is not a report metric; not checked",
    ]
    _, errors = check(definition, sample_payload("annual_water_report"), specs)
    assert errors == [
        "site-GW.Licence-1: Inputs: Groundwater 36.0 ML breaches the maximum 30 ML (GWL 1)"
    ]


def test_a_site_files_the_reports_of_its_own_regulators_only():
    shipped = {d.id: d for d in load_definitions()}
    monthly, org = shipped["monthly_water_return"], shipped["annual_organisation_water_report"]
    assert monthly.regulator == "WA DWER"
    assert monthly.applies_to("demo_mine", ["WA DWER", "WA DEMIRS"])
    # a mine under another jurisdiction does not file the Western Australian return
    assert not monthly.applies_to("demo_highveld", ["DWS (South Africa)"])
    # a site that names no regulator files every report listed for it
    assert monthly.applies_to("hand_site", [])
    assert org.scope == "organisation"


def test_deadlines_skip_reports_a_site_does_not_file(tmp_path: Path):
    from reports.deadlines import unsubmitted_deadlines
    from reports.registry import Registry
    from siteledger.state import StateStore

    registry = Registry(StateStore(f"sqlite:///{tmp_path / 'state.db'}"))
    definitions = [d for d in load_definitions() if d.id == "monthly_water_return"]
    # 2025-08-10: July's return is due at the end of its due date, within 48 h or not yet
    now = dt.datetime.combine(
        definitions[0].due_date(dt.date(2025, 7, 31)), dt.time(12), tzinfo=dt.UTC
    )
    regulators = {"demo_mine": ["WA DWER"], "demo_highveld": ["DWS (South Africa)"]}
    due = unsubmitted_deadlines(
        definitions,
        ["demo_highveld", "demo_mine"],
        registry,
        now,
        site_regulators=regulators,
    )
    assert {(d.site_id, d.period_key) for d in due} == {("demo_mine", "2025-07")}
