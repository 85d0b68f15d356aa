"""Jobs of the ingestion area."""

from dagster import AssetSelection, define_asset_job

ingest_landing_job = define_asset_job(
    "ingest_landing_job",
    selection=AssetSelection.assets(["raw", "readings"]),
    description="Import every file waiting in the landing folder into the raw lake.",
)
