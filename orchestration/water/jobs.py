"""The jobs a data engineer runs: the nightly run, and a backfill of a window from the lake."""

from typing import Any

from dagster import (
    AssetsDefinition,
    AssetSelection,
    DefaultScheduleStatus,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from orchestration.keys import (
    BACKFILL_PRIORITY,
    BUILD,
    BUILD_TABLES,
    DEVICE_HEALTH,
    PUBLISHED,
    QUALITY_SCORES,
    RAW_DEVICE_READINGS,
    RAW_MATERIALS,
    RAW_METERING,
    RAW_READINGS,
    SITE_CONFIG,
    URGENT_PRIORITY,
)
from orchestration.water.assets import DAY_MODEL_KEYS

# the import and, with it, the devices' health from the polls it imported and what it brought
# to the materials and metering lakes
INGEST_KEYS = (RAW_READINGS, RAW_DEVICE_READINGS, DEVICE_HEALTH, RAW_MATERIALS, RAW_METERING)


def rebuild_selection(water_models: AssetsDefinition) -> AssetSelection:
    """Site tables, every dbt model, the scores, the audited build and the publish."""
    return AssetSelection.assets(SITE_CONFIG, QUALITY_SCORES, BUILD, *BUILD_TABLES, PUBLISHED) | (
        AssetSelection.assets(water_models)
    )


def build_jobs(
    water_models: AssetsDefinition,
) -> tuple[list[Any], list[Any]]:
    rebuild = rebuild_selection(water_models)
    backfill_job = define_asset_job(
        "backfill_job",
        selection=rebuild,
        tags=BACKFILL_PRIORITY,
        description="Rebuild a day or a range of days from the raw lake: export the site files, "
        "run every dbt model and test over the window, score, audit, run the analytics and "
        "publish. Use it after a site file changed in a way that touches history (a curve, a "
        "rule).",
    )
    # the models days of readings change, and what depends on them (not the reports): the
    # models derived from the site files wait for a site file to change (site_config_sensor)
    day_models = AssetSelection.assets(*DAY_MODEL_KEYS).downstream() & rebuild
    # and the materials models, full tables (FIFO needs every record) the materials lake feeds
    materials_models = AssetSelection.assets(RAW_MATERIALS).downstream() & rebuild
    # and the metering models the metering lake feeds (balances carry from day to day: the
    # ledger and what reads it are rebuilt whole, the hourly and daily consumption by day)
    metering_models = AssetSelection.assets(RAW_METERING).downstream() & rebuild
    nightly_job = define_asset_job(
        "nightly_job",
        tags=URGENT_PRIORITY,
        selection=day_models
        | materials_models
        | metering_models
        | AssetSelection.assets(
            SITE_CONFIG, QUALITY_SCORES, BUILD, *BUILD_TABLES, PUBLISHED, *INGEST_KEYS
        ),
        description="The overnight run: import the files waiting in landing and the device "
        "readings in the spool, export the site files, rebuild the day (or range) in the models "
        "that days of readings change and the materials and metering models, score, audit, run "
        "the analytics and publish.",
    )
    nightly_schedule = build_schedule_from_partitioned_job(
        nightly_job,
        name="nightly_schedule",
        hour_of_day=2,
        minute_of_hour=0,
        default_status=DefaultScheduleStatus.RUNNING,
        description="Every night at 02:00 in the partitions' zone (the site zone whose midnight "
        "comes last): yesterday, imported, rebuilt and published.",
    )
    return [backfill_job, nightly_job], [nightly_schedule]
