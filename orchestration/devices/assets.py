"""Device assets: the collector's spool imported into the raw lake, and device health."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from ingestion.devices.health import write_health_snapshot
from ingestion.devices.importer import import_spool
from orchestration.keys import DEVICE_HEALTH, RAW_DEVICE_READINGS
from orchestration.resources import SiteledgerHome


@asset(
    key=RAW_DEVICE_READINGS,
    group_name="ingestion",
    owners=["team:data-engineering"],
    kinds={"python", "parquet"},
    description="Device readings moved from the collector's spool into the immutable raw lake.",
    # in the dbt writers' pool: a build never reads the lake while a batch is being added to it
    pool="duckdb_writer",
)
def device_readings(
    context: AssetExecutionContext, siteledger: SiteledgerHome
) -> MaterializeResult:
    """Device readings moved from the collector's spool into the immutable raw lake."""
    settings, store = siteledger.settings(), siteledger.state_store()
    results = [import_spool(settings, site, store) for site in siteledger.sites()]
    for result in results:
        context.log.info(
            f"{result.site_id}: {result.segments} segments, {result.readings} readings"
        )
    problems = [error for result in results for error in result.errors]
    return MaterializeResult(
        metadata={
            "segments": sum(r.segments for r in results),
            "readings_imported": sum(r.readings for r in results),
            "rows_quarantined": sum(r.quarantined_rows for r in results),
            "segments_quarantined": sum(r.quarantined_segments for r in results),
            "batches": MetadataValue.json([b for r in results for b in r.batches]),
            "days_written": MetadataValue.json(sorted({d for r in results for d in r.days})),
            "problems": MetadataValue.md("\n".join(f"- {p}" for p in problems[:50]) or "none"),
        }
    )


@asset(
    key=DEVICE_HEALTH,
    deps=[RAW_DEVICE_READINGS],
    group_name="ingestion",
    owners=["team:data-engineering"],
    kinds={"python", "parquet"},
    description="Health of every Modbus device: online, stale, offline or erroring, last seen, "
    "error counts and poll latency, from the collector's own poll records.",
)
def device_health(context: AssetExecutionContext, siteledger: SiteledgerHome) -> MaterializeResult:
    """Health of every Modbus device, from the collector's own poll records."""
    settings, store = siteledger.settings(), siteledger.state_store()
    by_status: dict[str, int] = {}
    not_online = []
    for site in siteledger.sites():
        _, rows = write_health_snapshot(settings, store, site)
        for row in rows:
            by_status[row["status"]] = by_status.get(row["status"], 0) + 1
            if row["status"] != "online":
                not_online.append(f"{site.site.id} {row['device']}: {row['status']}")
    return MaterializeResult(
        metadata={
            "devices_by_status": MetadataValue.json(by_status),
            "not_online": MetadataValue.md("\n".join(f"- {d}" for d in not_online[:50]) or "none"),
            "path": MetadataValue.path(str(settings.lake / "device_health")),
        }
    )
