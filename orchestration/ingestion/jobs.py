"""Jobs of the ingestion area."""

from dagster import AssetSelection, define_asset_job

from orchestration.ingestion.incidents import RAW_INCIDENTS
from orchestration.keys import RAW_READINGS, URGENT_PRIORITY

ingest_landing_job = define_asset_job(
    "ingest_landing_job",
    # readings and lab results; incident drop files into the incidents register
    selection=AssetSelection.assets(RAW_READINGS, RAW_INCIDENTS),
    tags=URGENT_PRIORITY,
    description="Import every file waiting in the landing folder into the raw lake.",
)
