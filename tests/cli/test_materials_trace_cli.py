"""``siteledger materials trace`` on a small published warehouse: a lot two sites name needs
--site, --backward and --depth reach the trace, and a warehouse without the genealogy marts or
without any published version says what to do."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from siteledger.settings import Settings
from tests.cli.conftest import invoke


def _published(tmp_path: Path, *, genealogy: bool = True) -> Path:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    settings.published_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_db)) as con:
        if not genealogy:
            con.execute("create table dim_sites as select 'north' as site_id")
            return settings.home
        con.execute(
            "create table fct_lot_edges as select * from (values "
            "('north', 'consume:M1', 'consume', 'OIL-7', 'material_lot', 'L1', 'product_lot', "
            " 5.0, 'kg', timestamptz '2025-06-15 08:30:00+00', 'B1', null, null, null), "
            "('north', 'ship:S1', 'ship', 'L1', 'product_lot', 'sale:S1', 'shipment', "
            " 12.0, 'each', timestamptz '2025-06-20 10:00:00+00', null, null, 'S1', 'c_shop'), "
            "('south', 'consume:M9', 'consume', 'OIL-7', 'material_lot', 'K1', 'product_lot', "
            " 2.0, 'kg', timestamptz '2025-06-16 08:30:00+00', 'B9', null, null, null)) "
            "t(site_id, edge_key, relation, parent_lot_id, parent_kind, child_lot_id, "
            "child_kind, qty, unit, moved_at, batch_id, job_id, sale_id, customer_id)"
        )
        con.execute(
            "create table dim_lots as select * from (values "
            "('north', 'OIL-7', 'material_lot', null, null, 'olive_oil'), "
            "('north', 'L1', 'product_lot', 'B1', 'soap', null), "
            "('south', 'OIL-7', 'material_lot', null, null, 'olive_oil'), "
            "('south', 'K1', 'product_lot', 'B9', 'soap', null)) "
            "t(site_id, lot_id, kind, batch_id, product_id, material_id)"
        )
    return settings.home


def test_a_lot_two_sites_name_needs_a_site(tmp_path: Path) -> None:
    home = _published(tmp_path)
    both = invoke(home, "materials", "trace", "OIL-7")
    assert both.exit_code == 1
    assert "lot OIL-7 is named at sites north, south: give --site" in both.output
    north = invoke(home, "materials", "trace", "OIL-7", "--site", "north", columns=120)
    assert north.exit_code == 0, north.output
    assert "Forward (where used) trace of OIL-7 at site north" in north.output
    assert "└── L1  product lot  consume 5 kg  soap  batch B1  2025-06-15 08:30" in north.output
    assert "sale:S1  shipment  ship 12 each  customer c_shop  2025-06-20 10:00" in north.output
    assert "1 shipment, 0 jobs, 1 customer: c_shop" in north.output
    assert "K1" not in north.output
    south = invoke(home, "materials", "trace", "K1", "--backward")  # one site names K1
    assert "Backward (where from) trace of K1 at site south" in south.output
    assert "└── OIL-7  material lot  consume 2 kg  olive_oil" in south.output


def test_depth_and_json_reach_the_trace(tmp_path: Path) -> None:
    home = _published(tmp_path)
    out = invoke(home, "materials", "trace", "OIL-7", "--site", "north", "--depth", "1", "--json")
    data = json.loads(out.stdout)
    assert [row["lot_id"] for row in data["rows"]] == ["OIL-7", "L1"]
    assert data["truncated_at"] == ["L1"] and data["max_depth"] == 1
    assert data["findings"] == ["trace stopped at depth 1; edges continue from L1"]
    assert data["rows"][1]["moved_at"] == "2025-06-15T08:30:00+00:00"
    bad = invoke(home, "materials", "trace", "OIL-7", "--site", "north", "--depth", "0")
    assert bad.exit_code == 2 and "--depth" in bad.output


def test_missing_warehouse_or_marts_are_explained(tmp_path: Path) -> None:
    empty = Settings(home=tmp_path / "empty").home
    none = invoke(empty, "materials", "trace", "OIL-7")
    assert none.exit_code == 1 and "nothing published yet" in none.output
    old = _published(tmp_path / "old", genealogy=False)
    out = invoke(old, "materials", "trace", "OIL-7")
    assert out.exit_code == 1
    assert "the warehouse has no fct_lot_edges / dim_lots" in out.output
