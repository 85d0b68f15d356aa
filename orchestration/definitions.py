"""The one Dagster entry point: ``defs``, merged from the per-area modules."""

from __future__ import annotations

from dagster import Definitions

from orchestration.ingestion.assets import raw_readings
from orchestration.ingestion.jobs import ingest_landing_job
from orchestration.resources import SiteledgerHome

defs = Definitions(
    assets=[raw_readings],
    jobs=[ingest_landing_job],
    resources={"siteledger": SiteledgerHome()},
)
