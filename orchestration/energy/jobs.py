"""The weekly energy report job and schedule, and the e-mail of every energy report."""

import datetime as dt
from typing import Any

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Failure,
    MetadataValue,
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
from orchestration.reports.delivery import ReportDeliveryConfig
from orchestration.resources import SiteledgerHome
from reports.definitions import load_definitions
from reports.delivery import deliver_to
from reports.energy import undelivered_energy
from reports.registry import Registry

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
    target = smtp.target()
    if target is None:
        context.log.warning(smtp.disabled_reason() or "e-mail delivery is off")
        return Output([], metadata={"delivered": 0, "failed": 0})
    settings = siteledger.settings()
    definitions = load_definitions(settings.reports_dir)
    recipients = {d.id: d.recipients for d in definitions}
    store = siteledger.state_store()
    delivered: list[str] = []
    failed: list[str] = []
    try:
        registry = Registry(store)
        for record in undelivered_energy(registry, definitions):
            (outcome,) = deliver_to(
                registry,
                record,
                recipients.get(record.definition_id, []),
                None,
                target,
                attempts=config.attempts,
                backoff_s=config.backoff_s,
            )
            if outcome.ok:
                delivered.append(record.report_id)
            else:
                failed.append(f"{record.report_id}: {outcome.error}")
    finally:
        store.dispose()
    metadata: dict[str, Any] = {
        "delivered": len(delivered),
        "failed": len(failed),
        "reports": MetadataValue.json(delivered),
    }
    if failed:
        raise Failure(
            f"{len(failed)} energy report e-mail(s) failed after every attempt (the next run "
            "tries again)",
            metadata={
                **metadata,
                "failures": MetadataValue.md("\n".join(f"- {f}" for f in failed)),
            },
        )
    return Output(delivered, metadata=metadata)


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
