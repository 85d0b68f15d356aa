"""The one Dagster entry point loads, and every job, schedule and sensor resolves."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetKey,
    DagsterInstance,
    RunRequest,
    SkipReason,
    build_sensor_context,
)

from demo import write_demo
from orchestration.definitions import defs
from orchestration.ingestion.sensors import landing_file_sensor
from orchestration.resources import SiteledgerHome
from orchestration.water.jobs import days_to_rebuild, site_config_sensor


def test_every_job_schedule_and_sensor_resolves():
    names = (
        "ingest_landing_job",
        "site_config_job",
        "water_daily_job",
        "water_balance_job",
        "nightly_regulatory_job",
    )
    assert set(names) <= {job.name for job in defs.resolve_all_job_defs()}
    for name in names:
        assert defs.resolve_job_def(name) is not None
    schedule = defs.resolve_schedule_def("nightly_regulatory_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.job_name == "nightly_regulatory_job"
    for name in ("landing_file_sensor", "site_config_sensor", "lake_days_changed_sensor"):
        assert defs.resolve_sensor_def(name) is not None
    # the nightly run rebuilds the day-partitioned models only; site-file changes have their job
    nightly = defs.resolve_job_def("nightly_regulatory_job")
    nightly_keys = {key.to_user_string() for key in nightly.asset_layer.selected_asset_keys}
    assert "marts/fct_site_balance_daily" in nightly_keys
    assert "raw/readings" in nightly_keys
    assert "raw/site_config" not in nightly_keys
    assert "staging/stg_site_config__meters" not in nightly_keys


def test_asset_graph_reads_well_in_the_ui():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"raw/readings", "raw/site_config", "warehouse/published"} <= keys
    assert "marts/fct_site_balance_daily" in keys
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.is_materializable, key
        assert node.group_name != "default", key
        assert node.owners, key
    assert graph.get(AssetKey(["marts", "fct_site_balance_daily"])).group_name == "water"
    assert graph.get(AssetKey(["marts", "fct_site_balance_daily"])).partitions_def is not None
    assert graph.get(AssetKey(["raw", "readings"])).partitions_def is None
    # the dbt source of the lake is the ingestion asset, not a separate external asset
    parents = graph.get(AssetKey(["staging", "stg_lake__readings"])).parent_keys
    assert AssetKey(["raw", "readings"]) in parents
    # ... and the device spool import, the lake's second writer, is upstream of it too
    assert AssetKey(["raw", "device_readings"]) in parents
    # reports come after the published warehouse
    report = graph.get(AssetKey(["reports", "compliance_report_monthly"]))
    assert AssetKey(["warehouse", "published"]) in report.parent_keys


def test_dbt_tests_become_asset_checks():
    graph = defs.resolve_asset_graph()
    checks = graph.asset_check_keys
    assert any(check.asset_key == AssetKey(["marts", "fct_site_balance_daily"]) for check in checks)
    assert len(checks) > 20
    # singular tests over several models are checks on the model whose claim they state
    names = {(check.asset_key.to_user_string(), check.name) for check in checks}
    assert (
        "marts/fct_site_balance_daily",
        "assert_site_closure_error_is_sum_of_node_balance_errors",
    ) in names
    assert (
        "marts/fct_site_balance_monthly",
        "assert_monthly_site_balance_adds_up_the_days",
    ) in names


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


def test_site_config_sensor_runs_when_a_site_file_changes(tmp_path: Path):
    resource = SiteledgerHome(home=str(tmp_path))
    sites = resource.settings().sites_dir
    with build_sensor_context(resources={"siteledger": resource}) as context:
        assert isinstance(site_config_sensor(context), SkipReason)
        (sites / "a.yaml").write_text("site: {id: a}\n")
        first = site_config_sensor(context)
        assert isinstance(first, RunRequest)
        assert isinstance(site_config_sensor(context), SkipReason)
        (sites / "a.yaml").write_text("site: {id: a, name: changed}\n")
        second = site_config_sensor(context)
        assert isinstance(second, RunRequest)
        assert second.run_key != first.run_key


def test_days_to_rebuild_is_clamped_to_existing_partitions():
    assert days_to_rebuild(["2025-07-03", "2025-07-01", "2025-07-02"]) == (
        "2025-07-01",
        "2025-07-03",
    )
    assert days_to_rebuild(["2019-01-01", "2025-07-02"]) == ("2025-07-01", "2025-07-02")
    assert days_to_rebuild([]) is None
    assert days_to_rebuild(["2019-01-01"]) is None


@pytest.mark.integration
def test_nightly_job_over_a_range_builds_and_publishes(tmp_path: Path, monkeypatch):
    write_demo(tmp_path, days=3, seed=5)
    monkeypatch.setenv("SITELEDGER_HOME", str(tmp_path))
    instance = DagsterInstance.ephemeral()
    # a new site file: what site_config_sensor would start
    config = defs.resolve_job_def("site_config_job").execute_in_process(instance=instance)
    assert config.success
    job = defs.resolve_job_def("nightly_regulatory_job")
    result = job.execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "2025-07-01",
            "dagster/asset_partition_range_end": "2025-07-03",
        },
    )
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert checks and all(check.passed for check in checks)
    published = tmp_path / "warehouse" / "siteledger.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        per_site = con.execute(
            "select site_id, count(*), max(abs(closure_error_pct)) from fct_site_balance_daily "
            "group by site_id order by site_id"
        ).fetchall()
    # both demo mines, each in its own three local days
    assert [(site, days) for site, days, _ in per_site] == [
        ("demo_highveld", 3),
        ("demo_mine", 3),
    ]
    assert max(worst for _, _, worst in per_site) < 0.5


def test_shipped_instance_config_loads_and_limits_the_duckdb_pool(tmp_path: Path):
    shutil.copy(Path(__file__).parents[2] / "orchestration" / "dagster.yaml", tmp_path)
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
