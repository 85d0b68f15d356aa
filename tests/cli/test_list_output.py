"""List commands print every identifier whole (so it can be copied into the next command) at a
narrow terminal, offer JSON lines for scripts, and say what was searched when nothing matched."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from alerts.state import AlertStore
from alerts.types import LifecyclePolicy, Observation
from siteledger.settings import Settings
from siteledger.site.loader import dump_site
from siteledger.state import StateStore
from tests.cli.conftest import invoke
from tests.ingestion.lab_site import lab_site


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- ingest jobs -----------------------------------------------------------------------------
def test_ingest_jobs_prints_batch_ids_whole_at_80_columns_and_they_roll_back(jobs_home):
    home, committed, big = jobs_home
    listed = invoke(home, "ingest", "jobs", columns=80)
    assert listed.exit_code == 0, listed.output
    assert committed in listed.output and big in listed.output
    rolled = invoke(home, "ingest", "rollback", committed)
    assert rolled.exit_code == 0, rolled.output
    assert committed in rolled.output
    after = invoke(home, "ingest", "jobs", "--json")
    assert {row["batch_id"]: row["status"] for row in _json_lines(after.stdout)}[committed] == (
        "rolled_back"
    )


def test_ingest_jobs_counts_have_thousands_separators(jobs_home):
    home, _, _ = jobs_home
    for columns in (80, 160):
        listed = invoke(home, "ingest", "jobs", columns=columns)
        assert "1,234,567" in listed.output and "1,230,000" in listed.output, listed.output
        assert "4,000" in listed.output


def test_ingest_jobs_json_has_stable_keys_numbers_and_iso_times(jobs_home):
    home, committed, big = jobs_home
    result = invoke(home, "ingest", "jobs", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["batch_id"]: row for row in _json_lines(result.stdout)}
    assert set(rows) == {committed, big}
    row = rows[big]
    assert row["total_rows"] == 1_234_567 and row["failed_rows"] == 567
    assert row["status"] == "quarantined" and row["site_id"] == "small_site"
    assert dt.datetime.fromisoformat(row["finished_at"]) == dt.datetime(
        2025, 8, 1, 6, 30, tzinfo=dt.UTC
    )
    assert dt.datetime.fromisoformat(rows[committed]["started_at"]).tzinfo is not None
    assert {
        "batch_id",
        "site_id",
        "source",
        "source_file",
        "status",
        "total_rows",
        "imported_rows",
        "skipped_rows",
        "failed_rows",
        "started_at",
        "finished_at",
    } <= set(row)


def test_ingest_jobs_with_nothing_matching_says_what_was_searched(jobs_home):
    home, _, _ = jobs_home
    result = invoke(home, "ingest", "jobs", "--status", "failed")
    assert result.exit_code == 0
    assert "no import jobs matched" in result.output and "status=failed" in result.output
    assert "batch id" not in result.output  # no bare headers
    quiet = invoke(home, "ingest", "jobs", "--status", "failed", "--json")
    assert quiet.stdout == ""


def test_ingest_quarantine_with_nothing_matching_says_so(jobs_home):
    home, committed, _ = jobs_home
    result = invoke(home, "ingest", "quarantine", "--batch", committed)
    assert "no quarantined rows matched" in result.output and f"batch={committed}" in result.output


# -- reports list ----------------------------------------------------------------------------
def test_reports_list_prints_ids_whole_at_80_columns_and_show_takes_them(reports_home: Path):
    listed = invoke(reports_home, "reports", "list", columns=80)
    assert listed.exit_code == 0, listed.output
    ids = [
        "quarterly_discharge_report.demo_mine.FY2026-Q1.v1-a1b2c3",
        "monthly_water_return.demo_mine.2025-07.v1-a1b2c3",
    ]
    for report_id in ids:
        assert report_id in listed.output, listed.output
        shown = invoke(reports_home, "reports", "show", report_id)
        assert shown.exit_code == 0 and shown.output.startswith(report_id), shown.output
    # wide enough, it is a table with a row per report
    wide = invoke(reports_home, "reports", "list", columns=160)
    assert sum("│" in line and "a1b2c3" in line for line in wide.output.splitlines()) == 2


def test_reports_list_json(reports_home: Path):
    result = invoke(reports_home, "reports", "list", "--json")
    rows = {row["period_key"]: row for row in _json_lines(result.stdout)}
    q1 = rows["FY2026-Q1"]
    assert q1["report_id"] == "quarterly_discharge_report.demo_mine.FY2026-Q1.v1-a1b2c3"
    assert q1["status"] == "draft" and q1["version"] == 1
    assert q1["due_date"] == "2025-10-28"
    assert q1["generated_at"] == "2025-08-02T07:00:00+00:00"
    assert q1["validation_errors"] == ["closure-within-5pct: 7.2 % > 5 %"]
    assert rows["2025-07"]["submitted_at"] is None


def test_reports_list_with_nothing_matching_says_what_was_searched(reports_home: Path):
    result = invoke(reports_home, "reports", "list", "--site", "nowhere", "--status", "submitted")
    assert result.exit_code == 0
    assert "no reports matched" in result.output
    assert "site=nowhere" in result.output and "status=submitted" in result.output
    assert "generated" not in result.output


# -- alerts ----------------------------------------------------------------------------------
def _alerts_home(tmp_path: Path) -> Path:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    now = dt.datetime(2025, 7, 14, 6, 0, tzinfo=dt.UTC)
    observation = Observation(
        rule_id="store_level_high_with_a_long_rule_name",
        labels={"site_id": "demo_mine", "node_id": "process_water_dam_north_cell"},
        breached=True,
        observed_at="2025-07-14",
        evaluated_at=now,
        value=81.2,
        threshold="80",
        summary="Store process_water_dam_north_cell at demo_mine is full",
    )
    AlertStore(store).observe(
        [(LifecyclePolicy(severity="critical"), observation, {"category": "operational"})]
    )
    store.dispose()
    return settings.home


def test_alerts_list_ids_whole_json_iso_and_empty(tmp_path: Path):
    home = _alerts_home(tmp_path)
    rows = _json_lines(invoke(home, "alerts", "list", "--state", "all", "--json").stdout)
    [row] = rows
    assert dt.datetime.fromisoformat(row["opened_at"]).tzinfo is not None
    assert "T" in row["opened_at"]
    listed = invoke(home, "alerts", "list", "--state", "all", columns=80)
    assert row["event_id"] in listed.output, listed.output
    acked = invoke(home, "alerts", "ack", row["event_id"], "--by", "tests")
    assert acked.exit_code == 0, acked.output
    empty = invoke(home, "alerts", "list", "--severity", "info")
    assert "no alerts matched" in empty.output and "severity=info" in empty.output
    silences = invoke(home, "alerts", "silences")
    assert "no silences matched" in silences.output


# -- incidents -------------------------------------------------------------------------------
def test_incidents_list_ids_whole_json_and_empty(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    (settings.sites_dir / "small_site.yaml").write_text(dump_site(lab_site()), encoding="utf-8")
    added = invoke(
        settings.home,
        *("incidents", "add", "--site", "small_site", "--type", "overflow", "--node", "dam"),
        *("--started", "2025-05-01 07:00", "--volume-m3", "12345.6"),
    )
    assert added.exit_code == 0, added.output
    incident_id = added.output.split()[-1]
    listed = invoke(settings.home, "incidents", "list", columns=80)
    assert incident_id in listed.output and "12,345.6" in listed.output, listed.output
    [row] = _json_lines(invoke(settings.home, "incidents", "list", "--json").stdout)
    assert row["incident_id"] == incident_id and row["volume_m3"] == 12345.6
    assert dt.datetime.fromisoformat(row["started_at"]).tzinfo is not None
    resolved = invoke(settings.home, "incidents", "resolve", incident_id, "--ended", "2025-05-02")
    assert resolved.exit_code == 0, resolved.output
    empty = invoke(settings.home, "incidents", "list", "--status", "active")
    assert "no incidents matched" in empty.output and "status=active" in empty.output


# -- every list command on an empty home -----------------------------------------------------
EMPTY_LISTS = [
    (("ingest", "jobs", "--status", "failed"), "no import jobs matched (status=failed)"),
    (("ingest", "quarantine", "--batch", "b1"), "no quarantined rows matched (batch=b1)"),
    (("warehouse", "versions"), "no published versions found"),
    (("reports", "list", "--site", "s1"), "no reports matched (site=s1, versions=latest)"),
    (("alerts", "list", "--rule", "r1"), "no alerts matched (state=open, rule=r1)"),
    (("alerts", "silences", "--all"), "no silences found"),
    (("incidents", "list", "--site", "s1"), "no incidents matched (site=s1)"),
    (("analytics", "models", "--site", "s1"), "no forecast models matched (site=s1"),
]


@pytest.mark.parametrize(
    ("args", "sentence"), EMPTY_LISTS, ids=[" ".join(a[:2]) for a, _ in EMPTY_LISTS]
)
def test_every_list_command_says_what_matched_nothing(tmp_path: Path, args, sentence):
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    table = invoke(settings.home, *args)
    assert table.exit_code == 0, table.output
    assert sentence in table.output and len(table.output.splitlines()) == 1, table.output
    scripted = invoke(settings.home, *args, "--json")
    assert scripted.exit_code == 0 and scripted.stdout == "", scripted.output
    assert sentence in scripted.stderr
