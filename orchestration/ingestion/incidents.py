"""The environmental incidents register as an asset: incident drop files of the landing folder
recorded, and the register exported for dbt (source ``lake.incidents``)."""

from dagster import AssetKey, MaterializeResult, MetadataValue, asset

from ingestion.incidents import import_incident_drops
from orchestration.resources import SiteledgerHome
from siteledger.state.incidents import export_incidents, list_incidents

# the dbt source lake.incidents
RAW_INCIDENTS = AssetKey(["raw", "incidents"])


@asset(
    key=RAW_INCIDENTS,
    group_name="ingestion",
    owners=["team:data-engineering"],
    kinds={"python", "parquet"},
    pool="duckdb_writer",
)
def recorded_incidents(siteledger: SiteledgerHome) -> MaterializeResult:
    """Environmental incidents recorded by people (CLI and drop files), exported for dbt."""
    settings = siteledger.settings()
    store = siteledger.state_store()
    results = import_incident_drops(settings, store, list(siteledger.sites()))
    path = export_incidents(settings, store)
    register = list_incidents(store)
    return MaterializeResult(
        metadata={
            "files": MetadataValue.json(
                [
                    {
                        "file": r.file_name,
                        "status": r.status,
                        "added": len(r.added),
                        "updated": len(r.updated),
                        "quarantined": r.failed,
                    }
                    for r in results
                ]
            ),
            "incidents": len(register),
            "active": sum(1 for r in register if r["status"] == "active"),
            "problems": MetadataValue.json([p for r in results for p in r.problems][:200]),
            "path": MetadataValue.path(str(path)),
        }
    )
