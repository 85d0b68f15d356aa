"""Sensors of the water balance: lake days changed, batches rolled back, site files changed."""

import datetime as dt
import hashlib
import json

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    asset_sensor,
    sensor,
)

from ingestion.files.recovery import days_to_rebuild
from orchestration.keys import (
    BUILD_WINDOW,
    EVERY_DAY,
    RAW_READINGS,
    SENSOR_PRIORITY,
    SITE_FILE_MODEL,
    SITE_FILES,
)
from orchestration.partitions import (
    build_partitions,
    days_of_data,
    range_tags,
    site_files_fingerprint,
    window_within,
)
from orchestration.resources import SENSOR_INTERVAL_S, SiteledgerHome
from orchestration.runner import CHAIN_STARTER, STARTED_BY_TAG

_UNFINISHED = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]


def days_left_to_rebuild(days: list[str], run_tags: dict[str, str]) -> list[str]:
    """The days an import wrote that the run which imported them did not rebuild itself (a
    nightly run rebuilds its own window; late files can write older days)."""
    start = run_tags.get("dagster/asset_partition_range_start") or run_tags.get("dagster/partition")
    end = run_tags.get("dagster/asset_partition_range_end") or start or ""
    if not start:
        return days
    return [day for day in days if not start <= day <= end]


def rebuild_days_written(
    context: SensorEvaluationContext,
    asset_event: EventLogEntry,
    siteledger: SiteledgerHome,
    trigger: str,
) -> RunRequest | SkipReason:
    """One range run of the backfill over the days an import's ``days_written`` names."""
    materialization = asset_event.asset_materialization
    metadata = materialization.metadata if materialization else {}
    days_value = metadata.get("days_written")
    days = json.loads(json.dumps(days_value.value)) if days_value is not None else []
    run = context.instance.get_run_by_id(asset_event.run_id)
    if run is not None and run.tags.get(STARTED_BY_TAG) == CHAIN_STARTER:
        return SkipReason(f"{trigger}: siteledger run rebuilds the days it imported itself")
    if run is not None and run.job_name == "nightly_job":
        days = days_left_to_rebuild(days, dict(run.tags))
    # and the days a rolled-back batch left, which no build has rewritten yet
    settings = siteledger.settings()
    days = sorted(set(days) | set(days_to_rebuild(settings)))
    window = window_within(days, build_partitions(settings).daily)
    if window is None:
        return SkipReason(f"{trigger}: no days left to rebuild inside the partition range")
    return RunRequest(
        # one request per materialisation: the run that wrote it and the asset
        run_key=f"{asset_event.run_id}:{'/'.join(materialization.asset_key.path)}"
        if materialization
        else asset_event.run_id,
        tags={
            **range_tags(window),
            **SENSOR_PRIORITY,
            "siteledger/trigger": f"{trigger} at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        },
    )


@asset_sensor(
    asset_key=RAW_READINGS,
    job_name="backfill_job",
    name="lake_days_changed_sensor",
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="When new readings land in the raw lake, rebuild the days they cover in one run.",
)
def lake_days_changed_sensor(
    context: SensorEvaluationContext, asset_event: EventLogEntry, siteledger: SiteledgerHome
) -> RunRequest | SkipReason:
    return rebuild_days_written(context, asset_event, siteledger, "lake changed")


@sensor(
    job_name="backfill_job",
    name="rolled_back_days_sensor",
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="When an import batch is rolled back, rebuild the days it held in one run (a day "
    "left without readings is emptied in every model).",
)
def rolled_back_days_sensor(
    context: SensorEvaluationContext, siteledger: SiteledgerHome
) -> RunRequest | SkipReason:
    settings = siteledger.settings()
    store = siteledger.state_store()
    try:
        waiting = store.rebuild_days()
    finally:
        store.dispose()
    if not waiting:
        return SkipReason("no rolled-back days wait for a rebuild")
    window = window_within(sorted({row.day for row in waiting}), build_partitions(settings).daily)
    if window is None:
        return SkipReason("the rolled-back days lie outside the partition range")
    # one run per set of waiting days (a rollback recorded later asks again)
    seen = ";".join(f"{row.site_id}/{row.day}/{row.recorded_at.isoformat()}" for row in waiting)
    return RunRequest(
        run_key=hashlib.sha256(seen.encode()).hexdigest()[:24],
        tags={
            **range_tags(window),
            **SENSOR_PRIORITY,
            "siteledger/trigger": f"rollback at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        },
    )


@sensor(
    job_name="backfill_job",
    name="site_config_sensor",
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="When a site file is added or changed, rebuild every day of data with it.",
)
def site_config_sensor(
    context: SensorEvaluationContext, siteledger: SiteledgerHome
) -> RunRequest | SkipReason:
    settings = siteledger.settings()
    fingerprint = site_files_fingerprint(settings)
    if fingerprint is None:
        return SkipReason(f"no site files in {settings.sites_dir}")
    if fingerprint == context.cursor:
        return SkipReason("site files unchanged")
    window = window_within(days_of_data(settings), build_partitions(settings).daily)
    if window is None:
        # asked again on the next tick: the first import must be followed by a full build
        return SkipReason("site files changed, but the lake holds no day to rebuild yet")
    # a first import starts its own rebuild (lake_days_changed_sensor); one that runs now reads
    # these files, and what it leaves out is asked for on the next tick after it
    running = context.instance.get_runs(
        RunsFilter(job_name="backfill_job", statuses=_UNFINISHED), limit=1
    )
    if running:
        return SkipReason(
            f"site files changed; rebuild {running[0].run_id} is running, asked again after it"
        )
    # a build over every day (siteledger run, a backfill) may have used these files already
    if _built_with(context, fingerprint, window):
        context.update_cursor(fingerprint)
        return SkipReason("the last full build used these site files")
    files = sorted(settings.sites_dir.glob("*.yaml"))
    context.update_cursor(fingerprint)
    return RunRequest(
        run_key=fingerprint,
        tags={**range_tags(window), **SENSOR_PRIORITY, "siteledger/sites": str(len(files))},
    )


def _built_with(
    context: SensorEvaluationContext, fingerprint: str, window: tuple[str, str]
) -> bool:
    """The last build of the site-file models used the site files ``fingerprint`` names over
    every day of ``window`` (a nightly day built with them leaves the other days as they were)."""
    built = context.instance.get_latest_materialization_event(SITE_FILE_MODEL)
    materialization = built.asset_materialization if built else None
    if materialization is None:
        return False
    used = materialization.metadata.get(SITE_FILES)
    if used is None or used.value != fingerprint:
        return False
    built_window = materialization.metadata.get(BUILD_WINDOW)
    if built_window is None or built_window.value == EVERY_DAY:
        return True
    first, _, last = str(built_window.value).partition("..")
    return first <= window[0] and window[1] <= last
