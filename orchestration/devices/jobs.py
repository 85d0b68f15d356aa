"""Jobs and sensors of the device area."""

from dagster import (
    AssetSelection,
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    asset_sensor,
    define_asset_job,
    sensor,
)

from ingestion.devices.spool import SEGMENT_RE
from orchestration.devices.assets import DEVICE_POLL, DEVICE_READINGS, device_health
from orchestration.resources import SiteledgerHome
from orchestration.water.jobs import rebuild_days_written, water_daily_job

device_spool_import_job = define_asset_job(
    "device_spool_import_job",
    selection=AssetSelection.assets(DEVICE_READINGS) | AssetSelection.assets(device_health),
    description="Move the collector's spooled readings into the raw lake; refresh device health.",
)

device_poll_now_job = define_asset_job(
    "device_poll_now_job",
    selection=AssetSelection.assets(DEVICE_POLL, DEVICE_READINGS)
    | AssetSelection.assets(device_health),
    description="Poll every Modbus device once now (sites without a collector), import the poll "
    "and refresh device health.",
)


@sensor(
    job=device_spool_import_job,
    name="device_spool_sensor",
    minimum_interval_seconds=30,
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
    asset_key=DEVICE_READINGS,
    job=water_daily_job,
    name="device_lake_days_changed_sensor",
    default_status=DefaultSensorStatus.RUNNING,
    description="When device readings land in the raw lake, rebuild the days they cover.",
)
def device_lake_days_changed_sensor(
    context: SensorEvaluationContext, asset_event: EventLogEntry
) -> RunRequest | SkipReason:
    return rebuild_days_written(asset_event, "device readings landed")
