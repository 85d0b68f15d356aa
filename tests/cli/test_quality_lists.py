"""``quality scores`` and ``quality flags`` print through the shared table helper: meter ids
whole at 80 columns, scores without negative zero, ``--json`` lines, and a sentence when
nothing matched."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from siteledger.settings import Settings
from tests.cli.conftest import invoke

METER = "FT-BOREFIELD-NORTH-COLLECTOR-0042-TOTALISER"


def _published(tmp_path: Path) -> Path:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    settings.published_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_db)) as con:
        con.execute(
            "create table fct_quality_scores_daily as select * from (values "
            f"('demo_mine', date '2025-07-02', 'meter', '{METER}', 100.0::double, "
            " 98.958::double, 100.0, -0.00001::double, 100.0, 87.4::double, 'fair', "
            " 'every reading inside the valid range (1 of 96 outside)')) "
            "t(site_id, day, scope, scope_id, completeness_score, validity_score, "
            "timeliness_score, consistency_score, redundancy_score, overall_score, status, "
            "failing_expectations)"
        )
        con.execute(
            "create table fct_reading_flags as select * from (values "
            f"('demo_mine', '{METER}', date '2025-07-02', timestamptz '2025-07-02 03:15:00+00', "
            " 'spike', 'error', 1234567.5::double, 412.25::double, 'linear_interpolation', "
            " 'more than 6 robust sigma from its neighbours')) "
            "t(site_id, meter_id, day, ts_utc, flag, severity, value, estimated_value, "
            "estimation_method, detail)"
        )
    return settings.home


def test_quality_scores_print_meter_ids_whole_and_json_and_say_when_nothing_matched(
    tmp_path: Path,
):
    home = _published(tmp_path)
    shown = invoke(home, "quality", "scores", "--scope", "meter")
    assert shown.exit_code == 0, shown.output
    assert METER in shown.output and "99.0" in shown.output
    assert "-0.0" not in shown.output and "consistent: 0.0" in shown.output, shown.output
    [row] = [
        json.loads(line)
        for line in invoke(home, "quality", "scores", "--scope", "meter", "--json").stdout.split(
            "\n"
        )
        if line
    ]
    assert row["scope_id"] == METER and row["day"] == "2025-07-02"
    assert row["validity_score"] == 98.958 and row["status"] == "fair"
    empty = invoke(home, "quality", "scores", "--site", "nowhere")
    assert "no quality scores matched (scope=site, site=nowhere)" in empty.output


def test_quality_flags_print_meter_ids_whole_and_json_and_say_when_nothing_matched(
    tmp_path: Path,
):
    home = _published(tmp_path)
    shown = invoke(home, "quality", "flags")
    assert shown.exit_code == 0, shown.output
    assert METER in shown.output and "1.23457e+06" in shown.output
    [row] = [
        json.loads(line) for line in invoke(home, "quality", "flags", "--json").stdout.splitlines()
    ]
    assert row["meter_id"] == METER and row["value"] == 1234567.5
    assert row["ts_utc"].startswith("2025-07-02T03:15:00")
    empty = invoke(home, "quality", "flags", "--flag", "flat_line")
    assert "no VEE flags matched (flag=flat_line)" in empty.output
