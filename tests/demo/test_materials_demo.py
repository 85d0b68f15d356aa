"""The demo's two workshops (demo/materials.py): a year of a soap and candle maker and of a
powder-coating job shop, written as file drops with their ground truth.

The generator is deterministic and quick, its files import with no row quarantined, its ground
truth holds what the brief asks (a recall's exact descendants, one failed QC lot, FIFO costs, a
wasteful month, supplier OTIF), and - through import and the whole dbt build - the marts agree
with that truth: the trace of the recalled supplier lot reaches exactly its descendants, the
failed QC lot is the only failed lot, the wasteful month has the most powder waste, and every
batch's FIFO cost is the truth's to the cent. Figures of the default year (2025-07-01, seed 7)
are named where a test relies on them.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from demo import materials as mat
from demo.write import ground_truth_dir, write_demo
from ingestion.files import import_landing
from ingestion.site_tables import write_site_tables
from siteledger.settings import get_settings
from siteledger.site import load_site
from siteledger.state import StateStore
from tests.dbt.runner import run_dbt, shared_home

START = date(2025, 7, 1)
YEAR = 365
SEED = 7
SOAP, COAT = mat.SOAPWORKS_SITE_ID, mat.COATING_SITE_ID
CENT = Decimal("0.005")


def _write(home: Path, seed: int = SEED) -> float:
    started = time.perf_counter()
    write_demo(home, days=YEAR, start=START, seed=seed, sites=mat.MATERIALS_SITE_IDS)
    return time.perf_counter() - started


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("workshops")
    _write(home)
    return home


def _truth(home: Path, site_id: str) -> dict[str, Any]:
    return json.loads((ground_truth_dir(home, site_id) / mat.TRUTH_FILE).read_text())


def _rows(home: Path, prefix: str, kind: str) -> list[dict[str, str]]:
    """Every row of a kind's monthly CSV files, in file order."""
    rows: list[dict[str, str]] = []
    for path in sorted((home / "landing").glob(f"{prefix}{kind}_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    return rows


# -- the generator ------------------------------------------------------------------------------
def test_the_workshops_are_sites_with_a_materials_section_and_no_water_model(year: Path):
    soap = load_site(year / "sites" / f"{SOAP}.yaml")
    coat = load_site(year / "sites" / f"{COAT}.yaml")
    for site in (soap, coat):
        assert (site.nodes, site.flows, site.meters) == ([], [], [])
        assert (site.site.timezone, site.site.region) == ("Australia/Perth", "wa_south_west")
        assert site.site.data_start == START
    m = soap.materials
    assert (len(m.materials), len(m.suppliers), len(m.products), len(m.customers)) == (31, 7, 9, 12)
    assert {x.unit for x in m.materials} == {"kg", "L", "each"}
    # castor oil is kept in litres and weighed into the pot in kg: 0.5 kg at 0.96 g/mL
    base, castor_oil = m.recipe("unscented_bar", 1), m.material("castor_oil")
    assert base is not None and castor_oil is not None
    castor = next(i for i in base.inputs if i.material == "castor_oil")
    assert (castor.qty, castor.unit, castor_oil.unit) == (0.5, "kg", "L")
    assert [(r.version, r.valid_from) for r in m.recipes if r.id == "lavender_bar"] == [
        (1, START),
        (2, date(2026, 1, 5)),
    ]
    assert {(x.kind, x.format) for x in m.layouts} >= {("qc_results", "excel"), ("sales", "json")}
    assert [(r.currency, r.valid_from, r.rate) for r in m.exchange_rates] == [
        ("USD", START, 1.5),
        ("USD", date(2026, 1, 5), 1.55),
        ("USD", date(2026, 4, 1), 1.45),
    ]
    c = coat.materials
    assert len(c.materials) == 12 and len(c.job_types) == 5 and len(c.customers) == 40
    black = c.material("pc_ral9005")
    assert black is not None
    assert (black.specific_gravity, black.transfer_efficiency, black.reclaim_fraction) == (
        1.45,
        0.62,
        0.5,
    )


def test_the_same_seed_writes_the_same_bytes_quickly_and_another_seed_does_not(
    year: Path, tmp_path: Path
):
    seconds = _write(tmp_path / "again")
    assert seconds < 20, f"a year of both workshops took {seconds:.1f} s"
    names = sorted(p.name for p in (year / "landing").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again" / "landing").iterdir())
    # 7 kinds x 12 months at the soapworks (QC as .xlsx, sales as .json), 4 x 12 at the shop
    assert Counter(n.split("_")[0] + n[n.rindex(".") :] for n in names) == {
        "soapworks.csv": 60,
        "soapworks.xlsx": 12,
        "soapworks.json": 12,
        "coating.csv": 48,
    }
    for name in names:
        assert (year / "landing" / name).read_bytes() == (
            tmp_path / "again" / "landing" / name
        ).read_bytes(), name
    for site in mat.MATERIALS_SITE_IDS:
        assert _truth(year, site) == _truth(tmp_path / "again", site)
    _write(tmp_path / "other", seed=SEED + 1)
    assert (year / "landing" / "soapworks_movements_2025-07.csv").read_bytes() != (
        tmp_path / "other" / "landing" / "soapworks_movements_2025-07.csv"
    ).read_bytes()
    assert _truth(year, COAT)["jobs"] != _truth(tmp_path / "other", COAT)["jobs"]


def test_every_record_file_imports_with_no_row_quarantined(tmp_path: Path):
    home = tmp_path / "home"
    out = write_demo(home, days=YEAR, start=START, seed=SEED, sites=mat.MATERIALS_SITE_IDS)
    settings = get_settings(home)
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    try:
        for site_id in mat.MATERIALS_SITE_IDS:
            site = load_site(out.sites[site_id].site_file)
            results = [r for r in import_landing(settings, site, store) if r.status != "unmatched"]
            assert len(results) == len(out.sites[site_id].drop_files)
            assert {r.status for r in results} == {"committed"}
            assert sum(r.failed for r in results) == 0
            assert sum(r.skipped for r in results) == 0
            assert sum(r.imported for r in results) == out.sites[site_id].n_records
    finally:
        store.dispose()
    assert not list(settings.landing.iterdir())
    assert not list(settings.quarantine.rglob("*.parquet"))


def test_the_year_holds_what_the_brief_names(year: Path):
    soap, coat = _truth(year, SOAP), _truth(year, COAT)
    batches = _rows(year, "soapworks_", "batches")
    numbered = [b for b in batches if b["batch_id"].isdigit()]
    assert len(numbered) == 306 and soap["counts"]["batches"] == 330  # with 24 variants
    # batch 101: an unscented base of 120 bars (and 2 kept as samples), 40 of them made lavender
    # and 40 rose
    base = next(b for b in batches if b["batch_id"] == "101")
    assert (base["planned_qty"], base["actual_qty"], base["samples_qty"]) == ("120", "122", "2")
    edges = [
        (e["parent_lot_id"], e["child_lot_id"], e["relation"], e["qty"])
        for e in _rows(year, "soapworks_", "lot_edges")
        if e["parent_lot_id"] == "101"
    ]
    assert edges == [("101", "101A-Lavender", "split", "40"), ("101", "101B-Rose", "split", "40")]
    variant = [b for b in batches if b["batch_id"] == "101A"]
    assert [(b["recipe_id"], b["output_lot_id"]) for b in variant] == [
        ("lavender_variant", "101A-Lavender")
    ]
    # the recipe change of 5 January 2026
    versions = {
        (b["started_at"] >= "2026-01-05", b["recipe_version"])
        for b in batches
        if b["recipe_id"] == "lavender_bar"
    }
    assert versions == {(False, "1"), (True, "2")}
    movements = _rows(year, "soapworks_", "movements")
    untracked = {"label", "tissue_wrap", "shipping_carton"}
    assert all(bool(m["lot_id"]) == (m["material_id"] not in untracked) for m in movements)
    assert Counter(m["kind"] for m in movements) == {
        "issue": 3025,
        "waste": 6,
        "return_to_vendor": 2,
        "adjustment_out": 1,
    }
    # a spilled bottle recorded in mL of a fragrance kept in kg
    assert [(m["material_id"], m["qty"], m["unit"]) for m in movements if m["unit"] == "mL"] == [
        ("lavender_eo", "250", "mL")
    ]
    jobs = _rows(year, "coating_", "jobs")
    assert len(jobs) == 1525
    assert len({j["customer_id"] for j in jobs}) == 40
    assert len({j["job_type_id"] for j in jobs}) == 5
    assert coat["job_statuses"] == {
        "cancelled": 33,
        "completed": 9,
        "invoiced": 1402,
        "quoted": 70,
        "received": 11,
    }
    monthly = {k: Decimal(v) for k, v in coat["monthly_waste_kg_by_completion"].items()}
    wasteful = coat["wasteful_month"]["month"]
    assert wasteful == "2026-03"
    others = sorted(v for k, v in monthly.items() if k != wasteful)
    assert monthly[wasteful] > 4 * others[len(others) // 2]


def test_the_first_batch_costs_its_lavender_soap_at_the_opening_prices(year: Path):
    """Batch 1 draws only on the opening lots: every material costs its quantity at the list
    price of 1 July 2025 (the lavender oil at 96.00 USD x 1.50)."""
    prices = {
        "olive_oil": Decimal("9.80"),
        "coconut_oil": Decimal("6.40"),
        "shea_butter": Decimal("12.50"),
        "castor_oil": Decimal("8.90"),
        "sodium_hydroxide": Decimal("4.60"),
        "distilled_water": Decimal("0.90"),
        "sodium_lactate": Decimal("9.50"),
        "lavender_eo": Decimal("144.00"),
        "soap_box": Decimal("0.38"),
        "label": Decimal("0.09"),
    }
    issued = {
        m["material_id"]: Decimal(m["qty"])
        for m in _rows(year, "soapworks_", "movements")
        if m["batch_id"] == "1"
    }
    assert set(issued) == set(prices)
    # 150 bars: the recipe's 100 x 1.5, and as many boxes and labels
    assert (issued["soap_box"], issued["label"]) == (150, 150)
    costs = _truth(year, SOAP)["batch_costs"]["1"]
    assert {m: Decimal(v) for m, v in costs["materials"].items()} == {
        m: issued[m] * prices[m] for m in prices
    }
    assert costs["cost_cents"] == "248.75"


def test_the_source_systems_lots_are_the_lots_the_fifo_walk_draws():
    """The walk of the ground truth and the generator's own stock keeping are two codes: every
    movement naming a lot drew exactly its quantity from that lot in the walk."""
    materials = {m.id: m for m in mat.SOAP_MATERIALS}
    books = mat.simulate_soapworks(START, YEAR, SEED)
    walk = mat.fifo_walk(books.receipts, books.movements, materials, mat.exchange_rates(START))
    drawn: dict[str, list[tuple[str, Decimal]]] = {}
    for a in walk:
        drawn.setdefault(a.movement_id, []).append((a.lot_id, a.qty))
    named = [m for m in books.movements if m["lot_id"]]
    assert len(named) == 2653
    for m in named:
        assert drawn[m["movement_id"]] == [
            (m["lot_id"], mat.to_base(materials[m["material_id"]], m["qty"], m["unit"]))
        ]


def test_the_recall_truth_is_every_lot_made_from_the_coconut_oil_of_batch_101(year: Path):
    recall = _truth(year, SOAP)["recall"]
    movements = _rows(year, "soapworks_", "movements")
    lot = recall["lot_id"]
    assert (recall["material_id"], recall["supplier_id"]) == ("coconut_oil", "oilco")
    assert lot in {m["lot_id"] for m in movements if m["batch_id"] == "101"}
    made = {m["batch_id"] for m in movements if m["lot_id"] == lot and m["kind"] == "issue"}
    found = recall["descendants"]
    assert set(found["batches"]) == made | {"101A", "101B"}
    assert set(found["lots"]) == made | {"101A-Lavender", "101B-Rose"}
    assert found["split_lots"] == ["101A-Lavender", "101B-Rose"]
    sold = []
    for path in sorted((year / "landing").glob("soapworks_sales_*.json")):
        sold += json.loads(path.read_text())
    shipped = [s for s in sold if s["lot_id"] in found["lots"]]
    assert sorted(s["sale_id"] for s in shipped) == found["sales"]
    assert sorted({s["customer_id"] for s in shipped}) == found["customers"]
    assert len(found["batches"]) == 19 and len(found["sales"]) == 97


def test_one_lot_fails_qc_and_is_never_sold(year: Path):
    (failed,) = _truth(year, SOAP)["failed_qc"]
    assert (failed["lot_id"], failed["test_id"], failed["value"], failed["max"]) == (
        "263",
        "ph",
        10.6,
        10.0,
    )
    sales = []
    for path in (year / "landing").glob("soapworks_sales_*.json"):
        sales += json.loads(path.read_text())
    assert "263" not in {s["lot_id"] for s in sales}


def test_supplier_otif_counts_the_files_orders(year: Path):
    """OTIF from the written files: on time = received on or before the promised local day,
    in full = at least 98 % of the order."""
    for prefix, site in (("soapworks_", SOAP), ("coating_", COAT)):
        received = {r["po_id"]: r for r in _rows(year, prefix, "receipts") if r["po_id"]}
        expected: dict[str, list[int]] = {}
        for po in _rows(year, prefix, "purchase_orders"):
            receipt = received[po["po_id"]]
            on_time = receipt["received_at"][:10] <= po["promised_date"]
            in_full = Decimal(receipt["qty"]) >= Decimal(po["qty"]) * Decimal("0.98")
            row = expected.setdefault(po["supplier_id"], [0, 0, 0, 0])
            for i, flag in enumerate((True, on_time, in_full, on_time and in_full)):
                row[i] += flag
        truth = _truth(year, site)["supplier_otif"]
        assert {
            k: [v["orders"], v["on_time"], v["in_full"], v["otif"]] for k, v in truth.items()
        } == expected
    # the importer in Portland is the late one, the packaging supplier the short one
    soap = _truth(year, SOAP)["supplier_otif"]
    late = {k: 1 - v["on_time"] / v["orders"] for k, v in soap.items()}
    short = {k: v["orders"] - v["in_full"] for k, v in soap.items()}
    assert max(late, key=late.__getitem__) == "aroma" and late["aroma"] > 0.3
    assert max(short, key=short.__getitem__) == "packright"


# -- through import and dbt ----------------------------------------------------------------------
def _build(home: Path) -> None:
    """The two workshops' year imported, their site tables written, the whole project built by
    dbt with its tests (the water models too: they must hold no row for these sites)."""
    out = write_demo(home, days=YEAR, start=START, seed=SEED, sites=mat.MATERIALS_SITE_IDS)
    settings = get_settings(home)
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    try:
        for site_id in mat.MATERIALS_SITE_IDS:
            site = load_site(out.sites[site_id].site_file)
            results = [r for r in import_landing(settings, site, store) if r.status != "unmatched"]
            assert {r.status for r in results} == {"committed"}
            write_site_tables(settings, site)
    finally:
        store.dispose()
    run_dbt(home, "build")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "materials_demo_year", _build)


@pytest.fixture
def marts(built: Path):  # type: ignore[no-untyped-def]
    with duckdb.connect(str(get_settings(built).build_db), read_only=True) as con:
        con.execute("set schema = 'marts'")
        yield con


@pytest.mark.slow
@pytest.mark.integration
def test_a_recall_of_the_bad_supplier_lot_reaches_exactly_its_descendants(built: Path, marts):
    from reports.materials.genealogy import trace

    recall = _truth(built, SOAP)["recall"]
    found = trace(marts, SOAP, recall["lot_id"], "forward")
    summary = found.summary()
    truth = recall["descendants"]
    assert found.findings == []
    assert sorted(summary.batches) == sorted(truth["batches"])
    assert sorted(summary.product_lots) == sorted(truth["lots"])
    assert list(summary.material_lots) == [recall["lot_id"]]
    assert [s.sale_id for s in summary.shipments] == truth["sales"]
    assert list(summary.customers) == truth["customers"]
    assert sum(s.qty or 0 for s in summary.shipments) == truth["qty_sold"]


@pytest.mark.slow
@pytest.mark.integration
def test_the_failed_qc_batch_is_the_only_failed_lot(built: Path, marts):
    (failed,) = _truth(built, SOAP)["failed_qc"]
    lots = marts.execute(
        "select lot_id, status, count(*) over () from fct_qc_lots "
        "where site_id = ? and status = 'fail'",
        [SOAP],
    ).fetchall()
    assert lots == [(failed["lot_id"], "fail", 1)]
    tests = marts.execute(
        "select test_id, value, max_value from fct_qc_results "
        "where site_id = ? and lot_id = ? and not passed",
        [SOAP, failed["lot_id"]],
    ).fetchall()
    assert tests == [(failed["test_id"], failed["value"], failed["max"])]
    # every other lot tested in the period passed all its tests
    statuses = dict(
        marts.execute(
            "select status, count(*) from fct_qc_lots where site_id = ? group by 1", [SOAP]
        ).fetchall()
    )
    assert statuses == {"pass": 326, "fail": 1}


@pytest.mark.slow
@pytest.mark.integration
def test_the_wasteful_month_has_the_most_powder_waste(built: Path, marts):
    truth = _truth(built, COAT)
    monthly = marts.execute(
        "select strftime(month, '%Y-%m'), sum(powder_waste_kg) from fct_powder_waste_monthly "
        "where site_id = ? group by 1 order by 2 desc",
        [COAT],
    ).fetchall()
    assert monthly[0][0] == truth["wasteful_month"]["month"]
    by_month = {month: Decimal(kg) for month, kg in truth["monthly_waste_kg_by_completion"].items()}
    assert {m: round(kg, 6) for m, kg in monthly} == {
        m: round(float(kg), 6) for m, kg in by_month.items()
    }
    jobs = {
        job: (waste, cost)
        for job, waste, cost in marts.execute(
            "select job_id, powder_waste_kg, powder_cost from fct_job_costs "
            "where site_id = ? and powder_issued_kg > 0",
            [COAT],
        ).fetchall()
    }
    assert set(jobs) == set(truth["jobs"])
    for job, expected in truth["jobs"].items():
        waste, cost = jobs[job]
        assert waste == pytest.approx(float(expected["waste_kg"]), abs=1e-9), job
        assert abs(Decimal(str(cost)) - Decimal(expected["powder_cost"])) < CENT, job


@pytest.mark.slow
@pytest.mark.integration
def test_every_batch_costs_the_fifo_walk_to_the_cent(built: Path, marts):
    truth = _truth(built, SOAP)["batch_costs"]
    costs = dict(
        marts.execute(
            "select batch_id, sum(actual_cost) from fct_batch_costs where site_id = ? group by 1",
            [SOAP],
        ).fetchall()
    )
    assert set(costs) == set(truth) and len(costs) == 330
    off = {
        batch: (costs[batch], row["cost"])
        for batch, row in truth.items()
        if abs(Decimal(str(costs[batch])) - Decimal(row["cost"])) >= CENT
    }
    assert off == {}


@pytest.mark.slow
@pytest.mark.integration
def test_supplier_otif_in_the_marts_is_the_truths(built: Path, marts):
    for site in mat.MATERIALS_SITE_IDS:
        rows = marts.execute(
            "select supplier_id, sum(orders), sum(orders_on_time), sum(orders_in_full), "
            "sum(orders_otif) from fct_supplier_performance where site_id = ? group by 1",
            [site],
        ).fetchall()
        truth = _truth(built, site)["supplier_otif"]
        assert {r[0]: list(r[1:]) for r in rows} == {
            k: [v["orders"], v["on_time"], v["in_full"], v["otif"]] for k, v in truth.items()
        }


@pytest.mark.slow
@pytest.mark.integration
def test_the_workshops_have_no_water_rows_and_the_build_passed_its_tests(built: Path, marts):
    sites = [r[0] for r in marts.execute("select site_id from dim_sites order by 1").fetchall()]
    assert sites == [COAT, SOAP]
    for table in (
        "dim_nodes",
        "fct_site_balance_daily",
        "fct_site_balance_monthly",
        "fct_node_balance_daily",
        "fct_flow_sankey",
        "fct_site_water_by_category",
        "fct_store_levels_daily",
        "fct_carbon_site_daily",
    ):
        assert marts.execute(f"select count(*) from {table}").fetchone() == (0,), table
