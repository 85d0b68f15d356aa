"""``siteledger exports``: list (checked against the warehouse), run (and a dry run), history,
and an ad-hoc export of one mart; bad input refused with the reason."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from tests.reports.exports_fixture import tiny_warehouse

EXPORTS = """\
exports:
  - name: dams
    source:
      mart: fct_node_balance_daily
      facilities: [dam]
      columns: [site_id, day, inflow_m3]
      dates: last_month
    formats: [csv, parquet]
    schedule: {every: weekly, weekday: friday}
    destinations:
      - {type: folder, path: out}
      - {type: s3}
"""


def invoke(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SITELEDGER_S3_BUCKET", "SITELEDGER_SMTP_HOST", "SITELEDGER_SFTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SITELEDGER_EXPORT_DIR", raising=False)
    home = tmp_path / "home"
    tiny_warehouse(home / "warehouse" / "siteledger.duckdb")
    (home / "exports.yaml").write_text(EXPORTS)
    return home


def test_list_run_and_history(home: Path):
    listed = invoke(home, "exports", "list")
    assert listed.exit_code == 0
    assert (
        "dams: fct_node_balance_daily -> csv, parquet; schedule weekly 06:00 (cron 0 6 * * 5)"
        in (listed.output)
    )

    dry = invoke(
        home,
        "exports",
        "run",
        "dams",
        "--as-of",
        "2025-08-15",
        "--dry-run",
        "--out",
        str(home / "preview"),
    )
    assert dry.exit_code == 0, dry.output
    assert "3 rows; would deliver to: folder, s3" in dry.output
    rows = list(
        csv.reader(io.StringIO((home / "preview" / "dams_2025-07-01_2025-07-31.csv").read_text()))
    )
    # the dam only (not s1's pit), July only, ordered by site, day
    assert rows == [
        ["site_id", "day", "inflow_m3"],
        ["s1", "2025-07-01", "10.5"],
        ["s1", "2025-07-02", "11.0"],
        ["s2", "2025-07-01", "7.0"],
    ]
    assert not (home / "exports" / "out").exists()  # a dry run delivers nothing

    ran = invoke(home, "exports", "run", "dams", "--as-of", "2025-08-15")
    assert ran.exit_code == 0  # partial: the folder got the files, S3 is not configured
    assert "dams run" in ran.output and ": partial, 3 rows" in ran.output
    assert "-> folder" in ran.output and "succeeded" in ran.output
    assert "SITELEDGER_S3_BUCKET is not set" in ran.output
    assert (home / "exports" / "out" / "dams_2025-07-01_2025-07-31.parquet").exists()
    # the CLI ran the export job through Dagster, on the home's instance: the UI shows it
    from dagster import DagsterInstance, DagsterRunStatus

    with DagsterInstance.from_config(str(home / "dagster")) as instance:
        (run,) = instance.get_runs()
    assert run.job_name == "export_job" and run.status == DagsterRunStatus.SUCCESS
    assert run.run_config["ops"]["run_export_op"]["config"]["name"] == "dams"

    shown = invoke(home, "exports", "history", "--json")
    (line,) = shown.output.splitlines()
    record = json.loads(line)
    assert record["export_name"] == "dams" and record["status"] == "partial"
    assert [d["status"] for d in record["destinations"]] == ["succeeded", "failed"]
    table = CliRunner(env={"COLUMNS": "200"}).invoke(
        cli, ["--home", str(home), "exports", "history"], catch_exceptions=False
    )
    assert record["run_id"] in table.output and "folder:succeeded s3:failed" in table.output
    assert (
        "no export runs matched (name=other)"
        in invoke(home, "exports", "history", "--name", "other").output
    )


def test_an_ad_hoc_mart_export(home: Path, tmp_path: Path):
    out = tmp_path / "sites.json"
    done = invoke(
        home,
        "exports",
        "mart",
        "fct_node_balance_daily",
        "--format",
        "json",
        "--site",
        "s1",
        "--facility",
        "dam",
        "--from",
        "2025-07-02",
        "--to",
        "2025-07-31",
        "--out",
        str(out),
    )
    assert done.exit_code == 0, done.output
    rows = json.loads(out.read_text())["rows"]
    assert rows == [
        {
            "site_id": "s1",
            "node_id": "dam",
            "day": "2025-07-02",
            "inflow_m3": 11.0,
            "outflow_m3": 8.0,
        }
    ]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["fct_nope"], "no published mart 'fct_nope'"),
        (["dim_sites", "--column", "site_id; drop table dim_sites"], "is not a table or column"),
        (["dim_sites", "--facility", "dam"], "has no node_id column"),
        (["dim_sites", "--from", "2025-07-01"], "give both --from and --to"),
        (["dim_sites", "--from", "July", "--to", "2025-07-02"], "is not a date"),
    ],
)
def test_an_ad_hoc_export_refuses_bad_input(
    home: Path, tmp_path: Path, args: list[str], reason: str
):
    done = CliRunner().invoke(
        cli, ["--home", str(home), "exports", "mart", *args, "--out", str(tmp_path / "x.csv")]
    )
    assert done.exit_code != 0 and reason in done.output, done.output
    assert not (tmp_path / "x.csv").exists()


def test_a_bad_exports_file_is_reported_with_file_and_line(home: Path):
    (home / "exports.yaml").write_text(EXPORTS.replace("inflow_m3]", "inflow]"))
    done = CliRunner().invoke(cli, ["--home", str(home), "exports", "list"])
    assert done.exit_code == 1
    assert (
        f"{home / 'exports.yaml'}:6: exports[0].source.columns[2]: mart "
        "'fct_node_balance_daily' has no column 'inflow'" in done.output
    )
    assert "is not a valid exports file" in done.output
    unknown = CliRunner().invoke(cli, ["--home", str(home), "exports", "run", "nope"])
    assert unknown.exit_code == 1
