"""Ingestion assets: file drops in the landing folder become rows of the raw lake."""

import time
from typing import Any

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from ingestion.files import import_landing
from orchestration.keys import RAW_READINGS
from orchestration.resources import SiteledgerHome


def matched_once(results: list[Any]) -> list[Any]:
    """Every site's import results with a file that no site's layouts matched listed once, and a
    file that some site imported not also listed as unmatched for the others."""
    handled = {r.file_name for r in results if r.status != "unmatched"}
    unmatched: dict[str, Any] = {}
    for r in results:
        if r.status == "unmatched" and r.file_name not in handled:
            unmatched.setdefault(r.file_name, r)
    return [r for r in results if r.status != "unmatched"] + list(unmatched.values())


def import_table(results: list[Any]) -> list[dict[str, Any]]:
    """Import jobs grouped by file layout and status, with their row counts."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for r in results:
        row = groups.setdefault(
            (r.layout_id or "-", r.status),
            {
                "layout": r.layout_id or "-",
                "status": r.status,
                "files": 0,
                "rows": 0,
                "imported": 0,
                "skipped": 0,
                "quarantined": 0,
            },
        )
        row["files"] += 1
        row["rows"] += r.total
        row["imported"] += r.imported
        row["skipped"] += r.skipped
        row["quarantined"] += r.failed
    return [groups[key] for key in sorted(groups)]


@asset(
    key=RAW_READINGS,
    group_name="ingestion",
    owners=["team:data-engineering"],
    kinds={"python", "parquet"},
    # in the dbt writers' pool: a build never reads the lake while a batch is being added to it
    pool="duckdb_writer",
)
def readings(context: AssetExecutionContext, siteledger: SiteledgerHome) -> MaterializeResult:
    """Meter and sensor readings imported from file drops into the immutable raw lake."""
    settings = siteledger.settings()
    store = siteledger.state_store()
    results = []
    by_site = {}
    t0 = time.perf_counter()
    for site in siteledger.sites():
        site_results = import_landing(settings, site, store)
        # a drop of another site is "unmatched" for this one: it is counted where it belongs
        matched = [r for r in site_results if r.status != "unmatched"]
        context.log.info(f"{site.site.id}: {len(matched)} files handled")
        by_site[site.site.id] = {
            "files": len(matched),
            "readings": sum(r.imported for r in matched),
        }
        results.extend(site_results)
    results = matched_once(results)
    by_status: dict[str, int] = {}
    for result in results:
        by_status[result.status] = by_status.get(result.status, 0) + 1
    problems = [
        {
            "status": r.status,
            "file": r.file_name,
            "reason": r.error or f"{r.failed} row(s) quarantined",
        }
        for r in results
        if r.status in ("quarantined", "failed") or r.failed
    ]
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
            "sites": MetadataValue.json(by_site),
            "import_jobs": MetadataValue.json(import_table(results)),
            "problems": MetadataValue.json(problems[:200]),
            "seconds": round(time.perf_counter() - t0, 2),
            "lake_path": MetadataValue.path(str(settings.readings_lake)),
        }
    )
