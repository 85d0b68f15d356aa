"""The materials faces on marts dbt builds from real record files: the monthly reports, the
certificates, the recall report, the CLI and the alert rules, against figures worked out by hand
for fixtures/materials_faces_site.yaml.

The records, imported through the real file import into the lake (UTC; days are UTC days):

    R1 OIL1  oil 100 kg @ 2.00  01-01 08:00 (PO1, due 01-03: on time, in full), expires 2026-01-01
    R2 LYE1  lye  20 kg @ 5.00  01-01 09:00 (PO2, due 01-02: on time, in full), expires 2025-02-20
    R3 OIL2  oil  50 kg @ 2.40  01-20 08:00: 20 % dearer than OIL1; (2.40 - 2.00) x 50 = 20.00
    R4 BOX1  box 100 each @ 0.10  02-02 08:00 (the last record: the marts stand at 2 February)
    B1 (01-05) soap 600 planned, 600 made: oil 30 kg (OIL1, 60.00) + lye 6 kg (LYE1, 30.00)
    B2 (01-25) soap 600 planned, 540 made (90 %): oil 30 kg (OIL1, 60.00) + lye 6 kg (30.00);
       its standard prices are the last receipts' before it: oil 2.40, lye 5.00: planned
       30 x 2.40 + 6 x 5.00 = 102.00 against 90.00 actual
    SOAP-B1 split: 100 bars to SOAP-B1A (01-06)
    QC SOAP-B1: pH 9.1, appearance conforms (01-06, approver J. Smith): passes
    QC SOAP-B2: pH 10.5 (above 10), appearance conforms (01-26): fails
    S1 01-10 c_shop 200 of SOAP-B1 @ 0.50; S2 01-12 c_spa 50 of SOAP-B1A @ 0.60;
    S3 01-28 c_shop 100 of SOAP-B2 @ 0.50

At 31 January: oil 150 in - 60 out = 90 kg, the newest lots: OIL2 50 @ 2.40 (120.00) and 40 of
OIL1 @ 2.00 (80.00); lye 20 - 12 = 8 kg of LYE1 (40.00), expiring in 20 days; 240.00 in all.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.engine import Engine
from alerts.rules import load_rules
from alerts.state import AlertStore
from cli.main import cli
from ingestion.files import import_landing
from ingestion.site_tables import write_site_tables
from reports.registry import Registry
from reports.service import generate
from siteledger.settings import Settings
from siteledger.site import load_site
from siteledger.state import StateStore
from siteledger.warehouse import Warehouse
from tests.dbt.runner import query, run_dbt, shared_home

SITE_FILE = Path(__file__).parent / "fixtures" / "materials_faces_site.yaml"
SITE = "faces_site"

FILES = {
    "orders_jan.csv": (
        "po_id,supplier_id,material_id,ordered_at,promised_date,qty,unit,unit_price,currency\n"
        "PO1,oilco,oil,2025-01-01 06:00,2025-01-03,100,kg,2.00,\n"
        "PO2,chemco,lye,2025-01-01 06:00,2025-01-02,20,kg,5.00,\n"
    ),
    "receipts_jan.csv": (
        "receipt_id,lot_id,material_id,supplier_id,po_id,received_at,qty,unit,unit_cost,currency,"
        "expiry_date,supplier_lot\n"
        "R1,OIL1,oil,oilco,PO1,2025-01-01 08:00,100,kg,2.00,,2026-01-01,\n"
        "R2,LYE1,lye,chemco,PO2,2025-01-01 09:00,20,kg,5.00,,2025-02-20,\n"
        "R3,OIL2,oil,oilco,,2025-01-20 08:00,50,kg,2.40,,2026-01-20,\n"
        "R4,BOX1,box,chemco,,2025-02-02 08:00,100,each,0.10,,,\n"
    ),
    "movements_jan.csv": (
        "movement_id,moved_at,material_id,lot_id,kind,qty,unit,unit_cost,batch_id,job_id,reason\n"
        "M1,2025-01-05 10:00,oil,,issue,30,kg,,B1,,\n"
        "M2,2025-01-05 10:00,lye,,issue,6,kg,,B1,,\n"
        "M3,2025-01-25 10:00,oil,,issue,30,kg,,B2,,\n"
        "M4,2025-01-25 10:00,lye,,issue,6,kg,,B2,,\n"
    ),
    "batches_jan.csv": (
        "batch_id,product_id,recipe_id,recipe_version,planned_qty,actual_qty,samples_qty,"
        "output_unit,output_lot_id,started_at,finished_at,equipment,containers\n"
        "B1,soap,soap_r,1,600,600,0,each,SOAP-B1,2025-01-05 09:00,2025-01-05 16:00,kettle,6\n"
        "B2,soap,soap_r,1,600,540,0,each,SOAP-B2,2025-01-25 09:00,2025-01-25 16:00,kettle,6\n"
    ),
    "edges_jan.csv": (
        "edge_id,parent_lot_id,child_lot_id,relation,qty,unit,moved_at\n"
        "E1,SOAP-B1,SOAP-B1A,split,100,each,2025-01-06 10:00\n"
    ),
    "qc_jan.csv": (
        "result_id,lot_id,spec_id,spec_version,test_id,value,result_text,tested_at,analyst,"
        "approver\n"
        "Q1,SOAP-B1,soap_spec,1,ph,9.1,,2025-01-06 09:00,A. Analyst,J. Smith\n"
        "Q2,SOAP-B1,soap_spec,1,appearance,,conforms,2025-01-06 09:30,A. Analyst,J. Smith\n"
        "Q3,SOAP-B2,soap_spec,1,ph,10.5,,2025-01-26 09:00,A. Analyst,J. Smith\n"
        "Q4,SOAP-B2,soap_spec,1,appearance,,conforms,2025-01-26 09:00,A. Analyst,J. Smith\n"
    ),
    "sales_jan.csv": (
        "sale_id,sold_at,customer_id,product_id,lot_id,qty,unit,unit_price,currency\n"
        "S1,2025-01-10 10:00,c_shop,soap,SOAP-B1,200,each,0.50,\n"
        "S2,2025-01-12 10:00,c_spa,soap,SOAP-B1A,50,each,0.60,\n"
        "S3,2025-01-28 10:00,c_shop,soap,SOAP-B2,100,each,0.50,\n"
    ),
}


def build_faces_site(home: Path) -> None:
    """Import the record files, export the site tables, build the materials marts and publish."""
    settings = Settings(home=home)
    settings.ensure_dirs()
    site = load_site(SITE_FILE)
    shutil.copy(SITE_FILE, settings.sites_dir / SITE_FILE.name)
    for name, text in FILES.items():
        (settings.landing / name).write_text(text, encoding="utf-8")
    store = StateStore(settings.state_store_url)
    try:
        results = import_landing(settings, site, store)
        failed = {r.file_name: (r.status, r.failed, r.error) for r in results if r.failed}
        assert not failed, f"the record files did not import cleanly: {failed}"
        write_site_tables(settings, site)
        # every model (a materials-only site has empty water marts, as in a deployment), then
        # the materials marts again with their tests
        run_dbt(home, "run")
        run_dbt(home, "build", "--select", "+path:models/marts/materials")
        Warehouse(settings, store).publish(["marts"], note="materials faces")
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "materials_faces", build_faces_site)


@pytest.fixture
def home(built: Path, tmp_path: Path) -> Settings:
    """A home of its own on the built warehouse (its registry and reports start empty)."""
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    source = Settings(home=built)
    for path in (source.published_db, source.build_db):
        path_to = settings.home / path.relative_to(built)
        path_to.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, path_to)
    shutil.copy(SITE_FILE, settings.sites_dir / SITE_FILE.name)
    return settings


def pdf_text(path: str) -> str:
    out = subprocess.run(["pdftotext", "-layout", path, "-"], check=True, capture_output=True)
    return " ".join(out.stdout.decode().split())


def test_the_months_reports_on_the_built_marts(home: Settings) -> None:
    store = StateStore(home.state_store_url)
    try:
        outcomes = generate(
            home,
            store,
            definition_ids=["monthly_inventory_report", "monthly_materials_cost_report"],
            workers=1,
        )
    finally:
        store.dispose()
    by_id = {o.definition_id: o.record for o in outcomes}
    # January only: February runs to the 2nd
    assert sorted((o.definition_id, o.period_key) for o in outcomes) == [
        ("monthly_inventory_report", "2025-01"),
        ("monthly_materials_cost_report", "2025-01"),
    ]
    inventory = by_id["monthly_inventory_report"]
    m = inventory.figures["metrics"]
    assert (m["on_hand_value_start"], m["on_hand_value"]) == (0, pytest.approx(240.0))
    assert m["received_value"] == pytest.approx(100 * 2.0 + 20 * 5.0 + 50 * 2.4)  # 420.00
    assert m["issued_cost"] == pytest.approx(180.0)  # 60 + 30 + 60 + 30
    assert (m["lots_expiring"], m["lots_expired"]) == (1, 0)  # LYE1, 20 days
    # lye's fixed 50 kg against its 8; oil's 90 kg above its reorder point
    assert m["materials_below_reorder_point"] == 1
    assert m["supplier_otif_pct"] == pytest.approx(100.0)
    assert m["purchase_price_variance"] == pytest.approx(20.0)
    ageing = inventory.figures["ageing"]
    assert ageing["oil"]["age_0_30_value"] == pytest.approx(200.0)
    assert ageing["lye"]["age_0_30_value"] == pytest.approx(40.0)
    text = pdf_text(inventory.artifacts["pdf"]["path"])
    # the site file's names and currency
    for part in (
        "Faces Soap Works",
        "Olive oil",
        "LYE1 Sodium hydroxide 2025-01-01 2025-02-20 20 8 kg 40.00",
        "Sodium hydroxide 8 50 (fixed)",
        "R3 Olive oil OilCo 2025-01-20 2.4000 2.0000 20.0 % 20.00",
        "Money EUR, the site's currency",
    ):
        assert part in text, part

    cost = by_id["monthly_materials_cost_report"]
    c = cost.figures["metrics"]
    assert c["batches"] == 2 and c["batches_below_yield"] == 1
    assert (c["batch_planned_cost"], c["batch_actual_cost"]) == (
        pytest.approx(90.0 + 102.0),
        pytest.approx(180.0),
    )
    # B2: oil (2.40 - 2.00) x 30 = 12.00 cheaper than its standard price, no usage variance
    assert c["price_variance"] == pytest.approx(12.0)
    assert c["usage_variance"] == pytest.approx(0.0)
    assert c["revenue"] == pytest.approx(200 * 0.5 + 50 * 0.6 + 100 * 0.5)  # 180.00
    batches = cost.figures["batches"]
    assert batches["B2"]["yield_pct"] == pytest.approx(90.0)
    assert batches["B2"]["is_yield_below_alert"] is True
    text = pdf_text(cost.artifacts["pdf"]["path"])
    assert "B2 Soap bar soap_r v1 2025-01-25 90.0 % 102.00 90.00 -12.00 12.00 0.00" in text


def test_certificates_and_a_recall_through_the_cli(home: Settings) -> None:
    runner = CliRunner()
    base = ["--home", str(home.home), "materials"]
    good = runner.invoke(cli, [*base, "coa", "SOAP-B1", "--json"])
    assert good.exit_code == 0, good.output
    record = json.loads(good.output)
    assert (record["site"], record["lot"], record["status"]) == (SITE, "SOAP-B1", "validated")
    assert record["figures"]["tests"] == {
        "appearance": {"result": "conforms", "passed": True},
        "ph": {"result": 9.1, "passed": True},
    }
    text = pdf_text(record["pdf"])
    for part in (
        "Product Soap bar (soap) Lot / batch number SOAP-B1 (batch B1)",
        # made 5 January, expiring after the product's 730 days
        "Date of manufacture 2025-01-05 Expiry (durability) date 2027-01-05",
        "Specification soap_spec, version 1 Testing completed 2025-01-06",
        "pH ISO 4316 pH 8 – 10 9.1 PASS",
        "Approved by J. Smith",
    ):
        assert part in text, part
    # registered, with the hash the PDF states
    store = StateStore(home.state_store_url)
    try:
        (stored,) = Registry(store).versions("certificate_of_analysis", SITE, "SOAP-B1")
    finally:
        store.dispose()
    assert stored.content_hash == record["content_hash"] and stored.content_hash in text
    # again: unchanged
    again = runner.invoke(cli, [*base, "coa", "SOAP-B1"])
    assert again.exit_code == 0 and "unchanged since" in " ".join(again.output.split())

    # the failed lot: a draft that says why, exit 1
    bad = runner.invoke(cli, [*base, "coa", "SOAP-B2"])
    assert bad.exit_code == 1
    assert "DRAFT" in bad.output and "fails pH: 10.5 pH against 8 – 10" in " ".join(
        bad.output.split()
    )
    # a lot without QC results
    none = runner.invoke(cli, [*base, "coa", "SOAP-B1A"])
    assert none.exit_code == 1 and "has no QC results" in " ".join(none.output.split())

    recall = runner.invoke(cli, [*base, "recall", "OIL1", "--json"])
    assert recall.exit_code == 0, recall.output
    r = json.loads(recall.output)
    m = r["figures"]["metrics"]
    # OIL1 went into B1 and B2; SOAP-B1 was split into SOAP-B1A; three sales to two customers
    assert (m["affected_batches"], m["shipments"], m["customers"]) == (2, 3, 2)
    assert m["shipped_qty"] == 350
    assert set(r["figures"]["shipments"]) == {"S1", "S2", "S3"}
    assert {"SOAP-B1", "SOAP-B1A", "SOAP-B2"} <= set(r["figures"]["lots"])
    text = pdf_text(r["pdf"])
    for part in ("Recall Report", "Day Spa S2 SOAP-B1A Soap bar 50 each", "Corner Shop S1"):
        assert part in text, part
    missing = runner.invoke(cli, [*base, "recall", "NO-SUCH-LOT"])
    assert missing.exit_code == 1 and "no site's records name lot NO-SUCH-LOT" in " ".join(
        missing.output.split()
    )


def test_the_metric_mart_holds_each_materials_demand_and_unit_cost(built: Path) -> None:
    """What the forecasts read: oil's issues (30 kg on 5 and 25 January) and the FIFO cost per
    kg of its stock (2.00 until OIL2 arrives on 20 January: (40 x 2 + 50 x 2.40) / 90 at the
    end of the 25th); the marts' last day (2 February) is not closed."""
    rows = query(
        built,
        "select metric, day, value, unit, is_day_closed from marts.fct_metric_daily "
        f"where site_id = '{SITE}' and scope = 'material' and scope_id = 'oil' order by 1, 2",
    )
    got = {(r["metric"], str(r["day"])): r for r in rows}
    assert got[("issued_qty", "2025-01-05")]["value"] == 30
    assert got[("issued_qty", "2025-01-06")]["value"] == 0
    assert sum(r["value"] for r in rows if r["metric"] == "issued_qty") == 60
    assert got[("issued_qty", "2025-01-05")]["unit"] == "kg"
    assert got[("unit_cost", "2025-01-19")]["value"] == pytest.approx(2.0)
    assert got[("unit_cost", "2025-01-25")]["value"] == pytest.approx(200 / 90)
    assert got[("unit_cost", "2025-01-25")]["unit"] == "EUR/kg"
    assert got[("unit_cost", "2025-02-01")]["is_day_closed"] is True
    assert got[("unit_cost", "2025-02-02")]["is_day_closed"] is False


def test_the_rule_pack_on_the_built_marts(home: Settings) -> None:
    store = StateStore(home.state_store_url)
    try:
        engine = Engine(home, store, load_rules(None, []), env={}, sleep=lambda s: None)
        sources = [
            "fct_material_inventory_metrics",
            "fct_material_lot_balances",
            "fct_batches",
            "fct_qc_lots",
            "fct_product_margins_monthly",
            "fct_material_prices",
            "fct_job_margins_monthly",
        ]
        result = engine.evaluate(
            dt.datetime(2025, 2, 3, 6, tzinfo=dt.UTC), only_sources=sources, send=False
        )
        assert result.errors == {}
        firing = sorted(
            (e.rule_id, tuple(e.labels.values())) for e in AlertStore(store).events(state="firing")
        )
    finally:
        store.dispose()
    # at 2 February: lye 8 kg below its fixed 50; LYE1 expires in 18 days with 8 kg; B2 yielded
    # 90 % of plan; SOAP-B2 failed its pH; OilCo's OIL2 cost 20 % more than OIL1 (the limit
    # 10 %); January's soap margin is far above 20 %
    assert firing == [
        ("batch_yield_below_plan", (SITE, "soap")),
        ("material_below_reorder_point", (SITE, "lye")),
        ("material_lot_expiring", (SITE, "LYE1")),
        ("qc_lot_failed", (SITE, "SOAP-B2")),
        ("supplier_price_rise", (SITE, "oil", "oilco")),
    ]
