#!/usr/bin/env python3
"""Benchmark: a lot genealogy trace (``reports.materials.genealogy.trace``) of a lot with 10 000
descendants.

A published warehouse file holds ``fct_lot_edges`` and ``dim_lots`` of one batch maker's site,
in the shape the marts give: a supplier lot consumed (two issues each) by 100 batches, each
batch's output split into 3 variants, 50 merges of two variants of different batches, 50
reworks, and 9 500 sales of the variants, merges and reworks - 10 000 descendants, 4 generations
deep, with diamonds (merges) and parallel edges (two issues of one lot to one batch). Around it,
``--background`` other supplier lots with trees of the same shape (200 000 nodes at the default
20) so the trace filters a realistic table. Timed, in this process: the forward trace of the lot
(first query after opening the file, then the median of 5), its recall summary and JSON, the
backward trace of one of its sales, and a chain of 1 000 reworks traced to its end (one query
step per generation). Figures are printed and written to
``benchmarks/results/materials_trace.json``.

    .venv/bin/python benchmarks/bench_materials_trace.py [--background 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reports.materials.genealogy import trace  # noqa: E402

SITE = "trace_bench"
BATCHES, VARIANTS, MERGES, REWORKS = 100, 3, 50, 50
DESCENDANTS = 10_000
SALES = DESCENDANTS - BATCHES - BATCHES * VARIANTS - MERGES - REWORKS  # 9 500
CHAIN = 1_000
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def tree(prefix: str) -> tuple[list[dict], list[dict]]:
    """Edges and lots of one supplier lot's tree: ``prefix`` names every node."""
    edges: list[dict] = []
    lots: list[dict] = [{"lot_id": f"{prefix}R", "kind": "material_lot", "batch_id": None}]

    def edge(relation: str, parent: str, child: str, kind: str, qty: float, **extra) -> None:
        edges.append(
            {
                "edge_key": f"{relation}:{parent}:{child}:{len(edges)}",
                "relation": relation,
                "parent_lot_id": parent,
                "child_lot_id": child,
                "child_kind": kind,
                "qty": qty,
                "moved_at": T0 + dt.timedelta(minutes=len(edges)),
                **extra,
            }
        )

    variants = []
    for b in range(BATCHES):
        lot, batch = f"{prefix}P{b}", f"{prefix}B{b}"
        lots.append({"lot_id": lot, "kind": "product_lot", "batch_id": batch})
        for issue in range(2):  # two issues of the lot to one batch: one step of the trace
            edge("consume", f"{prefix}R", lot, "product_lot", 2.5 + issue, batch_id=batch)
        for v in range(VARIANTS):
            variant = f"{lot}V{v}"
            lots.append({"lot_id": variant, "kind": "product_lot", "batch_id": batch})
            edge("split", lot, variant, "product_lot", 30.0, batch_id=batch)
            variants.append(variant)
    sellable = list(variants)
    for m in range(MERGES):
        merged = f"{prefix}M{m}"
        lots.append({"lot_id": merged, "kind": "product_lot", "batch_id": None})
        for parent in (variants[2 * m], variants[2 * m + 150]):  # two batches' variants
            edge("merge", parent, merged, "product_lot", 10.0)
        sellable.append(merged)
    for r in range(REWORKS):
        reworked = f"{prefix}W{r}"
        lots.append({"lot_id": reworked, "kind": "product_lot", "batch_id": None})
        edge("rework", variants[-1 - r], reworked, "product_lot", 5.0)
        sellable.append(reworked)
    for s in range(SALES):
        sale = f"{prefix}S{s}"
        edge(
            "ship",
            sellable[s % len(sellable)],
            f"sale:{sale}",
            "shipment",
            1.0,
            sale_id=sale,
            customer_id=f"c{s % 40}",
        )
    return edges, lots


def chain() -> tuple[list[dict], list[dict]]:
    """A lot reworked 1 000 times in a row."""
    edges = [
        {
            "edge_key": f"chain{i}",
            "relation": "rework",
            "parent_lot_id": f"CH{i}",
            "child_lot_id": f"CH{i + 1}",
            "child_kind": "product_lot",
            "qty": 1.0,
            "moved_at": T0,
        }
        for i in range(CHAIN)
    ]
    lots = [{"lot_id": f"CH{i}", "kind": "product_lot", "batch_id": None} for i in range(CHAIN + 1)]
    return edges, lots


def write_warehouse(path: Path, background: int) -> int:
    all_edges: list[dict] = []
    all_lots: list[dict] = []
    for prefix in ["T", *(f"G{i}_" for i in range(background))]:
        edges, lots = tree(prefix)
        all_edges += edges
        all_lots += lots
    edges, lots = chain()
    all_edges += edges
    all_lots += lots
    frame = pd.DataFrame(all_edges)
    frame.insert(0, "site_id", SITE)
    for column in ("sale_id", "customer_id", "batch_id"):
        if column not in frame:
            frame[column] = None
    frame["parent_kind"] = "product_lot"
    frame["unit"] = "each"
    frame["job_id"] = None
    lots_frame = pd.DataFrame(all_lots)
    lots_frame.insert(0, "site_id", SITE)
    lots_frame["product_id"] = "soap"
    lots_frame["material_id"] = None
    with duckdb.connect(str(path)) as con:
        con.register("edges_frame", frame)
        con.register("lots_frame", lots_frame)
        con.execute(
            "create table fct_lot_edges as select site_id, edge_key, relation, parent_lot_id, "
            "parent_kind, child_lot_id, child_kind, qty, unit, "
            "cast(moved_at as timestamp with time zone) as moved_at, batch_id, "
            "cast(job_id as varchar) as job_id, sale_id, customer_id from edges_frame"
        )
        con.execute("create table dim_lots as select * from lots_frame")
    return len(frame)


def timed(func, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--background", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="siteledger-trace-bench-") as tmp:
        path = Path(tmp) / "siteledger.duckdb"
        n_edges, write_s = timed(write_warehouse, path, args.background)
        print(f"{n_edges:,} edges written in {write_s:.1f} s", flush=True)
        with duckdb.connect(str(path), read_only=True) as con:
            first, first_s = timed(trace, con, SITE, "TR", "forward")
            assert len(first) == DESCENDANTS + 1, len(first)
            runs = [timed(trace, con, SITE, "TR", "forward")[1] for _ in range(5)]
            summary, summary_s = timed(first.summary)
            _, json_s = timed(lambda: json.dumps(first.as_dict(), default=str))
            back, back_s = timed(trace, con, SITE, "sale:TS9499", "backward")
            deep, deep_s = timed(trace, con, SITE, "CH0", "forward", max_depth=CHAIN + 10)
            assert len(deep) == CHAIN + 1 and not deep.truncated_at
    figures: dict[str, object] = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}",
        "load_average_1min": round(os.getloadavg()[0], 2),
        "edges_in_table": n_edges,
        "descendants": len(first) - 1,
        "depth": max(row.depth for row in first),
        "batches_affected": len(summary.batches),
        "shipments_affected": len(summary.shipments),
        "customers_affected": len(summary.customers),
        "cycles": len(first.cycles),
        "forward_trace_first_s": round(first_s, 3),
        "forward_trace_median_s": round(statistics.median(runs), 3),
        "summary_s": round(summary_s, 4),
        "json_s": round(json_s, 3),
        "backward_trace_of_a_sale_s": round(back_s, 3),
        "backward_nodes": len(back),
        "chain_1000_generations_s": round(deep_s, 3),
        "target_s": 1.0,
    }
    print(json.dumps(figures, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "materials_trace.json"
    target.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
