"""Quality scores, and the audited build database whose blocking audits gate the publish."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from orchestration.keys import BUILD, QUALITY_SCORES
from orchestration.resources import SiteledgerHome
from orchestration.water.assets import DUCKDB_POOL, MART_KEYS, run_window
from quality.audit import AUDIT_DESCRIPTIONS, audit_build
from quality.scoring import score_build, site_day_scores
from siteledger.dbt import manifest_path
from siteledger.warehouse import Warehouse


def build_quality_scores(daily: DailyPartitionsDefinition) -> AssetsDefinition:
    @asset(
        key=QUALITY_SCORES,
        deps=MART_KEYS,
        partitions_def=daily,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="quality",
        owners=["team:data-engineering"],
        kinds={"python", "duckdb"},
        pool=DUCKDB_POOL,
    )
    def fct_quality_scores_daily(
        context: AssetExecutionContext, siteledger: SiteledgerHome
    ) -> MaterializeResult:
        """Quality scores 0-100 per meter, node and site day, validated by Great Expectations."""
        start_day, end_day = run_window(context) or (None, None)
        result = score_build(siteledger.settings(), start_day, end_day)
        return MaterializeResult(
            metadata={
                "dagster/row_count": result.n_rows,
                "days_scored": result.n_days,
                "status_counts": MetadataValue.json(result.by_status),
                "failed_expectations": result.n_failed_expectations,
                "data_docs": MetadataValue.path(str(result.data_docs or "")),
                "seconds": round(result.seconds, 2),
            }
        )

    return fct_quality_scores_daily


@asset(
    key=BUILD,
    deps=[*MART_KEYS, QUALITY_SCORES],
    group_name="warehouse",
    owners=["team:data-engineering"],
    kinds={"duckdb"},
    pool=DUCKDB_POOL,
    check_specs=[
        AssetCheckSpec(name, asset=BUILD, blocking=True, description=description)
        for name, description in AUDIT_DESCRIPTIONS.items()
    ],
)
def build(context: AssetExecutionContext, siteledger: SiteledgerHome) -> MaterializeResult:
    """The build database after dbt and scoring, audited before it may be published: its
    blocking audits (write-audit-publish) stop the publish when one fails, and a rejection is
    recorded with the version that keeps serving."""
    settings = siteledger.settings()
    warehouse = Warehouse(settings, siteledger.state_store())
    checks = audit_build(warehouse.build_db, manifest_path(settings))
    serving = warehouse.current()
    serving_id = serving.version_id if serving else None
    audit_id = None
    if not all(check.passed for check in checks):
        outcome = warehouse.record_audit(checks, None, note=f"rejected in run {context.run.run_id}")
        audit_id, serving_id = outcome.audit_id, outcome.serving_version_id
        context.log.error(
            f"build rejected (audit {audit_id}); version {serving_id or '(none)'} keeps serving"
        )
    return MaterializeResult(
        metadata={
            "build_path": MetadataValue.path(str(warehouse.build_db)),
            "bytes": warehouse.build_db.stat().st_size if warehouse.build_db.exists() else 0,
            "audits_failed": sum(not check.passed for check in checks),
            "serving_version_id": serving_id or "",
            "rejection_audit_id": audit_id or "",
        },
        check_results=[
            AssetCheckResult(
                check_name=check.name,
                asset_key=BUILD,
                passed=check.passed,
                severity=AssetCheckSeverity.ERROR,
                metadata={
                    "detail": check.detail,
                    "rows": MetadataValue.json(check.rows),
                    "serving_version_id": serving_id or "",
                },
            )
            for check in checks
        ],
    )


@asset_check(asset=QUALITY_SCORES, blocking=False)
def site_days_score_good_or_better(siteledger: SiteledgerHome) -> AssetCheckResult:
    """Every closed site-day scores 'good' or better; the scores are in the metadata."""
    rows = site_day_scores(siteledger.settings())
    weak = [r for r in rows if r["status"] not in ("excellent", "good")]
    scores = [float(str(r["overall_score"])) for r in rows if r["overall_score"] is not None]
    lowest = min(scores, default=None)
    return AssetCheckResult(
        passed=not weak,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "lowest_overall_score": lowest,
            "site_days": len(rows),
            "below_good": MetadataValue.json(weak[:50]),
            "scores": MetadataValue.json(rows[-60:]),
        },
    )
