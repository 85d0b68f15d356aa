"""The e-mail of the monthly metering reports (revenue, device health and maintenance)."""

from dagster import (
    DefaultScheduleStatus,
    OpExecutionContext,
    Output,
    ScheduleDefinition,
    job,
    op,
)

from orchestration.external import SmtpDeliveryResource
from orchestration.partitions import Partitions
from orchestration.reports.delivery import ReportDeliveryConfig, email_domain_reports
from orchestration.resources import SiteledgerHome


@op(description="E-mail every validated monthly metering report not yet e-mailed.")
def email_metering_reports(
    context: OpExecutionContext,
    config: ReportDeliveryConfig,
    siteledger: SiteledgerHome,
    smtp: SmtpDeliveryResource,
) -> Output[list[str]]:
    return email_domain_reports(context, config, siteledger, smtp, "metering")


@job(
    name="metering_report_email_job",
    description="E-mail every validated monthly metering report (revenue, device health and "
    "maintenance) not yet e-mailed, or whose last e-mail failed; every attempt is recorded in "
    "the report registry.",
)
def metering_report_email_job() -> None:
    email_metering_reports()


def build_metering_schedules(partitions: Partitions) -> list[ScheduleDefinition]:
    # 06:15 daily: after the monthly reports (04:00 on the 1st) and the materials e-mail
    return [
        ScheduleDefinition(
            name="metering_report_email_schedule",
            job=metering_report_email_job,
            cron_schedule="15 6 * * *",
            execution_timezone=partitions.timezone,
            default_status=DefaultScheduleStatus.RUNNING,
            description="06:15 daily: e-mail the monthly metering reports made since, and "
            "retry failed e-mails.",
        )
    ]
