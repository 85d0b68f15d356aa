"""The certificates job and the e-mail of the monthly materials reports."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    OpExecutionContext,
    Output,
    ScheduleDefinition,
    define_asset_job,
    job,
    op,
)

from orchestration.external import SmtpDeliveryResource
from orchestration.keys import CERTIFICATES
from orchestration.partitions import Partitions
from orchestration.reports.delivery import ReportDeliveryConfig, email_domain_reports
from orchestration.resources import SiteledgerHome

certificates_of_analysis_job = define_asset_job(
    "certificates_of_analysis_job",
    selection=AssetSelection.assets(CERTIFICATES),
    description="Render and register a certificate of analysis for every lot whose testing is "
    "complete and that has none yet (or was retested since).",
)


@op(description="E-mail every validated monthly materials report not yet e-mailed.")
def email_materials_reports(
    context: OpExecutionContext,
    config: ReportDeliveryConfig,
    siteledger: SiteledgerHome,
    smtp: SmtpDeliveryResource,
) -> Output[list[str]]:
    return email_domain_reports(context, config, siteledger, smtp, "materials")


@job(
    name="materials_report_email_job",
    description="E-mail every validated monthly materials report (costs, inventory) not yet "
    "e-mailed, or whose last e-mail failed; every attempt is recorded in the report registry.",
)
def materials_report_email_job() -> None:
    email_materials_reports()


def build_materials_schedules(partitions: Partitions) -> list[ScheduleDefinition]:
    # 06:00 daily: after the monthly reports (04:00 on the 1st), and again for a failed e-mail
    return [
        ScheduleDefinition(
            name="materials_report_email_schedule",
            job=materials_report_email_job,
            cron_schedule="0 6 * * *",
            execution_timezone=partitions.timezone,
            default_status=DefaultScheduleStatus.RUNNING,
            description="06:00 daily: e-mail the monthly materials reports made since, and "
            "retry failed e-mails.",
        )
    ]
