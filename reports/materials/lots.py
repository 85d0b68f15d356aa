"""The per-lot documents' figures: a lot's certificate of analysis and its recall report.

A **certificate of analysis** (WHO TRS 957; the EU cosmetics rules' batch number and durability
date) states the product and the lot, when it was made and when it expires, the specification
and its version it was tested against, every test with its method, unit, limits and result and
whether it passed, the overall conclusion, the day testing finished and who approved it. It is
made for a lot whose testing is complete (``fct_qc_lots``: every test the specification requires
has a result); the latest result of a test is the one judged (a retest replaces the result
before it, which the certificate lists as superseded). A lot that fails a test gets a
certificate that says so, in draft: it is never validated.

A **recall report** lists everything made from a lot and where it went: the forward trace of
the lot's genealogy (:mod:`reports.materials.genealogy`): every batch that consumed it or a lot
made from it, every product and material lot reached, every customer shipment and job-shop job
with its customer, and the path from the lot to each of them. A trace that met a cycle in the
lot edges or stopped at its depth cap cannot vouch for its scope: the report stays in draft and
says why.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from reports.materials.catalogue import is_certificate, is_recall
from reports.materials.data import MaterialsData
from reports.materials.monthly import definition_block, names_block, site_block
from reports.periods import Period

if TYPE_CHECKING:
    from reports.definitions import ReportDefinition

SCHEMA_ID = "siteledger-materials-lot-1.0"


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# -- the certificate ---------------------------------------------------------------------------


def limits_text(test: dict[str, Any]) -> str:
    """A test's acceptance criterion as a certificate states it."""
    low, high, expected = test.get("min_value"), test.get("max_value"), test.get("expected_text")
    if low is not None and high is not None:
        return f"{_num(low)} – {_num(high)}"
    if low is not None:
        return f"≥ {_num(low)}"
    if high is not None:
        return f"≤ {_num(high)}"
    if expected:
        return str(expected)
    return "recorded"


def _num(value: float) -> str:
    return f"{value:g}"


def certificate(data: MaterialsData, lot_id: str) -> dict[str, Any]:
    """The certificate's facts, tests and conclusion for ``lot_id``."""
    qc = data.qc_lot(lot_id)
    if qc is None:
        raise ValueError(f"lot {lot_id} has no QC results")
    results = [r for r in data.table("fct_qc_results") if r["lot_id"] == lot_id]
    latest = [r for r in results if r.get("is_latest", True)]
    superseded = [r for r in results if r.get("is_latest") is False]
    tests = []
    for r in sorted(latest, key=lambda r: (str(r.get("test_id")), str(r.get("result_id")))):
        result = r.get("value") if r.get("value") is not None else r.get("result_text")
        tests.append(
            {
                "test_id": r.get("test_id"),
                "name": r.get("name") or r.get("test_id"),
                "method": r.get("method"),
                "unit": r.get("unit"),
                "min_value": r.get("min_value"),
                "max_value": r.get("max_value"),
                "expected_text": r.get("expected_text"),
                "limits": limits_text(r),
                "value": r.get("value"),
                "result_text": r.get("result_text"),
                "result": result,
                "passed": r.get("passed"),
                "tested_at": _iso(r.get("tested_at")),
                "analyst": r.get("analyst"),
                "retests": sum(1 for s in superseded if s.get("test_id") == r.get("test_id")),
            }
        )
    failed = [t for t in tests if t["passed"] is False]
    conforms = qc.get("status") == "pass" and not failed
    tested_until = data.local_day(qc.get("tested_until"))
    return {
        "lot": {
            "lot_id": lot_id,
            "lot_kind": qc.get("lot_kind"),
            "product_id": qc.get("product_id"),
            "material_id": qc.get("material_id"),
            "batch_id": qc.get("batch_id"),
            "manufactured_on": _iso(qc.get("manufactured_on")),
            "expires_on": _iso(qc.get("expires_on")),
            "spec_id": qc.get("spec_id"),
            "spec_version": qc.get("spec_version"),
            "tested_until": _iso(tested_until),
            "approver": qc.get("approver"),
            "status": qc.get("status"),
        },
        "tests": tests,
        "superseded": [
            {
                "test_id": s.get("test_id"),
                "name": s.get("name") or s.get("test_id"),
                "result": s.get("value") if s.get("value") is not None else s.get("result_text"),
                "unit": s.get("unit"),
                "passed": s.get("passed"),
                "tested_at": _iso(s.get("tested_at")),
            }
            for s in sorted(
                superseded, key=lambda s: (str(s.get("test_id")), str(s.get("tested_at")))
            )
        ],
        "conclusion": {
            "conforms": conforms,
            "failed_tests": [t["test_id"] for t in failed],
        },
        "metrics": {
            "tests_required": qc.get("tests_required"),
            "tests_done": qc.get("tests_done"),
            "tests_failed": qc.get("tests_failed"),
        },
    }


def certificate_errors(part: dict[str, Any]) -> list[str]:
    """Why a certificate cannot be released: the failed tests, or no approver."""
    errors = []
    for t in part["tests"]:
        if t["passed"] is False:
            unit = f" {t['unit']}" if t.get("unit") else ""
            errors.append(
                f"lot {part['lot']['lot_id']} fails {t['name']}: {t['result']}{unit} against "
                f"{t['limits']}"
            )
    if not part["lot"].get("approver"):
        errors.append(f"lot {part['lot']['lot_id']}: no approver is recorded for its results")
    return errors


# -- the recall --------------------------------------------------------------------------------


def recall(data: MaterialsData, lot_id: str) -> dict[str, Any]:
    """The forward trace of ``lot_id`` as a recall's scope (reads the published warehouse)."""
    import duckdb

    from reports.materials.genealogy import trace

    if data.db_path is None:
        raise ValueError("a recall reads the genealogy of a published warehouse: none given")
    with duckdb.connect(str(data.db_path), read_only=True) as con:
        result = trace(con, data.site_id, lot_id, "forward")
    summary = result.summary()
    batches = {b["batch_id"]: b for b in data.table("fct_batches")}
    reached = {row.lot_id: row for row in result}
    lots = [
        {
            "lot_id": row.lot_id,
            "kind": row.kind,
            "depth": row.depth,
            "relation": row.relation,
            "parent": row.parent,
            "product_id": row.product_id,
            "material_id": row.material_id,
            "batch_id": row.batch_id,
            "qty": row.qty,
            "unit": row.unit,
            "moved_at": _iso(row.moved_at),
        }
        for row in result
        if row.kind in ("material_lot", "product_lot", "unknown_lot")
    ]
    affected_batches = []
    for batch_id in summary.batches:
        b = batches.get(batch_id, {})
        affected_batches.append(
            {
                "batch_id": batch_id,
                "product_id": b.get("product_id"),
                "output_lot_id": b.get("output_lot_id"),
                "recipe_id": b.get("recipe_id"),
                "recipe_version": b.get("recipe_version"),
                "actual_qty": b.get("actual_qty"),
                "output_unit": b.get("output_unit"),
                "started_at": _iso(b.get("started_at")),
                "finished_at": _iso(b.get("finished_at")),
            }
        )
    shipments = [
        {
            "sale_id": s.sale_id,
            "lot_id": s.lot_id,
            "customer_id": s.customer_id,
            "product_id": reached[s.lot_id].product_id if s.lot_id in reached else None,
            "qty": s.qty,
            "unit": s.unit,
            "shipped_at": _iso(s.shipped_at),
        }
        for s in summary.shipments
    ]
    jobs = [
        {
            "job_id": j.job_id,
            "lot_ids": list(j.lot_ids),
            "customer_id": j.customer_id,
            "qty": j.qty,
            "unit": j.unit,
        }
        for j in summary.jobs
    ]
    paths = [
        {"node": row.lot_id, "kind": row.kind, "depth": row.depth, "path": list(row.path)}
        for row in result
        if row.depth > 0
    ]
    root = result.root
    units = {s["unit"] for s in shipments}
    return {
        "lot": {
            "lot_id": lot_id,
            "kind": root.kind,
            "product_id": root.product_id,
            "material_id": root.material_id,
            "batch_id": root.batch_id,
        },
        "affected_lots": lots,
        "affected_batches": affected_batches,
        "shipments": shipments,
        "jobs": jobs,
        "customers": list(summary.customers),
        "trace_paths": paths,
        "findings": list(result.findings),
        "metrics": {
            # the lot itself is not one of the lots it affects
            "affected_lots": sum(1 for lot in lots if lot["lot_id"] != lot_id),
            "affected_batches": len(affected_batches),
            "shipments": len(shipments) + len(jobs),
            "customers": len(summary.customers),
            # only a sum of one unit means anything
            "shipped_qty": (
                sum(s["qty"] or 0.0 for s in shipments) if shipments and len(units) == 1 else None
            ),
        },
    }


# -- the payload ---------------------------------------------------------------------------------


def build_lot_payload(
    data: MaterialsData,
    site: dict[str, Any],
    definition: ReportDefinition,
    period: Period,
    warehouse_version: str,
) -> dict[str, Any]:
    """The whole content of one per-lot document (without its registry header)."""
    lot_id = period.key
    sections = definition.sections
    payload: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "domain": "materials",
        "definition": definition_block(definition),
        "site": site_block(data, site),
        "period": period.as_dict(),
        "warehouse_version": warehouse_version,
        "metrics": {},
        "comparison": {"period": None, "metrics": None},
        "names": names_block(data),
        "errors": [],
        "data_quality": {"notes": []},
    }
    if is_certificate(sections):
        part = certificate(data, lot_id)
        payload["certificate"] = {k: v for k, v in part.items() if k != "metrics"}
        payload["metrics"].update(part["metrics"])
        payload["errors"] += certificate_errors(part)
    if is_recall(sections):
        part = recall(data, lot_id)
        payload["recall"] = {k: v for k, v in part.items() if k != "metrics"}
        payload["metrics"].update(part["metrics"])
        for finding in part["findings"]:
            payload["errors"].append(f"the trace is incomplete: {finding}")
    return payload


def figures(payload: dict[str, Any]) -> dict[str, Any]:
    """The figures a restatement diff compares."""
    out: dict[str, Any] = {"metrics": payload["metrics"]}
    if "certificate" in payload:
        out["tests"] = {
            str(t["test_id"]): {"result": t["result"], "passed": t["passed"]}
            for t in payload["certificate"]["tests"]
        }
    if "recall" in payload:
        recall_part = payload["recall"]
        out["lots"] = {lot["lot_id"]: lot["qty"] for lot in recall_part["affected_lots"]}
        out["shipments"] = {s["sale_id"]: s["qty"] for s in recall_part["shipments"]}
        out["jobs"] = {j["job_id"]: j["qty"] for j in recall_part["jobs"]}
    return out
