"""Reports from the published demo year: every format agrees with the marts, requirements decide
the status, versions and restatements, data-quality notes."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from lxml import etree
from openpyxl import load_workbook

import reports.data
from reports.data import build_payload, exact_content_hash, legacy_content_hash, load_site
from reports.definitions import load_definitions
from reports.periods import Period, parse_period
from reports.registry import Registry, ReportRecord
from reports.render.tabular import XML_NS, validate_xml
from reports.service import generate
from siteledger.settings import get_settings
from siteledger.state import StateStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _store(home: Path) -> StateStore:
    return StateStore(get_settings(home).state_store_url)


def _marts(home: Path, sql: str, params: list | None = None) -> tuple:
    with duckdb.connect(str(home / "warehouse" / "siteledger.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchone()


def _pdf_text(path: str) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True
    ).stdout


def _annual_and_q1(home: Path):
    settings = get_settings(home)
    return generate(
        settings,
        _store(home),
        definition_ids=["annual_water_report", "quarterly_discharge_report"],
        period_keys=["FY2026", "FY2026-Q1"],
        generated_by="tests",
        workers=2,
    )


def test_every_format_agrees_with_the_marts_to_the_unit(home: Path):
    outcomes = {o.definition_id: o for o in _annual_and_q1(home)}
    annual = outcomes["annual_water_report"].record
    assert annual.status in ("validated", "draft")
    assert set(annual.artifacts) == {"pdf", "xlsx", "csv", "json", "xml", "sankey_html"}
    # the interactive Sankey beside the PDF draws every flow of the year that has a volume
    page = Path(annual.artifacts["sankey_html"]["path"]).read_text(encoding="utf-8")
    year_doc = json.loads(Path(annual.artifacts["json"]["path"]).read_bytes())
    drawn = [f["flow_id"] for f in year_doc["flows"] if f["volume"]]
    assert drawn and all(f'data-flow="{flow_id}"' in page for flow_id in drawn)

    # the year from the marts, independently: sums of the monthly site balance
    inputs, outputs, ground, closure, ore = _marts(
        home,
        "select sum(inputs_m3), sum(outputs_m3), sum(input_groundwater_m3), "
        "sum(closure_error_m3), sum(ore_feed_t) from fct_site_balance_monthly "
        "where month_start between '2025-07-01' and '2026-06-01'",
    )
    (opening,) = _marts(
        home,
        "select opening_storage_m3 from fct_site_balance_monthly where month_start = '2025-07-01'",
    )
    (closing,) = _marts(
        home,
        "select closing_storage_m3 from fct_site_balance_monthly where month_start = '2026-06-01'",
    )
    (cat3_out,) = _marts(
        home,
        "select sum(volume_m3) from fct_flow_sankey where period_grain = 'month' "
        "and direction = 'output' and quality_category = 3 "
        "and period_start between '2025-07-01' and '2026-06-01'",
    )
    assert inputs > 1e6 and outputs > 1e6

    # JSON: m3, full precision
    doc = json.loads(Path(annual.artifacts["json"]["path"]).read_bytes())
    m = doc["metrics"]
    assert m["inputs"] == pytest.approx(inputs, abs=1e-6)
    assert m["outputs"] == pytest.approx(outputs, abs=1e-6)
    assert m["input_groundwater"] == pytest.approx(ground, abs=1e-6)
    assert m["opening_storage"] == pytest.approx(opening, abs=1e-6)
    assert m["closing_storage"] == pytest.approx(closing, abs=1e-6)
    assert m["closure_error"] == pytest.approx(closure, abs=1e-6)
    assert m["water_intensity_m3_per_t"] == pytest.approx(inputs / ore, rel=1e-12)
    out_rows = [q for q in doc["quality_table"] if q["direction"] == "output"]
    assert sum(q["cat3"] for q in out_rows) == pytest.approx(cat3_out, abs=1e-6)
    assert sum(q["total"] for q in out_rows) == pytest.approx(outputs, abs=1e-6)
    summary = {r["metric"]: r["value"] for r in doc["summary"]}
    assert summary["inputs"] == pytest.approx(inputs / 1000.0, abs=1e-9)  # annual report in ML
    assert doc["report"]["content_hash"] == annual.content_hash

    # the sustainability section: the year's ratio of sums, recomputed from the daily mart
    water, tonnes = _marts(
        home,
        "select sum(numerator), sum(denominator) from fct_sustainability_metrics_daily "
        "where metric = 'fresh_water_intensity_m3_per_t' and site_id = ? "
        "and day between '2025-07-01' and '2026-06-30'",
        [doc["site"]["id"]],
    )
    sx = {x["metric"]: x for x in doc["sustainability"]["metrics"]}
    assert sx["fresh_water_intensity_m3_per_t"]["value"] == pytest.approx(water / tonnes, rel=1e-12)
    (index,) = _marts(
        home,
        "select sustainability_index from fct_sustainability_ranking_period "
        "where period_kind = 'year' and period_key = 'FY2026' and site_id = ?",
        [doc["site"]["id"]],
    )
    assert doc["sustainability"]["index"]["value"] == pytest.approx(index, rel=1e-12)

    # CSV: the summary rows in ML
    rows = list(csv.DictReader(io.StringIO(Path(annual.artifacts["csv"]["path"]).read_text())))
    by_item = {(r["section"], r["item"], r["measure"]): r for r in rows}
    assert float(by_item[("summary", "inputs", "Total inputs (withdrawal)")]["value"]) == (
        pytest.approx(inputs / 1000.0, abs=1e-9)
    )
    assert by_item[("summary", "inputs", "Total inputs (withdrawal)")]["unit"] == "ML"

    # Excel: summary sheet values and the number format of volumes
    wb = load_workbook(annual.artifacts["xlsx"]["path"])
    assert wb.sheetnames == [
        "Summary",
        "Per facility",
        "Per facility by month",
        "By category",
        "Comparison",
        "Sustainability",
        "Sustainability goals",
        "Discharge limits",
        "Incidents",
        "Air quality",
        "Data quality notes",
        "Metadata",
    ]
    sheet = {r[0].value: r for r in wb["Summary"].iter_rows(min_row=2)}
    assert sheet["outputs"][3].value == pytest.approx(outputs / 1000.0, abs=1e-9)
    assert sheet["outputs"][3].number_format == "#,##0.0"
    (rwd_july,) = _marts(
        home,
        "select inflow_m3 from fct_node_balance_monthly "
        "where node_id = 'raw_water_dam' and month_start = '2025-07-01'",
    )
    by_month = {
        (r[0].value, r[2].value): r for r in wb["Per facility by month"].iter_rows(min_row=2)
    }
    assert by_month[("raw_water_dam", "2025-07")][6].value == pytest.approx(rwd_july / 1000.0)
    assert len(by_month) == 12 * len(doc["facilities"])
    meta = {r[0].value: r[1].value for r in wb["Metadata"].iter_rows(min_row=2)}
    assert meta["Content hash"] == annual.content_hash
    assert meta["Published warehouse version"] == annual.warehouse_version

    # XML: valid against the XSD, same figures
    xml = Path(annual.artifacts["xml"]["path"]).read_bytes()
    validate_xml(xml)
    root = etree.fromstring(xml)
    ns = {"r": XML_NS}
    value = root.find("r:summary/r:metric[@key='inputs']", ns).text
    assert float(value) == pytest.approx(inputs / 1000.0, abs=1e-9)
    assert root.find("r:header/r:warehouseVersion", ns).text == annual.warehouse_version

    # PDF: the printed figures are the marts' rounded to the report's precision (ML, 1 decimal)
    text = _pdf_text(annual.artifacts["pdf"]["path"])
    assert f"{inputs / 1000.0:,.1f}" in text
    assert f"{outputs / 1000.0:,.1f}" in text
    assert f"{cat3_out / 1000.0:,.1f}" in text
    assert f"{rwd_july / 1000.0:,.1f}" in text  # the raw water dam's July in its own table
    assert annual.report_id in text and annual.warehouse_version in text
    assert "Page 2 of" in text

    # the quarterly discharge report: per-flow discharge volume from the marts
    q1 = outcomes["quarterly_discharge_report"].record
    (discharge,) = _marts(
        home,
        "select sum(volume_m3) from fct_flow_sankey where period_grain = 'month' "
        "and flow_id = 'rwd_to_discharge' and period_start between '2025-07-01' and '2025-09-01'",
    )
    q1_doc = json.loads(Path(q1.artifacts["json"]["path"]).read_bytes())
    assert q1_doc["metrics"]["discharge"] == pytest.approx(discharge, abs=1e-6)
    assert f"{discharge:,.0f}" in _pdf_text(q1.artifacts["pdf"]["path"])


def test_a_breached_requirement_keeps_the_report_in_draft_with_the_error(home: Path):
    custom = home / "reports" / "definitions"
    custom.mkdir(parents=True)
    shipped = Path(__file__).resolve().parents[2] / "reports" / "definitions"
    text = (shipped / "monthly_water_return.yaml").read_text()
    # the same definition id, with a groundwater limit the demo's July exceeds
    (custom / "monthly_water_return.yaml").write_text(
        text.replace("max: 450000", "max: 1000").replace(
            "formats: [pdf, xlsx, csv, json, xml]", "formats: [pdf, json, xml]"
        )
    )
    (outcome,) = generate(
        get_settings(home),
        _store(home),
        definition_ids=["monthly_water_return"],
        period_keys=["2025-07"],
        generated_by="tests",
        workers=1,
    )
    record = outcome.record
    assert record.status == "draft"
    assert len(record.validation_errors) == 1
    assert record.validation_errors[0].startswith("groundwater-abstraction: Inputs: Groundwater")
    assert "breaches the maximum 1,000 m3" in record.validation_errors[0]
    failed = [r for r in record.requirements if not r["passed"]]
    assert [r["id"] for r in failed] == ["groundwater-abstraction"]
    xml = etree.fromstring(Path(record.artifacts["xml"]["path"]).read_bytes())
    errors = xml.findall(f"{{{XML_NS}}}validationErrors/{{{XML_NS}}}error")
    assert [e.text for e in errors] == record.validation_errors
    assert xml.get("status") == "draft"
    text = _pdf_text(record.artifacts["pdf"]["path"])
    assert "DRAFT" in text and "NOT\xa0MET" in text.replace("NOT MET", "NOT\xa0MET")


def test_rerun_is_idempotent_and_a_restatement_diffs_against_the_submitted_version(home: Path):
    settings, store = get_settings(home), _store(home)
    registry = Registry(store)
    kwargs = dict(
        definition_ids=["monthly_water_return"],
        period_keys=["2025-08"],
        generated_by="tests",
        workers=1,
    )
    (first,) = generate(settings, store, **kwargs)
    assert (first.action, first.record.version, first.record.status) == ("created", 1, "validated")
    (again,) = generate(settings, store, **kwargs)
    assert again.action == "unchanged" and again.record.report_id == first.record.report_id
    registry.set_status(first.record.report_id, "submitted", "officer@example")
    september = {**kwargs, "period_keys": ["2025-09"]}
    (sep_before,) = generate(settings, store, **september)

    # a later publish restates August: 1 234.5 m3 more groundwater in the marts
    db = home / "warehouse" / "siteledger.duckdb"
    new_version = home / "warehouse" / "restated.duckdb"
    shutil.copy(db, new_version)
    with duckdb.connect(str(new_version)) as con:
        restate = (
            "set inputs_m3 = inputs_m3 + 1234.5, "
            "input_groundwater_m3 = input_groundwater_m3 + 1234.5, "
            "closure_error_m3 = closure_error_m3 + 1234.5"
        )
        con.execute(f"update fct_site_balance_monthly {restate} where month_start = '2025-08-01'")
        # and every period holding August: the month, FY2026-Q1 and FY2026
        con.execute(
            f"update fct_site_balance_period {restate} "
            "where period_start <= '2025-08-01' and period_end >= '2025-08-31'"
        )
        con.execute("update _siteledger_publish set version_id = 'restated-version'")
    new_version.replace(db)

    (restated,) = generate(settings, store, **kwargs)
    record = restated.record
    assert (restated.action, record.version) == ("created", 2)
    assert record.warehouse_version == "restated-version"
    assert record.diff_against == first.record.report_id
    changes = {c["figure"]: c for c in record.diff}
    old = first.record.figures["metrics"]["inputs"]
    assert changes["metrics.inputs"]["old"] == pytest.approx(old)
    assert changes["metrics.inputs"]["new"] == pytest.approx(old + 1234.5)
    assert "metrics.input_groundwater" in changes and "metrics.outputs" not in changes
    # the submitted version stays submitted; the restatement shows in the PDF
    assert registry.get(first.record.report_id).status == "submitted"
    text = _pdf_text(record.artifacts["pdf"]["path"])
    assert "restates version 1" in text and "metrics.inputs" in text
    # September's own figures did not change (only its comparison with August): no new version
    (sep_after,) = generate(settings, store, **september)
    assert sep_after.action == "unchanged"
    assert sep_after.record.report_id == sep_before.record.report_id


def _restate(home: Path, sql: str) -> None:
    """Publish a new warehouse version whose marts differ from the current one by ``sql``."""
    db = home / "warehouse" / "siteledger.duckdb"
    new_version = home / "warehouse" / "restated.duckdb"
    shutil.copy(db, new_version)
    with duckdb.connect(str(new_version)) as con:
        con.execute(sql)
        con.execute("update _siteledger_publish set version_id = 'restated-version'")
    new_version.replace(db)


def test_rewording_prose_makes_no_new_version_and_one_changed_figure_does(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    settings, store = get_settings(home), _store(home)
    registry = Registry(store)
    kwargs = dict(
        definition_ids=["monthly_water_return"],
        period_keys=["2025-10"],
        generated_by="tests",
        workers=1,
    )
    (first,) = generate(settings, store, **kwargs)
    assert (first.action, first.record.version) == ("created", 1)
    registry.set_status(first.record.report_id, "submitted", "officer@example")
    first_doc = json.loads(Path(first.record.artifacts["json"]["path"]).read_bytes())

    # the code's sentences and labels reworded: the notes, a category's label, the period's label
    build_notes = reports.data._data_quality

    def reworded_notes(*args):  # type: ignore[no-untyped-def]
        quality = build_notes(*args)
        quality["notes"] = [
            note.replace("Accuracy:", "How the volumes were obtained:") for note in quality["notes"]
        ]
        return quality

    monkeypatch.setattr(reports.data, "_data_quality", reworded_notes)
    monkeypatch.setitem(reports.data.CATEGORY_LABELS, ("input", "groundwater"), "Bore water")
    monkeypatch.setattr(Period, "label", property(lambda p: f"Month of {p.start:%m/%Y}"))
    definition = next(d for d in load_definitions() if d.id == "monthly_water_return")
    period = parse_period("monthly", "2025-10")
    payload = build_payload(
        load_site(home / "warehouse" / "siteledger.duckdb", "demo_mine"), definition, period
    )
    assert payload["data_quality"]["notes"][0].startswith("How the volumes were obtained:")
    assert payload["data_quality"]["notes"][0] != first_doc["data_quality"]["notes"][0]
    assert payload["period"]["label"] == "Month of 10/2025"

    (again,) = generate(settings, store, **kwargs)
    assert again.action == "unchanged"
    assert again.record.report_id == first.record.report_id
    assert [
        v.version for v in registry.versions("monthly_water_return", "demo_mine", "2025-10")
    ] == [1]

    # one figure of the marts changes: 2 500 t more ore processed in October (the period mart
    # reports read carries the month and the water intensity dbt derives from it)
    _restate(
        home,
        "update fct_site_balance_period set ore_feed_t = ore_feed_t + 2500, "
        "water_intensity_m3_per_t = inputs_m3 / (ore_feed_t + 2500) "
        "where period_kind = 'month' and period_start = '2025-10-01'",
    )
    (restated,) = generate(settings, store, **kwargs)
    record = restated.record
    assert (restated.action, record.version) == ("created", 2)
    assert record.diff_against == first.record.report_id
    changes = {c["figure"]: c for c in record.diff}
    # the ore fed, and the water intensity computed from it; nothing else
    assert set(changes) == {"metrics.ore_feed_t", "metrics.water_intensity_m3_per_t"}
    old = first.record.figures["metrics"]["ore_feed_t"]
    assert changes["metrics.ore_feed_t"]["new"] == pytest.approx(old + 2500)


@pytest.mark.parametrize("earlier_hash", ["whole payload", "unrounded figures"])
def test_a_version_registered_under_an_earlier_hash_is_recognised(home: Path, earlier_hash: str):
    settings, store = get_settings(home), _store(home)
    kwargs = dict(
        definition_ids=["monthly_water_return"],
        period_keys=["2025-11"],
        generated_by="tests",
        workers=1,
    )
    (first,) = generate(settings, store, **kwargs)
    definition = next(d for d in load_definitions() if d.id == "monthly_water_return")
    period = parse_period("monthly", "2025-11")
    payload = build_payload(
        load_site(home / "warehouse" / "siteledger.duckdb", "demo_mine"), definition, period
    )
    if earlier_hash == "whole payload":
        earlier = legacy_content_hash(payload)
    else:
        earlier = exact_content_hash(payload, first.record.requirements)
    assert earlier != first.record.content_hash
    with store.session() as session:
        session.get(ReportRecord, first.record.report_id).content_hash = earlier

    (again,) = generate(settings, store, **kwargs)
    assert again.action == "unchanged"
    assert again.record.report_id == first.record.report_id


def test_data_quality_notes_use_scores_when_published_and_say_so_when_not(home: Path):
    settings, store = get_settings(home), _store(home)
    with duckdb.connect(str(home / "warehouse" / "siteledger.duckdb")) as con:
        # a warehouse published before quality scores existed
        con.execute("drop table if exists fct_quality_scores_daily")
    kwargs = dict(
        definition_ids=["monthly_water_return"],
        period_keys=["2025-09"],
        generated_by="tests",
        workers=1,
    )
    (without,) = generate(settings, store, **kwargs)
    notes = json.loads(Path(without.record.artifacts["json"]["path"]).read_bytes())["data_quality"]
    assert notes["scores_available"] is False
    assert any("scores are not available" in n for n in notes["notes"])
    assert any("of 30 days have an incomplete balance" in n for n in notes["notes"])

    with duckdb.connect(str(home / "warehouse" / "siteledger.duckdb")) as con:
        con.execute(
            "create or replace table fct_quality_scores_daily as select 'demo_mine' as site_id, "
            "cast(d as date) as day, s.scope, s.scope_id, 1.0 as completeness_score, "
            "1.0 as validity_score, 1.0 as timeliness_score, 1.0 as consistency_score, "
            "1.0 as redundancy_score, s.score as overall_score, 'ok' as status, "
            "s.failing as failing_expectations "
            "from range(date '2025-09-01', date '2025-10-01', interval 1 day) t(d), "
            "(values ('site', 'demo_mine', 0.9, null), ('meter', 'rwd_level', 0.42, "
            "'values_within_range'), ('meter', 'pit_level', 0.97, null)) "
            "s(scope, scope_id, score, failing)"
        )
    (with_scores,) = generate(settings, store, **kwargs)
    assert with_scores.action == "created"  # the scores are figures: a new version
    quality = json.loads(Path(with_scores.record.artifacts["json"]["path"]).read_bytes())[
        "data_quality"
    ]
    assert quality["scores_available"] is True
    assert quality["site"]["days_scored"] == 30
    assert quality["site"]["mean_overall_score"] == pytest.approx(0.9)
    assert quality["worst_meters"][0]["meter_id"] == "rwd_level"
    assert quality["worst_meters"][0]["failing"] == ["values_within_range"]
    assert "rwd_level" in _pdf_text(with_scores.record.artifacts["pdf"]["path"])


def test_an_incomplete_period_is_refused_by_name(home: Path):
    from reports.service import ReportGenerationError

    with pytest.raises(ReportGenerationError, match="2026-07 of site demo_mine is not complete"):
        generate(
            get_settings(home),
            _store(home),
            definition_ids=["monthly_water_return"],
            period_keys=["2026-07"],
            generated_by="tests",
        )
