"""Every sensor and schedule of ``defs`` is evaluated against a real instance with real events,
and the run request it makes is asserted (the sensors of files, site files and lake days are
evaluated in ``test_definitions.py``, the device spool sensor beside the device assets)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from dagster import (
    DagsterInstance,
    MaterializeResult,
    RunRequest,
    asset,
    build_schedule_context,
    build_sensor_context,
    materialize,
)

from ingestion.devices.importer import spool_for
from orchestration.definitions import build_defs, defs
from orchestration.devices.assets import device_readings
from orchestration.keys import PUBLISHED
from orchestration.ml.jobs import model_retrain_job
from orchestration.resources import SiteledgerHome
from siteledger.settings import Settings
from siteledger.site import dump_site
from tests.dbt.runner import shared_home
from tests.ingestion.devices.test_spool import _segment, _site
from tests.reports.conftest import build_published_demo, fresh_home

ROOT = Path(__file__).resolve().parents[2]
PERTH = zoneinfo.ZoneInfo("Australia/Perth")
ORGANISATION = "organisation:\n  data_start: 2025-07-01\n  financial_year_start_month: 7\n"
COVERED_ELSEWHERE = {
    "landing_file_sensor": "tests/orchestration/test_definitions.py",
    "site_config_sensor": "tests/orchestration/test_definitions.py",
    "lake_days_changed_sensor": "tests/orchestration/test_definitions.py",
    "rolled_back_days_sensor": "tests/orchestration/test_rollback_sensor.py",
    "device_spool_sensor": "tests/ingestion/devices/test_orchestration.py",
    "alert_evaluation_sensor": "tests/alerts/test_orchestration.py",
    "platform_alerts_sensor": "tests/alerts/test_orchestration.py",
    "alert_evaluation_schedule": "tests/alerts/test_orchestration.py",
}


def _home(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    settings.organisation_file.write_text(ORGANISATION)
    site = _site(15020).model_copy(deep=True)
    site.site.timezone = "Australia/Perth"
    (settings.sites_dir / "spool_site.yaml").write_text(dump_site(site), encoding="utf-8")
    return settings


def _resources(settings: Settings) -> dict[str, SiteledgerHome]:
    return {"siteledger": SiteledgerHome(home=str(settings.home))}


@pytest.fixture(scope="module")
def published_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "reports_demo_year", build_published_demo)


# -- schedules --------------------------------------------------------------------------------
def _schedule_request(settings: Settings, name: str, at: dt.datetime) -> RunRequest:
    home_defs = build_defs(settings)
    schedule = home_defs.resolve_schedule_def(name)
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(
            instance=instance,
            scheduled_execution_time=at,
            repository_def=home_defs.get_repository_def(),
        )
        (request,) = schedule.evaluate_tick(context).run_requests or []
    return request


def nightly_schedule(tmp_path: Path) -> None:
    settings = _home(tmp_path)
    request = _schedule_request(
        settings, "nightly_schedule", dt.datetime(2025, 7, 3, 2, 0, tzinfo=PERTH)
    )
    # 02:00 on the 3rd (the sites' zone): the day that just ended, the 2nd
    assert request.partition_key == "2025-07-02"


def compliance_report_monthly_schedule(tmp_path: Path) -> None:
    request = _schedule_request(
        _home(tmp_path),
        "compliance_report_monthly_schedule",
        dt.datetime(2025, 8, 1, 4, 0, tzinfo=PERTH),
    )
    assert request.partition_key == "2025-07-01"  # July, just ended


def compliance_report_quarterly_schedule(tmp_path: Path) -> None:
    request = _schedule_request(
        _home(tmp_path),
        "compliance_report_quarterly_schedule",
        dt.datetime(2025, 10, 1, 4, 0, tzinfo=PERTH),
    )
    assert request.partition_key == "2025-07-01"  # the first quarter of FY2026


def compliance_report_annual_schedule(tmp_path: Path) -> None:
    request = _schedule_request(
        _home(tmp_path),
        "compliance_report_annual_schedule",
        dt.datetime(2026, 7, 1, 4, 0, tzinfo=PERTH),
    )
    assert request.partition_key == "2025-07-01"  # FY2026, July 2025 to June 2026


def energy_report_weekly_schedule(tmp_path: Path) -> None:
    settings = _home(tmp_path)
    # Monday 14 July 2025, 05:00 in the sites' zone: the ISO week of 7-13 July, just ended
    request = _schedule_request(
        settings, "energy_report_weekly_schedule", dt.datetime(2025, 7, 14, 5, 0, tzinfo=PERTH)
    )
    assert request.partition_key == "2025-07-07"
    assert request.job_name in (None, "energy_report_weekly_job")
    # the Monday before, the data's first week is not complete: nothing to ask for
    home_defs = build_defs(settings)
    schedule = home_defs.resolve_schedule_def("energy_report_weekly_schedule")
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(
            instance=instance,
            scheduled_execution_time=dt.datetime(2025, 7, 7, 5, 0, tzinfo=PERTH),
            repository_def=home_defs.get_repository_def(),
        )
        assert not schedule.evaluate_tick(context).run_requests


def energy_report_email_schedule(tmp_path: Path) -> None:
    settings = _home(tmp_path)
    schedule = build_defs(settings).resolve_schedule_def("energy_report_email_schedule")
    # 06:00 daily, after the weekly summaries (Monday 05:00) and the monthly reports (04:00)
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "Australia/Perth"
    assert schedule.job_name == "energy_report_email_job"
    request = _schedule_request(
        settings, "energy_report_email_schedule", dt.datetime(2025, 7, 14, 6, 0, tzinfo=PERTH)
    )
    assert request.partition_key is None


def materials_report_email_schedule(tmp_path: Path) -> None:
    settings = _home(tmp_path)
    schedule = build_defs(settings).resolve_schedule_def("materials_report_email_schedule")
    # 06:00 daily, after the monthly reports (04:00 on the 1st)
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "Australia/Perth"
    assert schedule.job_name == "materials_report_email_job"
    request = _schedule_request(
        settings, "materials_report_email_schedule", dt.datetime(2025, 8, 1, 6, 0, tzinfo=PERTH)
    )
    assert request.partition_key is None


def metering_report_email_schedule(tmp_path: Path) -> None:
    settings = _home(tmp_path)
    schedule = build_defs(settings).resolve_schedule_def("metering_report_email_schedule")
    # 06:15 daily, after the monthly reports (04:00 on the 1st) and the materials e-mail
    assert schedule.cron_schedule == "15 6 * * *"
    assert schedule.execution_timezone == "Australia/Perth"
    assert schedule.job_name == "metering_report_email_job"
    request = _schedule_request(
        settings, "metering_report_email_schedule", dt.datetime(2025, 8, 1, 6, 15, tzinfo=PERTH)
    )
    assert request.partition_key is None


def model_retrain_schedule(tmp_path: Path) -> None:
    settings = _home(tmp_path)
    home_defs = build_defs(settings)
    schedule = home_defs.resolve_schedule_def("model_retrain_schedule")
    # the first of the month at 03:00: after the nightly run, before the monthly reports
    assert schedule.cron_schedule == "0 3 1 * *"
    assert schedule.execution_timezone == "Australia/Perth"  # the sites' zone
    assert schedule.job_name == "model_retrain_job"
    _schedule_request(
        settings, "model_retrain_schedule", dt.datetime(2025, 8, 1, 3, 0, tzinfo=PERTH)
    )
    # every model retrained, whatever its next-retrain date, and the result published
    assert model_retrain_job.config == {"ops": {"analytics": {"config": {"retrain": "all"}}}}
    job = home_defs.resolve_job_def("model_retrain_job")
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert "warehouse/published" in selected and "marts/fct_model_registry" in selected


# -- sensors ----------------------------------------------------------------------------------
def device_lake_days_changed_sensor(tmp_path: Path) -> None:
    settings = _home(tmp_path)
    home_defs = build_defs(settings)
    sensor = home_defs.resolve_sensor_def("device_lake_days_changed_sensor")
    spool = spool_for(settings, "spool_site")
    # two cycles: 23:59 UTC on 30 June is 07:59 on 1 July in Perth; the next day 2 July
    for cycle in (dt.datetime(2025, 6, 30, 23, 59), dt.datetime(2025, 7, 1, 16, 30)):
        cycle_us = int(cycle.replace(tzinfo=dt.UTC).timestamp() * 1_000_000)
        spool.write(_segment(cycle_us, {"FT-1": 12.5, "FQ-1": 4321.0}), "abc")
    with DagsterInstance.ephemeral() as instance:
        with build_sensor_context(instance=instance, resources=_resources(settings)) as context:
            assert not sensor.evaluate_tick(context).run_requests  # nothing imported yet
        result = materialize([device_readings], resources=_resources(settings), instance=instance)
        assert result.success
        with build_sensor_context(instance=instance, resources=_resources(settings)) as context:
            tick = sensor.evaluate_tick(context)
        (request,) = tick.run_requests or []
        assert request.job_name in (None, "backfill_job")
        assert request.tags["dagster/asset_partition_range_start"] == "2025-07-01"
        assert request.tags["dagster/asset_partition_range_end"] == "2025-07-02"
        with build_sensor_context(
            instance=instance, resources=_resources(settings), cursor=tick.cursor
        ) as context:
            assert not sensor.evaluate_tick(context).run_requests  # asked once


def report_deadline_sensor(tmp_path: Path) -> None:
    settings = _home(tmp_path)
    sensor = build_defs(settings).resolve_sensor_def("report_deadline_sensor")
    # a published site that files to one regulator, and that regulator's monthly return, due
    # at the end of today (UTC) for last month: within 48 h, whatever day the test runs
    with duckdb.connect(str(settings.published_db)) as con:
        con.execute(
            "create table dim_sites as select 'spool_site' as site_id, 'EPA' as regulators, "
            "cast(null as varchar) as organisation"
        )
    today = dt.datetime.now(dt.UTC).date()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    definitions = settings.reports_dir / "definitions"
    definitions.mkdir(parents=True)
    with DagsterInstance.ephemeral() as instance:
        with build_sensor_context(instance=instance, resources=_resources(settings)) as context:
            skipped = sensor.evaluate_tick(context)
        assert not skipped.run_requests  # the shipped returns are another regulator's
        (definitions / "epa_return.yaml").write_text(
            "id: epa_return\ntitle: EPA return\nregulator: EPA\nreport_type: custom\n"
            "period: monthly\nsections: [summary]\nmetrics: [inputs, outputs]\n"
            f"due: {{days_after_period_end: {(today - last_month_end).days}}}\n"
        )
        with build_sensor_context(instance=instance, resources=_resources(settings)) as context:
            (request,) = sensor.evaluate_tick(context).run_requests or []
    assert request.tags["siteledger/reports_due"] == "1"
    assert request.run_key.startswith(f"{dt.datetime.now(dt.UTC):%Y-%m-%d}-")


def _publish(instance: DagsterInstance, tags: dict[str, str]) -> None:
    """A real materialisation of ``warehouse/published`` by a run with ``tags``."""

    @asset(key=PUBLISHED)
    def published() -> MaterializeResult:
        return MaterializeResult(metadata={"version_id": "v-test"})

    assert materialize([published], instance=instance, tags=tags).success


def published_reports_sensor(tmp_path: Path, published_year: Path) -> None:
    home = fresh_home(published_year, tmp_path / "home")
    settings = Settings(home=home)
    sensor = build_defs(settings).resolve_sensor_def("published_reports_sensor")
    with DagsterInstance.ephemeral() as instance:
        # the CLI's chain renders the reports itself after its publish: nothing to ask for
        _publish(instance, {"siteledger/started_by": "siteledger run"})
        with build_sensor_context(instance=instance, resources=_resources(settings)) as context:
            tick = sensor.evaluate_tick(context)
        assert not tick.run_requests
        # a publish by a sensor-started backfill: every complete period of the published year
        _publish(instance, {"siteledger/trigger": "lake changed"})
        with build_sensor_context(
            instance=instance, resources=_resources(settings), cursor=tick.cursor
        ) as context:
            tick = sensor.evaluate_tick(context)
    requests = {r.job_name: r for r in tick.run_requests or []}
    assert set(requests) == {
        "compliance_report_monthly_job",
        "compliance_report_quarterly_job",
        "compliance_report_annual_job",
        # the demo mine's power station: its weekly energy summaries
        "energy_report_weekly_job",
    }
    ranges = {
        job: (
            r.tags["dagster/asset_partition_range_start"],
            r.tags["dagster/asset_partition_range_end"],
        )
        for job, r in requests.items()
    }
    assert ranges == {
        "compliance_report_monthly_job": ("2025-07-01", "2026-06-01"),
        "compliance_report_quarterly_job": ("2025-07-01", "2026-04-01"),
        "compliance_report_annual_job": ("2025-07-01", "2025-07-01"),
        # the ISO weeks complete in the year: 7 July 2025 (the first Monday) to 22 June 2026
        "energy_report_weekly_job": ("2025-07-07", "2026-06-22"),
    }


def certificates_of_analysis_sensor(tmp_path: Path) -> None:
    from reports.service import generate
    from siteledger.state import StateStore
    from tests.reports.materials_site import publish

    settings = _home(tmp_path)
    # a published materials site: lots B1-OUT (passed) and B2-OUT (failed) tested completely,
    # B3-OUT still in testing
    publish(settings)
    sensor = build_defs(settings).resolve_sensor_def("certificates_of_analysis_sensor")
    with DagsterInstance.ephemeral() as instance:
        # the CLI's chain makes the certificates itself after its publish: nothing to ask for
        _publish(instance, {"siteledger/started_by": "siteledger run"})
        with build_sensor_context(instance=instance, resources=_resources(settings)) as context:
            tick = sensor.evaluate_tick(context)
        assert not tick.run_requests
        # a publish by a sensor-started backfill: two lots wait for their certificates
        _publish(instance, {"siteledger/trigger": "lake changed"})
        with build_sensor_context(
            instance=instance, resources=_resources(settings), cursor=tick.cursor
        ) as context:
            tick = sensor.evaluate_tick(context)
        (request,) = tick.run_requests or []
        assert request.job_name in (None, "certificates_of_analysis_job")
        assert request.tags["siteledger/certificates_due"] == "2"
        # once they are made, the next publish asks for nothing
        store = StateStore(settings.state_store_url)
        try:
            made = generate(settings, store, definition_ids=["certificate_of_analysis"], workers=1)
        finally:
            store.dispose()
        assert sorted(o.period_key for o in made) == ["B1-OUT", "B2-OUT"]
        _publish(instance, {"siteledger/trigger": "lake changed"})
        with build_sensor_context(
            instance=instance, resources=_resources(settings), cursor=tick.cursor
        ) as context:
            assert not sensor.evaluate_tick(context).run_requests


SCENARIOS: dict[str, Callable[..., None]] = {
    f.__name__: f
    for f in (
        nightly_schedule,
        compliance_report_monthly_schedule,
        compliance_report_quarterly_schedule,
        compliance_report_annual_schedule,
        model_retrain_schedule,
        energy_report_weekly_schedule,
        energy_report_email_schedule,
        materials_report_email_schedule,
        metering_report_email_schedule,
        device_lake_days_changed_sensor,
        certificates_of_analysis_sensor,
        report_deadline_sensor,
        published_reports_sensor,
    )
}


def _instigators() -> list[str]:
    return sorted([s.name for s in defs.sensors] + [s.name for s in defs.schedules])


@pytest.mark.parametrize("name", _instigators())
def test_every_sensor_and_schedule_asks_for_the_right_run(
    name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if name in COVERED_ELSEWHERE:
        module = (ROOT / COVERED_ELSEWHERE[name]).read_text()
        assert f"{name}" in module and "build_sensor_context" in module, name
        return
    scenario = SCENARIOS.get(name)
    assert scenario is not None, f"no evaluation test for {name}: add a scenario here"
    if "published_year" in scenario.__code__.co_varnames[: scenario.__code__.co_argcount]:
        scenario(tmp_path, request.getfixturevalue("published_year"))
    else:
        scenario(tmp_path)


def test_no_sensor_or_schedule_is_left_without_a_scenario() -> None:
    unknown = set(SCENARIOS) - set(_instigators())
    assert not unknown, f"scenarios for sensors or schedules that no longer exist: {unknown}"


def test_sensor_runs_jump_the_queue_ahead_of_backfills() -> None:
    """The run queue takes higher ``dagster/priority`` first: imports, the nightly run and the
    rebuilds sensors ask for go before a long backfill someone launched by hand."""
    from dagster._core.storage.dagster_run import DagsterRun
    from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
        QueuedRunCoordinatorDaemon,
    )

    def run(job_name: str, extra: dict[str, str] | None = None) -> DagsterRun:
        job = defs.resolve_job_def(job_name)
        return DagsterRun(job_name=job_name, run_id=job_name, tags={**job.tags, **(extra or {})})

    backfill = run("backfill_job")
    queue = [
        backfill,
        run("ingest_landing_job"),
        run("nightly_job"),
        run("device_spool_import_job"),
    ]
    ordered = QueuedRunCoordinatorDaemon(interval_seconds=1)._priority_sort(queue)
    assert ordered[-1] is backfill
    # a backfill a sensor asked for (new lake days) keeps its place among the sensor runs
    sensor_backfill = run("backfill_job", {"dagster/priority": "5"})
    assert (
        QueuedRunCoordinatorDaemon(interval_seconds=1)._priority_sort([backfill, sensor_backfill])[
            0
        ]
        is sensor_backfill
    )
