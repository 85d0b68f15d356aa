"""A published warehouse with one prepaid water utility, 'aqua', built by hand with the
metering marts' columns (Contract 4 of issue 16, docs/metering.md), and a mine without any
metering rows. Shared by the metering alert, report and orchestration tests.

The figures, worked out by hand (money in IDR):

- Customers c1 (household_iiia, threshold 25 000), c2 (household_iiia, own threshold 50 000),
  c3 (commercial, threshold 25 000); meters m1 (c1), m2 (c2), m3 and m4 (c3).
- Ledger (fct_customer_ledger_daily), every day 1 January to 31 March 2026 (three complete
  months): c1 holds 100 000 (20 days of credit) until it falls: 20 Mar 60 000 (8 days),
  21 Mar 24 000 (6.5), 22 Mar 20 000 (5), 23 Mar 10 000 (2.5), 24 Mar 2 000 (0.5); a top-up on
  25 Mar to 150 000 (30 days) that lasts to 29 Mar; 30 Mar 20 000 (6), 31 Mar 18 000 (5).
  c2 holds 45 000 (12 days) from 15 Mar (below its own 50 000, above the site's 25 000).
  c3 holds 500 000 (40 days) until 28 Mar -5 000 (emergency, 0 days), 29-31 Mar -25 000
  (exhausted, 0 days).
- Leak days (fct_meter_leak_days), March: m1 leaks 10-12 Mar (continuous), clean from 13 Mar;
  m2's 20 Mar is stale (fresh false) and flagged leak true as a bad mart would: never an alert;
  m3 leaks 30-31 Mar (night flow).
- Events (fct_meter_events): m1 burst 15 Mar 08:00 (detected); m2 magnetic 5 Mar and 18 Mar;
  m4 cover_open 22 Mar; m3 reverse_flow 25 Mar; m1 reboot 3 Mar.
- Health (fct_meter_health_daily), March: m2 offline 8-9 Mar; m4 offline 27-31 Mar
  (warning 26 Mar); m3's battery 12 % to 28 Mar, 11 (29), 10 (30, not below 10), 9.5 (31 Mar,
  low battery), warning 31 Mar.
- Maintenance (fct_maintenance_tasks): t1 m4 battery_replacement due 20 Mar, Budi, scheduled
  (overdue); t2 m1 inspection due 5 Apr, Sari (due soon); t3 m2 calibration due 10 Mar, Sari,
  done 9 Mar; t4 m3 repair due 25 Mar, Budi (overdue); t5 m1 other due 1 Mar, cancelled.
- Revenue (fct_metering_revenue_monthly): collections Oct 2025 1 000 000, Nov 1 100 000,
  Dec 900 000, Jan 2026 1 000 000, Feb 950 000, Mar 700 000 (26.3 % below the mean of
  Dec-Feb, 950 000), Apr (in progress, 2 days) 50 000.
- March's collections (fct_metering_collections_monthly): household_iiia virtual_account
  bca 10 purchases 400 000 credit, 380 000 paid; household_iiia e_wallet gopay 5 purchases
  150 000 / 150 000; commercial qr dana 2 purchases 175 000 / 170 000. Together 17 purchases,
  credit sold 725 000, collections 700 000, voucher cost 25 000.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from siteledger.settings import Settings

TEXT, DATE, NUM, INT, TS, BOOL = (
    "varchar",
    "date",
    "double",
    "bigint",
    "timestamp with time zone",
    "boolean",
)
SITE = "aqua"

# Contract 4: every metering mart with its columns
MARTS: dict[str, dict[str, str]] = {
    "dim_metering_customers": {
        "site_id": TEXT,
        "customer_id": TEXT,
        "name": TEXT,
        "segment": TEXT,
        "household_size": INT,
        "district_id": TEXT,
        "low_balance_threshold": NUM,
        "active": BOOL,
        "created_at": TS,
        "updated_at": TS,
        "deactivated_at": TS,
    },
    "dim_metering_meters": {
        "site_id": TEXT,
        "meter_id": TEXT,
        "customer_id": TEXT,
        "meter_type": TEXT,
        "q3_m3_per_h": NUM,
        "install_date": DATE,
        "location": TEXT,
        "latitude": NUM,
        "longitude": NUM,
        "communication": TEXT,
        "reading_interval_minutes": INT,
        "active": BOOL,
    },
    "fct_meter_consumption_daily": {
        "site_id": TEXT,
        "meter_id": TEXT,
        "customer_id": TEXT,
        "day": DATE,
        "volume_m3": NUM,
        "reverse_m3": NUM,
        "hours_reported": INT,
        "flowing_hours": INT,
        "zero_flow_hours": INT,
        "night_min_flow_l_per_h": NUM,
        "night_volume_m3": NUM,
        "peak_volume_m3": NUM,
        "last_reading_at": TS,
        "fresh": BOOL,
    },
    "fct_customer_ledger_daily": {
        "site_id": TEXT,
        "customer_id": TEXT,
        "segment": TEXT,
        "day": DATE,
        "credit_purchased": NUM,
        "paid": NUM,
        "voucher_discount": NUM,
        "consumption_m3": NUM,
        "month_to_date_m3": NUM,
        "consumption_charge": NUM,
        "fixed_charge": NUM,
        "opening_balance": NUM,
        "closing_balance": NUM,
        "balance_status": TEXT,
        "days_of_credit_left": NUM,
        "low_balance_threshold": NUM,
        "credit_days_level_1": INT,
        "credit_days_level_2": INT,
        "credit_days_level_3": INT,
    },
    "fct_customer_balances": {
        "site_id": TEXT,
        "customer_id": TEXT,
        "as_of_day": DATE,
        "balance": NUM,
        "balance_status": TEXT,
        "days_of_credit_left": NUM,
        "low_balance_threshold": NUM,
        "last_purchase_at": TS,
    },
    "fct_segment_consumption_monthly": {
        "site_id": TEXT,
        "segment": TEXT,
        "month": DATE,
        "customers": INT,
        "volume_m3": NUM,
        "volume_per_customer_m3": NUM,
        "prev_month_m3": NUM,
        "mom_change_pct": NUM,
        "same_month_last_year_m3": NUM,
        "yoy_change_pct": NUM,
    },
    "fct_voucher_redemptions": {
        "site_id": TEXT,
        "voucher_code": TEXT,
        "purchase_id": TEXT,
        "customer_id": TEXT,
        "paid_at": TS,
        "day": DATE,
        "amount": NUM,
        "discount": NUM,
        "final_amount": NUM,
    },
    "fct_voucher_summary": {
        "site_id": TEXT,
        "voucher_code": TEXT,
        "discount_type": TEXT,
        "value": NUM,
        "redemptions": INT,
        "customers": INT,
        "total_discount": NUM,
        "total_limit": INT,
        "remaining_uses": INT,
        "valid_from": TS,
        "valid_until": TS,
    },
    "fct_metering_collections_monthly": {
        "site_id": TEXT,
        "month": DATE,
        "segment": TEXT,
        "payment_method": TEXT,
        "provider": TEXT,
        "purchases": INT,
        "credit_sold": NUM,
        "collections": NUM,
        "voucher_cost": NUM,
    },
    "fct_metering_revenue_monthly": {
        "site_id": TEXT,
        "month": DATE,
        "collections": NUM,
        "credit_sold": NUM,
        "voucher_cost": NUM,
        "earned_consumption": NUM,
        "earned_fixed": NUM,
        "earned_revenue": NUM,
        "deferred_revenue_opening": NUM,
        "deferred_revenue_closing": NUM,
        "emergency_debt_closing": NUM,
        "consumption_m3": NUM,
        "active_customers": INT,
    },
    "fct_meter_health_daily": {
        "site_id": TEXT,
        "meter_id": TEXT,
        "day": DATE,
        "readings": INT,
        "expected_readings": INT,
        "last_seen_at": TS,
        "battery_pct": NUM,
        "signal_dbm": NUM,
        "low_battery_pct": NUM,
        "reboots": INT,
        "status": TEXT,
        "health_score": NUM,
        "issues": TEXT,
    },
    "fct_maintenance_tasks": {
        "site_id": TEXT,
        "task_id": TEXT,
        "meter_id": TEXT,
        "customer_id": TEXT,
        "task_type": TEXT,
        "due_date": DATE,
        "technician": TEXT,
        "status": TEXT,
        "done_at": TS,
        "due_state": TEXT,
        "days_overdue": INT,
    },
    "fct_meter_leak_days": {
        "site_id": TEXT,
        "meter_id": TEXT,
        "customer_id": TEXT,
        "day": DATE,
        "leak_kind": TEXT,
        "leak": BOOL,
        "flowing_hours": INT,
        "zero_flow_hours": INT,
        "night_min_flow_l_per_h": NUM,
        "volume_m3": NUM,
        "fresh": BOOL,
    },
    "fct_meter_events": {
        "site_id": TEXT,
        "meter_id": TEXT,
        "customer_id": TEXT,
        "event_id": TEXT,
        "occurred_at": TS,
        "day": DATE,
        "event_type": TEXT,
        "source": TEXT,
        "cleared_at": TS,
        "detail": TEXT,
    },
}

# the water marts every published warehouse holds (empty here: neither site has a water model)
WATER_TABLES = {
    "dim_nodes": "site_id varchar, node_id varchar",
    "fct_site_balance_monthly": "site_id varchar, month_start date",
    "fct_site_balance_period": "site_id varchar, period_kind varchar, period_start date",
    "fct_node_balance_monthly": "site_id varchar, node_id varchar, month_start date",
    "fct_node_balance_period": (
        "site_id varchar, period_kind varchar, period_start date, node_id varchar"
    ),
    "fct_node_balance_daily": (
        "site_id varchar, node_id varchar, node_kind varchar, day date, closing_storage_m3 double"
    ),
    "fct_flow_sankey": "site_id varchar, period_grain varchar, period_start date, flow_id varchar",
    "fct_site_water_by_category": (
        "site_id varchar, period_grain varchar, period_start date, direction varchar, "
        "category_position int, waf_category varchar"
    ),
    "fct_report_water_by_quality_monthly": (
        "site_id varchar, month_start date, direction varchar, waf_category varchar, "
        "quality_category varchar"
    ),
}

FIRST, LAST = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
FEB, MARCH, APRIL = dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)


def mar(day: int) -> dt.date:
    return dt.date(2026, 3, day)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def days(first: dt.date = FIRST, last: dt.date = LAST) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def write_table(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Create a mart with every contract column; columns a row does not give are null."""
    schema = MARTS[table]
    unknown = {k for row in rows for k in row} - set(schema)
    assert not unknown, f"{table} has no {sorted(unknown)}"
    frame = pd.DataFrame([{c: row.get(c) for c in schema} for row in rows], columns=list(schema))
    for column, kind in schema.items():
        if kind == TEXT:
            frame[column] = frame[column].astype("object")
    con.register("incoming", frame)
    casts = ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in schema.items())
    con.execute(f"create or replace table {table} as select {casts} from incoming")
    con.unregister("incoming")


# -- the ledger --------------------------------------------------------------------------------
_C1 = {
    mar(20): (60_000.0, 8.0),
    mar(21): (24_000.0, 6.5),
    mar(22): (20_000.0, 5.0),
    mar(23): (10_000.0, 2.5),
    mar(24): (2_000.0, 0.5),
    **{mar(d): (150_000.0, 30.0) for d in range(25, 30)},
    mar(30): (20_000.0, 6.0),
    mar(31): (18_000.0, 5.0),
}


def _status(balance: float, threshold: float, emergency: float = 20_000.0) -> str:
    if balance < -emergency:
        return "exhausted"
    if balance < 0:
        return "emergency"
    return "low" if balance <= threshold else "ok"


def ledger_rows() -> list[dict[str, Any]]:
    rows = []
    for day in days():
        c1 = _C1.get(day, (100_000.0, 20.0))
        c2 = (45_000.0, 12.0) if day >= mar(15) else (80_000.0, 20.0)
        if day == mar(28):
            c3 = (-5_000.0, 0.0)
        elif day >= mar(29):
            c3 = (-25_000.0, 0.0)
        else:
            c3 = (500_000.0, 40.0)
        for customer, segment, threshold, (balance, days_left) in (
            ("c1", "household_iiia", 25_000.0, c1),
            ("c2", "household_iiia", 50_000.0, c2),
            ("c3", "commercial", 25_000.0, c3),
        ):
            rows.append(
                {
                    "site_id": SITE,
                    "customer_id": customer,
                    "segment": segment,
                    "day": day,
                    "credit_purchased": 145_000.0 if (customer, day) == ("c1", mar(25)) else 0.0,
                    "consumption_charge": 4_000.0,
                    "fixed_charge": 250.0,
                    "closing_balance": balance,
                    "balance_status": _status(balance, threshold),
                    "days_of_credit_left": days_left,
                    "low_balance_threshold": threshold,
                    # the site's low_balance_days: the default 7 / 3 / 1
                    "credit_days_level_1": 7,
                    "credit_days_level_2": 3,
                    "credit_days_level_3": 1,
                }
            )
    return rows


# -- meters: leaks, events, health, maintenance ----------------------------------------------
METERS = {"m1": "c1", "m2": "c2", "m3": "c3", "m4": "c3"}


def leak_rows() -> list[dict[str, Any]]:
    rows = []
    for day in days(mar(1), LAST):
        for meter, customer in METERS.items():
            kind = None
            if meter == "m1" and mar(10) <= day <= mar(12):
                kind = "continuous"
            if meter == "m3" and day >= mar(30):
                kind = "night_flow"
            stale = meter == "m2" and day == mar(20)
            rows.append(
                {
                    "site_id": SITE,
                    "meter_id": meter,
                    "customer_id": customer,
                    "day": day,
                    "leak_kind": kind or ("continuous" if stale else None),
                    # a stale day flagged as a leak, as a broken mart might: the rule's guard
                    "leak": kind is not None or stale,
                    "flowing_hours": 24 if kind == "continuous" or stale else 6,
                    "zero_flow_hours": 0 if kind == "continuous" or stale else 18,
                    "night_min_flow_l_per_h": 15.0 if kind else 0.0,
                    "volume_m3": 0.9 if kind else 0.4,
                    "fresh": not stale,
                }
            )
    return rows


def event_rows() -> list[dict[str, Any]]:
    def event(eid: str, meter: str, when: dt.datetime, kind: str, source: str = "meter") -> dict:
        return {
            "site_id": SITE,
            "meter_id": meter,
            "customer_id": METERS[meter],
            "event_id": eid,
            "occurred_at": when,
            "day": when.date(),
            "event_type": kind,
            "source": source,
        }

    return [
        event("e1", "m1", at(mar(15), 8), "burst", "detected"),
        event("e2", "m2", at(mar(5), 3), "magnetic"),
        event("e3", "m2", at(mar(18), 4), "magnetic"),
        event("e4", "m4", at(mar(22), 10), "cover_open"),
        event("e5", "m3", at(mar(25), 0), "reverse_flow", "detected"),
        event("e6", "m1", at(mar(3), 9), "reboot"),
    ]


def _health(meter: str, day: dt.date) -> dict[str, Any]:
    status, issues, battery = "online", None, 80.0
    readings, last_seen = 24, at(day, 23)
    if meter == "m2" and day in (mar(8), mar(9)):
        status, issues, readings, last_seen = "offline", "no data", 0, at(mar(7), 23)
    if meter == "m4" and day == mar(26):
        status, issues, readings, last_seen = "warning", "missed readings", 20, at(day, 19)
    if meter == "m4" and day >= mar(27):
        status, issues, readings, last_seen = "offline", "no data", 0, at(mar(26), 19)
    if meter == "m3":
        battery = {mar(29): 11.0, mar(30): 10.0, mar(31): 9.5}.get(day, 12.0)
        if day == mar(31):
            status, issues = "warning", "low battery"
    score = {"online": 100.0, "warning": 70.0, "offline": 0.0}[status]
    return {
        "site_id": SITE,
        "meter_id": meter,
        "day": day,
        "readings": readings,
        "expected_readings": 24,
        "last_seen_at": last_seen,
        "battery_pct": battery,
        "signal_dbm": -95.0,
        "low_battery_pct": 10.0,
        "reboots": 1 if (meter, day) == ("m1", mar(3)) else 0,
        "status": status,
        "health_score": score,
        "issues": issues,
    }


def health_rows() -> list[dict[str, Any]]:
    # the whole quarter, so January to March are complete months of the device-health report
    return [_health(meter, day) for day in days() for meter in METERS]


def maintenance_rows() -> list[dict[str, Any]]:
    def task(
        tid: str,
        meter: str,
        kind: str,
        due: dt.date,
        tech: str | None,
        status: str,
        state: str,
        overdue: int | None = None,
        done: dt.datetime | None = None,
    ) -> dict:
        return {
            "site_id": SITE,
            "task_id": tid,
            "meter_id": meter,
            "customer_id": METERS[meter],
            "task_type": kind,
            "due_date": due,
            "technician": tech,
            "status": status,
            "done_at": done,
            "due_state": state,
            "days_overdue": overdue,
        }

    return [
        task("t1", "m4", "battery_replacement", mar(20), "Budi", "scheduled", "overdue", 11),
        task("t2", "m1", "inspection", dt.date(2026, 4, 5), "Sari", "scheduled", "due_soon"),
        task("t3", "m2", "calibration", mar(10), "Sari", "done", "done", done=at(mar(9))),
        task("t4", "m3", "repair", mar(25), "Budi", "scheduled", "overdue", 6),
        task("t5", "m1", "other", mar(1), None, "cancelled", "cancelled"),
    ]


# -- money -------------------------------------------------------------------------------------
COLLECTIONS = {
    dt.date(2025, 10, 1): 1_000_000.0,
    dt.date(2025, 11, 1): 1_100_000.0,
    dt.date(2025, 12, 1): 900_000.0,
    dt.date(2026, 1, 1): 1_000_000.0,
    FEB: 950_000.0,
    MARCH: 700_000.0,
    APRIL: 50_000.0,
}


def revenue_rows() -> list[dict[str, Any]]:
    rows = []
    for month, collections in COLLECTIONS.items():
        rows.append(
            {
                "site_id": SITE,
                "month": month,
                "collections": collections,
                "credit_sold": collections + 25_000.0,
                "voucher_cost": 25_000.0,
                "earned_consumption": 600_000.0,
                "earned_fixed": 22_500.0,
                "earned_revenue": 622_500.0,
                "deferred_revenue_opening": 300_000.0,
                "deferred_revenue_closing": 300_000.0 + collections + 25_000.0 - 622_500.0,
                "emergency_debt_closing": 0.0,
                "consumption_m3": 150.0,
                "active_customers": 3,
            }
        )
    # March as worked out: 725 000 credit sold, 622 500 earned, deferred 300 000 -> 402 500,
    # c3's 25 000 of emergency debt at the month's end
    march = next(r for r in rows if r["month"] == MARCH)
    march.update(
        emergency_debt_closing=25_000.0,
        deferred_revenue_closing=402_500.0,
        consumption_m3=148.5,
    )
    return rows


def collection_rows() -> list[dict[str, Any]]:
    def row(
        month: dt.date,
        segment: str,
        method: str,
        provider: str | None,
        n: int,
        credit: float,
        paid: float,
    ) -> dict[str, Any]:
        return {
            "site_id": SITE,
            "month": month,
            "segment": segment,
            "payment_method": method,
            "provider": provider,
            "purchases": n,
            "credit_sold": credit,
            "collections": paid,
            "voucher_cost": credit - paid,
        }

    return [
        row(MARCH, "household_iiia", "virtual_account", "bca", 10, 400_000.0, 380_000.0),
        row(MARCH, "household_iiia", "e_wallet", "gopay", 5, 150_000.0, 150_000.0),
        row(MARCH, "commercial", "qr", "dana", 2, 175_000.0, 170_000.0),
        row(FEB, "household_iiia", "virtual_account", "bca", 20, 700_000.0, 680_000.0),
        row(FEB, "commercial", "qr", "dana", 3, 275_000.0, 270_000.0),
    ]


def segment_rows() -> list[dict[str, Any]]:
    return [
        {
            "site_id": SITE,
            "segment": "household_iiia",
            "month": MARCH,
            "customers": 2,
            "volume_m3": 48.5,
            "volume_per_customer_m3": 24.25,
            "prev_month_m3": 50.0,
            "mom_change_pct": -3.0,
            "same_month_last_year_m3": 40.0,
            "yoy_change_pct": 21.25,
        },
        {
            "site_id": SITE,
            "segment": "commercial",
            "month": MARCH,
            "customers": 1,
            "volume_m3": 100.0,
            "volume_per_customer_m3": 100.0,
            "prev_month_m3": 80.0,
            "mom_change_pct": 25.0,
            "same_month_last_year_m3": None,
            "yoy_change_pct": None,
        },
        {
            "site_id": SITE,
            "segment": "household_iiia",
            "month": FEB,
            "customers": 2,
            "volume_m3": 50.0,
            "volume_per_customer_m3": 25.0,
        },
    ]


def voucher_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def redemption(
        code: str, pid: str, customer: str, day: dt.date, amount: float, discount: float
    ) -> dict[str, Any]:
        return {
            "site_id": SITE,
            "voucher_code": code,
            "purchase_id": pid,
            "customer_id": customer,
            "paid_at": at(day),
            "day": day,
            "amount": amount,
            "discount": discount,
            "final_amount": amount - discount,
        }

    redemptions = [
        # March: HEMAT10 twice (10 000 + 10 000), RAMADAN once (5 000): 25 000 of voucher cost
        redemption("HEMAT10", "p1", "c1", mar(2), 100_000.0, 10_000.0),
        redemption("HEMAT10", "p2", "c2", mar(9), 100_000.0, 10_000.0),
        redemption("RAMADAN", "p3", "c3", mar(12), 175_000.0, 5_000.0),
        redemption("HEMAT10", "p0", "c1", dt.date(2026, 2, 10), 100_000.0, 10_000.0),
    ]
    summary = [
        {
            "site_id": SITE,
            "voucher_code": "HEMAT10",
            "discount_type": "percentage",
            "value": 10.0,
            "redemptions": 3,
            "customers": 2,
            "total_discount": 30_000.0,
            "total_limit": 100,
            "remaining_uses": 97,
            "valid_from": at(dt.date(2026, 1, 1), 0),
            "valid_until": at(dt.date(2026, 6, 30), 23),
        },
        {
            "site_id": SITE,
            "voucher_code": "RAMADAN",
            "discount_type": "fixed",
            "value": 5_000.0,
            "redemptions": 1,
            "customers": 1,
            "total_discount": 5_000.0,
            "total_limit": None,
            "remaining_uses": None,
            "valid_from": at(mar(1), 0),
            "valid_until": at(mar(31), 23),
        },
    ]
    return redemptions, summary


def dims() -> dict[str, list[dict[str, Any]]]:
    customers = [
        {
            "customer_id": "c1",
            "name": "Ibu Sari",
            "segment": "household_iiia",
            "household_size": 4,
            "low_balance_threshold": 25_000.0,
        },
        {
            "customer_id": "c2",
            "name": "Pak Joko",
            "segment": "household_iiia",
            "household_size": 2,
            "low_balance_threshold": 50_000.0,
        },
        {
            "customer_id": "c3",
            "name": "Warung Maju",
            "segment": "commercial",
            "low_balance_threshold": 25_000.0,
        },
    ]
    meters = [
        {
            "meter_id": m,
            "customer_id": c,
            "q3_m3_per_h": 2.5,
            "communication": "nb_iot",
            "reading_interval_minutes": 60,
            "active": True,
        }
        for m, c in METERS.items()
    ]
    return {
        "dim_metering_customers": [{"site_id": SITE, "active": True, **c} for c in customers],
        "dim_metering_meters": [{"site_id": SITE, **m} for m in meters],
    }


def tables() -> dict[str, list[dict[str, Any]]]:
    redemptions, summary = voucher_rows()
    ledger = ledger_rows()
    latest = {r["customer_id"]: r for r in ledger if r["day"] == LAST}
    return {
        **dims(),
        "fct_customer_ledger_daily": ledger,
        "fct_customer_balances": [
            {
                "site_id": SITE,
                "customer_id": c,
                "as_of_day": LAST,
                "balance": r["closing_balance"],
                "balance_status": r["balance_status"],
                "days_of_credit_left": r["days_of_credit_left"],
                "low_balance_threshold": r["low_balance_threshold"],
            }
            for c, r in latest.items()
        ],
        "fct_meter_consumption_daily": [],
        "fct_meter_leak_days": leak_rows(),
        "fct_meter_events": event_rows(),
        "fct_meter_health_daily": health_rows(),
        "fct_maintenance_tasks": maintenance_rows(),
        "fct_metering_revenue_monthly": revenue_rows(),
        "fct_metering_collections_monthly": collection_rows(),
        "fct_segment_consumption_monthly": segment_rows(),
        "fct_voucher_redemptions": redemptions,
        "fct_voucher_summary": summary,
    }


def publish(settings: Settings, tables_: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """'aqua' with the metering marts above (or ``tables_``), 'mine' with none; the water marts
    empty."""
    settings.published_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_db)) as con:
        con.execute(
            "create or replace table dim_sites as select * from (values "
            "('aqua', 'Aqua Tirta utility', 'Asia/Jakarta', 1, '', null::varchar), "
            "('mine', 'Mine', 'UTC', 7, '', null::varchar)) "
            "as t(site_id, site_name, timezone, financial_year_start_month, regulators, "
            "organisation)"
        )
        con.execute("create or replace table _siteledger_publish as select 'v-test' as version_id")
        for table, columns in WATER_TABLES.items():
            con.execute(f"create or replace table {table} ({columns})")
        for table, rows in (tables() if tables_ is None else tables_).items():
            write_table(con, table, rows)
