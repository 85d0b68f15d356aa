"""The day-rebuild asset sensors turn an import's ``days_written`` into one range run, evaluated
by Dagster on a real materialization event (as a deployment would)."""

from __future__ import annotations

from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    MetadataValue,
    RunRequest,
    build_sensor_context,
)

from orchestration.water.jobs import lake_days_changed_sensor


def test_new_lake_days_ask_for_one_range_run_over_them() -> None:
    with DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(
            AssetMaterialization(
                asset_key=AssetKey(["raw", "readings"]),
                metadata={"days_written": MetadataValue.json(["2025-07-03", "2025-07-01"])},
            )
        )
        context = build_sensor_context(instance=instance)
        result = lake_days_changed_sensor.evaluate_tick(context)

    assert result.skip_message is None
    (request,) = result.run_requests or []
    assert isinstance(request, RunRequest)
    assert request.tags["dagster/asset_partition_range_start"] == "2025-07-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-07-03"
    assert request.run_key
