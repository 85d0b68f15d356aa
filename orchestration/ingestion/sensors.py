"""Sensors of the ingestion area."""

import hashlib

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from orchestration.ingestion.jobs import ingest_landing_job
from orchestration.resources import SENSOR_INTERVAL_S, SiteledgerHome


@sensor(
    job=ingest_landing_job,
    name="landing_file_sensor",
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts an import when files wait in the landing folder.",
)
def landing_file_sensor(
    context: SensorEvaluationContext, siteledger: SiteledgerHome
) -> RunRequest | SkipReason:
    landing = siteledger.settings().landing
    waiting = sorted(
        (entry.name, entry.stat().st_size, entry.stat().st_mtime_ns)
        for entry in landing.iterdir()
        if entry.is_file() and not entry.name.startswith(".")
    )
    if not waiting:
        return SkipReason(f"no files in {landing}")
    # the same set of files (names, sizes, times) asks for one run only
    fingerprint = hashlib.sha256(repr(waiting).encode()).hexdigest()[:20]
    if fingerprint == context.cursor:
        return SkipReason(f"{len(waiting)} file(s) already requested")
    context.update_cursor(fingerprint)
    return RunRequest(run_key=fingerprint, tags={"siteledger/files": str(len(waiting))})
