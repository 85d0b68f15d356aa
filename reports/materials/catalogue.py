"""What a materials report definition may list: its sections (by period kind) and its metrics.

A monthly materials report shows the month's costs and margins or its inventory; a per-lot
document (``period: lot``) is a certificate of analysis (sections ``lot``, ``tests``,
``conclusion``) or a recall report (``recall``, ``affected_lots``, ``affected_batches``,
``shipments``, ``trace_paths``). The sections a definition lists decide what its payload holds.
"""

from __future__ import annotations

MONTHLY_SECTIONS = (
    "summary",
    # the month's costs and margins
    "products",
    "batches",
    "variances",
    "recipes",
    "jobs",
    "powder_waste",
    "customers",
    # the month's inventory
    "stock",
    "ageing",
    "expiring",
    "reorder",
    "suppliers",
    "prices",
)
CERTIFICATE_SECTIONS = ("lot", "tests", "conclusion")
RECALL_SECTIONS = ("recall", "affected_lots", "affected_batches", "shipments", "trace_paths")
LOT_SECTIONS = (*CERTIFICATE_SECTIONS, *RECALL_SECTIONS)
MATERIALS_SECTIONS = (*MONTHLY_SECTIONS, *LOT_SECTIONS)

# key -> (label, unit); "currency" is the site's materials currency, "qty" a material's base unit
MATERIALS_METRICS: dict[str, tuple[str, str]] = {
    # the month's costs and margins
    "revenue": ("Sales revenue", "currency"),
    "cogs": ("Cost of goods sold (FIFO)", "currency"),
    "gross_margin": ("Gross margin", "currency"),
    "gross_margin_pct": ("Gross margin, share of revenue", "%"),
    "batches": ("Batches finished", "count"),
    "batch_planned_cost": ("Batches' planned cost", "currency"),
    "batch_actual_cost": ("Batches' actual cost (FIFO)", "currency"),
    "batch_cost_variance": ("Batch cost variance (actual - planned)", "currency"),
    "price_variance": ("Price variance (SP - AP) x AQ", "currency"),
    "usage_variance": ("Usage variance (SQ - AQ) x SP", "currency"),
    "mean_yield_pct": ("Mean batch yield", "%"),
    "batches_below_yield": ("Batches below the yield limit", "count"),
    "jobs": ("Jobs completed", "count"),
    "job_revenue": ("Job revenue (invoiced)", "currency"),
    "job_cost": ("Job cost", "currency"),
    "job_margin": ("Job margin", "currency"),
    "job_margin_pct": ("Job margin, share of revenue", "%"),
    "powder_issued_kg": ("Powder issued", "kg"),
    "powder_waste_kg": ("Powder wasted (issued - theoretical)", "kg"),
    "powder_waste_pct": ("Powder waste", "%"),
    # the month's inventory
    "on_hand_value": ("Stock value at the month's end", "currency"),
    "on_hand_value_start": ("Stock value at the month's start", "currency"),
    "received_value": ("Received (purchases)", "currency"),
    "issued_cost": ("Issued (FIFO cost)", "currency"),
    "waste_value": ("Written off as waste", "currency"),
    "avg_inventory_value": ("Average stock value", "currency"),
    "turnover": ("Stock turnover, annualised", "ratio"),
    "days_on_hand": ("Days on hand", "days"),
    "lots_expiring": ("Lots expiring within the warning period", "count"),
    "lots_expired": ("Expired lots with stock", "count"),
    "materials_below_reorder_point": ("Materials below their reorder point", "count"),
    "supplier_orders": ("Purchase orders due", "count"),
    "supplier_otif_pct": ("Supplier OTIF", "%"),
    "purchase_price_variance": ("Purchase price variance", "currency"),
    # a certificate of analysis
    "tests_required": ("Tests required by the specification", "count"),
    "tests_done": ("Tests done", "count"),
    "tests_failed": ("Tests failed", "count"),
    # a recall
    "affected_lots": ("Lots affected", "count"),
    "affected_batches": ("Batches affected", "count"),
    "shipments": ("Customer shipments", "count"),
    "customers": ("Customers", "count"),
    "shipped_qty": ("Quantity shipped", "qty"),
}
CERTIFICATE_METRICS = ("tests_required", "tests_done", "tests_failed")
RECALL_METRICS = ("affected_lots", "affected_batches", "shipments", "customers", "shipped_qty")
LOT_METRICS = (*CERTIFICATE_METRICS, *RECALL_METRICS)


def check_sections(period: str, sections: list[str], metrics: list[str]) -> None:
    """Raise ValueError when a section or a metric does not fit the period kind (a certificate's
    tests in a monthly report, a month's stock in a per-lot document)."""
    lot = period == "lot"
    kind = "a per-lot document (period: lot)" if lot else "a monthly report"
    allowed = LOT_SECTIONS if lot else MONTHLY_SECTIONS
    wrong = [s for s in sections if s not in allowed]
    if wrong:
        raise ValueError(f"sections {wrong} do not fit {kind}; it can show {', '.join(allowed)}")
    wrong = [m for m in metrics if (m in LOT_METRICS) != lot]
    if wrong:
        allowed_metrics = (
            LOT_METRICS if lot else [m for m in MATERIALS_METRICS if m not in LOT_METRICS]
        )
        raise ValueError(
            f"metrics {wrong} do not fit {kind}; it can show {', '.join(allowed_metrics)}"
        )


def is_certificate(sections: list[str]) -> bool:
    return any(s in CERTIFICATE_SECTIONS for s in sections)


def is_recall(sections: list[str]) -> bool:
    return any(s in RECALL_SECTIONS for s in sections)
