"""Jobs, schedules and sensors of the water balance."""

import datetime as dt
import hashlib
import json

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    asset_sensor,
    build_schedule_from_partitioned_job,
    define_asset_job,
    sensor,
)

from orchestration.partitions import daily_partitions
from orchestration.resources import SiteledgerHome
from orchestration.water.assets import (
    QUALITY_SCORES_KEY,
    published_warehouse,
    site_config_tables,
    water_daily_models,
    water_reference_models,
)

RAW_READINGS = AssetKey(["raw", "readings"])

_reference = AssetSelection.assets(site_config_tables) | AssetSelection.assets(
    water_reference_models
)
# the quality scores sit between the day models and the publish: their blocking audit checks
# gate it (write-audit-publish)
_daily = (
    AssetSelection.assets(water_daily_models)
    | AssetSelection.assets(QUALITY_SCORES_KEY)
    | AssetSelection.assets(published_warehouse)
)

water_balance_job = define_asset_job(
    "water_balance_job",
    selection=_reference | _daily,
    description="Everything from the site files to the published warehouse, for a day or a range "
    "(use it to backfill history after a site file changed).",
)

water_daily_job = define_asset_job(
    "water_daily_job",
    selection=_daily,
    description="Rebuild the day-partitioned balance for a day or a range and publish.",
)

site_config_job = define_asset_job(
    "site_config_job",
    selection=_reference,
    description="Export the site files and rebuild the models derived from them.",
)

nightly_regulatory_job = define_asset_job(
    "nightly_regulatory_job",
    selection=_daily | AssetSelection.assets(RAW_READINGS),
    description="The overnight regulatory run: import waiting files, rebuild yesterday, publish.",
)

nightly_regulatory_schedule = build_schedule_from_partitioned_job(
    nightly_regulatory_job,
    name="nightly_regulatory_schedule",
    hour_of_day=2,
    minute_of_hour=0,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00 (partition time zone): yesterday's balance, published.",
)


def days_to_rebuild(days: list[str]) -> tuple[str, str] | None:
    """First and last partition key covering ``days``, clamped to the partitions that exist."""
    keys = daily_partitions.get_partition_keys()
    if not keys or not days:
        return None
    first, last = max(min(days), keys[0]), min(max(days), keys[-1])
    if first > last:
        return None
    return first, last


@asset_sensor(
    asset_key=RAW_READINGS,
    job=water_daily_job,
    name="lake_days_changed_sensor",
    default_status=DefaultSensorStatus.RUNNING,
    description="When new readings land in the raw lake, rebuild the days they cover in one run.",
)
def lake_days_changed_sensor(
    context: SensorEvaluationContext, asset_event: EventLogEntry
) -> RunRequest | SkipReason:
    return rebuild_days_written(asset_event, "lake changed")


def rebuild_days_written(asset_event: EventLogEntry, trigger: str) -> RunRequest | SkipReason:
    """One range run of the day models over the days an import's ``days_written`` metadata names."""
    materialization = asset_event.asset_materialization
    metadata = materialization.metadata if materialization else {}
    days_value = metadata.get("days_written")
    days = json.loads(json.dumps(days_value.value)) if days_value is not None else []
    window = days_to_rebuild(days)
    if window is None:
        return SkipReason(f"{trigger}: no days written inside the partition range")
    first, last = window
    return RunRequest(
        run_key=f"{asset_event.run_id}:{asset_event.timestamp}",
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
            "siteledger/trigger": f"{trigger} at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        },
    )


@sensor(
    job=site_config_job,
    name="site_config_sensor",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="When a site file is added or changed, export it and rebuild what derives from it.",
)
def site_config_sensor(
    context: SensorEvaluationContext, siteledger: SiteledgerHome
) -> RunRequest | SkipReason:
    sites_dir = siteledger.settings().sites_dir
    digest = hashlib.sha256()
    files = sorted(sites_dir.glob("*.yaml"))
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    fingerprint = digest.hexdigest()[:20]
    if not files:
        return SkipReason(f"no site files in {sites_dir}")
    if fingerprint == context.cursor:
        return SkipReason("site files unchanged")
    context.update_cursor(fingerprint)
    return RunRequest(run_key=fingerprint, tags={"siteledger/sites": str(len(files))})
