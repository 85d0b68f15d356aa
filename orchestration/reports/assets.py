"""Compliance report assets: monthly, quarterly and annual reports from the published marts."""

import datetime as dt
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.reports.partitions import (
    annual_report_partitions,
    monthly_report_partitions,
    quarterly_report_partitions,
)
from orchestration.resources import SiteledgerHome
from reports.data import ReportDataError, site_ids
from reports.deadlines import DEFAULT_HORIZON, unsubmitted_deadlines
from reports.definitions import load_definitions
from reports.registry import Registry
from reports.service import ReportGenerationError, generate_period, preview_markdown

PUBLISHED = AssetKey(["warehouse", "published"])
DEADLINES_KEY = AssetKey(["reports", "report_deadlines"])
DEADLINE_CHECK = "no_report_due_within_48h_is_unsubmitted"
_COMMON: dict[str, Any] = {
    "deps": [PUBLISHED],
    "group_name": "reports",
    "owners": ["team:compliance"],
    "kinds": {"pdf", "excel", "xml"},
}


def _materialize(
    context: AssetExecutionContext, siteledger: SiteledgerHome, kind: str
) -> MaterializeResult:
    start = context.partition_time_window.start.date()
    settings = siteledger.settings()
    try:
        outcomes = generate_period(
            settings,
            siteledger.state_store(),
            kind,
            start,
            generated_by=f"dagster run {context.run.run_id[:8]}",
        )
    except (ReportGenerationError, ReportDataError) as exc:
        raise Failure(description=str(exc)) from exc
    if not outcomes:
        raise Failure(description=f"no {kind} report definition is configured")
    records = [o.record for o in outcomes]
    pdfs = [r.artifacts["pdf"]["path"] for r in records if "pdf" in r.artifacts]
    metadata: dict[str, Any] = {
        "status": ", ".join(
            sorted({f"{r.definition_id}/{r.site_id}: {r.status}" for r in records})
        ),
        "reports": MetadataValue.json(
            [
                {
                    "id": r.report_id,
                    "status": r.status,
                    "version": r.version,
                    "errors": r.validation_errors,
                }
                for r in records
            ]
        ),
        "summary": MetadataValue.md("\n\n".join(preview_markdown(r) for r in records)),
        "created": sum(o.action == "created" for o in outcomes),
        "unchanged": sum(o.action == "unchanged" for o in outcomes),
    }
    if pdfs:
        metadata["pdf_path"] = MetadataValue.path(pdfs[0])
    return MaterializeResult(metadata=metadata)


@asset(
    key=AssetKey(["reports", "compliance_report_monthly"]),
    partitions_def=monthly_report_partitions,
    **_COMMON,
)
def compliance_report_monthly(
    context: AssetExecutionContext, siteledger: SiteledgerHome
) -> MaterializeResult:
    """The month's compliance reports (every monthly definition, every site), all formats."""
    return _materialize(context, siteledger, "monthly")


@asset(
    key=AssetKey(["reports", "compliance_report_quarterly"]),
    partitions_def=quarterly_report_partitions,
    **_COMMON,
)
def compliance_report_quarterly(
    context: AssetExecutionContext, siteledger: SiteledgerHome
) -> MaterializeResult:
    """The quarter's compliance reports (every quarterly definition, every site), all formats."""
    return _materialize(context, siteledger, "quarterly")


@asset(
    key=AssetKey(["reports", "compliance_report_annual"]),
    partitions_def=annual_report_partitions,
    **_COMMON,
)
def compliance_report_annual(
    context: AssetExecutionContext, siteledger: SiteledgerHome
) -> MaterializeResult:
    """The financial year's compliance reports (every annual definition, every site)."""
    return _materialize(context, siteledger, "annual")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def due_reports(siteledger: SiteledgerHome, now: dt.datetime) -> list:
    settings = siteledger.settings()
    registry = Registry(siteledger.state_store())
    db = settings.published_db
    sites = site_ids(db) if db.exists() else sorted({r.site_id for r in registry.list()})
    return unsubmitted_deadlines(
        load_definitions(settings.reports_dir), sites, registry, now, DEFAULT_HORIZON
    )


@asset(
    key=DEADLINES_KEY,
    group_name="reports",
    owners=["team:compliance"],
    kinds={"python"},
    check_specs=[AssetCheckSpec(DEADLINE_CHECK, asset=DEADLINES_KEY)],
)
def report_deadlines(siteledger: SiteledgerHome) -> MaterializeResult:
    """Reports due within 48 h (or overdue) that nobody has submitted yet."""
    due = due_reports(siteledger, _now())
    table = "\n".join(f"- {d.describe()}" for d in due) or "nothing due"
    return MaterializeResult(
        metadata={"due": MetadataValue.md(table), "dagster/row_count": len(due)},
        check_results=[
            AssetCheckResult(
                check_name=DEADLINE_CHECK,
                passed=not due,
                severity=AssetCheckSeverity.ERROR,
                metadata={"due": MetadataValue.md(table), "count": len(due)},
                description=None if not due else f"{len(due)} report(s) due and not submitted",
            )
        ],
    )
