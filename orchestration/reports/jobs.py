"""Jobs and schedules of the compliance reports, from the organisation's financial year."""

import datetime as dt
from typing import Any

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    PartitionsDefinition,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from orchestration.keys import REPORT_DEADLINES, REPORTS
from orchestration.partitions import REPORT_KINDS, Partitions

report_deadline_job = define_asset_job(
    "report_deadline_job",
    selection=AssetSelection.assets(REPORT_DEADLINES),
    description="List the reports due within 48 h and not submitted; its check fails when any is.",
)

_DESCRIPTIONS = {
    "monthly": "Render, validate and register the compliance reports of a month (or a range).",
    "quarterly": "Render, validate and register the compliance reports of a financial quarter "
    "(or a range).",
    "annual": "Render, validate and register the compliance reports of a financial year (or a "
    "range).",
}


REPORT_JOBS = {
    kind: define_asset_job(
        f"compliance_report_{kind}_job",
        selection=AssetSelection.assets(REPORTS[kind]),
        description=_DESCRIPTIONS[kind],
    )
    for kind in REPORT_KINDS
}


def compliance_report_job(kind: str) -> Any:
    """The job rendering the reports of one period kind (a period or a range of them)."""
    return REPORT_JOBS[kind]


def last_complete(partitions: PartitionsDefinition, now: dt.datetime) -> str | None:
    """The key of the last period that has ended at ``now``."""
    keys = partitions.get_partition_keys(current_time=now)
    return keys[-1] if keys else None


def build_report_jobs(
    partitions: Partitions,
) -> tuple[list[Any], list[ScheduleDefinition]]:
    jobs, schedules = [], []
    months = {
        "monthly": "*",
        "quarterly": ",".join(str(m) for m in partitions.quarter_months),
        "annual": str(partitions.fy_start_month),
    }
    for kind in REPORT_KINDS:
        job = REPORT_JOBS[kind]
        jobs.append(job)
        schedules.append(_schedule(kind, job, months[kind], partitions))
    return [*jobs, report_deadline_job], schedules


def _schedule(kind: str, job: Any, months: str, partitions: Partitions) -> ScheduleDefinition:
    period_partitions = partitions.reports[kind]

    # 04:00 on the first day after the period: the nightly run (02:00) has published its last day
    @schedule(
        job=job,
        cron_schedule=f"0 4 1 {months} *",
        execution_timezone=partitions.timezone,
        name=f"compliance_report_{kind}_schedule",
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"04:00 on the first day of the next {kind.removesuffix('ly')} period: "
        f"the {kind} reports of the period just ended, after the nightly run published it.",
    )
    def _request(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
        key = last_complete(period_partitions, context.scheduled_execution_time)
        if key is None:
            return SkipReason(f"no complete {kind} period yet")
        return RunRequest(run_key=f"{kind}-{key}", partition_key=key)

    return _request
