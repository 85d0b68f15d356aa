"""File ingestion: the raw-readings and incidents-register assets, their job and the
landing-folder sensor."""

from dagster import Definitions

from orchestration.ingestion.assets import readings
from orchestration.ingestion.incidents import recorded_incidents
from orchestration.ingestion.jobs import ingest_landing_job
from orchestration.ingestion.sensors import landing_file_sensor

defs = Definitions(
    assets=[readings, recorded_incidents],
    jobs=[ingest_landing_job],
    sensors=[landing_file_sensor],
)
