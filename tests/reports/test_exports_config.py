"""Export definitions: exports.yaml checked with file:line against the published catalogue
(unknown marts and columns, SQL in names, bad schedules, paths leading out of their root),
relative date ranges, schedules as cron, retention, and reproducible workbooks."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from reports.exports import ExportConfigError, load_exports
from reports.exports.config import (
    Retention,
    Schedule,
    Selection,
    parse_exports_text,
    resolve_range,
)
from reports.exports.destinations import expired, run_files
from reports.exports.formats import EXCEL_MAX_ROWS, ExportMeta, render_xlsx
from reports.exports.query import ExportQueryError, read_export
from tests.reports.exports_fixture import tiny_warehouse

GOOD = """\
exports:
  - name: balances
    source:
      mart: fct_node_balance_daily
      sites: [s1]
      facilities: [dam]
      columns: [site_id, node_id, day, inflow_m3]
      dates: {from: 2025-07-01, to: 2025-07-31}
    formats: [csv]
    destinations:
      - {type: folder, path: daily}
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tiny_warehouse(tmp_path / "warehouse" / "siteledger.duckdb")


def problems(tmp_path: Path, db: Path, text: str) -> list[str]:
    path = tmp_path / "exports.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExportConfigError) as caught:
        load_exports(path, db)
    return [str(p) for p in caught.value.problems]


def test_a_good_file_loads_and_a_missing_one_holds_no_exports(tmp_path: Path, db: Path):
    path = tmp_path / "exports.yaml"
    assert load_exports(path, db) == []
    path.write_text(GOOD)
    (export,) = load_exports(path, db)
    assert export.source.columns == ["site_id", "node_id", "day", "inflow_m3"]
    assert export.retention_for(export.destinations[0]) is None


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "reason"),
    [
        (
            "mart: fct_node_balance_daily",
            "mart: fct_node_balance_dayly",
            4,
            "source.mart",
            "no published mart 'fct_node_balance_dayly' (did you mean fct_node_balance_daily",
        ),
        (
            "day, inflow_m3]",
            "day, volume_m3]",
            7,
            "source.columns[3]",
            "mart 'fct_node_balance_daily' has no column 'volume_m3'",
        ),
        (
            "day, inflow_m3]",
            'day, "inflow_m3; drop table dim_sites --"]',
            7,
            "source.columns[3]",
            "is not a table or column name",
        ),
        (
            "mart: fct_node_balance_daily",
            'mart: "dim_sites\\" union select 1 --"',
            4,
            "source.mart",
            "is not a table or column name",
        ),
        (
            "path: daily}",
            "path: ../../etc}",
            11,
            "destinations[0].path",
            "must stay below its root",
        ),
        (
            "path: daily}",
            "path: /etc/cron.d}",
            11,
            "destinations[0].path",
            "must stay below its root",
        ),
        (
            "path: daily}",
            "path: a/../../b}",
            11,
            "destinations[0].path",
            "must stay below its root",
        ),
        (
            "{type: folder, path: daily}",
            "{type: s3, prefix: ../other}",
            11,
            "destinations[0].prefix",
            "must stay below its root",
        ),
        (
            "{type: folder, path: daily}",
            "{type: sftp, path: ../../root}",
            11,
            "destinations[0].path",
            "must stay below its root",
        ),
        ("{type: folder, path: daily}", "{type: ftp, path: x}", 11, "destinations[0]", "type"),
        ("formats: [csv]", "formats: [csv, pdf]", 9, "formats[1]", "'csv'"),
        (
            "formats: [csv]",
            "formats: [csv]\n    schedule: hourly",
            10,
            "schedule.every",
            "'daily', 'weekly' or 'monthly'",
        ),
        (
            "formats: [csv]",
            "formats: [csv]\n    schedule: {every: daily, at: '25:00'}",
            10,
            "schedule.at",
            "pattern",
        ),
        (
            "formats: [csv]",
            "formats: [csv]\n    schedule: {every: monthly, day: 31}",
            10,
            "schedule.day",
            "less than or equal to 28",
        ),
        (
            "formats: [csv]",
            "formats: [csv]\n    schedule: {every: daily, weekday: friday}",
            10,
            "schedule",
            "'weekday' applies to weekly schedules",
        ),
        (
            "dates: {from: 2025-07-01, to: 2025-07-31}",
            "dates: last_fortnight",
            8,
            "source.dates",
            "unknown date range 'last_fortnight'",
        ),
        (
            "dates: {from: 2025-07-01, to: 2025-07-31}",
            "dates: {from: 2025-07-31, to: 2025-07-01}",
            8,
            "source.dates",
            "'to' (2025-07-01) is before 'from' (2025-07-31)",
        ),
        ("- name: balances", "- name: ../balances", 2, "exports[0].name", "is not an export name"),
        ("formats: [csv]", "formats: [csv]\n    colour: red", 10, "colour", "unknown key"),
    ],
)
def test_a_bad_entry_is_refused_with_its_file_line_and_key(
    tmp_path: Path, db: Path, old: str, new: str, line: int, key: str, reason: str
):
    assert old in GOOD
    found = problems(tmp_path, db, GOOD.replace(old, new))
    path = tmp_path / "exports.yaml"
    prefix = (
        f"{path}:{line}: exports[0].{key}"
        if not key.startswith("exports")
        else (f"{path}:{line}: {key}")
    )
    assert any(p.startswith(prefix) and reason in p for p in found), found


def test_filters_on_columns_a_mart_lacks_are_refused(tmp_path: Path, db: Path):
    text = GOOD.replace("mart: fct_node_balance_daily", "mart: dim_sites").replace(
        "      columns: [site_id, node_id, day, inflow_m3]\n", ""
    )
    found = problems(tmp_path, db, text)
    path = tmp_path / "exports.yaml"
    assert f"{path}:6: exports[0].source.facilities: mart 'dim_sites' has no node_id column" in (
        found
    )
    assert any(p.startswith(f"{path}:7: exports[0].source.dates") for p in found), found


def test_two_exports_of_one_name_and_yaml_errors_are_located(tmp_path: Path, db: Path):
    twice = GOOD + GOOD.split("\n", 1)[1]
    assert any("export name 'balances' is used twice" in p for p in problems(tmp_path, db, twice))
    broken = problems(tmp_path, db, GOOD.replace("formats: [csv]", "formats: [csv"))
    assert broken[0].startswith(f"{tmp_path / 'exports.yaml'}:") and "not valid YAML" in broken[0]


def test_values_reach_sql_as_parameters_only(db: Path):
    """A site id holding SQL selects nothing and breaks nothing."""
    hostile = Selection(mart="dim_sites", sites=["s1' or '1'='1", "s2"])
    data = read_export(db, hostile, dt.date(2025, 8, 1))
    assert data.rows == [("s2", "Two")]
    with pytest.raises(ExportQueryError, match="no column 'nope'"):
        read_export(db, Selection(mart="dim_sites", columns=["nope"]), dt.date(2025, 8, 1))


def test_a_selection_filters_sites_facilities_and_days_in_a_fixed_order(db: Path):
    selection = Selection.model_validate(
        {
            "mart": "fct_node_balance_daily",
            "sites": ["s1"],
            "facilities": ["dam", "pit"],
            "columns": ["node_id", "day", "outflow_m3"],
            "dates": "last_month",
        }
    )
    data = read_export(db, selection, dt.date(2025, 8, 20))
    assert data.rows == [
        ("dam", dt.date(2025, 7, 1), 9.25),
        ("dam", dt.date(2025, 7, 2), 8.0),
        ("pit", dt.date(2025, 7, 1), None),
    ]
    assert data.filters["date_from"] == "2025-07-01" and data.filters["date_to"] == "2025-07-31"
    assert data.warehouse_version == "v-tiny"


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("today", "2026-03-04", "2026-03-04"),
        ("yesterday", "2026-03-03", "2026-03-03"),
        ("last_7_days", "2026-02-25", "2026-03-03"),
        ("last_1_days", "2026-03-03", "2026-03-03"),
        ("last_week", "2026-02-23", "2026-03-01"),  # 2026-03-04 is a Wednesday
        ("week_to_date", "2026-03-02", "2026-03-04"),
        ("last_month", "2026-02-01", "2026-02-28"),
        ("month_to_date", "2026-03-01", "2026-03-04"),
        ("last_year", "2025-01-01", "2025-12-31"),
        ("year_to_date", "2026-01-01", "2026-03-04"),
    ],
)
def test_relative_ranges(name: str, first: str, last: str):
    got = resolve_range(name, dt.date(2026, 3, 4))
    assert got == (dt.date.fromisoformat(first), dt.date.fromisoformat(last))


def test_last_month_across_a_year_end():
    assert resolve_range("last_month", dt.date(2026, 1, 1)) == (
        dt.date(2025, 12, 1),
        dt.date(2025, 12, 31),
    )


def test_schedules_as_cron_with_the_seed_defaults():
    assert Schedule.model_validate("daily").cron == "0 6 * * *"
    assert Schedule.model_validate("weekly").cron == "0 6 * * 1"  # Monday
    assert Schedule.model_validate("monthly").cron == "0 6 1 * *"
    assert Schedule.model_validate(
        {"every": "weekly", "weekday": "sunday", "at": "23:45"}
    ).cron == ("45 23 * * 0")
    assert Schedule.model_validate({"every": "monthly", "day": 28, "at": "00:05"}).cron == (
        "5 0 28 * *"
    )
    with pytest.raises(ValueError, match="unknown timezone"):
        Schedule.model_validate({"every": "daily", "timezone": "Mars/Olympus"})


def test_retention_keeps_the_newest_runs_and_the_current_one():
    files = [
        (f"exp_{day}.{fmt}", 1000.0 + i)
        for i, day in enumerate(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"])
        for fmt in ("csv", "xlsx")
    ] + [("exp_other_2026-01-01.csv", 0.0), ("notes.txt", 0.0), ("exp_2026-01-01.csv.part", 0.0)]
    assert sorted(run_files([n for n, _ in files], "exp")) == [
        "2026-01-01",
        "2026-01-02",
        "2026-01-03",
        "2026-01-04",
    ]
    keep2 = Retention(keep_last=2)
    assert expired(files, "exp", keep2, "2026-01-04", now=2000.0) == [
        "exp_2026-01-01.csv",
        "exp_2026-01-01.xlsx",
        "exp_2026-01-02.csv",
        "exp_2026-01-02.xlsx",
    ]
    # re-running an old period keeps it, and the newest one
    assert {n[4:14] for n in expired(files, "exp", keep2, "2026-01-01", now=2000.0)} == {
        "2026-01-02",
        "2026-01-03",
    }
    # by age: written before now - 1 day
    day = 86400.0
    assert expired(files, "exp", Retention(keep_days=1), "2026-01-04", now=1001.5 + day) == [
        "exp_2026-01-01.csv",
        "exp_2026-01-01.xlsx",
        "exp_2026-01-02.csv",
        "exp_2026-01-02.xlsx",
    ]
    assert expired(files, "exp", None, "2026-01-04", now=1e12) == []


def test_a_workbook_carries_no_clock_reading(db: Path):
    data = read_export(db, Selection(mart="dim_sites"), dt.date(2025, 8, 1))
    stamp = dt.datetime(2026, 1, 2, 3, 4, 6, tzinfo=dt.UTC)
    meta = ExportMeta("x", "dim_sites", {}, "v", stamp, dt.date(2025, 8, 1), 2, {}, {})
    first = render_xlsx(data, meta)
    assert render_xlsx(data, meta) == first
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 1, 2, 3, 4, 6)}
        core = z.read("docProps/core.xml").decode()
    assert core.count("2026-01-02T03:04:06Z") == 2
    book = openpyxl.load_workbook(io.BytesIO(first))
    assert book.sheetnames == ["Data", "Metadata", "Columns"]
    assert dict(book["Metadata"].iter_rows(min_row=2, values_only=True))["row_count"] == "2"


def test_the_documented_example_is_a_valid_exports_file():
    text = (Path(__file__).resolve().parents[2] / "docs" / "exports.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    parsed, _ = parse_exports_text(example, "docs/exports.md")
    monthly, sites = parsed.exports
    assert monthly.schedule is not None and monthly.schedule.cron == "0 6 1 * *"
    assert [d.type for d in monthly.destinations] == ["folder", "s3", "email", "sftp"]
    assert monthly.retention_for(monthly.destinations[1]) == Retention(keep_days=400)
    assert monthly.retention_for(monthly.destinations[0]) == Retention(keep_last=12)
    assert sites.source.columns == [] and sites.schedule is None


def test_a_sheet_too_long_for_excel_is_refused_with_the_way_out(db: Path):
    data = read_export(db, Selection(mart="dim_sites"), dt.date(2025, 8, 1))
    many = replace(data, rows=[("s", "n")] * EXCEL_MAX_ROWS)
    meta = ExportMeta(
        "x",
        "dim_sites",
        {},
        "v",
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        dt.date(2025, 8, 1),
        len(many.rows),
        {},
        {},
    )
    with pytest.raises(ValueError, match="export csv or parquet"):
        render_xlsx(many, meta)
