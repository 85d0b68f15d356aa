"""Exports in the one Dagster entry point: ``export_job`` and a schedule per scheduled export of
the home's exports.yaml (the seed's defaults, a weekday, a day of the month, a timezone); a tick
asks for the export of its day, and the job run in process delivers and records it."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

from dagster import DagsterInstance, build_schedule_context

from orchestration.definitions import build_defs, defs
from reports.exports import ExportHistory
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.reports.exports_fixture import tiny_warehouse

EXPORTS = """\
exports:
  - name: sites_monthly
    source: {mart: dim_sites}
    formats: [csv, json]
    schedule: monthly
    destinations:
      - {type: folder, path: monthly}
  - name: balances_weekly
    source: {mart: fct_node_balance_daily, dates: last_week}
    formats: [csv]
    schedule: {every: weekly, weekday: friday, at: "07:30", timezone: Australia/Perth}
  - name: on_demand
    source: {mart: dim_sites}
    formats: [xml]
"""


def _home(tmp_path: Path, text: str) -> Settings:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    tiny_warehouse(settings.published_db)
    (settings.home / "exports.yaml").write_text(text)
    return settings


def test_the_export_job_is_in_the_one_entry_point():
    job = defs.resolve_job_def("export_job")
    assert job.description and "exports.yaml" in job.description


def test_a_schedule_per_scheduled_export_and_a_tick_runs_the_export_of_its_day(tmp_path: Path):
    settings = _home(tmp_path, EXPORTS)
    home_defs = build_defs(settings)
    monthly = home_defs.resolve_schedule_def("export_sites_monthly_schedule")
    weekly = home_defs.resolve_schedule_def("export_balances_weekly_schedule")
    assert monthly.cron_schedule == "0 6 1 * *"  # the seed's default: the 1st, 06:00
    assert weekly.cron_schedule == "30 7 * * 5"
    assert weekly.execution_timezone == "Australia/Perth"
    assert monthly.job_name == weekly.job_name == "export_job"
    names = {s.name for s in home_defs.schedules}
    assert not any("on_demand" in n for n in names)  # no schedule: run by hand only

    instance = DagsterInstance.ephemeral()
    tick = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)
    context = build_schedule_context(instance=instance, scheduled_execution_time=tick)
    (request,) = monthly.evaluate_tick(context).run_requests or []
    config = request.run_config["ops"]["run_export_op"]["config"]
    assert config == {"name": "sites_monthly", "as_of": "2026-03-01", "trigger": "schedule"}

    result = home_defs.resolve_job_def("export_job").execute_in_process(
        run_config=request.run_config, instance=instance
    )
    assert result.success
    (run,) = ExportHistory(StateStore(settings.state_store_url)).runs("sites_monthly")
    assert run.status == "succeeded" and run.trigger == "schedule" and run.rows == 2
    written = settings.home / "exports" / "monthly" / "sites_monthly_2026-03-01.csv"
    assert written.read_bytes() == b"site_id,site_name\r\ns1,One\r\ns2,Two\r\n"


def test_an_unreadable_exports_file_gives_no_schedules_but_not_a_broken_code_location(
    tmp_path: Path,
):
    settings = _home(tmp_path, EXPORTS.replace("schedule: monthly", "schedule: hourly"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        home_defs = build_defs(settings)
    assert not any(s.name.startswith("export_") for s in home_defs.schedules)
    assert any("exports.yaml:5" in str(w.message) for w in caught)
    assert home_defs.resolve_job_def("export_job") is not None
