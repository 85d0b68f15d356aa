"""The prepaid ledger and revenue marts reproduce a hand computation of the ``meter_ledger`` site.

Records: tests/dbt/metering_scenarios.py (Asia/Jakarta, every day local). Tariff ``house``:

    v1 from 2025-01-01: fixed 3 100 / month; blocks 0-10 m3 @ 1 000, 10-20 @ 2 000, > 20 @ 3 000
    v2 from 2025-01-20: fixed 6 200 / month; blocks 0-10 m3 @ 1 500, 10-20 @ 2 500, > 20 @ 3 500

Fixed charge per day: v1 in January 3 100 / 31 = 100; v2 in January 6 200 / 31 = 200, in
February 6 200 / 28 = 221.428571...

C1 (created 01-14 10:00, threshold 25 000 = the site default): 1 m3 a day, 6 m3 on 01-20, 2 m3
a day in February. Purchases: P1 01-14 30 000 (paid 30 000); P2 01-27 50 000 with voucher
SAVE10 (10 %): discount 5 000, paid 45 000.

    day    m3  mtd  charge (version in force on the day)            fixed   closing   status
    01-14   1    1  1 000 (v1)                                     100    28 900    ok
    01-15   1    2  1 000                                          100    27 800    ok
    01-16   1    3  1 000                                          100    26 700    ok
    01-17   1    4  1 000                                          100    25 600    ok
    01-18   1    5  1 000                                          100    24 500    low
    01-19   1    6  1 000                                          100    23 400    low
    01-20   6   12  v2: charge(12) - charge(6) = (10x1500 + 2x2500) - 6x1500
                    = 20 000 - 9 000 = 11 000 (crosses into block 2) 200    12 200    low
    01-21   1   13  2 500                                          200     9 500    low
    01-22   1   14  2 500                                          200     6 800    low
    01-23   1   15  2 500                                          200     4 100    low
    01-24   1   16  2 500                                          200     1 400    low
    01-25   1   17  2 500                                          200    -1 300    emergency
    01-26   1   18  2 500                                          200    -4 000    emergency
    01-27   1   19  2 500; +50 000 credit (emergency credit cleared) 200    43 300    ok
    01-28   1   20  2 500                                          200    40 600    ok
    01-29   1   21  3 500 (block 3)                                200    36 900    ok
    01-30   1   22  3 500                                          200    33 200    ok
    01-31   1   23  3 500                                          200    29 500    ok
    02-01   2    2  3 000 (month boundary: back to block 1)   221.428571  26 278.571429 ok
    02-02   2    4  3 000                                     221.428571  23 057.142857 low

C2 (threshold 5 000, deactivated 01-21 10:00): 2 m3 a day to 01-19, 8 m3 on 01-20, nothing after.
Purchase P3 01-14 10 000 (paid 10 000).

    01-14..01-18  2 m3, mtd 2..10: 2 000 + 100 a day -> 7 900, 5 800, 3 700 (low), 1 600, -500
    01-19   2   12  charge(12) - charge(10) = 2 x 2 000 = 4 000    100    -4 600    emergency
    01-20   8   20  v2: charge(20) - charge(12) = 8 x 2 500 = 20 000 200   -24 800   exhausted
    01-21..       inactive: no fixed charge, no use                   0    -24 800   exhausted

Days of credit left = max(balance, 0) / mean daily charge of the last 7 ledger days:
C1 01-14: 28 900 / 1 100; C1 02-02: 23 057.142857 / ((2 x 2 700 + 3 x 3 700 + 2 x 3 221.428571)
/ 7); C2 from 01-27 (seven days without a charge): null.

Revenue, January: collections 30 000 + 45 000 + 10 000 = 85 000; credit sold 90 000; voucher
cost 5 000; earned consumption C1 6 x 1 000 + 11 000 + 8 x 2 500 + 3 x 3 500 = 47 500, C2
5 x 2 000 + 4 000 + 20 000 = 34 000 -> 81 500; earned fixed C1 6 x 100 + 12 x 200 = 3 000, C2
6 x 100 + 200 = 800 -> 3 800; deferred revenue: opening 0, closing 29 500 (C1; C2 is in debt);
emergency debt 24 800. Check: 0 + 90 000 - 85 300 + 24 800 = 29 500.
February: no collections; earned 6 000 + 2 x 221.428571 = 6 442.857143; deferred 29 500 ->
23 057.142857; debt 24 800; one active customer.

Non-revenue water (district north, bulk meter BULK-N: the customers' use + 1 m3 a day):
January (01-14..31, 18 days) input 43 + 18 = 61, billed 43, NRW 18 = 29.508 %.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.dbt.metering_scenarios import LEDGER_SITE, metering_home
from tests.dbt.runner import query

JAN = dt.date(2025, 1, 1)
FEB = dt.date(2025, 2, 1)
FEB_FIXED = 6200 / 28

# (day, consumption charge, fixed charge, closing balance, status) of C1
C1_DAYS = [
    ("2025-01-14", 1000, 100, 28900, "ok"),
    ("2025-01-15", 1000, 100, 27800, "ok"),
    ("2025-01-16", 1000, 100, 26700, "ok"),
    ("2025-01-17", 1000, 100, 25600, "ok"),
    ("2025-01-18", 1000, 100, 24500, "low"),
    ("2025-01-19", 1000, 100, 23400, "low"),
    ("2025-01-20", 11000, 200, 12200, "low"),
    ("2025-01-21", 2500, 200, 9500, "low"),
    ("2025-01-22", 2500, 200, 6800, "low"),
    ("2025-01-23", 2500, 200, 4100, "low"),
    ("2025-01-24", 2500, 200, 1400, "low"),
    ("2025-01-25", 2500, 200, -1300, "emergency"),
    ("2025-01-26", 2500, 200, -4000, "emergency"),
    ("2025-01-27", 2500, 200, 43300, "ok"),
    ("2025-01-28", 2500, 200, 40600, "ok"),
    ("2025-01-29", 3500, 200, 36900, "ok"),
    ("2025-01-30", 3500, 200, 33200, "ok"),
    ("2025-01-31", 3500, 200, 29500, "ok"),
    ("2025-02-01", 3000, FEB_FIXED, 29500 - 3000 - FEB_FIXED, "ok"),
    ("2025-02-02", 3000, FEB_FIXED, 29500 - 6000 - 2 * FEB_FIXED, "low"),
]

C2_DAYS = [
    ("2025-01-14", 2000, 100, 7900, "ok"),
    ("2025-01-15", 2000, 100, 5800, "ok"),
    ("2025-01-16", 2000, 100, 3700, "low"),
    ("2025-01-17", 2000, 100, 1600, "low"),
    ("2025-01-18", 2000, 100, -500, "emergency"),
    ("2025-01-19", 4000, 100, -4600, "emergency"),
    ("2025-01-20", 20000, 200, -24800, "exhausted"),
    *[(f"2025-01-{d}", 0, 0, -24800, "exhausted") for d in range(21, 32)],
    ("2025-02-01", 0, 0, -24800, "exhausted"),
    ("2025-02-02", 0, 0, -24800, "exhausted"),
]


def cents(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return metering_home(tmp_path_factory)


def _ledger(home: Path, customer: str) -> list[dict[str, Any]]:
    return query(
        home,
        "select * from marts.fct_customer_ledger_daily "
        f"where site_id = '{LEDGER_SITE}' and customer_id = '{customer}' order by day",
    )


@pytest.mark.parametrize(("customer", "expected"), [("C1", C1_DAYS), ("C2", C2_DAYS)])
def test_ledger_matches_the_hand_figures(home: Path, customer: str, expected: list) -> None:
    rows = _ledger(home, customer)
    # the ledger runs from the customer's first activity (01-14) to the site's last day (02-02)
    assert [str(r["day"]) for r in rows] == [e[0] for e in expected]
    opening = 0.0
    for row, (day, charge, fixed, closing, status) in zip(rows, expected, strict=True):
        assert cents(row["consumption_charge"]) == cents(charge), day
        assert cents(row["fixed_charge"]) == cents(fixed), day
        assert cents(row["opening_balance"]) == cents(opening), day
        assert cents(row["closing_balance"]) == cents(closing), day
        assert row["balance_status"] == status, day
        assert row["segment"] == "house"
        opening = closing


def test_ledger_purchases_month_to_date_and_activity(home: Path) -> None:
    c1 = {str(r["day"]): r for r in _ledger(home, "C1")}
    assert (c1["2025-01-14"]["credit_purchased"], c1["2025-01-14"]["paid"]) == (30000, 30000)
    p2 = c1["2025-01-27"]
    assert (p2["credit_purchased"], p2["paid"], p2["voucher_discount"]) == (50000, 45000, 5000)
    assert round(c1["2025-01-31"]["month_to_date_m3"], 6) == 23
    assert round(c1["2025-02-01"]["month_to_date_m3"], 6) == 2  # a new month starts at 0
    assert c1["2025-01-14"]["low_balance_threshold"] == 25000
    c2 = {str(r["day"]): r for r in _ledger(home, "C2")}
    assert c2["2025-01-20"]["active"] and not c2["2025-01-21"]["active"]
    assert c2["2025-01-14"]["low_balance_threshold"] == 5000


def test_days_of_credit_left(home: Path) -> None:
    c1 = {str(r["day"]): r["days_of_credit_left"] for r in _ledger(home, "C1")}
    assert c1["2025-01-14"] == pytest.approx(28900 / 1100)
    last_week = 2 * 2700 + 3 * 3700 + 2 * (3000 + FEB_FIXED)
    assert c1["2025-02-02"] == pytest.approx((29500 - 6000 - 2 * FEB_FIXED) / (last_week / 7))
    assert c1["2025-01-25"] == 0  # in emergency credit: nothing left
    c2 = {str(r["day"]): r["days_of_credit_left"] for r in _ledger(home, "C2")}
    assert c2["2025-01-26"] == 0  # 01-20's charge is still in the window
    assert c2["2025-01-27"] is None  # seven days without a charge: no rate to divide by


def test_balances(home: Path) -> None:
    rows = query(
        home,
        f"select * from marts.fct_customer_balances where site_id = '{LEDGER_SITE}' "
        "order by customer_id",
    )
    assert [(r["customer_id"], str(r["as_of_day"]), r["balance_status"]) for r in rows] == [
        ("C1", "2025-02-02", "low"),
        ("C2", "2025-02-02", "exhausted"),
    ]
    assert cents(rows[0]["balance"]) == cents(29500 - 6000 - 2 * FEB_FIXED)
    assert cents(rows[1]["balance"]) == -24800
    # P2 at 01-27 09:00 Jakarta = 02:00 UTC
    assert rows[0]["last_purchase_at"] == dt.datetime(2025, 1, 27, 2, 0, tzinfo=dt.UTC)


def test_revenue_monthly(home: Path) -> None:
    rows = query(
        home,
        f"select * from marts.fct_metering_revenue_monthly where site_id = '{LEDGER_SITE}' "
        "order by month",
    )
    assert [r["month"] for r in rows] == [JAN, FEB]
    jan, feb = ({k: cents(v) if isinstance(v, float) else v for k, v in r.items()} for r in rows)
    assert jan["collections"] == 85000
    assert jan["credit_sold"] == 90000
    assert jan["voucher_cost"] == 5000
    assert jan["earned_consumption"] == 81500
    assert jan["earned_fixed"] == 3800
    assert jan["earned_revenue"] == 85300
    assert jan["deferred_revenue_opening"] == 0
    assert jan["deferred_revenue_closing"] == 29500
    assert jan["emergency_debt_closing"] == 24800
    assert jan["consumption_m3"] == 43
    assert jan["active_customers"] == 2
    assert feb["collections"] == 0
    assert feb["earned_consumption"] == 6000
    assert feb["earned_fixed"] == cents(2 * FEB_FIXED)
    assert feb["earned_revenue"] == cents(6000 + 2 * FEB_FIXED)
    assert feb["deferred_revenue_opening"] == 29500
    assert feb["deferred_revenue_closing"] == cents(29500 - 6000 - 2 * FEB_FIXED)
    assert feb["emergency_debt_closing"] == 24800
    assert feb["active_customers"] == 1


def test_collections_and_vouchers(home: Path) -> None:
    rows = query(
        home,
        "select payment_method, provider, segment, purchases, credit_sold, collections, "
        "voucher_cost from marts.fct_metering_collections_monthly "
        f"where site_id = '{LEDGER_SITE}' and month = '2025-01-01' order by payment_method",
    )
    assert [tuple(r.values()) for r in rows] == [
        ("e_wallet", "ovo", "house", 1, 10000, 10000, 0),
        ("qr", "gopay", "house", 1, 50000, 45000, 5000),
        ("virtual_account", "bca", "house", 1, 30000, 30000, 0),
    ]
    redemptions = query(
        home,
        f"select * from marts.fct_voucher_redemptions where site_id = '{LEDGER_SITE}'",
    )
    assert [(r["purchase_id"], str(r["day"]), r["discount"]) for r in redemptions] == [
        ("P2", "2025-01-27", 5000)
    ]
    (summary,) = query(
        home, f"select * from marts.fct_voucher_summary where site_id = '{LEDGER_SITE}'"
    )
    assert (summary["voucher_code"], summary["redemptions"], summary["customers"]) == (
        "SAVE10",
        1,
        1,
    )
    assert (summary["total_discount"], summary["total_limit"], summary["remaining_uses"]) == (
        5000,
        100,
        99,
    )


def test_consumption_monthly(home: Path) -> None:
    rows = query(
        home,
        "select customer_id, month, volume_m3, charge, prev_month_m3, per_capita_l_per_day "
        "from marts.fct_customer_consumption_monthly "
        f"where site_id = '{LEDGER_SITE}' order by customer_id, month",
    )
    got = [
        (r["customer_id"], r["month"], round(r["volume_m3"], 6), cents(r["charge"])) for r in rows
    ]
    assert got == [
        ("C1", JAN, 23, 50500),  # 47 500 + 3 000
        ("C1", FEB, 4, cents(6000 + 2 * FEB_FIXED)),
        ("C2", JAN, 20, 34800),  # 34 000 + 800
        ("C2", FEB, 0, 0),
    ]
    # 23 m3 over 18 ledger days for 4 people
    assert rows[0]["per_capita_l_per_day"] == pytest.approx(23000 / 4 / 18)
    assert rows[1]["prev_month_m3"] == pytest.approx(23)
    segments = query(
        home,
        "select month, volume_m3 from marts.fct_segment_consumption_monthly "
        f"where site_id = '{LEDGER_SITE}' and segment = 'house' order by month",
    )
    assert [(r["month"], round(r["volume_m3"], 6)) for r in segments] == [(JAN, 43), (FEB, 4)]


def test_nonrevenue_water(home: Path) -> None:
    (jan,) = query(
        home,
        "select * from marts.fct_nonrevenue_water_monthly "
        f"where site_id = '{LEDGER_SITE}' and district_id = 'north' and month = '2025-01-01'",
    )
    assert round(jan["system_input_m3"], 6) == 61
    assert round(jan["billed_m3"], 6) == 43
    assert round(jan["nrw_m3"], 6) == 18
    assert jan["nrw_pct"] == pytest.approx(100 * 18 / 61)
    (day,) = query(
        home,
        "select * from marts.fct_nonrevenue_water_daily "
        f"where site_id = '{LEDGER_SITE}' and day = '2025-01-20'",
    )
    # 01-20: C1 6 + C2 8 billed, 15 into the district
    assert (round(day["system_input_m3"], 6), round(day["billed_m3"], 6)) == (15, 14)
