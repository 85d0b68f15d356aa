"""The materials lake and the certificates of analysis."""

from typing import Any

from dagster import (
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ingestion.materials_status import records_summary
from orchestration.keys import CERTIFICATES, PUBLISHED, RAW_MATERIALS, RAW_READINGS
from orchestration.reports.assets import REPORTS_POOL
from orchestration.resources import SiteledgerHome
from reports.data import ReportDataError
from reports.materials.certificates import certificate_definitions
from reports.service import ReportGenerationError, generate


@asset(
    key=RAW_MATERIALS,
    deps=[RAW_READINGS],
    group_name="materials",
    owners=["team:data-engineering"],
    kinds={"parquet"},
)
def materials_records(siteledger: SiteledgerHome) -> MaterializeResult:
    """Materials and production records (receipts, orders, movements, batches, lot edges, QC
    results, sales, jobs) in the raw lake, imported from landing with the readings."""
    store = siteledger.state_store()
    try:
        summary = records_summary(siteledger.settings(), store)
    finally:
        store.dispose()
    return MaterializeResult(
        metadata={
            "rows": MetadataValue.json(summary["rows"]),
            "batches": summary["batches"],
            "fingerprint": summary["fingerprint"],
            "path": MetadataValue.path(summary["path"]),
        }
    )


@asset(
    key=CERTIFICATES,
    deps=[PUBLISHED],
    group_name="materials",
    pool=REPORTS_POOL,
    owners=["team:quality"],
    kinds={"pdf"},
)
def certificates_of_analysis(
    context: AssetExecutionContext, siteledger: SiteledgerHome
) -> MaterializeResult:
    """A certificate of analysis for every lot whose testing is complete, rendered and
    registered with its content hash (a lot already certified with the same results keeps its
    certificate)."""
    settings = siteledger.settings()
    ids = [d.id for d in certificate_definitions(settings)]
    if not ids:
        raise Failure(description="no certificate of analysis definition is configured")
    try:
        outcomes = generate(
            settings,
            siteledger.state_store(),
            definition_ids=ids,
            generated_by=f"dagster run {context.run.run_id[:8]}",
        )
    except (ReportGenerationError, ReportDataError) as exc:
        raise Failure(description=str(exc)) from exc
    made = [o.record for o in outcomes if o.action == "created"]
    metadata: dict[str, Any] = {
        "created": len(made),
        "unchanged": len(outcomes) - len(made),
        "certificates": MetadataValue.json(
            [
                {"lot": r.period_key, "site": r.site_id, "status": r.status, "id": r.report_id}
                for r in made
            ]
        ),
        "drafts": MetadataValue.json(
            {r.period_key: r.validation_errors for r in made if r.status == "draft"}
        ),
    }
    if made and "pdf" in made[-1].artifacts:
        metadata["pdf_path"] = MetadataValue.path(made[-1].artifacts["pdf"]["path"])
    return MaterializeResult(metadata=metadata)
