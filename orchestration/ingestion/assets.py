"""Ingestion assets: file drops in the landing folder become rows of the raw lake."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from ingestion.files import import_landing
from orchestration.resources import SiteledgerHome


@asset(
    key=AssetKey(["raw", "readings"]),
    group_name="ingestion",
    owners=["team:data-engineering"],
    kinds={"python", "parquet"},
    description="Meter and sensor readings imported from file drops into the immutable raw lake.",
    # in the dbt writers' pool: a build never reads the lake while a batch is being added to it
    pool="duckdb_writer",
)
def raw_readings(context: AssetExecutionContext, siteledger: SiteledgerHome) -> MaterializeResult:
    """Meter and sensor readings imported from file drops into the immutable raw lake."""
    settings = siteledger.settings()
    store = siteledger.state_store()
    results = []
    for site in siteledger.sites():
        site_results = import_landing(settings, site, store)
        context.log.info(f"{site.site.id}: {len(site_results)} files handled")
        results.extend(site_results)
    by_status: dict[str, int] = {}
    for result in results:
        by_status[result.status] = by_status.get(result.status, 0) + 1
    problems = [f"{r.file_name}: {r.error}" for r in results if r.error]
    days = sorted(
        {part[4:] for r in results for f in r.lake_files for part in f.parts if part[:4] == "day="}
    )
    return MaterializeResult(
        metadata={
            "files": len(results),
            "files_by_status": MetadataValue.json(by_status),
            "readings_imported": sum(r.imported for r in results),
            "rows_quarantined": sum(r.failed for r in results),
            "days_written": MetadataValue.json(days),
            "lake_path": MetadataValue.path(str(settings.readings_lake)),
            "problems": MetadataValue.md("\n".join(f"- {p}" for p in problems[:50]) or "none"),
        }
    )
