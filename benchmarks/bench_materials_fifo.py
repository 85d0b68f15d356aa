#!/usr/bin/env python3
"""Benchmark: FIFO costing of 1 M stock movements in dbt, spread over 5 000 materials and with
200 k of them on one material.

A year of stock records for one site, written to the lake as the importer writes them
(``ingestion.materials_lake``: one receipts file and one movements file): receipts (25 %),
issues (60 %), waste, returns to the vendor and from customers, adjustments in and out, at
random instants, so that ties and back-dated outflows occur. Two cases of the same 1 M entries:

* ``spread``: about 200 entries per material over 5 000 materials;
* ``one_hot_material``: 200 k entries of one material (``--hot``), the other 800 k over the
  other 4 999 materials - the case a join of every layer with every outflow of a material could
  not take (~50 k layers x ~140 k outflows).

Times, in this process, per case:

* generate: the records (DuckDB, straight to Parquet) and the site tables;
* fifo: ``dbt run`` of the FIFO models and what they read - the ledger, the allocations, the
  outflow costs and the lot balances (ending FIFO value) - dbt's process start included, the
  fastest of ``--repeat`` runs (the machine may be shared); the models' own execution times
  come from dbt's run_results.json;
* fifo SQL: the same models' compiled SQL (and the staging views they read) in one in-process
  DuckDB with the tables in memory - the costing without dbt's process start, catalog and
  database file (``--explain`` prints the allocations' EXPLAIN ANALYZE);
* marts (``--marts``): every materials model again, the FIFO ones and every mart on top of
  them (daily stock, metrics, prices, recipe and batch costs, ...).

A sample of 25 materials is checked against the unit-by-unit reference of the property tests
(tests/dbt/fifo_reference.py), the hot material against a lot-by-lot walk of its ledger.
Figures are printed and written to ``benchmarks/results/materials_fifo.json`` under
``--label`` (other labels' figures are kept: ``before`` and ``after`` a change).

    .venv/bin/python benchmarks/bench_materials_fifo.py [--movements 1000000] [--materials 5000]
        [--hot 200000] [--repeat 3] [--marts] [--explain] [--label current] [--home DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingestion.materials_lake import MATERIALS_SCHEMAS  # noqa: E402
from ingestion.site_tables import write_site_tables  # noqa: E402
from siteledger.dbt import dbt_target_dir, run_dbt  # noqa: E402
from siteledger.settings import Settings  # noqa: E402
from siteledger.site.models import SiteConfig  # noqa: E402
from tests.dbt.fifo_reference import Entry, ledger_order, walk  # noqa: E402

SITE_ID = "materials_bench"
FIFO_MODELS = (
    "int_material_ledger",
    "fct_material_fifo_allocations",
    "fct_material_outflow_costs",
    "fct_material_lot_balances",
)
# kind, share of entries (per mille), whole units drawn from [low, high]
MIX = (
    ("receipt", 250, 50, 250),
    ("issue", 600, 5, 60),
    ("waste", 50, 1, 10),
    ("return_to_vendor", 20, 5, 40),
    ("return_from_customer", 30, 1, 10),
    ("adjustment_in", 20, 1, 10),
    ("adjustment_out", 30, 1, 10),
)
INFLOW_MOVEMENTS = ("return_from_customer", "adjustment_in")


def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # KiB on Linux


def _kind_case() -> str:
    """SQL mapping a number 0..999 to an entry kind by the shares of MIX."""
    branches, bound = [], 0
    for kind, share, _, _ in MIX:
        bound += share
        branches.append(f"when k < {bound} then '{kind}'")
    return "case " + " ".join(branches) + " end"


def _qty_case() -> str:
    branches = [f"when kind = '{kind}' then {lo} + h % {hi - lo + 1}" for kind, _, lo, hi in MIX]
    return "case " + " ".join(branches) + " end"


def _material_expr(materials: int, hot: int) -> str:
    """SQL naming the material of entry ``i``: with ``hot`` > 0 the first ``hot`` entries are
    all of material m00000 and the rest spread over the other materials."""
    if not hot:
        return f"'m' || lpad(cast(i % {materials} as varchar), 5, '0')"
    return (
        f"case when i < {hot} then 'm00000' else 'm' || lpad("
        f"cast(1 + (i - {hot}) % {materials - 1} as varchar), 5, '0') end"
    )


def generate(lake: Path, movements: int, materials: int, seed: int, hot: int = 0) -> dict[str, int]:
    """The stock records as one receipts file and one movements file in the lake; with ``hot``,
    that many of them belong to one material (m00000)."""
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.execute(f"select setseed({seed / 1000})")
    con.execute(
        f"""
        create table entries as
        with drawn as (
            select
                i,
                {_material_expr(materials, hot)} as material_id,
                cast(floor(random() * 1000) as integer) as k,
                cast(floor(random() * 1000000) as integer) as h,
                -- whole minutes of 2025, several entries of a material share an instant
                timestamptz '2025-01-01 00:00:00+00'
                    + to_minutes(cast(floor(random() * 365 * 24 * 4) * 15 as bigint)) as entry_at,
                cast(floor(random() * 900 + 100) as integer) as cents
            from range({movements}) as t (i)
        ),
        kinded as (select *, {_kind_case()} as kind from drawn)
        select
            material_id,
            'e' || lpad(cast(i as varchar), 7, '0') as entry_id,
            kind,
            entry_at,
            cast({_qty_case()} as double) as qty,
            case
                when kind = 'receipt' then cents / 100.0
                when kind in ('return_from_customer', 'adjustment_in') and h % 2 = 0
                    then cents / 100.0
            end as unit_cost
        from kinded
        """
    )
    load = (
        "'bench' as import_batch_id, 'bench.csv' as source_file,"
        " cast(row_number() over (order by entry_id) as bigint) as source_row,"
        " timestamptz '2026-01-01 00:00:00+00' as loaded_at"
    )
    receipts = lake / "materials" / "receipts" / f"site={SITE_ID}" / "source=bench"
    moves = lake / "materials" / "movements" / f"site={SITE_ID}" / "source=bench"
    receipts.mkdir(parents=True)
    moves.mkdir(parents=True)
    con.execute(
        f"""
        copy (
            select entry_id as receipt_id, 'L' || entry_id as lot_id, material_id,
                'supplier' as supplier_id, cast(null as varchar) as po_id, entry_at as received_at,
                qty, 'kg' as unit, qty as qty_given, 'kg' as unit_given, unit_cost,
                'EUR' as currency_given, unit_cost as unit_cost_given,
                cast(null as date) as expiry_date, cast(null as varchar) as supplier_lot, {load}
            from entries where kind = 'receipt'
        ) to '{receipts / "bench.parquet"}' (format parquet)
        """
    )
    con.execute(
        f"""
        copy (
            select entry_id as movement_id, entry_at as moved_at, material_id,
                cast(null as varchar) as lot_id, kind, qty, 'kg' as unit, qty as qty_given,
                'kg' as unit_given, unit_cost, cast(null as varchar) as batch_id,
                cast(null as varchar) as job_id, cast(null as varchar) as reason, {load}
            from entries where kind != 'receipt'
        ) to '{moves / "bench.parquet"}' (format parquet)
        """
    )
    for kind, folder in (("receipts", receipts), ("movements", moves)):
        path = folder / "bench.parquet"
        reader = f"read_parquet('{path}', hive_partitioning = false)"
        cursor = con.execute(f"select * from {reader} limit 0")
        names = [column[0] for column in cursor.description]
        assert names == MATERIALS_SCHEMAS[kind].names, (kind, names)
    counts = dict(con.execute("select kind, count(*) from entries group by kind").fetchall())
    con.close()
    return counts


def sample_entries(lake: Path, material_ids: list[str]) -> list[Entry]:
    """The sampled materials' records back from the lake, for the reference."""
    ids = ", ".join(f"'{m}'" for m in material_ids)
    root = lake / "materials"
    rows = (
        duckdb.connect()
        .execute(
            f"""
        select material_id, receipt_id as id, 'receipt' as kind, received_at as at, qty,
            unit_cost
        from read_parquet('{root}/receipts/*/*/*.parquet') where material_id in ({ids})
        union all
        select material_id, movement_id, kind, moved_at, qty, unit_cost
        from read_parquet('{root}/movements/*/*/*.parquet') where material_id in ({ids})
        """
        )
        .fetchall()
    )
    return [
        Entry(m, i, k, at, int(q), None if c is None else Decimal(str(round(c, 2))))
        for m, i, k, at, q, c in rows
    ]


def walk_layers(entries: list[Entry]) -> dict[str, tuple[int, int, int, Decimal | None, str]]:
    """The outflows of the ledgers in ``entries`` as the reference has them (allocated,
    unallocated, back-dated units, cost, status), walked lot by lot instead of unit by unit:
    the reference's walk takes minutes on a material with 200 k movements. A queue of the
    inflows in ledger order; each outflow in ledger order takes what it needs from its front."""
    by_material: dict[str, list[Entry]] = {}
    for entry in entries:
        by_material.setdefault(entry.material_id, []).append(entry)
    result: dict[str, tuple[int, int, int, Decimal | None, str]] = {}
    for material_entries in by_material.values():
        ordered = ledger_order(material_entries)
        receipt_costs = [e.unit_cost for e in ordered if e.kind == "receipt"]
        first = receipt_costs[0] if receipt_costs else None
        last: Decimal | None = None
        layers: list[tuple[int, int, Decimal | None]] = []  # (ledger position, qty, unit cost)
        for position, entry in enumerate(ordered):
            if entry.kind == "receipt":
                last = entry.unit_cost
            if entry.is_inflow:
                cost = entry.unit_cost
                if cost is None:
                    cost = last if last is not None else first
                layers.append((position, entry.qty, cost))
        front, used = 0, 0  # the first layer with units left, and the units taken from it
        for position, entry in enumerate(ordered):
            if entry.is_inflow:
                continue
            need, allocated, backdated = entry.qty, 0, 0
            total: Decimal | None = Decimal(0)
            while need and front < len(layers):
                layer_position, layer_qty, unit_cost = layers[front]
                take = min(need, layer_qty - used)
                need, allocated, used = need - take, allocated + take, used + take
                backdated += take if layer_position > position else 0
                total = None if total is None or unit_cost is None else total + take * unit_cost
                if used == layer_qty:
                    front, used = front + 1, 0
            status = "short" if need else ("backdated" if backdated else "ok")
            result[entry.entry_id] = (allocated, need, backdated, total, status)
    return result


def check_sample(settings: Settings, material_ids: list[str], *, by_lots: bool = False) -> int:
    """Outflows of the sampled materials whose SQL cost and status equal the reference's (the
    unit-by-unit walk, or with ``by_lots`` the lot-by-lot one); raises on the first
    difference."""
    entries = sample_entries(settings.lake, material_ids)
    expected = walk_layers(entries) if by_lots else walk(entries).outflows
    ids = ", ".join(f"'{m}'" for m in material_ids)
    with duckdb.connect(str(settings.home / "warehouse" / "build.duckdb"), read_only=True) as con:
        got = con.execute(
            f"""
            select movement_id, allocated_qty, unallocated_qty, backdated_qty, cost,
                costing_status
            from marts.fct_material_outflow_costs where material_id in ({ids})
            """
        ).fetchall()
    # the reference names a receipt's layer 'L' + receipt id, as the generator does
    for movement_id, allocated, short, backdated, cost, status in got:
        want = expected[movement_id]
        if (allocated, short, backdated, cost, status) != want:
            raise AssertionError(f"{movement_id}: SQL {allocated, short, cost, status} != {want}")
    if len(got) != len(expected):
        raise AssertionError(f"{len(got)} outflows in SQL, {len(expected)} expected")
    return len(got)


def sql_run(settings: Settings, explain: bool = False) -> tuple[dict[str, float], str]:
    """The compiled SQL of the FIFO models (and the views they read) in one in-process DuckDB,
    tables in memory: what the costing itself costs, without dbt's process and catalog. With
    ``explain``, the allocations are built under EXPLAIN ANALYZE and its plan is returned."""
    target = dbt_target_dir(settings)
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    order: list[str] = []

    def visit(unique_id: str) -> None:
        if unique_id in order or not unique_id.startswith("model."):
            return
        for parent in nodes[unique_id]["depends_on"]["nodes"]:
            visit(parent)
        order.append(unique_id)

    for model in FIFO_MODELS:
        visit(f"model.siteledger.{model}")
    con = duckdb.connect()
    con.execute("attach ':memory:' as build")
    for schema in ("staging", "intermediate", "marts"):
        con.execute(f"create schema build.{schema}")
    seconds: dict[str, float] = {}
    plan = ""
    for unique_id in order:
        node = nodes[unique_id]
        sql = (target / "compiled" / "siteledger" / node["original_file_path"]).read_text()
        relation = f'build."{node["schema"]}"."{node["name"]}"'
        kind = "view" if node["config"]["materialized"] == "view" else "table"
        t0 = time.perf_counter()
        if explain and node["name"] == "fct_material_fifo_allocations":
            rows = con.execute(f"explain analyze create {kind} {relation} as {sql}").fetchall()
            plan = "\n".join(str(row[-1]) for row in rows)
        else:
            con.execute(f"create {kind} {relation} as {sql}")
        if kind == "table":
            seconds[node["name"]] = round(time.perf_counter() - t0, 2)
    con.close()
    return seconds, plan


def model_times(settings: Settings) -> dict[str, float]:
    results = json.loads((dbt_target_dir(settings) / "run_results.json").read_text())
    return {
        r["unique_id"].split(".")[-1]: round(r["execution_time"], 2)
        for r in results["results"]
        if r["unique_id"].startswith("model.")
    }


def run_case(args: argparse.Namespace, home: Path, hot: int) -> dict[str, Any]:
    """One data set (``hot`` > 0: that many movements on one material) generated, costed by
    dbt and by the compiled SQL, and checked against the reference."""
    if home.exists():
        shutil.rmtree(home)
    settings = Settings(home=home)
    settings.ensure_dirs()
    figures: dict[str, Any] = {"hot_material_movements": hot}

    t0 = time.perf_counter()
    counts = generate(settings.lake, args.movements, args.materials, args.seed, hot)
    site = SiteConfig.model_validate(
        {"site": {"id": SITE_ID, "name": "Materials benchmark", "timezone": "UTC"}, "nodes": []}
    )
    write_site_tables(settings, site)
    figures["generate_s"] = round(time.perf_counter() - t0, 2)
    figures["entries_by_kind"] = counts
    print(f"  generate              {figures['generate_s']:>7.2f} s", flush=True)

    select = ("--select", *(f"+{m}" for m in FIFO_MODELS))
    # parse once outside the clock: the nightly run parses the project once for every model
    run_dbt(settings, "parse")
    # the machine is shared: repeat the run, the fastest shows what the SQL costs
    runs: list[tuple[float, dict[str, float]]] = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        run_dbt(settings, "run", extra_args=select)
        runs.append((round(time.perf_counter() - t0, 2), model_times(settings)))
    best, times = min(runs, key=lambda run: run[0])
    figures["fifo_dbt_run_s"] = best
    figures["fifo_dbt_run_all_s"] = [seconds for seconds, _ in runs]
    figures["fifo_models_s"] = {m: times[m] for m in FIFO_MODELS}
    figures["fifo_models_total_s"] = round(sum(times[m] for m in FIFO_MODELS), 2)
    print(f"  fifo (dbt run)        {best:>7.2f} s  (runs: {figures['fifo_dbt_run_all_s']})")
    for model in FIFO_MODELS:
        print(f"    {model:<34} {times[model]:>6.2f} s", flush=True)
    sql_runs = [sql_run(settings)[0] for _ in range(args.repeat)]
    sql_best = min(sql_runs, key=lambda run: sum(run.values()))
    figures["fifo_sql_s"] = round(sum(sql_best[m] for m in FIFO_MODELS), 2)
    figures["fifo_sql_models_s"] = {m: sql_best[m] for m in FIFO_MODELS}
    figures["fifo_sql_all_s"] = [round(sum(r[m] for m in FIFO_MODELS), 2) for r in sql_runs]
    sql_s, sql_all = figures["fifo_sql_s"], figures["fifo_sql_all_s"]
    print(f"  fifo (compiled SQL)   {sql_s:>7.2f} s  (runs: {sql_all})")
    for model in FIFO_MODELS:
        print(f"    {model:<34} {sql_best[model]:>6.2f} s", flush=True)
    if args.explain:
        plan = sql_run(settings, explain=True)[1]
        print(f"  EXPLAIN ANALYZE of fct_material_fifo_allocations:\n{plan}", flush=True)

    with duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True) as con:
        row = con.execute(
            """
            select
                (select count(*) from marts.fct_material_fifo_allocations),
                count(*),
                count(*) filter (where costing_status = 'short'),
                count(*) filter (where costing_status = 'backdated'),
                (select sum(remaining_value) from marts.fct_material_lot_balances)
            from marts.fct_material_outflow_costs
            """
        ).fetchone()
    assert row is not None
    figures["outflows"], figures["allocations"] = row[1], row[0]
    figures["outflows_short"], figures["outflows_backdated"] = row[2], row[3]
    figures["ending_fifo_value"] = float(row[4])
    rng = random.Random(args.seed)
    first = 1 if hot else 0  # the hot material is checked on its own below
    sample = sorted(rng.sample([f"m{i:05d}" for i in range(first, args.materials)], 25))
    figures["sample_outflows_checked"] = check_sample(settings, sample)
    print(
        f"  {figures['sample_outflows_checked']} outflows of 25 sampled materials equal the"
        " unit-by-unit reference"
    )
    if hot:
        figures["hot_outflows_checked"] = check_sample(settings, ["m00000"], by_lots=True)
        print(
            f"  {figures['hot_outflows_checked']} outflows of the hot material equal the"
            " lot-by-lot walk"
        )

    if args.marts:
        t0 = time.perf_counter()
        run_dbt(settings, "run", extra_args=("--select", "+path:models/marts/materials"))
        figures["all_marts_dbt_run_s"] = round(time.perf_counter() - t0, 2)
        figures["all_marts_models_s"] = model_times(settings)
        print(f"  all marts (dbt run)   {figures['all_marts_dbt_run_s']:>7.2f} s", flush=True)
        for model, seconds in sorted(figures["all_marts_models_s"].items()):
            if model.startswith(("fct_", "int_")):
                print(f"    {model:<34} {seconds:>6.2f} s", flush=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--materials", type=int, default=5_000)
    parser.add_argument(
        "--hot",
        type=int,
        default=200_000,
        help="movements of the one material of the second case (0: only the first case)",
    )
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--repeat", type=int, default=3, help="FIFO runs; the fastest counts")
    parser.add_argument("--marts", action="store_true", help="also build every materials mart")
    parser.add_argument(
        "--explain", action="store_true", help="print the allocations' EXPLAIN ANALYZE"
    )
    parser.add_argument(
        "--label",
        default="current",
        help="the figures go under this name in the results file, beside those of other labels",
    )
    parser.add_argument("--home", type=Path, default=None, help="keep outputs here")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    root = (args.home or Path(tempfile.mkdtemp(prefix="siteledger-materials-bench-"))).resolve()
    cases = {"spread": 0, "one_hot_material": args.hot} if args.hot else {"spread": 0}
    results: dict[str, Any] = {}
    for name, hot in cases.items():
        spread = args.movements - hot
        others = args.materials - (1 if hot else 0)
        print(
            f"{name}: {args.movements:,} stock movements, {hot:,} of one material and"
            f" {spread:,} over {others:,} materials:"
            if hot
            else f"{name}: {args.movements:,} stock movements over {args.materials:,} materials:",
            flush=True,
        )
        results[name] = run_case(args, root / name, hot)

    run = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "stock_movements": args.movements,
        "materials": args.materials,
        "repeat": args.repeat,
        "cases": results,
        "target_s": 10,
        "peak_rss_mib": round(peak_rss_mib()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "materials_fifo.json"
    previous = json.loads(target.read_text()) if target.exists() else {}
    labelled = previous.get("runs", {}) if isinstance(previous.get("runs"), dict) else {}
    labelled[args.label] = run
    target.write_text(json.dumps({"runs": labelled}, indent=2) + "\n")
    print(f"figures written to {target} under {args.label!r}")
    if not args.home:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
