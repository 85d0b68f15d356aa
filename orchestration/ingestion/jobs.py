"""Jobs of the ingestion area."""

from dagster import AssetSelection, define_asset_job

from orchestration.keys import RAW_READINGS, URGENT_PRIORITY

ingest_landing_job = define_asset_job(
    "ingest_landing_job",
    selection=AssetSelection.assets(RAW_READINGS),
    tags=URGENT_PRIORITY,
    description="Import every file waiting in the landing folder into the raw lake.",
)
