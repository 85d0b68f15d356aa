"""Lot genealogy traces (reports.materials.genealogy) on hand-made edge tables: breadth-first
depths through diamonds, parallel edges as one step, cycles found wherever they sit, the depth
cap, roots that are sales, and lots no record names. The marts that feed it are tested through
the lake in tests/dbt/test_materials_trace_qc_jobs.py."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from reports.materials.genealogy import (
    GenealogyError,
    LotNotFound,
    lot_sites,
    open_warehouse,
    strongly_connected,
    trace,
)
from siteledger.settings import Settings

T = dt.datetime(2025, 6, 1, 8, 0, tzinfo=dt.UTC)
EDGE_COLUMNS = (
    "site_id, edge_key, relation, parent_lot_id, parent_kind, child_lot_id, child_kind, qty, "
    "unit, moved_at, batch_id, job_id, sale_id, customer_id"
)


def _edge(
    relation: str,
    parent: str,
    child: str,
    qty: float,
    *,
    site: str = "s",
    child_kind: str = "product_lot",
    batch: str | None = None,
    job: str | None = None,
    sale: str | None = None,
    customer: str | None = None,
    key: str | None = None,
) -> tuple:
    return (
        site,
        key or f"{relation}:{parent}:{child}",
        relation,
        parent,
        "material_lot" if parent.startswith("M") else "product_lot",
        child,
        child_kind,
        qty,
        "kg",
        T,
        batch,
        job,
        sale,
        customer,
    )


# M1 (material) -> B1 (two issues: 2 + 3 kg) and -> B2; B1 -> B1A (split) -> sale S1 (c1);
# B1 and B2 -> MX (merge: a diamond, MX at depth 2 either way) -> sale S2 (c2); B2 -> B2R
# (rework) -> B2R2 (rework) -> B2R (rework back: a cycle not through the lot traced);
# M9 -> job J1 (customer c3). Site t holds a lot B1 of its own.
EDGES = [
    _edge("consume", "M1", "B1", 2.0, batch="b1", key="consume:i1"),
    _edge("consume", "M1", "B1", 3.0, batch="b1", key="consume:i2"),
    _edge("consume", "M1", "B2", 4.0, batch="b2", key="consume:i3"),
    _edge("split", "B1", "B1A", 40.0, batch="b1"),
    _edge("ship", "B1A", "sale:S1", 10.0, child_kind="shipment", sale="S1", customer="c1"),
    _edge("merge", "B1", "MX", 20.0),
    _edge("merge", "B2", "MX", 30.0),
    _edge("ship", "MX", "sale:S2", 5.0, child_kind="shipment", sale="S2", customer="c2"),
    _edge("rework", "B2", "B2R", 50.0, batch="b2"),
    _edge("rework", "B2R", "B2R2", 50.0, batch="b2"),
    _edge("rework", "B2R2", "B2R", 50.0, batch="b2"),
    _edge("consume", "M9", "job:J1", 3.0, child_kind="job", job="J1", customer="c3"),
    _edge("consume", "M7", "B1", 1.0, site="t", batch="tb1"),
]
LOTS = [
    ("s", "M1", "material_lot", None, None, "olive_oil"),
    ("s", "M9", "material_lot", None, None, "powder_red"),
    ("s", "B1", "product_lot", "b1", "soap", None),
    ("s", "B2", "product_lot", "b2", "soap", None),
    ("s", "B1A", "product_lot", "b1", "lav_soap", None),
    ("s", "MX", "product_lot", None, "soap", None),
    ("s", "B2R", "product_lot", "b2", "soap", None),
    ("s", "B2R2", "product_lot", "b2", "soap", None),
    ("s", "LONELY", "material_lot", None, None, "lye"),
    ("t", "B1", "product_lot", "tb1", "soap", None),
    ("t", "M7", "material_lot", None, None, "olive_oil"),
]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """The genealogy tables as the build database holds them (schema marts)."""
    with duckdb.connect() as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.fct_lot_edges (site_id varchar, edge_key varchar, "
            "relation varchar, parent_lot_id varchar, parent_kind varchar, "
            "child_lot_id varchar, child_kind varchar, qty double, unit varchar, "
            "moved_at timestamptz, batch_id varchar, job_id varchar, sale_id varchar, "
            "customer_id varchar)"
        )
        connection.executemany(
            f"insert into marts.fct_lot_edges ({EDGE_COLUMNS}) values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            EDGES,
        )
        connection.execute(
            "create table marts.dim_lots (site_id varchar, lot_id varchar, kind varchar, "
            "batch_id varchar, product_id varchar, material_id varchar)"
        )
        connection.executemany("insert into marts.dim_lots values (?, ?, ?, ?, ?, ?)", LOTS)
        yield connection


def _by_lot(rows: list) -> dict[str, object]:
    return {row.lot_id: row for row in rows}


def test_forward_trace_reaches_every_descendant_at_its_fewest_edges(con) -> None:
    result = trace(con, "s", "M1", "forward")
    rows = _by_lot(result)
    assert set(rows) == {"M1", "B1", "B2", "B1A", "MX", "B2R", "B2R2", "sale:S1", "sale:S2"}
    depths = {lot: row.depth for lot, row in rows.items()}
    assert depths == {
        "M1": 0,
        "B1": 1,
        "B2": 1,
        "B1A": 2,
        "MX": 2,
        "B2R": 2,
        "B2R2": 3,
        "sale:S1": 3,
        "sale:S2": 3,
    }
    # two issues of M1 to batch b1 are one step of 5 kg
    assert rows["B1"].qty == 5.0 and rows["B1"].relation == "consume"
    assert rows["B1"].path == ("M1", "B1") and rows["B1"].parent == "M1"
    # MX is reached from B1 and B2 in the same generation: the first by id, every time
    assert rows["MX"].parent == "B1" and rows["MX"].path == ("M1", "B1", "MX")
    assert rows["MX"].qty == 20.0 and rows["MX"].relation == "merge"
    assert rows["sale:S2"].path == ("M1", "B1", "MX", "sale:S2")
    assert rows["sale:S2"].kind == "shipment" and rows["sale:S2"].customer_id == "c2"
    assert rows["M1"].kind == "material_lot" and rows["M1"].material_id == "olive_oil"
    assert rows["B1A"].product_id == "lav_soap" and rows["B1A"].batch_id == "b1"
    assert [row.lot_id for row in result][:3] == ["M1", "B1", "B2"]  # by depth, then id


def test_a_cycle_away_from_the_lot_is_reported_not_followed(con) -> None:
    result = trace(con, "s", "M1", "forward")
    assert [cycle.lots for cycle in result.cycles] == [("B2R", "B2R2")]
    assert result.findings == ["cycle in the lot edges among lots B2R, B2R2"]
    assert sum(row.lot_id == "B2R" for row in result) == 1  # entered once


def test_recall_summary_names_batches_lots_shipments_and_customers(con) -> None:
    summary = trace(con, "s", "M1", "forward").summary()
    assert summary.batches == ("b1", "b2")
    assert summary.product_lots == ("B1", "B1A", "B2", "B2R", "B2R2", "MX")
    assert summary.material_lots == ("M1",)
    assert [(s.sale_id, s.lot_id, s.customer_id, s.qty) for s in summary.shipments] == [
        ("S1", "B1A", "c1", 10.0),
        ("S2", "MX", "c2", 5.0),
    ]
    assert summary.customers == ("c1", "c2")
    jobs = trace(con, "s", "M9", "forward").summary()
    assert [(j.job_id, j.lot_ids, j.customer_id) for j in jobs.jobs] == [("J1", ("M9",), "c3")]
    assert jobs.customers == ("c3",)


def test_backward_trace_from_a_sale_finds_its_lots_and_batches(con) -> None:
    result = trace(con, "s", "sale:S2", "backward")
    rows = _by_lot(result)
    assert set(rows) == {"sale:S2", "MX", "B1", "B2", "M1"}
    root = result.root
    assert (root.kind, root.customer_id, root.sale_id, root.qty) == ("shipment", "c2", "S2", 5.0)
    assert (rows["M1"].depth, rows["M1"].parent, rows["M1"].qty) == (3, "B1", 5.0)
    assert rows["MX"].customer_id is None  # the sale's customer is not the lot's
    summary = result.summary()
    assert summary.batches == ("b1", "b2")
    assert [(s.sale_id, s.lot_id) for s in summary.shipments] == [("S2", "MX")]
    assert not result.cycles


def test_a_cycle_through_the_lot_itself_is_reported(con) -> None:
    result = trace(con, "s", "B2R", "forward")
    assert [row.lot_id for row in result] == ["B2R", "B2R2"]
    assert [cycle.lots for cycle in result.cycles] == [("B2R", "B2R2")]
    backward = trace(con, "s", "B2R2", "backward")
    assert {row.lot_id for row in backward} == {"B2R2", "B2R", "B2", "M1"}
    assert [cycle.lots for cycle in backward.cycles] == [("B2R", "B2R2")]


def test_the_depth_cap_stops_the_trace_and_says_where(con) -> None:
    result = trace(con, "s", "M1", "forward", max_depth=2)
    assert max(row.depth for row in result) == 2
    assert "B2R2" not in _by_lot(result)
    assert result.truncated_at == ("B1A", "B2R", "MX")
    assert result.findings[-1] == "trace stopped at depth 2; edges continue from B1A, B2R, MX"
    assert not trace(con, "s", "M1", "forward", max_depth=4).truncated_at


def test_sites_keep_their_own_lots(con) -> None:
    assert lot_sites(con, "B1") == ["s", "t"]
    assert lot_sites(con, "sale:S1") == ["s"]
    there = trace(con, "t", "B1", "backward")
    assert [(row.lot_id, row.batch_id) for row in there] == [("B1", "tb1"), ("M7", None)]


def test_a_lot_with_no_edges_is_its_own_trace_and_an_unknown_one_is_an_error(con) -> None:
    result = trace(con, "s", "LONELY", "forward")
    assert [(row.lot_id, row.kind, row.depth) for row in result] == [("LONELY", "material_lot", 0)]
    assert result.summary().material_lots == ("LONELY",)
    with pytest.raises(LotNotFound, match="no record of site s names lot NOPE"):
        trace(con, "s", "NOPE", "forward")
    with pytest.raises(ValueError, match="direction"):
        trace(con, "s", "M1", "sideways")  # type: ignore[arg-type]


def test_strongly_connected_components_are_exact() -> None:
    nodes = ["a", "b", "c", "d", "e", "f"]
    # a -> b -> c -> a (cycle), c -> d, d -> d (self loop), e -> f (no cycle)
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "d"), ("e", "f")]
    assert strongly_connected(nodes, edges) == [["a", "b", "c"], ["d"]]
    # a chain of 20 000 does not reach Python's recursion limit
    chain = [str(i) for i in range(20_000)]
    assert strongly_connected(chain, list(itertools.pairwise(chain))) == []


def test_the_published_file_is_read_and_its_absence_explained(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with pytest.raises(GenealogyError, match="nothing published yet"), open_warehouse(settings):
        pass
    settings.published_db.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.published_db)) as writer:
        writer.execute("create table other as select 1 as x")
    with open_warehouse(settings) as reader, pytest.raises(GenealogyError, match="fct_lot_edges"):
        trace(reader, "s", "M1")
