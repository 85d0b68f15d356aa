"""The one Dagster entry point loads; every job, schedule, sensor and check reads well; the
partitions come from the home's configuration; sensors ask for the right runs."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    MetadataValue,
    RunRequest,
    SkipReason,
    build_sensor_context,
    materialize,
)

from demo import write_demo
from orchestration.definitions import build_defs, defs
from orchestration.ingestion.assets import readings
from orchestration.ingestion.sensors import landing_file_sensor
from orchestration.keys import (
    AIR_QUALITY,
    ANALYTICS,
    BUILD,
    BUILD_WINDOW,
    EVERY_DAY,
    PUBLISHED,
    QUALITY_SCORES,
    RAW_READINGS,
    SITE_CONFIG,
    SITE_FILE_MODEL,
    SITE_FILES,
)
from orchestration.partitions import build_partitions, site_files_fingerprint, window_within
from orchestration.resources import SiteledgerHome
from orchestration.water.sensors import days_left_to_rebuild, site_config_sensor
from siteledger.settings import Settings

FIXTURE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"
SNAKE = re.compile(r"^[a-z][a-z0-9_]*[a-z0-9]$")


def _home(tmp_path: Path, organisation: str | None = None, zones: tuple[str, ...] = ()) -> Settings:
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    for i, zone in enumerate(zones):
        site = yaml.safe_load(FIXTURE.read_text())
        site["site"]["id"] = f"site_{i}"
        site["site"]["timezone"] = zone
        (settings.sites_dir / f"site_{i}.yaml").write_text(yaml.safe_dump(site))
    if organisation is not None:
        settings.organisation_file.write_text(organisation)
    return settings


def test_every_job_schedule_and_sensor_resolves_is_named_and_described():
    jobs = [job for job in defs.resolve_all_job_defs() if not job.name.startswith("__")]
    assert {"nightly_job", "backfill_job", "device_poll_now_job"} <= {job.name for job in jobs}
    for job in jobs:
        assert job.name.endswith("_job"), job.name
        assert job.description and len(job.description) > 30, job.name
    job_names = {job.name for job in jobs}
    for schedule in defs.schedules:
        resolved = defs.resolve_schedule_def(schedule.name)
        assert resolved.name.endswith("_schedule"), resolved.name
        assert resolved.description, resolved.name
        assert resolved.job_name in job_names, resolved.name
    for sensor in defs.sensors:
        resolved = defs.resolve_sensor_def(sensor.name)
        assert resolved.name.endswith("_sensor"), resolved.name
        assert resolved.description, resolved.name
        targets = {target.job_name for target in resolved.targets}
        assert targets <= job_names, resolved.name
        # every sensor starts runs, but the one that raises the platform's own alerts itself
        assert targets or resolved.name == "platform_alerts_sensor", resolved.name
    nightly = defs.resolve_schedule_def("nightly_schedule")
    assert (nightly.cron_schedule, nightly.job_name) == ("0 2 * * *", "nightly_job")
    # the sensors that rebuild days run the backfill, not a job of their own
    for name in ("lake_days_changed_sensor", "device_lake_days_changed_sensor"):
        (target,) = defs.resolve_sensor_def(name).targets
        assert target.job_name == "backfill_job"


def test_every_asset_check_reads_as_a_claim():
    graph = defs.resolve_asset_graph()
    checks = graph.asset_check_keys
    assert len(checks) > 100
    for key in checks:
        spec = graph.get_check_spec(key)
        assert SNAKE.match(key.name), key
        # dbt's generated names (unique_<model>_<column>, grain_<model>_...) read as nothing
        assert not re.match(r"^(unique|not_null|grain|accepted_values|relationships)_", key.name)
        assert spec.description and spec.description.endswith("."), key
    names = {(key.asset_key.to_user_string(), key.name) for key in checks}
    assert ("intermediate/int_flow_rate_volumes", "one_row_per_site_id_and_meter_id_and_day") in (
        names
    )
    assert ("marts/fct_site_balance_monthly", "site_id_exists_in_dim_sites") in names
    # singular tests over several models sit on the model whose claim they state
    assert (
        "marts/fct_site_balance_daily",
        "assert_site_closure_error_is_sum_of_node_balance_errors",
    ) in names
    grain = graph.get_check_spec(
        next(k for k in checks if k.name == "one_row_per_site_id_and_month_start")
    )
    assert grain.description.startswith("One row per site_id and month_start")


def test_build_wide_audits_are_blocking_checks_on_the_build():
    graph = defs.resolve_asset_graph()
    audits = {
        key.name: graph.get_check_spec(key)
        for key in graph.asset_check_keys
        if key.asset_key == BUILD
    }
    assert set(audits) == {
        "marts_match_their_schema",
        "mart_grains_are_unique",
        "site_scores_are_above_the_floor",
        "closure_statuses_are_known",
    }
    assert all(spec.blocking for spec in audits.values())
    # the analytics run on the audited build and go out with it
    assert graph.get(PUBLISHED).parent_keys == {BUILD, *ANALYTICS, *AIR_QUALITY}
    assert all(BUILD in graph.get(key).parent_keys for key in ANALYTICS)
    assert QUALITY_SCORES in graph.get(BUILD).parent_keys
    assert not any(
        key.asset_key == QUALITY_SCORES and spec_blocking
        for key, spec_blocking in (
            (k, graph.get_check_spec(k).blocking) for k in graph.asset_check_keys
        )
    )


def test_nightly_and_backfill_jobs_cover_the_chain():
    nightly = {
        k.to_user_string()
        for k in defs.resolve_job_def("nightly_job").asset_layer.selected_asset_keys
    }
    backfill = {
        k.to_user_string()
        for k in defs.resolve_job_def("backfill_job").asset_layer.selected_asset_keys
    }
    chain = {
        "raw/site_config",
        "staging/stg_site_config__meters",
        "marts/fct_site_balance_daily",
        "marts/fct_quality_scores_daily",
        "warehouse/build",
        "warehouse/published",
    }
    assert chain <= backfill
    assert nightly - backfill == {
        "raw/readings",
        "raw/device_readings",
        "devices/device_health",
        "raw/materials",
        "raw/metering",
    }
    # the nightly run rebuilds what days of readings change: the lake's staging, VEE, balances
    # and marts downstream of them; the models of the site files alone wait for a site file
    assert {
        "staging/stg_lake__readings",
        "intermediate/int_reading_flags",
        "marts/fct_site_balance_daily",
        "marts/fct_site_balance_period",
        "marts/fct_organisation_balance_annual",
    } <= nightly
    site_file_models = {"staging/stg_site_config__meters", "marts/dim_sites", "marts/dim_meters"}
    assert site_file_models <= backfill and not site_file_models & nightly
    graph = defs.resolve_asset_graph()
    # the quality scores carry the day partitions: the jobs run a day or a range of days
    daily = graph.get(QUALITY_SCORES).partitions_def
    assert daily is not None
    assert defs.resolve_job_def("nightly_job").partitions_def == daily
    # every dbt model in one block, rebuilding the run's days: one dbt invocation per run and
    # one materialisation per model, not one per model and day
    for key in nightly:
        node = graph.get(AssetKey.from_user_string(key))
        if (
            key.split("/")[0] in ("staging", "intermediate", "marts")
            and "quality_scores" not in key
        ):
            assert node.partitions_def is None, key
    assert graph.get(SITE_CONFIG).partitions_def is None
    assert graph.get(RAW_READINGS).partitions_def is None


def test_asset_graph_reads_well_in_the_ui():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.is_materializable, key
        assert node.group_name != "default", key
        assert node.owners, key
        assert node.description, key
    assert graph.get(AssetKey(["marts", "fct_site_balance_daily"])).group_name == "water"
    # the dbt source of the lake is the ingestion asset, and the device import is upstream too
    parents = graph.get(AssetKey(["staging", "stg_lake__readings"])).parent_keys
    assert {RAW_READINGS, AssetKey(["raw", "device_readings"])} <= parents
    report = graph.get(AssetKey(["reports", "compliance_report_monthly"]))
    assert PUBLISHED in report.parent_keys


def test_partitions_follow_the_organisation_and_the_sites(tmp_path: Path):
    default = build_partitions(_home(tmp_path / "default"))
    assert default.daily.get_first_partition_window().start.date().isoformat() == "2020-01-01"
    assert (default.timezone, default.fy_start_month) == ("UTC", 7)

    settings = _home(
        tmp_path / "configured",
        "organisation:\n  data_start: 2024-03-15\n  financial_year_start_month: 1\n",
        zones=("Australia/Perth", "America/Santiago", "Africa/Johannesburg"),
    )
    partitions = build_partitions(settings)
    assert partitions.daily.get_partition_keys()[0] == "2024-03-15"
    # a day is over at every site when it is over in the zone whose midnight comes last
    assert partitions.timezone == "America/Santiago"
    assert partitions.daily.timezone == "America/Santiago"
    assert partitions.reports["quarterly"].get_partition_keys()[:2] == ["2024-04-01", "2024-07-01"]
    assert partitions.reports["annual"].get_partition_keys()[0] == "2025-01-01"
    configured = build_defs(settings)
    crons = {
        name: configured.resolve_schedule_def(name).cron_schedule
        for name in ("compliance_report_quarterly_schedule", "compliance_report_annual_schedule")
    }
    assert crons == {
        "compliance_report_quarterly_schedule": "0 4 1 1,4,7,10 *",
        "compliance_report_annual_schedule": "0 4 1 1 *",
    }
    job = configured.resolve_job_def("nightly_job")
    assert job.partitions_def.get_partition_keys()[0] == "2024-03-15"


def test_window_within_clamps_to_existing_partitions(tmp_path: Path):
    daily = build_partitions(_home(tmp_path, "organisation:\n  data_start: 2025-07-01\n")).daily
    assert window_within(["2025-07-03", "2025-07-01", "2025-07-02"], daily) == (
        "2025-07-01",
        "2025-07-03",
    )
    assert window_within(["2019-01-01", "2025-07-02"], daily) == ("2025-07-01", "2025-07-02")
    assert window_within([], daily) is None
    assert window_within(["2019-01-01"], daily) is None


def test_days_a_nightly_run_rebuilt_itself_are_not_rebuilt_again():
    days = ["2025-06-30", "2025-07-01", "2025-07-02"]
    tags = {
        "dagster/asset_partition_range_start": "2025-07-01",
        "dagster/asset_partition_range_end": "2025-07-02",
    }
    assert days_left_to_rebuild(days, tags) == ["2025-06-30"]
    assert days_left_to_rebuild(days, {"dagster/partition": "2025-07-02"}) == days[:2]
    assert days_left_to_rebuild(days, {}) == days


def test_lake_sensor_asks_for_a_backfill_of_the_days_an_import_wrote(tmp_path: Path):
    settings = _home(tmp_path, "organisation:\n  data_start: 2025-06-01\n")
    shutil.copy(FIXTURE, settings.sites_dir / "small_site.yaml")
    (settings.landing / "logger_20250701.csv").write_text(
        "meter,time_utc,value,unit\n"
        "FQ-200,2025-07-01T00:00:00Z,100.0,m3\n"
        "FQ-200,2025-07-02T00:15:00Z,112.5,m3\n"
    )
    resource = SiteledgerHome(home=str(tmp_path))
    home_defs = build_defs(settings)
    sensor = home_defs.resolve_sensor_def("lake_days_changed_sensor")
    with DagsterInstance.ephemeral() as instance:
        with build_sensor_context(instance=instance, resources={"siteledger": resource}) as ctx:
            assert not sensor.evaluate_tick(ctx).run_requests  # nothing imported yet
        result = materialize([readings], resources={"siteledger": resource}, instance=instance)
        assert result.success
        with build_sensor_context(instance=instance, resources={"siteledger": resource}) as ctx:
            tick = sensor.evaluate_tick(ctx)
            cursor = tick.cursor
        (request,) = tick.run_requests
        # readings at local (Perth) days 2025-07-01 and 2025-07-02
        assert request.tags["dagster/asset_partition_range_start"] == "2025-07-01"
        assert request.tags["dagster/asset_partition_range_end"] == "2025-07-02"
        assert request.run_key.startswith(result.run_id)
        # the same materialisation is not asked for twice
        with build_sensor_context(
            instance=instance, resources={"siteledger": resource}, cursor=cursor
        ) as ctx:
            assert not sensor.evaluate_tick(ctx).run_requests


def test_landing_sensor_requests_one_run_per_set_of_files(tmp_path: Path):
    resource = SiteledgerHome(home=str(tmp_path))
    landing = resource.settings().landing
    with build_sensor_context(resources={"siteledger": resource}) as context:
        assert isinstance(landing_file_sensor(context), SkipReason)
        (landing / "scada_export_20250701.csv").write_text("Timestamp\n")
        first = landing_file_sensor(context)
        assert isinstance(first, RunRequest)
        context.update_cursor(first.run_key)
        assert isinstance(landing_file_sensor(context), SkipReason)
        (landing / "scada_export_20250702.csv").write_text("Timestamp\n")
        assert isinstance(landing_file_sensor(context), RunRequest)


def test_site_config_sensor_backfills_every_day_of_data_when_a_site_file_changes(tmp_path: Path):
    settings = _home(tmp_path, "organisation:\n  data_start: 2025-07-01\n")
    resource = SiteledgerHome(home=str(tmp_path))
    for day in ("2025-07-02", "2025-07-05"):
        (settings.readings_lake / "site=a" / "source=scada" / f"day={day}").mkdir(parents=True)
    with (
        DagsterInstance.ephemeral() as instance,
        build_sensor_context(instance=instance, resources={"siteledger": resource}) as context,
    ):
        assert isinstance(site_config_sensor(context), SkipReason)
        (settings.sites_dir / "a.yaml").write_text("site: {id: a}\n")
        first = site_config_sensor(context)
        assert isinstance(first, RunRequest)
        assert first.tags["dagster/asset_partition_range_start"] == "2025-07-02"
        assert first.tags["dagster/asset_partition_range_end"] == "2025-07-05"
        assert isinstance(site_config_sensor(context), SkipReason)
        (settings.sites_dir / "a.yaml").write_text("site: {id: a, name: changed}\n")
        second = site_config_sensor(context)
        assert isinstance(second, RunRequest)
        assert second.run_key != first.run_key


@pytest.mark.integration
def test_nightly_job_over_a_range_builds_and_publishes_both_mines(tmp_path: Path):
    write_demo(tmp_path, days=3, seed=5)
    home_defs = build_defs(Settings(home=tmp_path))
    instance = DagsterInstance.ephemeral()
    # the drops imported, the first build of the home a backfill (every model), then the
    # nightly run of a day
    imported = home_defs.resolve_job_def("ingest_landing_job").execute_in_process(instance=instance)
    assert imported.success
    first = home_defs.resolve_job_def("backfill_job").execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "2025-07-01",
            "dagster/asset_partition_range_end": "2025-07-02",
        },
    )
    assert first.success
    result = home_defs.resolve_job_def("nightly_job").execute_in_process(
        instance=instance, partition_key="2025-07-03"
    )
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert checks and all(check.passed for check in checks)
    published = tmp_path / "warehouse" / "siteledger.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        # closure beyond 0.5 % of the inputs and the 40 m3 that two level readings to 0.1 mm
        # can add on the decant pond (a Highveld day with its bore out takes in only 1 470 m3)
        per_site = con.execute(
            "select site_id, count(*) filter (where is_complete), "
            "max(abs(closure_error_m3) - 0.005 * inputs_m3 - 40) filter (where is_complete), "
            "list(day order by day) filter (where not is_day_closed) "
            "from fct_site_balance_daily group by site_id order by site_id"
        ).fetchall()
    # both demo mines, each in its own three local days; the nightly window's look-ahead day
    # (07-04, which holds only the midnight readings that close 07-03) is there as a full build
    # of the same lake has it, provisional
    assert [(site, days, open_days) for site, days, _, open_days in per_site] == [
        ("demo_highveld", 3, [dt.date(2025, 7, 4)]),
        ("demo_mine", 3, [dt.date(2025, 7, 4)]),
    ]
    assert max(excess for _, _, excess, _ in per_site) < 0


def test_shipped_instance_config_loads_and_limits_the_duckdb_pool(tmp_path: Path):
    shutil.copy(Path(__file__).parents[2] / "orchestration" / "dagster.yaml", tmp_path)
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1


@pytest.mark.parametrize("job_name", ["nightly_job", "backfill_job"])
def test_jobs_that_publish_also_score_and_audit(job_name: str):
    layer = defs.resolve_job_def(job_name).asset_layer
    assert {QUALITY_SCORES, BUILD, PUBLISHED} <= set(layer.selected_asset_keys)


def test_site_config_sensor_waits_for_the_first_day_of_data_before_settling(tmp_path: Path):
    settings = _home(tmp_path, "organisation:\n  data_start: 2025-07-01\n")
    resource = SiteledgerHome(home=str(tmp_path))
    (settings.sites_dir / "a.yaml").write_text("site: {id: a}\n")
    with (
        DagsterInstance.ephemeral() as instance,
        build_sensor_context(instance=instance, resources={"siteledger": resource}) as context,
    ):
        # nothing in the lake yet: skipped, and asked again on the next tick
        assert isinstance(site_config_sensor(context), SkipReason)
        assert context.cursor is None
        (settings.readings_lake / "site=a" / "source=scada" / "day=2025-07-03").mkdir(parents=True)
        request = site_config_sensor(context)
        assert isinstance(request, RunRequest)
        assert request.tags["dagster/asset_partition_range_start"] == "2025-07-03"
        assert request.tags["dagster/priority"] == "5"


def test_site_config_sensor_settles_on_the_site_files_the_last_full_build_used(tmp_path: Path):
    settings = _home(tmp_path, "organisation:\n  data_start: 2025-07-01\n")
    resource = SiteledgerHome(home=str(tmp_path))
    (settings.sites_dir / "a.yaml").write_text("site: {id: a}\n")
    (settings.readings_lake / "site=a" / "source=scada" / "day=2025-07-03").mkdir(parents=True)
    fingerprint = site_files_fingerprint(settings)
    with DagsterInstance.ephemeral() as instance:
        # a full build (siteledger run) recorded the site files it used on the site-file models
        instance.report_runless_asset_event(
            AssetMaterialization(
                asset_key=SITE_FILE_MODEL, metadata={SITE_FILES: MetadataValue.text(fingerprint)}
            )
        )
        with build_sensor_context(instance=instance, resources={"siteledger": resource}) as ctx:
            assert isinstance(site_config_sensor(ctx), SkipReason)
            assert ctx.cursor == fingerprint
        # a changed file since: rebuild
        (settings.sites_dir / "a.yaml").write_text("site: {id: a, name: changed}\n")
        with build_sensor_context(
            instance=instance, resources={"siteledger": resource}, cursor=fingerprint
        ) as ctx:
            assert isinstance(site_config_sensor(ctx), RunRequest)


def test_site_config_sensor_waits_for_a_running_rebuild_and_counts_only_full_builds(
    tmp_path: Path,
):
    settings = _home(tmp_path, "organisation:\n  data_start: 2025-07-01\n")
    resource = SiteledgerHome(home=str(tmp_path))
    (settings.sites_dir / "a.yaml").write_text("site: {id: a}\n")
    for day in ("2025-07-02", "2025-07-05"):
        (settings.readings_lake / "site=a" / "source=scada" / f"day={day}").mkdir(parents=True)
    fingerprint = site_files_fingerprint(settings)
    with DagsterInstance.ephemeral() as instance:
        # a first import's rebuild is running (the lake-days sensor asked for it): no second
        # rebuild of the same days beside it, and the change is still to be settled
        running = DagsterRun(job_name="backfill_job", status=DagsterRunStatus.STARTED)
        instance.add_run(running)
        with build_sensor_context(instance=instance, resources={"siteledger": resource}) as ctx:
            skipped = site_config_sensor(ctx)
            assert isinstance(skipped, SkipReason)
            assert running.run_id in (skipped.skip_message or "")
            assert ctx.cursor is None
        instance.delete_run(running.run_id)

        def built(window: str) -> None:
            instance.report_runless_asset_event(
                AssetMaterialization(
                    asset_key=SITE_FILE_MODEL,
                    metadata={
                        SITE_FILES: MetadataValue.text(fingerprint),
                        BUILD_WINDOW: MetadataValue.text(window),
                    },
                )
            )

        # a nightly day built with the new files leaves the other days as they were
        built("2025-07-05..2025-07-05")
        with build_sensor_context(instance=instance, resources={"siteledger": resource}) as ctx:
            request = site_config_sensor(ctx)
            assert isinstance(request, RunRequest)
            assert request.tags["dagster/asset_partition_range_start"] == "2025-07-02"
        # a rebuild of every day of data, or of a range holding them all, settles it
        for window in ("2025-07-01..2025-07-05", EVERY_DAY):
            built(window)
            with build_sensor_context(instance=instance, resources={"siteledger": resource}) as ctx:
                assert isinstance(site_config_sensor(ctx), SkipReason)
                assert ctx.cursor == fingerprint


def test_editing_a_sites_alert_rules_rebuilds_nothing(tmp_path: Path):
    settings = _home(tmp_path, "organisation:\n  data_start: 2025-07-01\n")
    site = settings.sites_dir / "a.yaml"
    site.write_text("site: {id: a}\nthresholds:\n  store_high_pct: 80\n")
    before = site_files_fingerprint(settings)
    site.write_text(
        "site: {id: a}\nalerts:\n  rules:\n    - {id: meter_stuck, enabled: false}\n"
        "thresholds:\n  store_high_pct: 80\n"
    )
    assert site_files_fingerprint(settings) == before
    site.write_text("site: {id: a}\nalerts: {rules: []}\nthresholds:\n  store_high_pct: 85\n")
    assert site_files_fingerprint(settings) != before
