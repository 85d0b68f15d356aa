"""Compliance report assets: monthly, quarterly and annual reports from the published marts."""

import datetime as dt
from typing import Any, cast

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.keys import PUBLISHED, REPORT_DEADLINES, REPORTS
from orchestration.partitions import Partitions
from orchestration.resources import SiteledgerHome
from reports.data import ReportDataError
from reports.deadlines import DEFAULT_HORIZON, due_in_home
from reports.definitions import PeriodKind, load_definitions
from reports.periods import period_containing
from reports.registry import Registry
from reports.service import ReportGenerationError, generate, preview_markdown

DEADLINES_KEY = REPORT_DEADLINES
DEADLINE_CHECK = "no_report_due_within_48h_is_unsubmitted"
# one report run at a time: two runs rendering the same period (two publishes close together)
# would both register its next version, and the second would fail
REPORTS_POOL = "report_registry"
_COMMON: dict[str, Any] = {
    "deps": [PUBLISHED],
    "pool": REPORTS_POOL,
    "group_name": "reports",
    "owners": ["team:compliance"],
    "kinds": {"pdf", "excel", "xml"},
}


def _period_keys(context: AssetExecutionContext, kind: str, fy_start_month: int) -> list[str]:
    """The report periods of the run's partition (or range), as report period keys."""
    partitions = context.assets_def.partitions_def
    if context.has_partition_key_range:
        keys = partitions.get_partition_keys_in_range(context.partition_key_range)
    else:
        keys = [context.partition_key]
    period_kind = cast(PeriodKind, kind)
    return [
        period_containing(period_kind, dt.date.fromisoformat(key), fy_start_month).key
        for key in keys
    ]


def _materialize(
    context: AssetExecutionContext, siteledger: SiteledgerHome, kind: str, fy_start_month: int
) -> MaterializeResult:
    settings = siteledger.settings()
    definitions = [d for d in load_definitions(settings.reports_dir) if d.period == kind]
    if not definitions:
        raise Failure(description=f"no {kind} report definition is configured")
    period_keys = _period_keys(context, kind, fy_start_month)
    context.log.info(f"{kind} reports for {', '.join(period_keys)}")
    return render_reports(context, siteledger, [d.id for d in definitions], period_keys)


def render_reports(
    context: AssetExecutionContext,
    siteledger: SiteledgerHome,
    definition_ids: list[str],
    period_keys: list[str],
) -> MaterializeResult:
    """Generate (render, validate, register) the definitions' reports of the periods for every
    site they apply to, with what was made as the materialisation's metadata."""
    try:
        outcomes = generate(
            siteledger.settings(),
            siteledger.state_store(),
            definition_ids=definition_ids,
            period_keys=period_keys,
            generated_by=f"dagster run {context.run.run_id[:8]}",
        )
    except (ReportGenerationError, ReportDataError) as exc:
        raise Failure(description=str(exc)) from exc
    records = [o.record for o in outcomes]
    pdfs = [r.artifacts["pdf"]["path"] for r in records if "pdf" in r.artifacts]
    metadata: dict[str, Any] = {
        "periods": MetadataValue.json(period_keys),
        "status": ", ".join(
            sorted({f"{r.definition_id}/{r.site_id}: {r.status}" for r in records})
        ),
        "reports": MetadataValue.json(
            [
                {
                    "id": r.report_id,
                    "definition": r.definition_id,
                    "site": r.site_id,
                    "period": r.period_key,
                    "version": r.version,
                    "status": r.status,
                    "action": o.action,
                    "errors": r.validation_errors,
                }
                for o, r in zip(outcomes, records, strict=True)
            ]
        ),
        "summary": MetadataValue.md("\n\n".join(preview_markdown(r) for r in records[-12:])),
        "created": sum(o.action == "created" for o in outcomes),
        "unchanged": sum(o.action == "unchanged" for o in outcomes),
    }
    if pdfs:
        metadata["pdf_path"] = MetadataValue.path(pdfs[-1])
    return MaterializeResult(metadata=metadata)


def build_report_assets(partitions: Partitions) -> list[AssetsDefinition]:
    """One asset per period kind; a range of periods renders in one run (one render pool)."""
    fy = partitions.fy_start_month
    common = {**_COMMON, "backfill_policy": BackfillPolicy.single_run()}

    @asset(key=REPORTS["monthly"], partitions_def=partitions.reports["monthly"], **common)
    def compliance_report_monthly(
        context: AssetExecutionContext, siteledger: SiteledgerHome
    ) -> MaterializeResult:
        """The month's compliance reports (every monthly definition, every site), all formats."""
        return _materialize(context, siteledger, "monthly", fy)

    @asset(key=REPORTS["quarterly"], partitions_def=partitions.reports["quarterly"], **common)
    def compliance_report_quarterly(
        context: AssetExecutionContext, siteledger: SiteledgerHome
    ) -> MaterializeResult:
        """The financial quarter's compliance reports (every quarterly definition, every site)."""
        return _materialize(context, siteledger, "quarterly", fy)

    @asset(key=REPORTS["annual"], partitions_def=partitions.reports["annual"], **common)
    def compliance_report_annual(
        context: AssetExecutionContext, siteledger: SiteledgerHome
    ) -> MaterializeResult:
        """The financial year's compliance reports (every annual definition, every site)."""
        return _materialize(context, siteledger, "annual", fy)

    return [compliance_report_monthly, compliance_report_quarterly, compliance_report_annual]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def due_reports(siteledger: SiteledgerHome, now: dt.datetime) -> list:
    settings = siteledger.settings()
    return due_in_home(
        settings.reports_dir,
        settings.published_db,
        settings.organisation_file,
        Registry(siteledger.state_store()),
        now,
        DEFAULT_HORIZON,
    )


@asset(
    key=DEADLINES_KEY,
    group_name="reports",
    owners=["team:compliance"],
    kinds={"python"},
    check_specs=[
        AssetCheckSpec(
            DEADLINE_CHECK,
            asset=DEADLINES_KEY,
            description="No report due within 48 h (or overdue) is left unsubmitted.",
        )
    ],
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
