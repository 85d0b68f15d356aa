"""``siteledger run`` is Dagster: after ``demo run`` the home's instance holds successful runs,
a materialisation with metadata for every asset of the chain and an evaluation of every check."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from dagster import AssetKey, DagsterInstance, DagsterRunStatus
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from cli.main import cli
from orchestration.definitions import build_defs
from siteledger.settings import get_settings
from siteledger.state import StateStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_run_is_recorded_in_the_homes_dagster_instance(tmp_path: Path):
    result = CliRunner().invoke(
        cli, ["--home", str(tmp_path), "demo", "run", "--days", "2", "--customers", "60"]
    )
    assert result.exit_code == 0, result.output
    assert "Import jobs" in result.output and "dbt build 2025-07-01.." in result.output
    settings = get_settings(tmp_path)
    assert _data_start(settings.organisation_file) == "2025-07-01"

    home_defs = build_defs(settings)
    chain = set(home_defs.resolve_job_def("nightly_job").asset_layer.selected_asset_keys)
    backfill = home_defs.resolve_job_def("backfill_job").asset_layer
    chain |= set(backfill.selected_asset_keys)
    check_keys = {k for k in backfill.asset_graph.asset_check_keys if k.asset_key in chain}
    with DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        runs = instance.get_runs()
        # the nightly job's import, then every model rebuilt over every day the lake holds
        # (and the deadline check of the reports; two days complete no report period)
        assert [(r.job_name, r.status) for r in reversed(runs)] == [
            ("nightly_job", DagsterRunStatus.SUCCESS),
            ("backfill_job", DagsterRunStatus.SUCCESS),
            ("report_deadline_job", DagsterRunStatus.SUCCESS),
            ("alert_evaluation_job", DagsterRunStatus.SUCCESS),
        ]
        (rebuild,) = [r for r in runs if r.job_name == "backfill_job"]
        assert rebuild.tags["dagster/asset_partition_range_start"] == "2025-07-01"
        last_day = rebuild.tags["dagster/asset_partition_range_end"]
        assert last_day in ("2025-07-02", "2025-07-03")
        for key in chain:
            event = instance.get_latest_materialization_event(key)
            assert event is not None, key
            assert event.asset_materialization.metadata, key
        # the day partitions are the quality scores'; the dbt models record the window they built
        daily = instance.get_materialized_partitions(
            AssetKey(["marts", "fct_quality_scores_daily"])
        )
        assert {"2025-07-01", "2025-07-02"} <= daily
        balance = instance.get_latest_materialization_event(
            AssetKey(["marts", "fct_site_balance_daily"])
        )
        assert balance.asset_materialization.metadata["window"].value == f"2025-07-01..{last_day}"
        executions = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            list(check_keys)
        )
        assert set(executions) == check_keys
        for key, execution in executions.items():
            assert execution.status == AssetCheckExecutionRecordStatus.SUCCEEDED, key
            assert execution.event.asset_check_evaluation.passed, key
        # the alert rules were judged on what was published (two fault-free-ish days: the
        # second mine's troubles come later in its period, so nothing fires)
        evaluation = instance.get_latest_materialization_event(
            AssetKey(["alerts", "alert_evaluation"])
        )
        assert evaluation.asset_materialization.metadata["rule_errors"].value == {}
        assert evaluation.asset_materialization.metadata["rules"].value > 0
        published = instance.get_latest_materialization_event(AssetKey(["warehouse", "published"]))
        version_id = published.asset_materialization.metadata["version_id"].value
        imported = instance.get_latest_materialization_event(AssetKey(["raw", "readings"]))
        readings = imported.asset_materialization.metadata["readings_imported"].value
        per_site = imported.asset_materialization.metadata["sites"].value
    (current,) = StateStore(settings.state_store_url).warehouse_versions()
    assert current.version_id == version_id
    assert f"published warehouse version {version_id}" in result.output
    # two days are too few to forecast: every target says so, none is forecast from nothing
    analytics = next(line for line in result.output.splitlines() if line.startswith("analytics:"))
    assert "too_short" in analytics and " ok" not in analytics, analytics
    # one line per mine, adding up to what the import recorded
    assert readings > 0 and sum(site["readings"] for site in per_site.values()) == readings
    for site_id, site in per_site.items():
        assert f"{site_id}: {site['files']} files, {site['readings']:,} readings" in result.output

    # one day by hand: the import, then one run over that partition, unit tests left out
    day = CliRunner().invoke(
        cli, ["--home", str(tmp_path), "run", "--start", "2025-07-02", "--end", "2025-07-02"]
    )
    assert day.exit_code == 0, day.output
    with DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        (latest,) = [r for r in instance.get_runs(limit=4) if r.job_name == "backfill_job"]
        assert (latest.job_name, latest.status) == ("backfill_job", DagsterRunStatus.SUCCESS)
        assert latest.tags["dagster/asset_partition_range_start"] == "2025-07-02"
        assert latest.tags["dagster/asset_partition_range_end"] == "2025-07-02"
        records = instance.fetch_materializations(
            AssetKey(["marts", "fct_quality_scores_daily"]), limit=1
        ).records
        assert records[0].partition_key == "2025-07-02"
        assert records[0].run_id == latest.run_id
        balance = instance.fetch_materializations(
            AssetKey(["marts", "fct_site_balance_daily"]), limit=1
        ).records[0]
        assert balance.run_id == latest.run_id
        assert balance.asset_materialization.metadata["window"].value == "2025-07-02..2025-07-02"
    full = int(result.output.split("TOTAL=")[1].split(")")[0])
    one_day = int(day.output.split("TOTAL=")[1].split(")")[0])
    assert one_day < full  # the dbt unit tests run on the multi-day build only


def _data_start(path: Path) -> str:
    return str(yaml.safe_load(path.read_text())["organisation"]["data_start"])


def test_the_demo_names_its_first_day_as_the_organisations(tmp_path: Path):
    home = ["--home", str(tmp_path)]
    first = CliRunner().invoke(
        cli, [*home, "demo", "generate", "--days", "1", "--start", "2025-03-01"]
    )
    assert first.exit_code == 0, first.output
    org = tmp_path / "organisation.yaml"
    assert _data_start(org) == "2025-03-01"
    # the demo's organisation file is the demo's: another first day rewrites it
    again = CliRunner().invoke(
        cli, [*home, "demo", "generate", "--days", "1", "--start", "2025-05-01", "--fresh"]
    )
    assert again.exit_code == 0, again.output
    assert _data_start(org) == "2025-05-01"
    bad = CliRunner().invoke(cli, [*home, "run", "--start", "2025-7-1"])
    assert bad.exit_code == 2 and "is not a day like 2025-07-01" in bad.output
