"""FIFO in SQL equals a brute-force walk of the ledger unit by unit (tests/dbt/fifo_reference.py).

1 000 random ledgers (partial lots, returns both ways, adjustments, waste, back-dated outflows,
ties at one instant) go into the lake as 1 000 materials of one site and through one dbt run of
the FIFO models; every allocation, outflow cost and status and every layer's remaining stock
must equal the reference exactly (DECIMAL against Decimal). Then hypothesis draws more ledgers
and runs the compiled SQL of the same models directly in DuckDB, shrinking any difference to a
smallest ledger.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.site_tables import write_site_tables
from siteledger.dbt import dbt_target_dir
from siteledger.settings import Settings
from siteledger.site.models import SiteConfig
from tests.dbt.fifo_reference import (
    INFLOW_MOVEMENTS,
    OUTFLOWS,
    START,
    Entry,
    Fifo,
    lake_tables,
    random_ledger,
    walk,
    write_lake,
)
from tests.dbt.runner import query, run_dbt, shared_home

SITE = "fifo_prop"
LEDGERS = 1000
SEED = 17
MODELS = ("int_material_ledger", "fct_material_fifo_allocations", "fct_material_outflow_costs")


def _ledgers() -> list[Entry]:
    rng = random.Random(SEED)
    entries: list[Entry] = []
    for n in range(LEDGERS):
        entries += random_ledger(rng, f"m{n:04d}")
    return entries


def _build(home: Path) -> None:
    settings = Settings(home=home)
    settings.ensure_dirs()
    site = SiteConfig.model_validate(
        {"site": {"id": SITE, "name": "FIFO property", "timezone": "UTC"}, "nodes": []}
    )
    write_site_tables(settings, site)
    write_lake(settings.lake, SITE, _ledgers())
    run_dbt(home, "run", "--select", *(f"+{m}" for m in MODELS), "+fct_material_lot_balances")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "materials_fifo_property", _build)


def _sql_fifo(
    rows_alloc: list[dict[str, Any]],
    rows_out: list[dict[str, Any]],
    rows_lots: list[dict[str, Any]] | None = None,
) -> Fifo:
    fifo = Fifo()
    for r in rows_alloc:
        fifo.allocations[(r["movement_id"], r["lot_id"])] = [
            r["qty"],
            r["cost"],
            r["is_backdated_draw"],
        ]
    for r in rows_out:
        fifo.outflows[r["movement_id"]] = (
            r["allocated_qty"],
            r["unallocated_qty"],
            r["backdated_qty"],
            r["cost"],
            r["costing_status"],
        )
    for r in rows_lots or []:
        fifo.remaining[r["lot_id"]] = (r["remaining_qty"], r["remaining_value"])
    return fifo


def test_the_ledgers_cover_the_cases() -> None:
    """The generated ledgers hold what the property is about, many times over."""
    entries = _ledgers()
    expected = walk(entries)
    statuses = [o[4] for o in expected.outflows.values()]
    assert statuses.count("backdated") > 100
    assert statuses.count("short") > 100
    assert statuses.count("ok") > 1000
    partial = [k for k, a in expected.allocations.items() if a[0] < 20]
    assert len(partial) > 1000
    kinds = {e.kind for e in entries}
    assert kinds == {"receipt", *INFLOW_MOVEMENTS, *OUTFLOWS}
    # ties: several entries of one material at one instant
    instants = [(e.material_id, e.at) for e in entries]
    assert len(instants) - len(set(instants)) > 1000
    uncosted = [o for o in expected.outflows.values() if o[0] and o[3] is None]
    assert uncosted, "some outflow draws on a layer of a material without any receipt"


def test_fifo_equals_the_unit_walk_on_1000_ledgers(home: Path) -> None:
    expected = walk(_ledgers())
    got = _sql_fifo(
        query(home, "select * from marts.fct_material_fifo_allocations"),
        query(home, "select * from marts.fct_material_outflow_costs"),
        query(home, "select * from marts.fct_material_lot_balances"),
    )
    assert len(got.allocations) == len(expected.allocations)
    assert got.allocations == expected.allocations
    assert got.outflows == expected.outflows
    assert got.remaining == expected.remaining


# -- hypothesis: the compiled SQL of the same models, run in DuckDB per drawn ledger -----------

_ENTRY = st.tuples(
    st.sampled_from(("receipt", "receipt", "issue", "issue", *INFLOW_MOVEMENTS, *OUTFLOWS[1:])),
    st.integers(0, 3),  # day
    st.sampled_from((8, 14)),  # hour
    st.integers(1, 12),  # units
    st.one_of(st.none(), st.integers(1, 999)),  # cost in cents (a receipt without one: 1.00)
)


@st.composite
def ledgers(draw: st.DrawFn) -> list[Entry]:
    entries = []
    for m in range(draw(st.integers(1, 3))):
        for i, (kind, day, hour, qty, cents) in enumerate(
            draw(st.lists(_ENTRY, min_size=1, max_size=10))
        ):
            if kind == "receipt" and cents is None:
                cents = 100
            cost = (
                None
                if cents is None or not (kind == "receipt" or kind in INFLOW_MOVEMENTS)
                else Decimal(cents) / 100
            )
            at = START + dt.timedelta(days=day, hours=hour)
            entries.append(Entry(f"h{m}", f"h{m}-{i:02d}", kind, at, qty, cost))
    return entries


class CompiledFifo:
    """The compiled SQL of the FIFO models, run against staging tables in an in-memory DuckDB
    attached under the warehouse's name."""

    def __init__(self, home: Path) -> None:
        compiled = dbt_target_dir(Settings(home=home)) / "compiled" / "siteledger" / "models"
        self.sql = {
            "int_material_ledger": (compiled / "intermediate" / "int_material_ledger.sql"),
            "fct_material_fifo_allocations": (
                compiled / "marts" / "materials" / "fct_material_fifo_allocations.sql"
            ),
            "fct_material_outflow_costs": (
                compiled / "marts" / "materials" / "fct_material_outflow_costs.sql"
            ),
        }
        self.schemas = {"int_material_ledger": "intermediate"}
        self.con = duckdb.connect()
        self.con.execute("attach ':memory:' as build")
        for schema in ("staging", "intermediate", "marts"):
            self.con.execute(f"create schema build.{schema}")
        self.con.execute(
            "create table build.staging.stg_site_config__sites as "
            f"select '{SITE}' as site_id, 'UTC' as timezone"
        )
        self.con.execute(
            "create table build.staging.stg_site_config__materials "
            "(site_id varchar, material_id varchar, shelf_life_days integer)"
        )

    def run(self, entries: list[Entry]) -> Fifo:
        con = self.con
        for kind, table in zip(("receipts", "movements"), lake_tables(entries), strict=True):
            site = pa.array([SITE] * table.num_rows, pa.string())
            con.register("lake_rows", table.append_column("site_id", site))
            con.execute(
                f"create or replace table build.staging.stg_materials__{kind} as "
                "select * from lake_rows"
            )
            con.unregister("lake_rows")
        for model, path in self.sql.items():
            schema = self.schemas.get(model, "marts")
            con.execute(f"create or replace table build.{schema}.{model} as {path.read_text()}")

        def rows(table: str) -> list[dict[str, Any]]:
            cursor = con.execute(f"select * from build.marts.{table}")
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]

        return _sql_fifo(rows("fct_material_fifo_allocations"), rows("fct_material_outflow_costs"))


@pytest.fixture(scope="module")
def compiled(home: Path) -> CompiledFifo:
    return CompiledFifo(home)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(entries=ledgers())
def test_compiled_fifo_equals_the_unit_walk(compiled: CompiledFifo, entries: list[Entry]) -> None:
    expected = walk(entries)
    got = compiled.run(entries)
    assert got.allocations == expected.allocations
    assert got.outflows == expected.outflows
