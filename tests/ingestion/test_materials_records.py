"""Materials record files (receipts, purchase orders, movements, batches, lot edges, QC results,
sales, jobs) through the file importer: hand-made files of every kind and format, the values the
lake holds computed by hand, and every hostile row quarantined with its reason while the good
rows of the same file land. The test site (tests/fixtures/materials_site.yaml) is in
Europe/Berlin: UTC+1 until 2025-03-30, UTC+2 in summer; 1 USD = 0.92 EUR from 2025-01-01,
0.85 EUR from 2025-07-01; olive oil is kept in kg at 0.91 g/mL."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ingestion.files import recovery, rollback_batch
from ingestion.files.jobs import match_layout
from ingestion.lake import batch_files
from ingestion.materials_lake import MATERIALS_SCHEMAS, committed_records, materials_file
from siteledger.site import load_site
from siteledger.state.store import utcnow
from tests.ingestion.hostile.home import Home, make_home

MATERIALS_SITE = Path(__file__).parents[1] / "fixtures" / "materials_site.yaml"
UTC = dt.UTC


@pytest.fixture
def home(tmp_path):
    h = make_home(tmp_path, load_site(MATERIALS_SITE))
    yield h
    h.store.dispose()


def _lake(home: Home, result, kind: str) -> list[dict[str, Any]]:
    """The records a result wrote, in file order, without the load columns."""
    path = materials_file(home.settings, kind, "mat_site", result.layout_id, result.batch_id)
    return home.record_rows(result, MATERIALS_SCHEMAS[kind], path)


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# -- receipts: every hostile row, then the same keys in a later batch ----------------------------

RECEIPTS_HEADER = (
    "receipt_id,lot_id,material_id,supplier_id,po_id,received_at,qty,unit,unit_cost,currency,"
    "expiry_date,supplier_lot\n"
)
HOSTILE_RECEIPTS = RECEIPTS_HEADER + "\n".join(
    [
        "R1,L1,olive_oil,oilco,PO1,2025-03-01 10:00,10,L,5.00,,2026-01-01,S-99",  # 2 good
        "R2,L2,lye,chemco,,2025-03-02 08:30,30,kg,3.00,USD,,",  # 3 superseded by line 17
        "R3,L3,lye,chemco,,2025-03-02 08:30,-5,kg,3.00,,,",  # 4 negative quantity
        "R4,L4,lye,chemco,,2025-03-02 08:30,5,furlongs,3.00,,,",  # 5 unknown unit
        "R5,L5,lye,chemco,,2025-03-02 08:30,5,L,3.00,,,",  # 6 a volume of a mass, no density
        "R6,L6,lye,chemco,,2025-03-02 08:30,5,kg,3.00,GBP,,",  # 7 currency without a rate
        "R7,L7,lye,chemco,,2025-03-02 08:30,5,kg,3.00,,2025-02-01,",  # 8 expiry before receipt
        "R8,L8,lye,chemco,,2099-03-02 08:30,5,kg,3.00,,,",  # 9 far future
        "R9,L9,lye,chemco,,1970-01-01 00:00,5,kg,3.00,,,",  # 10 a clock reset
        "R10,L10,lye,chemco,,2025-03-02 08:30,5,kg,3.00,,9999-12-31,",  # 11 sentinel expiry
        "R11,L11,olive_oli,oilco,,2025-03-02 08:30,5,kg,3.00,,,",  # 12 unknown material
        "R12,L12,lye,chemko,,2025-03-02 08:30,5,kg,3.00,,,",  # 13 unknown supplier
        "R13,L13,lye,chemco,,2025-03-02 08:30,abc,kg,3.00,,,",  # 14 not a number
        "R14,,lye,chemco,,2025-03-02 08:30,5,kg,3.00,,,",  # 15 no lot
        "R15,L15,lye,chemco,,2025-03-02 08:30,5,kg,1e400,,,",  # 16 overflows
        "R2,L2,lye,chemco,,2025-03-02 08:30,25,kg,3.00,USD,,",  # 17 wins over line 3
        "R16,L16,wrapper,chemco,,2025-03-03 12:00,500,pcs,0.02,,,",  # 18 lot again on line 19
        "R17,L16,wrapper,chemco,,2025-03-03 12:00,500,pcs,0.02,,,",  # 19 wins
        "R18,L18,lye,chemco,,2025-03-02 08:30,5,kg",  # 20 short row
        "R19,L19,lye,chemco,,32/03/2025 08:30,5,kg,3.00,,,",  # 21 not ISO 8601
        "R20,L20,lye,chemco,,2025-03-30 02:30,5,kg,3.00,,,",  # 22 skipped by the clock change
    ]
)


def test_hostile_receipts_are_quarantined_row_by_row_and_good_rows_land(home: Home):
    home.drop("receipts_001.csv", HOSTILE_RECEIPTS + "\n")

    result = home.run()["receipts_001.csv"]

    assert result.status == "committed"
    assert (result.total, result.imported, result.skipped, result.failed) == (21, 3, 0, 18)
    rows = _lake(home, result, "receipts")
    oil, lye, wrapper = rows
    # 10 L of olive oil at 0.91 g/mL = 9.1 kg; 50 EUR over 9.1 kg = 5.494505... EUR/kg
    assert oil["qty"] == pytest.approx(9.1, rel=1e-12)
    assert oil["unit_cost"] == pytest.approx(50 / 9.1, rel=1e-12)
    assert {k: v for k, v in oil.items() if k not in ("qty", "unit_cost")} == {
        "receipt_id": "R1",
        "lot_id": "L1",
        "material_id": "olive_oil",
        "supplier_id": "oilco",
        "po_id": "PO1",
        "received_at": _at(2025, 3, 1, 9),
        "unit": "kg",
        "qty_given": 10.0,
        "unit_given": "L",
        "currency_given": "EUR",
        "unit_cost_given": 5.0,
        "expiry_date": dt.date(2026, 1, 1),
        "supplier_lot": "S-99",
        "source_row": 2,
    }
    # 3.00 USD x 0.92 = 2.76 EUR per kg
    assert (lye["receipt_id"], lye["source_row"], lye["qty"], lye["received_at"]) == (
        "R2",
        17,
        25.0,
        _at(2025, 3, 2, 7, 30),
    )
    assert lye["unit_cost"] == pytest.approx(2.76, rel=1e-12)
    assert (lye["currency_given"], lye["unit_cost_given"]) == ("USD", 3.0)
    assert (wrapper["receipt_id"], wrapper["qty"], wrapper["unit"], wrapper["unit_given"]) == (
        "R17",
        500.0,
        "each",
        "each",
    )
    assert home.reasons_by_row() == {
        3: "duplicate receipt_id 'R2': again on line 17, which wins",
        4: "qty -5 must be above 0",
        5: "unknown unit 'furlongs'",
        6: "unit 'L' (volume) does not fit the unit 'kg' (mass) of material 'lye' without a "
        "density",
        7: "currency GBP has no exchange rate to EUR on 2025-03-02 (the site has no rate for it)",
        8: "expiry_date 2025-02-01 is before the receipt on 2025-03-02",
        9: "received_at: timestamp '2099-03-02 08:30' is later than now plus the future "
        "tolerance of 6 h",
        10: "received_at: timestamp '1970-01-01 00:00' (site-local day 1970-01-01) is before the "
        "site's first day of data 2025-01-01",
        11: "expiry_date 9999-12-31 is more than 50 years after the receipt",
        12: "unknown material 'olive_oli' (did you mean 'olive_oil'?)",
        13: "unknown supplier 'chemko' (did you mean 'chemco'?)",
        14: "qty 'abc' is not a number",
        15: "lot_id is empty (required)",
        16: "unit_cost '1e400' is not a finite number",
        18: "duplicate lot_id 'L16': received again on line 19 (receipt 'R17'), which wins",
        20: "row has 8 fields, header has 12",
        21: "received_at: timestamp '32/03/2025 08:30' does not match ISO 8601",
        22: "received_at: ambiguous or non-existent local time '2025-03-30 02:30:00' in "
        "Europe/Berlin",
    }
    # the quarantine keeps what was delivered, with the column at fault
    by_row = {r["source_row"]: r for r in home.quarantine().to_pylist()}
    assert (by_row[4]["column"], by_row[4]["raw_value"]) == ("qty", "-5")
    assert (by_row[12]["column"], by_row[12]["raw_value"]) == ("material_id", "olive_oli")
    assert by_row[9]["raw_timestamp"] == "2099-03-02 08:30"
    assert (by_row[7]["column"], by_row[7]["raw_value"]) == ("currency", "GBP")


def test_keys_of_committed_batches_are_skipped_when_identical_and_quarantined_when_not(
    home: Home,
):
    home.drop("receipts_001.csv", HOSTILE_RECEIPTS + "\n")
    first = home.run()["receipts_001.csv"]
    home.drop(
        "receipts_002.csv",
        RECEIPTS_HEADER
        + "R1,L1,olive_oil,oilco,PO1,2025-03-01 10:00,10,L,5.00,,2026-01-01,S-99\n"  # again
        + "R2,L2,lye,chemco,,2025-03-02 08:30,26,kg,3.00,USD,,\n"  # changed quantity
        + "R30,L1,lye,chemco,,2025-03-05 09:00,10,kg,3.10,,,\n"  # a received lot
        + "R31,L31,lye,chemco,,2025-03-05 09:00,10,kg,3.10,,,\n",  # new
    )

    second = home.run()["receipts_002.csv"]

    assert (second.total, second.imported, second.skipped, second.failed) == (4, 1, 1, 2)
    assert [r["receipt_id"] for r in _lake(home, second, "receipts")] == ["R31"]
    assert home.reasons_by_row(second.batch_id) == {
        3: f"receipt 'R2' already committed in batch {first.batch_id} with different content "
        "(qty_given 25 -> 26)",
        4: f"lot 'L1' already received in batch {first.batch_id} (receipt 'R1')",
    }
    # the job record says so too
    job = home.store.get_job(second.batch_id)
    assert (job.imported_rows, job.skipped_rows, job.failed_rows) == (1, 1, 2)


def test_rolling_back_a_records_batch_removes_its_file_and_leaves_the_rest(home: Home):
    home.drop("receipts_001.csv", HOSTILE_RECEIPTS + "\n")
    first = home.run()["receipts_001.csv"]
    home.drop(
        "receipts_002.csv",
        RECEIPTS_HEADER + "R31,L31,lye,chemco,,2025-03-05 09:00,10,kg,3.10,,,\n",
    )
    second = home.run()["receipts_002.csv"]
    (first_file,) = first.lake_files
    (second_file,) = second.lake_files
    before = first_file.read_bytes()

    job = rollback_batch(home.settings, home.store, second.batch_id)

    assert job.status == "rolled_back"
    assert not second_file.exists()
    assert batch_files(home.settings, "mat_site", "mat_receipts", second.batch_id) == []
    assert first_file.read_bytes() == before
    assert home.store.rebuild_days() == []  # records live in no day partition
    committed = committed_records(home.settings, home.store, "receipts", "mat_site")
    assert sorted(committed.column("receipt_id").to_pylist()) == ["R1", "R17", "R2"]
    assert set(committed.column("source").to_pylist()) == {"mat_receipts"}

    # once the first batch is rolled back too, its keys may come again with other content
    rollback_batch(home.settings, home.store, first.batch_id)
    assert not first_file.exists()
    home.drop(
        "receipts_003.csv",
        RECEIPTS_HEADER + "R2,L2,lye,chemco,,2025-03-02 08:30,26,kg,3.00,USD,,\n",
    )
    third = home.run()["receipts_003.csv"]
    assert (third.imported, third.failed) == (1, 0)
    assert _lake(home, third, "receipts")[0]["qty"] == 26.0


class Crash(BaseException):
    """Stands for the process dying (not an Exception: nothing may catch it)."""


def test_an_interrupted_records_import_is_cleaned_up_by_the_next_run(home: Home, monkeypatch):
    home.drop("receipts_001.csv", HOSTILE_RECEIPTS + "\n")
    update_job = home.store.update_job

    def die_on_commit(batch_id, **fields):
        if fields.get("status") == "committed":
            raise Crash
        return update_job(batch_id, **fields)

    monkeypatch.setattr(home.store, "update_job", die_on_commit)
    with pytest.raises(Crash):
        home.run()
    monkeypatch.setattr(home.store, "update_job", update_job)
    (job,) = home.store.jobs()
    left = sorted((home.settings.lake / "materials").rglob("*.parquet"))
    assert [p.name for p in left] == [f"{job.batch_id}.parquet"]
    assert committed_records(home.settings, home.store, "receipts").num_rows == 0

    monkeypatch.setattr(recovery, "PROCESS_STARTED_AT", utcnow())
    results = home.run()

    assert home.store.get_job(job.batch_id).status == "failed"
    assert not left[0].exists()
    assert results["receipts_001.csv"].imported == 3
    assert committed_records(home.settings, home.store, "receipts").num_rows == 3


def test_a_file_in_another_encoding_is_quarantined_whole(home: Home):
    text = RECEIPTS_HEADER + "R1,L1,lye,chemco,,2025-03-01 10:00,10,kg,3.00,,,Lösung 7\n"
    home.drop("receipts_latin1.csv", text.encode("latin-1"))

    result = home.run()["receipts_latin1.csv"]

    assert result.status == "quarantined"
    offset = text.encode("latin-1").index(b"\xf6")
    assert result.error == f"not valid UTF-8: byte 0xf6 at offset {offset}"
    assert not (home.settings.lake / "materials").exists()


def test_a_layout_in_latin_1_reads_the_same_file(home: Home):
    site = home.site.model_copy(deep=True)
    site.materials.layouts[0].encoding = "latin-1"
    home.site = site
    text = RECEIPTS_HEADER + "R1,L1,lye,chemco,,2025-03-01 10:00,10,kg,3.00,,,Lösung 7\n"
    home.drop("receipts_latin1.csv", text.encode("latin-1"))

    result = home.run()["receipts_latin1.csv"]

    assert [r["supplier_lot"] for r in _lake(home, result, "receipts")] == ["Lösung 7"]


def test_record_files_match_their_layouts_after_readings_and_lab_layouts(home: Home):
    assert match_layout(home.site, "receipts_2025-03.csv").id == "mat_receipts"
    assert match_layout(home.site, "batches_march.xlsx").id == "mat_batches"
    assert match_layout(home.site, "batches_march.csv") is None


def test_a_missing_required_column_rejects_the_csv(home: Home):
    home.drop("receipts_x.csv", "receipt_id,lot_id,material_id\nR1,L1,lye\n")

    result = home.run()["receipts_x.csv"]

    assert result.status == "quarantined"
    assert result.error.startswith(
        "no usable header: missing column 'supplier_id', 'received_at', 'qty', 'unit_cost'"
    )


# -- the other kinds ---------------------------------------------------------------------------


def test_purchase_orders(home: Home):
    home.drop(
        "orders_1.csv",
        "po_id,supplier_id,material_id,ordered_at,promised_date,qty,unit,unit_price,currency\n"
        "PO1,oilco,olive_oil,2025-02-20 09:00,2025-03-01,1000,g,0.006,USD\n"  # 2
        "PO2,oilco,olive_oil,2025-02-20 09:00,2025-02-10,10,kg,5,\n"  # 3 promised before ordered
        "PO3,oilco,olive_oil,2025-02-20 09:00,2025-13-01,10,kg,5,\n"  # 4 no such month
        "PO4,oilco,olive_oil,2025-02-20 09:00,2025-03-01,0,kg,5,\n",  # 5 nothing ordered
    )

    result = home.run()["orders_1.csv"]

    [order] = _lake(home, result, "purchase_orders")
    # 1000 g = 1 kg; 0.006 USD per g x 0.92 = 5.52 EUR per kg
    assert order["unit_price"] == pytest.approx(5.52, rel=1e-12)
    assert {k: v for k, v in order.items() if k != "unit_price"} == {
        "po_id": "PO1",
        "supplier_id": "oilco",
        "material_id": "olive_oil",
        "ordered_at": _at(2025, 2, 20, 8),
        "promised_date": dt.date(2025, 3, 1),
        "qty": 1.0,
        "unit": "kg",
        "source_row": 2,
    }
    assert home.reasons_by_row() == {
        3: "promised_date 2025-02-10 is before the order on 2025-02-20",
        4: "promised_date '2025-13-01' does not match ISO 8601 (YYYY-MM-DD)",
        5: "qty 0 must be above 0",
    }


def test_movements(home: Home):
    home.drop(
        "movements_1.csv",
        "movement_id,moved_at,material_id,lot_id,kind,qty,unit,unit_cost,batch_id,job_id,reason\n"
        "M1,2025-03-05 10:00,olive_oil,L1,issue,2,L,,B101,,\n"  # 2
        "M2,2025-03-05 11:00,lye,,return_from_customer,1,kg,2.5,,,damaged\n"  # 3
        "M3,2025-03-05 11:00,lye,,issu,1,kg,,,,\n"  # 4 unknown kind
        "M4,2025-03-05 11:00,lye,,waste,-1,kg,,,,\n"  # 5 negative
        "M5,2025-03-05 11:00,powder_ral9005,,issue,3.5,,,,J1,\n",  # 6 unit defaults
    )

    result = home.run()["movements_1.csv"]

    m1, m2, m5 = _lake(home, result, "movements")
    # 2 L of oil at 0.91 g/mL = 1.82 kg
    assert m1["qty"] == pytest.approx(1.82, rel=1e-12)
    assert (m1["unit"], m1["qty_given"], m1["unit_given"], m1["unit_cost"]) == (
        "kg",
        2.0,
        "L",
        None,
    )
    assert (m1["batch_id"], m1["lot_id"], m1["moved_at"]) == ("B101", "L1", _at(2025, 3, 5, 9))
    assert (m2["kind"], m2["qty"], m2["unit_cost"], m2["reason"]) == (
        "return_from_customer",
        1.0,
        2.5,
        "damaged",
    )
    assert (m5["job_id"], m5["qty"], m5["unit"], m5["unit_given"]) == ("J1", 3.5, "kg", "kg")
    reasons = home.reasons_by_row()
    assert reasons[4].startswith("unknown kind 'issu' (did you mean 'issue'?); one of issue, ")
    assert reasons[5] == "qty -1 must be above 0"
    assert len(reasons) == 2


def _workbook(rows: list[tuple]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BATCH_HEADER = (
    "batch_id",
    "product_id",
    "recipe_id",
    "recipe_version",
    "planned_qty",
    "actual_qty",
    "samples_qty",
    "output_unit",
    "output_lot_id",
    "started_at",
    "finished_at",
    "equipment",
    "containers",
)


def test_batches_from_a_workbook_with_a_formula_cell(home: Home):
    t = dt.datetime
    home.drop(
        "batches_march.xlsx",
        _workbook(
            [
                BATCH_HEADER,
                ("B101", "base_soap_bar", "base_soap", 1, 100, 96, 2, "each", "LOT-101",
                 t(2025, 3, 5, 9), t(2025, 3, 5, 15), "kettle-1", 4),  # 2
                ("B102", "base_soap_bar", "base_soap", 1, 100, 95, 0, "each", "LOT-102",
                 t(2025, 3, 6, 15), t(2025, 3, 6, 9), None, None),  # 3 finished before started
                ("B103", "base_soap_bar", "base_soap", 3, 100, 95, 0, "each", "LOT-103",
                 t(2025, 3, 7, 9), t(2025, 3, 7, 15), None, None),  # 4 no version 3
                ("B104", "base_soap_bar", "base_soap", 2, 100, 95, 0, "each", "LOT-104",
                 t(2025, 3, 7, 9), t(2025, 3, 7, 15), None, None),  # 5 version 2 not yet valid
                ("B105", "base_soap_bar", "base_soap", 1, 100, "=E6*0.97", 0, "each", "LOT-105",
                 t(2025, 3, 8, 9), t(2025, 3, 8, 15), None, None),  # 6 formula
                ("B106", "lav_soap", "base_soap", 1, 100, 95, 0, "each", "LOT-106",
                 t(2025, 3, 8, 9), t(2025, 3, 8, 15), None, None),  # 7 recipe of another product
                ("B107", "base_soap_bar", "base_soap", 1, 200, 190, None, None, "LOT-107",
                 t(2025, 3, 9, 9), t(2025, 3, 9, 15), None, None),  # 8 defaults
                ("B108", "base_soap_bar", "base_soap", 1, 100, 90, 95, "each", "LOT-108",
                 t(2025, 3, 9, 9), t(2025, 3, 9, 15), None, None),  # 9 more samples than made
            ]
        ),
    )  # fmt: skip

    result = home.run()["batches_march.xlsx"]

    assert (result.total, result.imported, result.failed) == (8, 2, 6)
    b101, b107 = _lake(home, result, "batches")
    assert b101 == {
        "batch_id": "B101",
        "product_id": "base_soap_bar",
        "recipe_id": "base_soap",
        "recipe_version": 1,
        "planned_qty": 100.0,
        "actual_qty": 96.0,
        "samples_qty": 2.0,
        "output_unit": "each",
        "output_lot_id": "LOT-101",
        "started_at": _at(2025, 3, 5, 8),
        "finished_at": _at(2025, 3, 5, 14),
        "equipment": "kettle-1",
        "containers": 4,
        "source_row": 2,
    }
    assert (b107["samples_qty"], b107["output_unit"], b107["containers"]) == (0.0, "each", None)
    assert home.reasons_by_row() == {
        3: "finished before started: finished_at 2025-03-06T09:00:00 is before started_at "
        "2025-03-06T15:00:00",
        4: "unknown version 3 of recipe 'base_soap' (versions 1, 2)",
        5: "recipe 'base_soap' version 2 is valid from 2025-09-01; the batch started on 2025-03-07",
        6: "formula cell not accepted",
        7: "recipe 'base_soap' version 1 makes 'base_soap_bar', not 'lav_soap'",
        9: "samples_qty 95 is more than actual_qty 90",
    }


def test_lot_edges_from_json(home: Home):
    edge = {
        "parent_lot_id": "LOT-101",
        "child_lot_id": "101A-Lavender",
        "relation": "split",
        "qty": 40,
        "unit": "pcs",
        "moved_at": "2025-03-06T10:00:00+01:00",
    }
    items: list[Any] = [
        {"edge_id": "E1", **edge},  # 1
        {**edge, "edge_id": "E2", "child_lot_id": "LOT-101"},  # 2 its own parent
        {**edge, "edge_id": "E3", "relation": "consume"},  # 3 derived in dbt, not delivered
        42,  # 4 not an object
        {**edge, "edge_id": "E5", "qty": {"value": 1}},  # 5 nested
        {**edge, "edge_id": "E6", "qty": True},  # 6 a boolean
        {**edge, "edge_id": "E7", "qty": 1e999},  # 7 infinite
        {**edge, "edge_id": "E8", "moved_at": None},  # 8 no time
        {"edge_id": "E9", **edge, "relation": "Merge", "qty": 2.5, "unit": "kg"},  # 9
    ]
    home.drop("edges_1.json", json.dumps(items, indent=1))

    result = home.run()["edges_1.json"]

    assert (result.total, result.imported, result.failed) == (9, 2, 7)
    e1, e9 = _lake(home, result, "lot_edges")
    assert e1 == {
        "edge_id": "E1",
        "parent_lot_id": "LOT-101",
        "child_lot_id": "101A-Lavender",
        "relation": "split",
        "qty": 40.0,
        "unit": "each",
        "moved_at": _at(2025, 3, 6, 9),
        "source_row": 1,
    }
    assert (e9["relation"], e9["qty"], e9["unit"]) == ("merge", 2.5, "kg")
    reasons = home.reasons_by_row()
    assert reasons == {
        2: "lot 'LOT-101' cannot be its own parent",
        3: "unknown relation 'consume'; one of split, merge, rework",
        4: "record is a number, not an object",
        5: "qty holds an object, not a value",
        6: "qty True is not a number",
        7: "qty 'inf' is not a finite number",
        8: "moved_at is empty (required)",
    }


def test_a_json_file_that_is_not_an_array_of_records_is_quarantined_whole(home: Home):
    home.drop("edges_2.json", json.dumps({"edge_id": "E1"}))
    home.drop("edges_3.json", '[{"edge_id": "E1",')
    home.drop("edges_4.json", b'[{"edge_id": "\xff"}]')

    results = home.run()

    assert (
        results["edges_2.json"].error == "a JSON record file is an array of objects, not an object"
    )
    assert results["edges_3.json"].error.startswith("not valid JSON: ")
    assert results["edges_4.json"].error == "not valid UTF-8: byte 0xff at offset 14"


def test_qc_results(home: Home):
    home.drop(
        "qc_1.csv",
        "result_id,lot_id,spec_id,spec_version,test_id,value,result_text,tested_at,analyst,approver\n"
        "Q1,LOT-101,soap_spec,1,ph,9.2,,2025-03-07 10:00,Ann,Bob\n"  # 2
        "Q2,LOT-101,soap_spec,1,appearance,,conforms,2025-03-07 10:00,Ann,Bob\n"  # 3
        "Q3,LOT-101,soap_spec,1,phh,9.2,,2025-03-07 10:00,Ann,Bob\n"  # 4 unknown test
        "Q4,LOT-101,soap_spec,2,ph,9.2,,2025-03-07 10:00,Ann,Bob\n"  # 5 unknown version
        "Q5,LOT-101,soap_spec,1,ph,,,2025-03-07 10:00,Ann,Bob\n"  # 6 no value
        "Q6,LOT-101,soap_spec,1.5,ph,9.2,,2025-03-07 10:00,Ann,Bob\n"  # 7 not a version
        "Q7,LOT-101,soap_spek,1,ph,9.2,,2025-03-07 10:00,Ann,Bob\n",  # 8 unknown spec
    )

    result = home.run()["qc_1.csv"]

    q1, q2 = _lake(home, result, "qc_results")
    assert q1 == {
        "result_id": "Q1",
        "lot_id": "LOT-101",
        "spec_id": "soap_spec",
        "spec_version": 1,
        "test_id": "ph",
        "value": 9.2,
        "result_text": None,
        "tested_at": _at(2025, 3, 7, 9),
        "analyst": "Ann",
        "approver": "Bob",
        "source_row": 2,
    }
    assert (q2["value"], q2["result_text"]) == (None, "conforms")
    assert home.reasons_by_row() == {
        4: "unknown test 'phh' (did you mean 'ph'?) of 'soap_spec' version 1",
        5: "unknown version 2 of specification 'soap_spec' (versions 1)",
        6: "test 'ph' is numeric: value is empty",
        7: "spec_version '1.5' is not a whole number",
        8: "unknown specification 'soap_spek' (did you mean 'soap_spec'?)",
    }


def test_sales(home: Home):
    home.drop(
        "sales_1.csv",
        "sale_id,sold_at,customer_id,product_id,lot_id,qty,unit,unit_price,currency\n"
        "S1,2025-03-10 12:00,c_shop,lav_soap,101A-Lavender,24,pcs,6.50,\n"  # 2
        "S2,2025-07-10 12:00,c_new,lav_soap,,10,each,7.00,usd\n"  # 3 summer time, July rate
        "S3,2025-03-10 12:00,c_shop,lav_soaps,,1,each,6.50,\n"  # 4 unknown product
        "S4,2025-03-10 12:00,c_shop,lav_soap,,5,kg,6.50,\n"  # 5 soap bars are counted
        "S5,2025-03-10 12:00,c_shop,lav_soap,,5,each,-1,\n",  # 6 negative price
    )

    result = home.run()["sales_1.csv"]

    s1, s2 = _lake(home, result, "sales")
    assert s1 == {
        "sale_id": "S1",
        "sold_at": _at(2025, 3, 10, 11),
        "customer_id": "c_shop",
        "product_id": "lav_soap",
        "lot_id": "101A-Lavender",
        "qty": 24.0,
        "unit": "each",
        "unit_price": 6.5,
        "currency_given": "EUR",
        "unit_price_given": 6.5,
        "source_row": 2,
    }
    # 7.00 USD x 0.85 (the rate from July) = 5.95 EUR; a customer need not be listed
    assert (s2["sold_at"], s2["customer_id"], s2["currency_given"]) == (
        _at(2025, 7, 10, 10),
        "c_new",
        "USD",
    )
    assert s2["unit_price"] == pytest.approx(5.95, rel=1e-12)
    assert home.reasons_by_row() == {
        4: "unknown product 'lav_soaps' (did you mean 'lav_soap'?)",
        5: "unit 'kg' (mass) does not fit the unit 'each' (count) of product 'lav_soap'",
        6: "unit_price -1 must be 0 or more",
    }


JOBS_HEADER = (
    "job_id,customer_id,job_type_id,parts,area_m2,colour,powder_material_id,film_um,labour_hours,"
    "oven_kwh,oven_cost,quoted_price,invoiced_price,received_at,started_at,completed_at,"
    "invoiced_at,status\n"
)


def test_jobs(home: Home):
    d1, d2, d3, d4 = "2025-03-03 08:00", "2025-03-04 08:00", "2025-03-04 16:00", "2025-03-05 09:00"
    home.drop(
        "jobs_1.csv",
        JOBS_HEADER
        + "\n".join(
            [
                f"J1,c_garage,wheels,4,2.4,RAL 9005,powder_ral9005,80,1.5,12,3.6,240,250,"
                f"{d1},{d2},{d3},{d4},invoiced",  # 2
                f"J2,c_garage,panels,10,15,RAL 9005,powder_ral9005,,2,20,,300,,{d1},,,,quoted",
                f"J3,c_garage,panels,10,15,RAL 9005,powder_ral9005,,2,20,,300,,"
                f"{d1},{d2},2025-03-03 16:00,,completed",  # 4 completed before started
                f"J4,c_garage,wheel,4,2.4,RAL 9005,powder_ral9005,,2,20,,300,,{d1},,,,quoted",
                f"J5,c_garage,wheels,4,2.4,RAL 9005,powder_ral9005,,2,20,,300,250,"
                f"{d1},{d2},{d3},,invoiced",  # 6 invoiced without a date
                f"J6,c_garage,wheels,2.5,2.4,RAL 9005,powder_ral9005,,2,20,,300,,{d1},,,,quoted",
                f"J7,c_garage,wheels,4,0,RAL 9005,powder_ral9005,,2,20,,300,,{d1},,,,quoted",
                f"J8,c_garage,wheels,4,2.4,RAL 9005,powder_ral9005,,2,20,,300,,{d1},,,,done",
                f"J9,c_garage,wheels,4,2.4,RAL 9005,powder_ral9004,,2,20,,300,,{d1},,,,quoted",
            ]
        )
        + "\n",
    )

    result = home.run()["jobs_1.csv"]

    j1, j2 = _lake(home, result, "jobs")
    assert j1 == {
        "job_id": "J1",
        "customer_id": "c_garage",
        "job_type_id": "wheels",
        "parts": 4,
        "area_m2": 2.4,
        "colour": "RAL 9005",
        "powder_material_id": "powder_ral9005",
        "film_um": 80.0,
        "labour_hours": 1.5,
        "oven_kwh": 12.0,
        "oven_cost": 3.6,
        "quoted_price": 240.0,
        "invoiced_price": 250.0,
        "received_at": _at(2025, 3, 3, 7),
        "started_at": _at(2025, 3, 4, 7),
        "completed_at": _at(2025, 3, 4, 15),
        "invoiced_at": _at(2025, 3, 5, 8),
        "status": "invoiced",
        "source_row": 2,
    }
    assert (j2["film_um"], j2["started_at"], j2["invoiced_price"], j2["status"]) == (
        None,
        None,
        None,
        "quoted",
    )
    reasons = home.reasons_by_row()
    assert reasons.pop(9).startswith("unknown status 'done'; one of quoted, received, ")
    assert reasons == {
        4: "dates out of order: completed_at 2025-03-03 16:00 is before started_at "
        "2025-03-04 08:00",
        5: "unknown job type 'wheel' (did you mean 'wheels'?)",
        6: "an invoiced job needs invoiced_at",
        7: "parts '2.5' is not a whole number",
        8: "area_m2 0 must be above 0",
        10: "unknown material 'powder_ral9004' (did you mean 'powder_ral9005'?)",
    }


def test_renamed_columns_and_a_decimal_comma(home: Home):
    site = home.site.model_copy(deep=True)
    layout = site.materials.layouts[6]  # sales
    layout.columns = {"sale_id": "Invoice", "qty": "Menge", "unit_price": "Preis"}
    layout.delimiter = ";"
    layout.decimal = ","
    home.site = site
    home.drop(
        "sales_de.csv",
        "Invoice;sold_at;customer_id;product_id;Menge;Preis\n"
        "RE-1;2025-03-10 12:00;c_shop;lav_soap;3;6,50\n"
        "RE-2;2025-03-10 12:00;c_shop;lav_soap;3;6.50\n",
    )

    result = home.run()["sales_de.csv"]

    [sale] = _lake(home, result, "sales")
    assert (sale["sale_id"], sale["qty"], sale["unit_price"], sale["lot_id"]) == (
        "RE-1",
        3.0,
        6.5,
        None,
    )
    assert home.reasons_by_row() == {3: "unit_price '6.50' is not a number"}


def test_the_second_file_of_one_run_sees_the_first_ones_records(home: Home):
    # the importer writes one file while it parses the next; a record file waits for the
    # write before it, or its keys would be checked against a batch not yet committed
    home.drop("receipts_a.csv", RECEIPTS_HEADER + "R1,L1,lye,chemco,,2025-03-01 10:00,10,kg,3,,,\n")
    home.drop("receipts_b.csv", RECEIPTS_HEADER + "R1,L1,lye,chemco,,2025-03-01 10:00,12,kg,3,,,\n")

    results = home.run()

    first, second = results["receipts_a.csv"], results["receipts_b.csv"]
    assert (first.imported, second.imported, second.failed) == (1, 0, 1)
    assert home.reasons_by_row(second.batch_id) == {
        2: f"receipt 'R1' already committed in batch {first.batch_id} with different content "
        "(qty_given 10 -> 12)"
    }
