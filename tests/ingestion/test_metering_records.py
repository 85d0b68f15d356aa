"""Metering record files (customers, meters, vouchers, purchases, meter events, maintenance)
through the file importer: hostile customer and payment files (duplicate customer ids, unknown
tariffs, negative amounts, expired, not yet valid and over-used vouchers, formula cells, a line
in another encoding, JSON with wrong types) give one reason per bad row while the good rows
land; bulk updates and deactivations resolve against committed state; a re-delivered file is a
no-op; a rolled-back bulk import leaves the state as before. The test site is in
Australia/Perth (UTC+8)."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import openpyxl
import pytest

from ingestion.files import rollback_batch
from ingestion.files.jobs import match_layout
from ingestion.lake import batch_files
from ingestion.metering_lake import METERING_SCHEMAS, committed_records, metering_file
from tests.ingestion.hostile.home import Home, make_home
from tests.ingestion.metering_site import metering_site

UTC = dt.UTC
SITE = "small_site"


@pytest.fixture
def home(tmp_path):
    h = make_home(tmp_path, metering_site())
    yield h
    h.store.dispose()


def _lake(home: Home, result, kind: str) -> list[dict[str, Any]]:
    """The records a result wrote, in file order, without the load columns."""
    path = metering_file(home.settings, kind, SITE, result.layout_id, result.batch_id)
    return home.record_rows(result, METERING_SCHEMAS[kind], path)


def _state(home: Home, kind: str = "customers") -> dict[str, tuple[Any, ...]]:
    """Each committed customer's (meter's) latest row: (action, fields...)."""
    table = committed_records(home.settings, home.store, kind, SITE)
    rows = sorted(
        table.to_pylist(), key=lambda r: (r["effective_at"], r["loaded_at"], r["source_row"])
    )
    key = "customer_id" if kind == "customers" else "meter_id"
    names = [n for n in METERING_SCHEMAS[kind].names if n not in (key, "effective_at")][:7]
    return {r[key]: tuple(r[n] for n in names) for r in rows}


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


CUSTOMERS_HEADER = "customer_id,action,name,segment,household_size,district_id,address\n"
CUSTOMERS = CUSTOMERS_HEADER + "\n".join(
    [
        "C1,,Ani,household_iiia,4,north,Jl. Mawar 1",  # 2 create (upsert)
        "C2,create,Budi,business,,,",  # 3 create
        "C3,,Citra,household_iiib,3,,",  # 4 unknown tariff
        "C1,,Ani Dup,household_iiia,5,,",  # 5 a second upsert of C1
        "C4,,Dewi,household_iiia,0,,",  # 6 household of 0
        "C5,,Eka,household_iiia,2.5,,",  # 7 not a whole number
        "C6,update,Fajar,household_iiia,2,,",  # 8 update of an unknown id
        "C7,,Gita,,2,,",  # 9 a new customer needs a segment
        "C8,create,Hadi,household_iiia,1,south,",  # 10 unknown district
        "C2,deactivate,,,,,",  # 11 explicit: C2 created above, deactivated here
        "C9,create,Indah,household_iiia,2,,",  # 12 good
        "C9,create,Indah,household_iiia,2,,",  # 13 create of C9 again
        "C10,upgrade,Joko,household_iiia,2,,",  # 14 unknown action
    ]
)


def test_a_hostile_customer_file_keeps_its_good_rows(home: Home):
    home.drop("customers_2025-03.csv", CUSTOMERS)

    result = home.run()["customers_2025-03.csv"]

    assert result.status == "committed"
    assert (result.total, result.imported, result.skipped, result.failed) == (13, 4, 0, 9)
    rows = _lake(home, result, "customers")
    assert [(r["customer_id"], r["action"], r["source_row"]) for r in rows] == [
        ("C1", "create", 2),
        ("C2", "create", 3),
        ("C2", "deactivate", 11),
        ("C9", "create", 12),
    ]
    c1 = rows[0]
    assert c1["name"] == "Ani" and c1["segment"] == "household_iiia"
    assert (c1["household_size"], c1["district_id"], c1["address"]) == (4, "north", "Jl. Mawar 1")
    assert c1["low_balance_threshold"] is None
    # the effective time defaults to the import's; a deactivation keeps the state it ends
    assert c1["effective_at"] is not None
    assert rows[2]["name"] == "Budi" and rows[2]["segment"] == "business"
    assert home.reasons_by_row() == {
        4: "unknown tariff 'household_iiib' (did you mean 'household_iiia'?)",
        5: "duplicate customer_id 'C1': already on line 2 of this file (give an explicit action "
        "to change it again)",
        6: "household_size 0 must be above 0",
        7: "household_size '2.5' is not a whole number",
        8: "update of unknown customer 'C6': create it first",
        9: "segment is empty (a new customer needs its tariff group)",
        10: "unknown district 'south' (did you mean 'north'?)",
        13: "create of customer 'C9', which already exists (line 12 of this file); update or "
        "deactivate it instead",
        14: "unknown action 'upgrade' (did you mean 'update'?); one of upsert, create, update, "
        "deactivate",
    }


def test_bulk_updates_resolve_against_committed_state_and_a_redelivery_is_a_no_op(home: Home):
    home.drop("customers_1.csv", CUSTOMERS)
    home.run()
    before = _state(home)
    update = CUSTOMERS_HEADER + "\n".join(
        [
            "C1,,,,6,,",  # 2 upsert of a committed id = update; empty cells keep their values
            "C9,deactivate,,,,,",  # 3
            "C2,deactivate,,,,,",  # 4 deactivated already: nothing changes, skipped
            "C1,create,Ani,household_iiia,4,,",  # 5 create of a committed id
            "C11,,Kiki,business,1,,",  # 6 a new one
            "C12,deactivate,,,,,",  # 7 unknown
        ]
    )
    home.drop("customers_2.csv", update)

    result = home.run()["customers_2.csv"]

    assert (result.imported, result.skipped, result.failed) == (3, 1, 2)
    reasons = home.reasons_by_row(result.batch_id)
    assert set(reasons) == {5, 7}
    assert reasons[5] == (
        "create of customer 'C1', which already exists (line 2 of this file); update or "
        "deactivate it instead"
    )
    assert reasons[7].startswith("deactivate of unknown customer 'C12' (did you mean ")
    state = _state(home)
    assert state["C1"] == ("update", "Ani", "household_iiia", 6, "north", None, "Jl. Mawar 1")
    assert state["C9"][0] == "deactivate"
    assert state["C11"][0] == "create"

    # the same rows again (other bytes: the lines in another order) change nothing
    lines = update.splitlines()
    home.drop("customers_3.csv", "\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    again = home.run()["customers_3.csv"]
    assert again.status == "committed"
    assert (again.imported, again.skipped, again.failed) == (0, 4, 2)
    assert _state(home) == state
    assert state["C2"] == before["C2"]


def test_rolling_back_a_bulk_customer_import_leaves_the_state_as_before(home: Home):
    home.drop("customers_1.csv", CUSTOMERS)
    first = home.run()["customers_1.csv"]
    before = _state(home)
    home.drop(
        "customers_2.csv", CUSTOMERS_HEADER + "C1,,Ani B,business,1,,\nC20,,Zed,business,,,\n"
    )
    second = home.run()["customers_2.csv"]
    assert second.imported == 2
    assert _state(home) != before
    assert batch_files(home.settings, SITE, "crm_customers", second.batch_id)

    job = rollback_batch(home.settings, home.store, second.batch_id)

    assert job.status == "rolled_back"
    assert _state(home) == before
    assert not batch_files(home.settings, SITE, "crm_customers", second.batch_id)
    assert batch_files(home.settings, SITE, "crm_customers", first.batch_id)
    assert home.quarantine(second.batch_id).num_rows == 0
    # the same bytes import again after the rollback
    home.drop(
        "customers_2.csv", CUSTOMERS_HEADER + "C1,,Ani B,business,1,,\nC20,,Zed,business,,,\n"
    )
    assert home.run()["customers_2.csv"].imported == 2


def _workbook(rows: list[tuple]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_customers_from_a_workbook_with_a_formula_cell(home: Home):
    home.drop(
        "customers_bulk.xlsx",
        _workbook(
            [
                ("customer_id", "name", "segment", "household_size"),
                ("C1", "Ani", "household_iiia", 4),
                ("C2", "Budi", "business", "=B2*2"),
                ("C3", "Citra", "household_iiia", True),
                (1234, "Numeric id", "business", None),
            ]
        ),
    )

    result = home.run()["customers_bulk.xlsx"]

    assert (result.total, result.imported, result.failed) == (4, 2, 2)
    assert [r["customer_id"] for r in _lake(home, result, "customers")] == ["C1", "1234"]
    assert home.reasons_by_row() == {
        3: "formula cell not accepted",
        4: "household_size True is not a number",
    }


def test_a_line_in_another_encoding_is_quarantined_and_the_rest_kept(home: Home):
    good = CUSTOMERS_HEADER + "C1,,Ani,household_iiia,4,,\n"
    bad_line = "C2,,Jürgen,business,,,\n".encode("latin-1")
    home.drop("customers_mixed.csv", good.encode() + bad_line + b"C3,,Citra,business,,,\n")

    result = home.run()["customers_mixed.csv"]

    assert (result.total, result.imported, result.failed) == (3, 2, 1)
    assert home.reasons_by_row() == {
        3: "not valid UTF-8: byte 0xfc at column 6 (the layout reads utf-8; set its encoding for "
        "files from another program)"
    }
    # a file wholly in another encoding is rejected whole, with its first bad line
    home.drop(
        "customers_latin.csv", (CUSTOMERS_HEADER + "C5,,Jürgen,business,,,\n").encode("latin-1")
    )
    whole = home.run()["customers_latin.csv"]
    assert whole.status == "quarantined"
    assert whole.error == "not valid UTF-8: byte 0xfc at column 6 on line 2: the file is not UTF-8"


METERS_HEADER = "meter_id,customer_id,communication,q3_m3_per_h,latitude,install_date\n"


def _customers(home: Home) -> None:
    home.drop("customers_0.csv", CUSTOMERS)
    home.run()


def test_meters_need_a_known_active_customer(home: Home):
    _customers(home)
    home.drop(
        "meters_1.csv",
        METERS_HEADER
        + "\n".join(
            [
                "M1,C1,nb_iot,2.5,-6.2,2024-05-01",  # 2 good
                "M2,C2,lora,,,",  # 3 C2 is deactivated
                "M3,C99,lora,,,",  # 4 unknown
                "M4,C1,lorawan,,,",  # 5 unknown communication
                "M5,C1,,,,",  # 6 a new meter needs its communication
                "M6,C1,wmbus,-1,,",  # 7 negative Q3
                "M7,C1,wmbus,,95,",  # 8 latitude
                "M8,C9,manual,,,2099-01-01",  # 9 installed in the future
                "M9,C9,modbus,,,",  # 10 good
            ]
        )
        + "\n",
    )

    result = home.run()["meters_1.csv"]

    assert (result.imported, result.failed) == (2, 7)
    m1, m9 = _lake(home, result, "meters")
    assert (m1["meter_id"], m1["customer_id"], m1["communication"]) == ("M1", "C1", "nb_iot")
    assert (m1["q3_m3_per_h"], m1["latitude"], m1["install_date"]) == (
        2.5,
        -6.2,
        dt.date(2024, 5, 1),
    )
    assert m9["reading_interval_minutes"] == 60  # the default
    reasons = home.reasons_by_row(result.batch_id)
    assert reasons[3].startswith("customer 'C2' is deactivated (batch ")
    assert reasons[4] == "unknown customer 'C99' (did you mean 'C9'?)"
    assert reasons[5] == (
        "unknown communication 'lorawan' (did you mean 'lora'?); one of nb_iot, lte_m, lora, "
        "wmbus, gprs, modbus, manual"
    )
    assert reasons[6] == "communication is empty (a new meter needs it)"
    assert reasons[7] == "q3_m3_per_h -1 must be above 0"
    assert reasons[8] == "latitude 95 is not within -90 to 90"
    assert reasons[9] == "install_date 2099-01-01 is not between 1950-01-01 and today"


VOUCHERS = (
    "voucher_code,discount_type,value,max_discount,min_purchase,total_limit,per_customer_limit,"
    "valid_from,valid_until\n"
    + "\n".join(
        [
            "HEMAT10,percentage,10,5000,20000,3,2,2025-01-01,2025-12-31 23:59",  # 2
            "FIX5K,fixed,5000,,,,1,2025-03-01,2025-03-31",  # 3
            "BAD,percentage,150,,,,,2025-01-01,2025-12-31",  # 4 above 100 %
            "LATE,fixed,1000,,,,,2025-06-01,2025-05-01",  # 5 ends before it starts
            "NEG,fixed,-1000,,,,,2025-06-01,2025-07-01",  # 6 negative
        ]
    )
    + "\n"
)
PURCHASES_HEADER = (
    "purchase_id,customer_id,meter_id,paid_at,amount,voucher_code,discount,final_amount,"
    "payment_method,provider,token_id,currency\n"
)


def test_hostile_vouchers_and_purchases(home: Home):
    _customers(home)
    home.drop("meters_1.csv", METERS_HEADER + "M1,C1,nb_iot,,,\nM9,C9,lora,,,\n")
    home.drop("vouchers_1.csv", VOUCHERS)
    home.drop(
        "purchases_1.csv",
        PURCHASES_HEADER
        + "\n".join(
            [
                "P1,C1,M1,2025-03-01 10:00,50000,HEMAT10,5000,45000,qr,BRI,"
                "1234 5678 9012 3456 7890,",  # 2
                "P2,C1,M1,2025-03-02 10:00,30000,HEMAT10,3000,27000,e_wallet,OVO,,IDR",  # 3
                "P3,C1,,2025-03-03 10:00,30000,HEMAT10,3000,27000,qr,,,",  # 4 per customer
                "P4,C9,M9,2025-03-03 10:00,100000,HEMAT10,5000,95000,card,,,",  # 5 (3rd use)
                "P5,C9,M9,2025-03-04 10:00,100000,FIX5K,5000,95000,card,,,",  # 6 good
                "P6,C1,M1,2025-04-04 10:00,50000,FIX5K,5000,45000,card,,,",  # 7 expired
                "P7,C1,M1,2025-02-20 10:00,50000,FIX5K,5000,45000,card,,,",  # 8 not yet valid
                "P8,C1,M1,2025-03-05 10:00,10000,FIX5K,5000,5000,card,,,",  # 9 min? no: fixed ok
                "P9,C9,M9,2025-03-05 10:00,-5000,,,-5000,qr,,,",  # 10 negative amount
                "P10,C9,M9,2025-03-05 10:00,5000,,,4000,qr,,,",  # 11 final not amount - 0
                "P11,C9,M1,2025-03-05 10:00,5000,,,5000,qr,,,",  # 12 meter of C1
                "P12,C77,,2025-03-05 10:00,5000,,,5000,qr,,,",  # 13 unknown customer
                "P13,C9,,2025-03-05 10:00,5000,,,5000,qr,,,USD",  # 14 another currency
                "P14,C9,,2025-03-05 10:00,5000,,,5000,qr,,12345,",  # 15 token too short
                "P15,C9,,2025-03-05 10:00,5000,GRATIS,,5000,qr,,,",  # 16 unknown voucher
                "P16,C9,,2025-03-05 10:00,10000,HEMAT10,1000,9000,qr,,,",  # 17 below min purchase
                "P17,C9,,2025-03-05 10:00,90000,HEMAT10,9000,81000,qr,,,",  # 18 above max
                "P18,C9,,2025-03-05 10:00,30000,HEMAT10,2500,27500,qr,,,",  # 19 wrong discount
                "P19,C9,,2025-03-05 10:00,30000,,,30000,cash,,,",  # 20 unknown method
                "P20,C9,,2099-03-05 10:00,30000,,,30000,qr,,,",  # 21 far future
                "P21,C9,,2025-03-05 10:00,30000,,500,29500,qr,,,",  # 22 discount w/o voucher
            ]
        )
        + "\n",
    )

    # one run: the vouchers file imports before the purchases file that needs it, though its
    # name sorts after
    results = home.run()

    vouchers = results["vouchers_1.csv"]
    assert (vouchers.imported, vouchers.failed) == (2, 3)
    reasons = home.reasons_by_row(vouchers.batch_id)
    assert reasons == {
        4: "a percentage voucher's value 150 is not above 0 and <= 100",
        5: "valid_until 2025-05-01 is not after valid_from 2025-06-01",
        6: "value -1000 must be above 0",
    }
    purchases = results["purchases_1.csv"]
    rows = _lake(home, purchases, "purchases")
    assert [r["purchase_id"] for r in rows] == ["P1", "P2", "P4", "P5", "P8"]
    p1 = rows[0]
    assert p1 == {
        "purchase_id": "P1",
        "customer_id": "C1",
        "meter_id": "M1",
        "paid_at": _at(2025, 3, 1, 2),
        "amount": 50000.0,
        "voucher_code": "HEMAT10",
        "discount": 5000.0,
        "final_amount": 45000.0,
        "payment_method": "qr",
        "provider": "BRI",
        "token_id": "12345678901234567890",
        "source_row": 2,
    }
    reasons = home.reasons_by_row(purchases.batch_id)
    assert reasons[4] == (
        "voucher 'HEMAT10' already used 2 time(s) by customer 'C1': per_customer_limit 2"
    )
    assert reasons[7] == "voucher 'FIX5K' expired 2025-03-30 16:00 UTC; paid 2025-04-04 10:00"
    assert reasons[8] == (
        "voucher 'FIX5K' is valid from 2025-02-28 16:00 UTC; paid 2025-02-20 10:00"
    )
    assert reasons[10] == "amount -5000 must be above 0"
    assert reasons[11] == "final_amount 4,000.00 is not amount 5,000.00 - discount 0.00 = 5,000.00"
    assert reasons[12] == "meter 'M1' belongs to customer 'C1', not 'C9'"
    assert reasons[13] == "unknown customer 'C77'"
    assert reasons[14] == (
        "currency USD is not the site currency IDR (money in metering files is in the site "
        "currency only)"
    )
    assert reasons[15].startswith("token_id '12345' is not 20 digits")
    assert reasons[16] == "unknown voucher 'GRATIS'"
    assert reasons[17] == "amount 10,000.00 is below voucher 'HEMAT10''s min_purchase 20,000.00"
    assert reasons[18] == "discount 9,000.00 is above voucher 'HEMAT10''s max_discount 5,000.00"
    assert (
        reasons[19]
        == "discount 2,500.00 is not what voucher 'HEMAT10' gives on 30,000.00: 3,000.00"
    )
    assert reasons[20].startswith("unknown payment_method 'cash'")
    assert "later than now plus the future tolerance" in reasons[21]
    assert reasons[22] == "discount 500.00 without a voucher_code"
    assert len(reasons) == 16

    # the total limit (3) counts committed purchases: HEMAT10 has been used 3 times
    home.drop(
        "purchases_2.csv",
        PURCHASES_HEADER + "P30,C9,,2025-03-09 10:00,50000,HEMAT10,5000,45000,qr,,,\n"
        "P31,C9,,2025-03-09 10:00,50000,,,50000,qr,,,\n",
    )
    second = home.run()["purchases_2.csv"]
    assert second.imported == 1
    assert home.reasons_by_row(second.batch_id) == {
        2: "voucher 'HEMAT10' is used up: total_limit 3 reached (committed purchases and earlier "
        "rows of this file)"
    }
    # a re-delivered purchase is skipped, a changed one quarantined
    home.drop(
        "purchases_3.csv",
        PURCHASES_HEADER + "P31,C9,,2025-03-09 10:00,50000,,,50000,qr,,,\n"
        "P5,C9,M9,2025-03-04 10:00,100000,FIX5K,5000,95000,e_wallet,,,\n",
    )
    third = home.run()["purchases_3.csv"]
    assert (third.imported, third.skipped, third.failed) == (0, 1, 1)
    assert home.reasons_by_row(third.batch_id)[3].startswith(
        "purchase 'P5' already committed in batch "
    )


def test_purchases_from_json_with_wrong_types(home: Home):
    _customers(home)
    good = {
        "purchase_id": "J1",
        "customer_id": "C1",
        "paid_at": "2025-03-01T10:00:00+07:00",
        "amount": 20000,
        "final_amount": 20000,
        "payment_method": "virtual_account",
        "token_id": "00001111222233334444",
    }
    items = [
        good,
        {**good, "purchase_id": "J2", "amount": "lots"},
        {**good, "purchase_id": "J3", "amount": True},
        {**good, "purchase_id": "J4", "amount": {"value": 1}},
        "not an object",
        {**good, "purchase_id": "J6", "token_id": 12345678901234567890.0},
        {**good, "purchase_id": "J7", "amount": float("nan")},
    ]
    home.drop("purchases_app.json", json.dumps(items))

    result = home.run()["purchases_app.json"]

    assert (result.total, result.imported, result.failed) == (7, 1, 6)
    [j1] = _lake(home, result, "purchases")
    assert j1["paid_at"] == _at(2025, 3, 1, 3)
    assert (j1["discount"], j1["voucher_code"]) == (0.0, None)
    reasons = home.reasons_by_row(result.batch_id)
    assert reasons[2] == "amount 'lots' is not a number"
    assert reasons[3] == "amount True is not a number"
    assert reasons[4] == "amount holds an object, not a value"
    assert reasons[5] == "record is a string, not an object"
    assert reasons[6].startswith("token_id '1.2345678901234567e+19' is not 20 digits")
    assert reasons[7] == "amount 'nan' is not a finite number"


def test_meter_events_and_maintenance(home: Home):
    _customers(home)
    home.drop("meters_1.csv", METERS_HEADER + "M1,C1,nb_iot,,,\n")
    home.drop(
        "events_1.csv",
        "event_id,meter_id,occurred_at,event_type,cleared_at,detail\n"
        "E1,M1,2025-03-01 10:00,magnetic,2025-03-01 10:05,tamper\n"
        "E2,M7,2025-03-01 10:00,tilt,,\n"
        "E3,M1,2025-03-01 10:00,cover_open,2025-03-01 09:00,\n"
        "E4,M1,2025-03-01 10:00,flood,,\n",
    )
    maintenance = (
        "task_id,meter_id,task_type,due_date,technician,status,done_at\n"
        "T1,M1,battery_replacement,2025-04-01,Rudi,,\n"
        "T2,M1,calibration,2025-04-01,,done,\n"
    )
    home.drop("maintenance_1.csv", maintenance)

    results = home.run()

    events = results["events_1.csv"]
    assert [r["event_id"] for r in _lake(home, events, "meter_events")] == ["E1"]
    reasons = home.reasons_by_row(events.batch_id)
    assert reasons[3] == "unknown meter 'M7'"
    assert reasons[4] == ("cleared_at 2025-03-01 09:00 is before occurred_at 2025-03-01 10:00")
    assert reasons[5].startswith("unknown event_type 'flood'")
    tasks = results["maintenance_1.csv"]
    [t1] = _lake(home, tasks, "maintenance")
    assert (t1["status"], t1["technician"], t1["due_date"]) == (
        "scheduled",
        "Rudi",
        dt.date(2025, 4, 1),
    )
    assert home.reasons_by_row(tasks.batch_id) == {3: "a done task needs done_at"}
    # a task delivered again with a new status is a new version of it; the same again skipped
    home.drop(
        "maintenance_2.csv",
        "task_id,meter_id,task_type,due_date,technician,status,done_at\n"
        "T1,M1,battery_replacement,2025-04-01,Rudi,done,2025-03-28 11:00\n",
    )
    assert home.run()["maintenance_2.csv"].imported == 1
    home.drop("maintenance_3.csv", maintenance.replace("Rudi,,", "Rudi,scheduled,"))
    third = home.run()["maintenance_3.csv"]
    assert (third.imported, third.failed) == (1, 1)  # T1 scheduled again (a newer version)


def test_metering_files_match_their_layouts_after_the_others(home: Home):
    assert match_layout(home.site, "customers_2025.csv").id == "crm_customers"
    assert match_layout(home.site, "customers_2025.xlsx").id == "crm_customers_xlsx"
    assert match_layout(home.site, "readings_x.csv").id == "headend"
    assert match_layout(home.site, "scada_x.csv").id == "scada"
    assert match_layout(home.site, "customers_2025.json") is None
