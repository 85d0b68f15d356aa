"""Sensors of the device area: new spool segments, and device readings landed in the lake."""

from dagster import (
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    asset_sensor,
    sensor,
)

from ingestion.devices.spool import SEGMENT_RE
from orchestration.devices.jobs import device_spool_import_job
from orchestration.keys import RAW_DEVICE_READINGS
from orchestration.resources import SENSOR_INTERVAL_S, SiteledgerHome
from orchestration.water.sensors import rebuild_days_written


@sensor(
    job=device_spool_import_job,
    name="device_spool_sensor",
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts a spool import when the device collector has spooled new segments.",
)
def device_spool_sensor(
    context: SensorEvaluationContext, siteledger: SiteledgerHome
) -> RunRequest | SkipReason:
    spool = siteledger.settings().spool
    newest: list[str] = []
    count = 0
    for folder in sorted(p for p in spool.glob("*") if p.is_dir()):
        names = sorted(p.name for p in folder.iterdir() if SEGMENT_RE.match(p.name))
        count += len(names)
        if names:
            newest.append(f"{folder.name}/{names[-1]}")
    if not count:
        return SkipReason(f"no spooled segments in {spool}")
    fingerprint = "|".join(newest)
    if fingerprint == context.cursor:
        return SkipReason(f"{count} segment(s) already requested")
    context.update_cursor(fingerprint)
    return RunRequest(run_key=fingerprint, tags={"siteledger/segments": str(count)})


@asset_sensor(
    asset_key=RAW_DEVICE_READINGS,
    job_name="backfill_job",
    name="device_lake_days_changed_sensor",
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="When device readings land in the raw lake, rebuild the days they cover.",
)
def device_lake_days_changed_sensor(
    context: SensorEvaluationContext, asset_event: EventLogEntry, siteledger: SiteledgerHome
) -> RunRequest | SkipReason:
    return rebuild_days_written(context, asset_event, siteledger, "device readings landed")
