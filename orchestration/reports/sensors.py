"""The report deadline sensor."""

import hashlib

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from orchestration.reports.assets import _now, due_reports
from orchestration.reports.jobs import report_deadline_job
from orchestration.resources import SiteledgerHome


@sensor(
    job=report_deadline_job,
    name="report_deadline_sensor",
    minimum_interval_seconds=3600,
    default_status=DefaultSensorStatus.RUNNING,
    description="Hourly: when a report is due within 48 h (or overdue) and not submitted, run the "
    "deadline check, which fails (severity ERROR) listing them; once per day per set of reports.",
)
def report_deadline_sensor(context: SensorEvaluationContext, siteledger: SiteledgerHome):
    now = _now()
    due = due_reports(siteledger, now)
    if not due:
        return SkipReason("no unsubmitted report is due within 48 h")
    digest = hashlib.sha256("\n".join(d.describe().split(":")[0] for d in due).encode())
    return RunRequest(
        run_key=f"{now:%Y-%m-%d}-{digest.hexdigest()[:16]}",
        tags={"siteledger/reports_due": str(len(due))},
    )
