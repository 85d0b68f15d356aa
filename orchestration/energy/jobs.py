"""The weekly energy report job and schedule, and the e-mail of every energy report."""

import datetime as dt

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    OpExecutionContext,
    Output,
    PartitionsDefinition,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    job,
    op,
    schedule,
)

from orchestration.energy.assets import ENERGY_REPORT_WEEKLY
from orchestration.external import SmtpDeliveryResource
from orchestration.partitions import Partitions
from orchestration.reports.delivery import ReportDeliveryConfig, email_domain_reports
from orchestration.resources import SiteledgerHome

energy_report_weekly_job = define_asset_job(
    "energy_report_weekly_job",
    selection=AssetSelection.assets(ENERGY_REPORT_WEEKLY),
    description="Render, validate and register the weekly energy summaries of a week (or a range).",
)


@op(description="E-mail every validated energy report not yet e-mailed to its recipients.")
def email_energy_reports(
    context: OpExecutionContext,
    config: ReportDeliveryConfig,
    siteledger: SiteledgerHome,
    smtp: SmtpDeliveryResource,
) -> Output[list[str]]:
    return email_domain_reports(context, config, siteledger, smtp, "energy")


@job(
    name="energy_report_email_job",
    description="E-mail every validated energy report (weekly summary, monthly cost report) not "
    "yet e-mailed, or whose last e-mail failed; every attempt is recorded in the report registry.",
)
def energy_report_email_job() -> None:
    email_energy_reports()


def last_complete(partitions: PartitionsDefinition, now: dt.datetime) -> str | None:
    keys = partitions.get_partition_keys(current_time=now)
    return keys[-1] if keys else None


def build_energy_schedules(
    partitions: Partitions, weekly: PartitionsDefinition
) -> list[ScheduleDefinition]:
    # 05:00 on Monday: the nightly run (02:00) has published Sunday, the last day of the week
    @schedule(
        job=energy_report_weekly_job,
        cron_schedule="0 5 * * 1",
        execution_timezone=partitions.timezone,
        name="energy_report_weekly_schedule",
        default_status=DefaultScheduleStatus.RUNNING,
        description="05:00 on Monday: the weekly energy summaries of the ISO week just ended.",
    )
    def energy_report_weekly_schedule(
        context: ScheduleEvaluationContext,
    ) -> RunRequest | SkipReason:
        key = last_complete(weekly, context.scheduled_execution_time)
        if key is None:
            return SkipReason("no complete week yet")
        return RunRequest(run_key=f"energy-weekly-{key}", partition_key=key)

    # 06:00 daily: after the weekly summaries (Monday 05:00) and the monthly reports (04:00 on
    # the 1st), and again for any e-mail that failed
    energy_report_email_schedule = ScheduleDefinition(
        name="energy_report_email_schedule",
        job=energy_report_email_job,
        cron_schedule="0 6 * * *",
        execution_timezone=partitions.timezone,
        default_status=DefaultScheduleStatus.RUNNING,
        description="06:00 daily: e-mail the energy reports made since, and retry failed e-mails.",
    )
    return [energy_report_weekly_schedule, energy_report_email_schedule]
