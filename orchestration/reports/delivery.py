"""The delivery job: every submitted report still owed a channel goes out over S3 and e-mail.

A report is owed a channel when it was never attempted over it or its last attempt failed; each
attempt is a ``report_deliveries`` row, exactly as ``siteledger reports deliver`` records it.
"""

from typing import Any

from dagster import Config, Failure, MetadataValue, OpExecutionContext, Output, job, op
from pydantic import Field

from orchestration.external import S3DeliveryResource, SmtpDeliveryResource
from orchestration.resources import SiteledgerHome
from reports.definitions import load_definitions
from reports.delivery import deliver_to, undelivered, undelivered_by_email
from reports.registry import Registry


class ReportDeliveryConfig(Config):
    attempts: int = Field(default=4, ge=1, le=20, description="Attempts per report and channel.")
    backoff_s: float = Field(default=1.0, ge=0, description="First retry delay, doubling.")


@op(description="Deliver every submitted report not yet delivered (or whose last attempt failed).")
def deliver_submitted_reports(
    context: OpExecutionContext,
    config: ReportDeliveryConfig,
    siteledger: SiteledgerHome,
    s3: S3DeliveryResource,
    smtp: SmtpDeliveryResource,
) -> Output[dict[str, list[str]]]:
    s3_target, smtp_target = s3.target(), smtp.target()
    for reason in (s3.disabled_reason(), smtp.disabled_reason()):
        if reason:
            context.log.warning(reason)
    channels = [c for c, t in (("s3", s3_target), ("email", smtp_target)) if t is not None]
    if not channels:
        context.log.warning("delivery is off: no S3 bucket and no SMTP host configured")
        return Output({}, metadata={"delivered": 0, "failed": 0, "channels": "none"})
    settings = siteledger.settings()
    store = siteledger.state_store()
    try:
        registry = Registry(store)
        recipients = {d.id: d.recipients for d in load_definitions(settings.reports_dir)}
        delivered: dict[str, list[str]] = {}
        failed: list[str] = []
        for record, todo in undelivered(registry, channels):
            outcomes = deliver_to(
                registry,
                record,
                recipients.get(record.definition_id, []),
                s3_target if "s3" in todo else None,
                smtp_target if "email" in todo else None,
                attempts=config.attempts,
                backoff_s=config.backoff_s,
            )
            for outcome in outcomes:
                if outcome.ok:
                    delivered.setdefault(record.report_id, []).append(outcome.channel)
                    context.log.info(
                        f"{record.report_id}: {outcome.channel} ok after "
                        f"{outcome.attempts} attempt(s)"
                    )
                else:
                    failed.append(f"{record.report_id} {outcome.channel}: {outcome.error}")
    finally:
        store.dispose()
    metadata: dict[str, Any] = {
        "channels": ", ".join(channels),
        "delivered": sum(len(c) for c in delivered.values()),
        "failed": len(failed),
        "reports": MetadataValue.json(delivered),
    }
    if failed:
        listed = MetadataValue.md("\n".join(f"- {f}" for f in failed))
        raise Failure(
            f"{len(failed)} delivery(ies) failed after every attempt (the reports are kept; the "
            "next run tries again)",
            metadata={**metadata, "failures": listed},
        )
    return Output(delivered, metadata=metadata)


@job(
    name="report_delivery_job",
    description="Deliver every submitted report not yet delivered, or whose last delivery failed, "
    "to the S3 bucket and by e-mail; every attempt is recorded in the report registry.",
)
def report_delivery_job() -> None:
    deliver_submitted_reports()


def email_domain_reports(
    context: OpExecutionContext,
    config: ReportDeliveryConfig,
    siteledger: SiteledgerHome,
    smtp: SmtpDeliveryResource,
    domain: str,
) -> Output[list[str]]:
    """The body of a domain's e-mail op: every validated internal report of ``domain`` not yet
    e-mailed goes to its definition's recipients; a failure fails the op (the next run tries
    again)."""
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
        for record in undelivered_by_email(registry, definitions, domain):
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
            f"{len(failed)} {domain} report e-mail(s) failed after every attempt (the next run "
            "tries again)",
            metadata={
                **metadata,
                "failures": MetadataValue.md("\n".join(f"- {f}" for f in failed)),
            },
        )
    return Output(delivered, metadata=metadata)
