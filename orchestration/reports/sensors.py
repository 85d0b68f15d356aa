"""The report sensors: reports after a publish nobody rendered them for, and deadlines."""

import hashlib

from dagster import (
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    asset_sensor,
    sensor,
)

from orchestration.energy.jobs import energy_report_weekly_job
from orchestration.keys import PUBLISHED, SENSOR_PRIORITY
from orchestration.partitions import REPORT_KINDS, build_partitions, range_tags
from orchestration.reports.assets import _now, due_reports
from orchestration.reports.jobs import compliance_report_job, report_deadline_job
from orchestration.resources import SENSOR_INTERVAL_S, SiteledgerHome
from orchestration.runner import CHAIN_STARTER, REPORT_JOBS, STARTED_BY_TAG, report_ranges


@sensor(
    job=report_deadline_job,
    name="report_deadline_sensor",
    minimum_interval_seconds=3600,
    default_status=DefaultSensorStatus.RUNNING,
    description="Hourly: when a report is due within 48 h (or overdue) and not submitted, run the "
    "deadline check, which fails (severity ERROR) listing them; once per day per set of reports.",
)
def report_deadline_sensor(
    context: SensorEvaluationContext, siteledger: SiteledgerHome
) -> RunRequest | SkipReason:
    now = _now()
    due = due_reports(siteledger, now)
    if not due:
        return SkipReason("no unsubmitted report is due within 48 h")
    digest = hashlib.sha256("\n".join(d.describe().split(":")[0] for d in due).encode())
    return RunRequest(
        run_key=f"{now:%Y-%m-%d}-{digest.hexdigest()[:16]}",
        tags={"siteledger/reports_due": str(len(due))},
    )


@asset_sensor(
    asset_key=PUBLISHED,
    jobs=[*(compliance_report_job(kind) for kind in REPORT_KINDS), energy_report_weekly_job],
    name="published_reports_sensor",
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="When the warehouse is published by a run that does not render reports itself "
    "(a sensor's or a hand-started backfill), render the reports of every complete period "
    "(the energy summaries' weeks too): "
    "unchanged figures make no new version, changed ones make the next.",
)
def published_reports_sensor(
    context: SensorEvaluationContext, asset_event: EventLogEntry, siteledger: SiteledgerHome
) -> list[RunRequest] | SkipReason:
    run = context.instance.get_run_by_id(asset_event.run_id) if asset_event.run_id else None
    if run is not None and run.tags.get(STARTED_BY_TAG) == CHAIN_STARTER:
        return SkipReason("published by siteledger run, which renders the reports itself")
    settings = siteledger.settings()
    ranges = report_ranges(settings, build_partitions(settings))
    if not ranges:
        return SkipReason("no report period is complete in the published warehouse")
    return [
        RunRequest(
            run_key=f"{asset_event.run_id}:{kind}:{first}:{last}",
            job_name=REPORT_JOBS.get(kind) or compliance_report_job(kind).name,
            tags={**range_tags((first, last)), **SENSOR_PRIORITY},
        )
        for kind, spans in sorted(ranges.items())
        for first, last in spans
    ]
