"""Quality scores and the blocking audits that gate publishing the warehouse."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    multi_asset_check,
)

from orchestration.partitions import daily_partitions
from orchestration.resources import SiteledgerHome
from orchestration.water.assets import DUCKDB_POOL, MART_KEYS, QUALITY_SCORES_KEY
from quality.audit import AUDIT_DESCRIPTIONS, audit_build
from quality.scoring import score_build, site_day_scores
from siteledger.warehouse import Warehouse


def _window(context: AssetExecutionContext) -> tuple[str | None, str | None]:
    """The run's site-local days: a partition, a range, or everything for an unpartitioned run."""
    if not (context.has_partition_key or context.has_partition_key_range):
        return None, None
    window = context.partition_time_window
    last = (window.end - dt.timedelta(days=1)).date()
    return window.start.date().isoformat(), last.isoformat()


@asset(
    key=QUALITY_SCORES_KEY,
    deps=MART_KEYS,
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    group_name="quality",
    owners=["team:data-engineering"],
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
)
def quality_scores_daily(
    context: AssetExecutionContext, siteledger: SiteledgerHome
) -> MaterializeResult:
    """Quality scores 0-100 per meter, node and site day, validated by Great Expectations."""
    start_day, end_day = _window(context)
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


@multi_asset_check(
    specs=[
        AssetCheckSpec(name, asset=QUALITY_SCORES_KEY, blocking=True, description=description)
        for name, description in AUDIT_DESCRIPTIONS.items()
    ],
    name="warehouse_publish_audits",
)
def warehouse_publish_audits(
    context: AssetCheckExecutionContext, siteledger: SiteledgerHome
) -> Iterator[AssetCheckResult]:
    """The audits of write-audit-publish; a failure stops the publish and is recorded."""
    settings = siteledger.settings()
    warehouse = Warehouse(settings, siteledger.state_store())
    checks = audit_build(warehouse.build_db)
    if not all(check.passed for check in checks):
        outcome = warehouse.record_audit(checks, None, note=f"rejected in run {context.run.run_id}")
        context.log.error(
            f"build rejected (audit {outcome.audit_id}); version "
            f"{outcome.serving_version_id or '(none)'} keeps serving"
        )
    for check in checks:
        yield AssetCheckResult(
            check_name=check.name,
            asset_key=QUALITY_SCORES_KEY,
            passed=check.passed,
            severity=AssetCheckSeverity.ERROR,
            metadata={"detail": check.detail, "rows": MetadataValue.json(check.rows)},
        )


@asset_check(asset=QUALITY_SCORES_KEY, blocking=False)
def site_days_score_good_or_better(siteledger: SiteledgerHome) -> AssetCheckResult:
    """Every closed site-day scores 'good' or better; the scores are in the metadata."""
    rows: list[dict[str, Any]] = site_day_scores(siteledger.settings())
    weak = [r for r in rows if r["status"] not in ("excellent", "good")]
    lowest = min((r["overall_score"] for r in rows if r["overall_score"] is not None), default=None)
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
