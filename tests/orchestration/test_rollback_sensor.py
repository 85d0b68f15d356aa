"""A rolled-back batch's days reach Dagster: rolled_back_days_sensor asks for one backfill over
them, the lake sensor adds them to the days it rebuilds, and a build over them clears them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context

from ingestion.files.recovery import days_to_rebuild, mark_days_rebuilt
from orchestration.partitions import days_of_data
from orchestration.resources import SiteledgerHome
from orchestration.water.sensors import rolled_back_days_sensor
from siteledger.settings import Settings
from siteledger.state.store import StateStore, utcnow


def test_rolled_back_days_start_one_backfill_over_them_until_rebuilt(tmp_path: Path):
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    settings.organisation_file.write_text("organisation:\n  data_start: 2025-07-01\n")
    (settings.readings_lake / "site=a" / "source=scada" / "day=2025-07-02").mkdir(parents=True)
    resource = SiteledgerHome(home=str(tmp_path))
    store = StateStore(settings.state_store_url)
    with (
        DagsterInstance.ephemeral() as instance,
        build_sensor_context(instance=instance, resources={"siteledger": resource}) as context,
    ):
        assert isinstance(rolled_back_days_sensor(context), SkipReason)

        store.add_rebuild_days("a", ["2025-07-03", "2025-07-09"], "B1", "batch B1 rolled back")
        first = rolled_back_days_sensor(context)
        assert isinstance(first, RunRequest)
        assert first.tags["dagster/asset_partition_range_start"] == "2025-07-03"
        assert first.tags["dagster/asset_partition_range_end"] == "2025-07-09"
        # a run's default window covers them although no lake folder holds them any more
        assert days_of_data(settings) == ["2025-07-02", "2025-07-03", "2025-07-09"]

        # the same waiting days ask for the same run; a later rollback asks again
        again = rolled_back_days_sensor(context)
        assert isinstance(again, RunRequest) and again.run_key == first.run_key
        started = utcnow()
        store.add_rebuild_days("a", ["2025-07-05"], "B2", "batch B2 rolled back")
        later = rolled_back_days_sensor(context)
        assert isinstance(later, RunRequest) and later.run_key != first.run_key

        # a build that started before B2's rollback leaves its day waiting
        assert mark_days_rebuilt(settings, "2025-07-01", "2025-07-09", started) == 2
        assert days_to_rebuild(settings) == ["2025-07-05"]
        assert mark_days_rebuilt(settings, None, None, utcnow() + dt.timedelta(seconds=1)) == 1
        assert isinstance(rolled_back_days_sensor(context), SkipReason)
    store.dispose()
