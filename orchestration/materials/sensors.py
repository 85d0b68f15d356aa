"""Certificates after a publish that brought lots whose testing is complete."""

from dagster import (
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    asset_sensor,
)

from orchestration.keys import PUBLISHED, SENSOR_PRIORITY
from orchestration.materials.jobs import certificates_of_analysis_job
from orchestration.resources import SENSOR_INTERVAL_S, SiteledgerHome
from orchestration.runner import CHAIN_STARTER, STARTED_BY_TAG
from reports.materials.certificates import certificates_due


@asset_sensor(
    asset_key=PUBLISHED,
    job=certificates_of_analysis_job,
    name="certificates_of_analysis_sensor",
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="When a publish holds lots whose testing is complete and that have no "
    "certificate yet (or were retested since theirs), make their certificates.",
)
def certificates_of_analysis_sensor(
    context: SensorEvaluationContext, asset_event: EventLogEntry, siteledger: SiteledgerHome
) -> RunRequest | SkipReason:
    run = context.instance.get_run_by_id(asset_event.run_id) if asset_event.run_id else None
    if run is not None and run.tags.get(STARTED_BY_TAG) == CHAIN_STARTER:
        return SkipReason("published by siteledger run, which makes the certificates itself")
    store = siteledger.state_store()
    try:
        due = certificates_due(siteledger.settings(), store)
    finally:
        store.dispose()
    if not due:
        return SkipReason("no lot of the published warehouse is waiting for a certificate")
    return RunRequest(
        run_key=f"{asset_event.run_id}:certificates",
        tags={**SENSOR_PRIORITY, "siteledger/certificates_due": str(len(due))},
    )
