"""Jobs, schedules and the deadline sensor of the compliance reports."""

import datetime as dt
import hashlib

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from orchestration.reports.assets import (
    _now,
    compliance_report_annual,
    compliance_report_monthly,
    compliance_report_quarterly,
    due_reports,
    report_deadlines,
)
from orchestration.reports.partitions import FY_START_MONTH, PARTITIONS, QUARTER_MONTHS
from orchestration.resources import SiteledgerHome

compliance_report_monthly_job = define_asset_job(
    "compliance_report_monthly_job",
    selection=AssetSelection.assets(compliance_report_monthly),
    partitions_def=PARTITIONS["monthly"],
    description="Render and register the month's compliance reports.",
)
compliance_report_quarterly_job = define_asset_job(
    "compliance_report_quarterly_job",
    selection=AssetSelection.assets(compliance_report_quarterly),
    partitions_def=PARTITIONS["quarterly"],
    description="Render and register the quarter's compliance reports.",
)
compliance_report_annual_job = define_asset_job(
    "compliance_report_annual_job",
    selection=AssetSelection.assets(compliance_report_annual),
    partitions_def=PARTITIONS["annual"],
    description="Render and register the financial year's compliance reports.",
)
report_deadline_job = define_asset_job(
    "report_deadline_job",
    selection=AssetSelection.assets(report_deadlines),
    description="List the reports due within 48 h and not submitted; its check fails when any is.",
)


def _last_complete(kind: str, now: dt.datetime) -> str | None:
    keys = PARTITIONS[kind].get_partition_keys(current_time=now)
    return keys[-1] if keys else None


def _request(kind: str, context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    key = _last_complete(kind, context.scheduled_execution_time)
    if key is None:
        return SkipReason(f"no complete {kind} period yet")
    return RunRequest(run_key=f"{kind}-{key}", partition_key=key)


# 04:00 on the first day after the period: the nightly run (02:00) has published its last day
@schedule(
    job=compliance_report_monthly_job,
    cron_schedule="0 4 1 * *",
    name="compliance_report_monthly_schedule",
    default_status=DefaultScheduleStatus.RUNNING,
    description="04:00 on the 1st: the month just ended, after the nightly run published it.",
)
def compliance_report_monthly_schedule(
    context: ScheduleEvaluationContext,
) -> RunRequest | SkipReason:
    return _request("monthly", context)


@schedule(
    job=compliance_report_quarterly_job,
    cron_schedule=f"0 4 1 {','.join(str(m) for m in QUARTER_MONTHS)} *",
    name="compliance_report_quarterly_schedule",
    default_status=DefaultScheduleStatus.RUNNING,
    description="04:00 on the first day of a financial quarter: the quarter just ended.",
)
def compliance_report_quarterly_schedule(
    context: ScheduleEvaluationContext,
) -> RunRequest | SkipReason:
    return _request("quarterly", context)


@schedule(
    job=compliance_report_annual_job,
    cron_schedule=f"0 4 1 {FY_START_MONTH} *",
    name="compliance_report_annual_schedule",
    default_status=DefaultScheduleStatus.RUNNING,
    description="04:00 on the first day of the financial year: the year just ended.",
)
def compliance_report_annual_schedule(
    context: ScheduleEvaluationContext,
) -> RunRequest | SkipReason:
    return _request("annual", context)


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
