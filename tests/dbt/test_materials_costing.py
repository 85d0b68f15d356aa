"""The materials costing marts reproduce a hand computation of fixtures/materials_costing_site.yaml.

The record files below go through the real file import into the lake, the site tables are
exported from the site file, and ``dbt build`` builds the materials marts (with their data and
unit tests). The site is in UTC; every instant below is UTC and every day a UTC day.

The ledger of oil (kg), in ledger order, with each entry's span on the cumulative inflow or
outflow axis (FIFO pairs the k-th unit out with the k-th unit in):

    in   R1  01-03 08:00  OIL1 100 @ 2.00  [0, 100)
    out  M1  01-05 10:00  issue 30 (B1)    [0, 30)    OIL1 30 = 60.00
    out  M7  01-12 10:00  issue 75 (B2)    [30, 105)  OIL1 70 = 140.00 + OIL2 5 @ 2.40 = 12.00
                                                      = 152.00; OIL2 arrives 01-16: back-dated
    in   R2  01-16 08:00  OIL2 50 @ 2.40   [100, 150)
    out  M3  01-20 10:00  issue 20 (B2)    [105, 125) OIL2 20 = 48.00
    out  M4  01-21 10:00  waste 5          [125, 130) OIL2 5 = 12.00
    in   M5  01-22 09:00  return from a customer, 2, no cost: the last receipt's 2.40
                                           [150, 152)
    out  M6  01-22 12:00  return to vendor 3, recorded lot OIL2
                                           [130, 133) OIL2 3 = 7.20 (FIFO agrees with OIL2)
    in   R4  01-24 10:00  OIL3 38 @ 2.50   [152, 190)
    out  M10 01-26 10:00  issue 30, recorded lot OIL3
                                           [133, 163) OIL2 17 = 40.80 + M5 2 = 4.80
                                                      + OIL3 11 @ 2.50 = 27.50 = 73.10
    in   R7  02-03 10:00  OIL4 10 @ 3.00   [190, 200)

Out 30 + 75 + 20 + 5 + 3 + 30 = 163 of 200 in: OIL3 keeps 190 - 163 = 27 (67.50), OIL4 10
(30.00): 37 kg worth 97.50 on hand at the as-of day 2025-02-03 (the last movement of the site).

Lye: LYE1 20 @ 5.00 (01-03 09:00) [0, 20), LYE2 10 @ 5.50 (01-27) [20, 30). M2 01-05 6 (B1)
[0, 6) = 30.00; M8 01-12 6 (B2) [6, 12) = 30.00; M11 01-28 20 [12, 32): LYE1 8 = 40.00 + LYE2
10 = 55.00 = 95.00 and 2 kg no inflow covers: short. On hand 30 - 32 = -2 kg, worth
155.00 - 155.00 = 0.

Boxes: BOX1 500 @ 0.10 (01-02, expires 02-01); 100 issued on 01-10 and on 01-20 (10.00 each);
300 left, expired at 02-03.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingestion.files import import_landing
from ingestion.site_tables import write_site_tables
from siteledger.settings import Settings
from siteledger.site import load_site
from siteledger.state import StateStore
from tests.dbt.runner import query, run_dbt, shared_home

SITE_FILE = Path(__file__).parent / "fixtures" / "materials_costing_site.yaml"
SITE = "costing_site"
SELECT = ("--select", "+path:models/marts/materials")

FILES = {
    "orders_jan.csv": (
        "po_id,supplier_id,material_id,ordered_at,promised_date,qty,unit,unit_price,currency\n"
        "PO1,oilco,oil,2025-01-01 09:00,2025-01-05,100,kg,2.00,\n"
        "PO2,oilco,oil,2025-01-10 09:00,2025-01-15,50,kg,2.40,\n"
        "PO3,chemco,lye,2025-01-01 09:00,2025-01-04,20,kg,5.00,\n"
        "PO4,oilco,oil,2025-01-20 09:00,2025-01-25,40,kg,2.50,\n"
    ),
    "receipts_jan.csv": (
        "receipt_id,lot_id,material_id,supplier_id,po_id,received_at,qty,unit,unit_cost,currency,"
        "expiry_date,supplier_lot\n"
        "R1,OIL1,oil,oilco,PO1,2025-01-03 08:00,100,kg,2.00,,2025-02-10,\n"
        "R2,OIL2,oil,oilco,PO2,2025-01-16 08:00,50,kg,2.40,,2025-03-31,\n"
        "R3,LYE1,lye,chemco,PO3,2025-01-03 09:00,20,kg,5.00,,,\n"
        "R4,OIL3,oil,oilco,PO4,2025-01-24 10:00,38,kg,2.50,,2025-02-15,\n"
        "R5,BOX1,box,chemco,,2025-01-02 08:00,500,each,0.10,,2025-02-01,\n"
        "R6,LYE2,lye,chemco,,2025-01-27 09:00,10,kg,5.50,,,\n"
        "R7,OIL4,oil,oilco,,2025-02-03 10:00,10,kg,3.00,,,\n"
    ),
    "movements_jan.csv": (
        "movement_id,moved_at,material_id,lot_id,kind,qty,unit,unit_cost,batch_id,job_id,reason\n"
        "M1,2025-01-05 10:00,oil,,issue,30,kg,,B1,,\n"
        "M2,2025-01-05 10:00,lye,,issue,6,kg,,B1,,\n"
        "M7,2025-01-12 10:00,oil,,issue,75,kg,,B2,,\n"
        "M8,2025-01-12 10:00,lye,,issue,6,kg,,B2,,\n"
        "M3,2025-01-20 10:00,oil,,issue,20,kg,,B2,,\n"
        "M4,2025-01-21 10:00,oil,,waste,5,kg,,,,spilt\n"
        "M5,2025-01-22 09:00,oil,,return_from_customer,2,kg,,,,returned drum\n"
        "M6,2025-01-22 12:00,oil,OIL2,return_to_vendor,3,kg,,,,cloudy\n"
        "M10,2025-01-26 10:00,oil,OIL3,issue,30,kg,,,,\n"
        "M11,2025-01-28 10:00,lye,,issue,20,kg,,,,\n"
        "M21,2025-01-10 10:00,box,,issue,100,each,,,,\n"
        "M22,2025-01-20 10:00,box,,issue,100,each,,,,\n"
    ),
    "batches_jan.csv": (
        "batch_id,product_id,recipe_id,recipe_version,planned_qty,actual_qty,samples_qty,"
        "output_unit,output_lot_id,started_at,finished_at,equipment,containers\n"
        "B1,soap,soap_r,1,600,590,5,each,SOAP-B1,2025-01-05 09:00,2025-01-05 16:00,kettle,6\n"
        "B2,soap,soap_r,1,1500,1400,0,each,SOAP-B2,2025-01-12 09:00,2025-01-20 16:00,kettle,14\n"
    ),
    "sales_jan.csv": (
        "sale_id,sold_at,customer_id,product_id,lot_id,qty,unit,unit_price,currency\n"
        "S1,2025-01-25 10:00,c_shop,soap,SOAP-B1,400,each,0.50,\n"
        "S2,2025-01-26 10:00,c_shop,soap,SOAP-B2,1000,each,0.45,\n"
    ),
}


def build_costing_site(home: Path) -> None:
    """Import the record files, export the site tables and build the materials marts."""
    settings = Settings(home=home)
    settings.ensure_dirs()
    site = load_site(SITE_FILE)
    for name, text in FILES.items():
        (settings.landing / name).write_text(text, encoding="utf-8")
    store = StateStore(settings.state_store_url)
    try:
        results = import_landing(settings, site, store)
    finally:
        store.dispose()
    failed = {r.file_name: (r.status, r.failed, r.error) for r in results if r.failed or r.error}
    assert not failed, f"hand files did not import cleanly: {failed}"
    assert {r.status for r in results} == {"committed"}
    write_site_tables(settings, site)
    run_dbt(home, "build", *SELECT)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "materials_costing", build_costing_site)


def _rows(home: Path, table: str, key: str, where: str = "") -> dict[Any, dict[str, Any]]:
    sql = f"select * from marts.{table} where site_id = '{SITE}' {where}"
    return {row[key]: row for row in query(home, sql)}


def D(text: str) -> Decimal:
    return Decimal(text)


def test_fifo_allocations_split_lots_and_flag_the_backdated_draw(home: Path) -> None:
    rows = query(
        home,
        f"select movement_id, lot_id, qty, cost, is_backdated_draw "
        f"from marts.fct_material_fifo_allocations where site_id = '{SITE}' "
        f"and material_id = 'oil' order by movement_id, layer_received_at",
    )
    got = [
        (r["movement_id"], r["lot_id"], r["qty"], r["cost"], r["is_backdated_draw"]) for r in rows
    ]
    assert got == [
        ("M1", "OIL1", 30, D("60.00"), False),
        ("M10", "OIL2", 17, D("40.80"), False),
        ("M10", "M5", 2, D("4.80"), False),
        ("M10", "OIL3", 11, D("27.50"), False),
        ("M3", "OIL2", 20, D("48.00"), False),
        ("M4", "OIL2", 5, D("12.00"), False),
        ("M6", "OIL2", 3, D("7.20"), False),
        ("M7", "OIL1", 70, D("140.00"), False),
        ("M7", "OIL2", 5, D("12.00"), True),
    ]


def test_outflow_costs_status_and_short_stock(home: Path) -> None:
    costs = _rows(home, "fct_material_outflow_costs", "movement_id")
    expected = {
        # movement: (cost, unallocated, status)
        "M1": (D("60.00"), 0, "ok"),
        "M7": (D("152.00"), 0, "backdated"),
        "M3": (D("48.00"), 0, "ok"),
        "M4": (D("12.00"), 0, "ok"),
        "M6": (D("7.20"), 0, "ok"),
        "M10": (D("73.10"), 0, "ok"),
        "M2": (D("30.00"), 0, "ok"),
        "M8": (D("30.00"), 0, "ok"),
        # 20 kg of lye out, 8 + 10 in stock: 40.00 + 55.00; 2 kg short and not costed
        "M11": (D("95.00"), 2, "short"),
        "M21": (D("10.00"), 0, "ok"),
        "M22": (D("10.00"), 0, "ok"),
    }
    got = {m: (r["cost"], r["unallocated_qty"], r["costing_status"]) for m, r in costs.items()}
    assert got == expected
    assert costs["M7"]["backdated_qty"] == 5
    # M10: 73.10 / 30 kg
    assert costs["M10"]["unit_cost"] == pytest.approx(73.10 / 30, rel=1e-12)
    # M11: 95.00 over the 18 kg allocated, not the 20 issued
    assert costs["M11"]["unit_cost"] == pytest.approx(95 / 18, rel=1e-12)


def test_lot_balances_and_ending_fifo_value(home: Path) -> None:
    lots = _rows(home, "fct_material_lot_balances", "lot_id")
    remaining = {lot: (r["remaining_qty"], r["remaining_value"]) for lot, r in lots.items()}
    assert remaining == {
        "OIL1": (0, 0),
        "OIL2": (0, 0),
        "M5": (0, 0),
        "OIL3": (27, D("67.50")),
        "OIL4": (10, D("30.00")),
        "LYE1": (0, 0),
        "LYE2": (0, 0),
        "BOX1": (300, D("30.00")),
    }
    # as of 2025-02-03: OIL3 (received 01-24) is 10 days old and expires 02-15, 12 days ahead,
    # within the 30-day alert; OIL1 expires 02-10 but holds nothing; BOX1 expired on 02-01
    assert (lots["OIL3"]["age_days"], lots["OIL3"]["days_to_expiry"]) == (10, 12)
    assert [lot for lot, r in lots.items() if r["expires_within_alert"]] == ["OIL3"]
    assert [lot for lot, r in lots.items() if r["is_expired"]] == ["BOX1"]
    assert lots["BOX1"]["ageing_bucket"] == "31_60"  # 32 days
    # lye lots come without an expiry date: 365 days of shelf life from the day received
    assert (lots["LYE1"]["expiry_date"], lots["LYE2"]["expiry_date"]) == (
        dt.date(2026, 1, 3),
        dt.date(2026, 1, 27),
    )
    # the return M5 is a layer of its own at the last receipt cost before it (R2's 2.40)
    assert (lots["M5"]["layer_kind"], lots["M5"]["unit_cost"]) == (
        "return_from_customer",
        D("2.40"),
    )
    ending = query(
        home,
        f"select material_id, on_hand_qty, on_hand_value from marts.fct_material_inventory_daily "
        f"where site_id = '{SITE}' and day = date '2025-02-03' order by material_id",
    )
    assert [(r["material_id"], r["on_hand_qty"], r["on_hand_value"]) for r in ending] == [
        ("box", 300, D("30.00")),
        ("lye", -2, 0),
        ("oil", 37, D("97.50")),
    ]


def test_inventory_daily_goes_negative_while_a_backdated_issue_waits(home: Path) -> None:
    days = {
        str(r["day"]): (r["on_hand_qty"], r["on_hand_value"], r["issued_qty"], r["cogs"])
        for r in query(
            home,
            f"select * from marts.fct_material_inventory_daily where site_id = '{SITE}' "
            f"and material_id = 'oil'",
        )
    }
    assert len(days) == 32  # 2025-01-03 .. 2025-02-03
    assert days["2025-01-05"] == (70, D("140.00"), 30, D("60.00"))
    # 70 on hand, 75 issued: -5 kg, worth -5 x 2.40 (the units drawn from OIL2 before it came)
    assert days["2025-01-12"] == (-5, D("-12.00"), 75, D("152.00"))
    assert days["2025-01-16"] == (45, D("108.00"), 0, 0)
    # waste is no cost of goods sold
    assert days["2025-01-21"] == (20, D("48.00"), 0, 0)
    # +2 returned at 2.40, -3 to the vendor at 2.40
    assert days["2025-01-22"] == (19, D("45.60"), 0, 0)


def test_inventory_metrics_turnover_reorder_point_and_eoq(home: Path) -> None:
    metrics = _rows(home, "fct_material_inventory_metrics", "material_id")
    oil = metrics["oil"]
    # 32 days observed (01-03 .. 02-03). COGS = issues 60 + 152 + 48 + 73.10 = 333.10.
    assert oil["days_observed"] == 32
    assert oil["cogs_365"] == D("333.10")
    # end-of-day values: 200 x 2 + 140 x 7 - 12 x 4 + 108 x 4 + 60 + 48 + 45.6 x 2 + 140.6 x 2
    # + 67.5 x 8 + 97.5 = 2881.9 over 32 days
    avg_value = 2881.9 / 32
    assert oil["avg_inventory_value"] == pytest.approx(avg_value, rel=1e-12)
    turnover = 333.10 * 365 / 32 / avg_value  # 42.19 a year
    assert oil["turnover"] == pytest.approx(turnover, rel=1e-12)
    assert oil["days_on_hand"] == pytest.approx(365 / turnover, rel=1e-12)  # 8.65 days
    # demand: 30, 75, 20 and 30 kg issued on 4 of the 32 days; d = 155 / 32 = 4.84375;
    # sample variance = (30^2 + 75^2 + 20^2 + 30^2 - 32 d^2) / 31 = (7825 - 750.78125) / 31
    d = 155 / 32
    variance = (7825 - 32 * d**2) / 31
    assert oil["mean_daily_demand"] == pytest.approx(d, rel=1e-12)
    assert oil["demand_sd"] == pytest.approx(math.sqrt(variance), rel=1e-12)
    # L = 4, sd_L = 1, z = 1.65: SS = 1.65 x sqrt(4 x 228.2006 + 4.84375^2 x 1) = 50.487;
    # reorder point = 4.84375 x 4 + 50.487 = 69.862 kg > 37 on hand
    safety = 1.65 * math.sqrt(4 * variance + d**2 * 1**2)
    assert oil["safety_stock"] == pytest.approx(safety, rel=1e-12)
    assert oil["safety_stock"] == pytest.approx(50.487, abs=1e-3)
    assert oil["reorder_point"] == pytest.approx(d * 4 + safety, rel=1e-12)
    assert oil["reorder_point"] == pytest.approx(69.862, abs=1e-3)
    assert (oil["on_hand_qty"], oil["below_reorder_point"]) == (37, True)
    # EOQ = sqrt(2 D S / H), D = 4.84375 x 365 = 1767.97 kg/yr, S = 40, H = 0.25 x 3.00 (OIL4)
    assert oil["eoq"] == pytest.approx(math.sqrt(2 * d * 365 * 40 / (0.25 * 3.00)), rel=1e-12)
    assert oil["eoq"] == pytest.approx(434.26, abs=1e-2)
    assert (oil["waste_qty"], oil["waste_value"]) == (5, D("12.00"))
    assert (oil["age_0_30_qty"], oil["age_0_30_value"]) == (37, D("97.50"))
    # boxes: 97.5 % service, z = the normal quantile 1.959964; L = 7 (default), sd_L = 0;
    # 100 issued on 2 of 33 days (01-02 .. 02-03)
    box = metrics["box"]
    assert box["service_level_z"] == pytest.approx(1.959964, abs=1e-6)
    d_box = 200 / 33
    var_box = (2 * 100**2 - 33 * d_box**2) / 32
    assert box["reorder_point"] == pytest.approx(
        d_box * 7 + 1.959964 * math.sqrt(7 * var_box), rel=1e-6
    )
    assert (box["expired_qty"], box["expired_value"]) == (300, D("30.00"))
    assert (box["age_31_60_qty"], box["below_reorder_point"]) == (300, False)


def test_batch_variances_and_yield(home: Path) -> None:
    lines = {
        (r["batch_id"], r["material_id"]): r
        for r in query(home, f"select * from marts.fct_batch_costs where site_id = '{SITE}'")
    }
    figures = {
        key: (
            r["planned_qty"],
            r["actual_qty"],
            r["standard_price"],
            r["planned_cost"],
            r["actual_cost"],
            r["price_variance"],
            r["usage_variance"],
            r["cost_variance"],
        )
        for key, r in lines.items()
    }
    assert figures == {
        # B1: 600 planned / yield 100 = scale 6; oil 5 x 6 = 30 kg at SP 2.00 (R1), used 30 for
        # 60.00; lye 1 x 6 = 6 kg at SP 5.00 (R3), used 6 for 30.00: no variance
        ("B1", "oil"): (30, 30, D("2.00"), D("60.00"), D("60.00"), 0, 0, 0),
        ("B1", "lye"): (6, 6, D("5.00"), D("30.00"), D("30.00"), 0, 0, 0),
        # B2: scale 15. Oil SQ 75 at SP 2.00 (R2 came after the start) = 150.00; AQ 75 + 20 =
        # 95 costing 152.00 + 48.00 = 200.00. Price = 2.00 x 95 - 200.00 = -10.00; usage =
        # (75 - 95) x 2.00 = -40.00; cost variance 200.00 - 150.00 = 50.00
        ("B2", "oil"): (
            75,
            95,
            D("2.00"),
            D("150.00"),
            D("200.00"),
            D("-10.00"),
            D("-40.00"),
            D("50.00"),
        ),
        # lye SQ 15 at 5.00 = 75.00, AQ 6 costing 30.00: price 0, usage (15 - 6) x 5 = 45.00,
        # cost 30.00 - 75.00 = -45.00
        ("B2", "lye"): (15, 6, D("5.00"), D("75.00"), D("30.00"), 0, D("45.00"), D("-45.00")),
    }
    batches = _rows(home, "fct_batches", "batch_id")
    b1, b2 = batches["B1"], batches["B2"]
    # yield: (590 - 5 samples) / 600 = 97.5 %; 1400 / 1500 = 93.33 % < 95 % alert
    assert b1["yield_pct"] == pytest.approx(97.5, rel=1e-12)
    assert b2["yield_pct"] == pytest.approx(1400 / 1500 * 100, rel=1e-12)
    assert (b1["is_yield_below_alert"], b2["is_yield_below_alert"]) == (False, True)
    assert (b2["planned_cost"], b2["actual_cost"], b2["cost_variance"]) == (
        D("225.00"),
        D("230.00"),
        D("5.00"),
    )
    # B1: 400 sold at 0.50 = 200.00, cost 90.00 x 400 / 585 good units = 61.54
    assert b1["revenue"] == D("200.00")
    assert b1["margin"] == pytest.approx(200 - 90 * 400 / 585, rel=1e-12)
    assert b2["margin_pct"] == pytest.approx((450 - 230 * 1000 / 1400) / 450 * 100, rel=1e-12)
    [jan] = query(
        home,
        f"select * from marts.fct_product_margins_monthly where site_id = '{SITE}'",
    )
    assert (jan["qty_sold"], jan["revenue"]) == (1400, D("650.00"))
    assert jan["cogs"] == pytest.approx(400 * 90 / 585 + 1000 * 230 / 1400, rel=1e-12)


def test_recipe_cost_at_month_and_current_prices(home: Path) -> None:
    months = {
        str(r["month"]): (r["cost_at_month_price"], r["cost_current"], r["is_version_in_force"])
        for r in query(home, f"select * from marts.fct_recipe_costs where site_id = '{SITE}'")
    }
    # 5 kg oil + 1 kg lye per 100 bars. January: oil 2.50 (R4), lye 5.50 (R6) = 18.00;
    # February: oil 3.00 (R7) = 20.50, also the current price
    assert months == {
        "2025-01-01": (D("18.00"), D("20.50"), True),
        "2025-02-01": (D("20.50"), D("20.50"), True),
    }


def test_supplier_otif_and_price_variance(home: Path) -> None:
    rows = {
        (r["supplier_id"], str(r["month"])): r
        for r in query(
            home, f"select * from marts.fct_supplier_performance where site_id = '{SITE}'"
        )
    }
    oilco = rows[("oilco", "2025-01-01")]
    # PO1 by 01-05, received 01-03 in full: OTIF. PO2 by 01-15, received 01-16: late.
    # PO4 40 by 01-25, 38 on 01-24: 38 < 40 x 0.98 = 39.2, not in full. 1 of 3: 33.3 %
    assert (oilco["orders"], oilco["orders_on_time"], oilco["orders_in_full"]) == (3, 2, 2)
    assert oilco["orders_otif"] == 1
    assert oilco["otif_pct"] == pytest.approx(100 / 3, rel=1e-12)
    # price variance: R2 (2.40 - 2.00) x 50 = 20.00, R4 (2.50 - 2.40) x 38 = 3.80
    assert oilco["purchase_price_variance"] == D("23.80")
    assert rows[("chemco", "2025-01-01")]["otif_pct"] == pytest.approx(100.0)
    # LYE2 (5.50 - 5.00) x 10; the first lye and box receipts have nothing to compare with
    assert rows[("chemco", "2025-01-01")]["purchase_price_variance"] == D("5.00")
    feb = rows[("oilco", "2025-02-01")]
    assert (feb["orders"], feb["receipts"], feb["purchase_price_variance"]) == (0, 1, D("5.00"))


def test_price_rises_above_the_alert_level(home: Path) -> None:
    prices = _rows(home, "fct_material_prices", "receipt_id")
    # R2 (2.00 -> 2.40) and R7 (2.50 -> 3.00) rise 20 %; R4 (2.40 -> 2.50) 4.2 %; LYE2
    # (5.00 -> 5.50) exactly 10 %, not above the site's 10 %
    assert prices["R2"]["price_change_pct"] == pytest.approx(20.0)
    assert prices["R6"]["price_change_pct"] == pytest.approx(10.0)
    assert prices["R1"]["previous_unit_cost"] is None
    assert sorted(r for r, p in prices.items() if p["is_price_rise_alert"]) == ["R2", "R7"]


def test_prices_monthly_trend(home: Path) -> None:
    months = _rows(home, "fct_material_price_monthly", "month", "and material_id = 'oil'")
    jan, feb = (months[m] for m in sorted(months))
    # January: (100 x 2.00 + 50 x 2.40 + 38 x 2.50) / 188 = 415 / 188 = 2.2074
    assert jan["avg_unit_cost"] == pytest.approx(415 / 188, rel=1e-12)
    assert (jan["min_unit_cost"], jan["max_unit_cost"]) == (D("2.00"), D("2.50"))
    assert feb["avg_unit_cost_change_pct"] == pytest.approx((3 - 415 / 188) / (415 / 188) * 100)


def test_recorded_lots_reconcile_with_fifo(home: Path) -> None:
    rec = _rows(home, "fct_material_fifo_reconciliation", "movement_id")
    assert set(rec) == {"M6", "M10"}
    # M6: the 3 kg returned to the vendor come from OIL2 both ways
    assert (rec["M6"]["is_match"], rec["M6"]["cost_difference"]) == (True, 0)
    # M10: the operator took 30 kg from OIL3; FIFO takes OIL2's last 17, the return's 2 and
    # 11 of OIL3. At OIL3's price: 30 x 2.50 = 75.00 against 73.10
    m10 = rec["M10"]
    assert (m10["is_match"], m10["fifo_qty_from_recorded_lot"], m10["fifo_lots"]) == (
        False,
        11,
        3,
    )
    assert m10["fifo_lot_ids"] == "OIL2, M5, OIL3"
    assert (m10["recorded_lot_cost"], m10["cost_difference"]) == (D("75.00"), D("1.90"))
