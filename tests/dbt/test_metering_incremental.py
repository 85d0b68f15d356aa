"""A window run of the metering ledger and device-health models leaves what a full build makes.

int_metering_customer_days, fct_customer_ledger_daily and fct_meter_health_daily carry the day
before their window (month-to-date, closing balance, the recent charges, last seen) from their
own rows instead of recomputing all history, and fct_meter_leak_days classifies only the
window's days; these tests hold them to the full build, also when a purchase or a reboot event
for a day before the window arrives late.
Records: tests/dbt/metering_scenarios.py (Asia/Jakarta).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from siteledger.settings import get_settings
from tests.dbt import metering_lake as lake_writer
from tests.dbt.metering_scenarios import (
    DAY,
    DAY0,
    DETECT_SITE,
    JAKARTA,
    LEDGER_LAST,
    LEDGER_SITE,
    SELECT,
    local,
    write_metering_sites,
)
from tests.dbt.runner import query, run_dbt

CARRIED = (
    "intermediate.int_metering_customer_days",
    "marts.fct_customer_ledger_daily",
    "marts.fct_meter_health_daily",
    "marts.fct_meter_leak_days",
)
# a nightly run: the day-partitioned models and what the carried models read
WINDOW_SELECT = (
    "--select",
    "+fct_customer_ledger_daily",
    "+fct_meter_health_daily",
    "+fct_meter_leak_days",
)


def _rounded(value: Any) -> Any:
    # a carried balance adds the same charges in another order: equal to 1e-6
    return round(value, 6) if isinstance(value, float) else value


def _snapshot(home: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: [
            tuple(_rounded(v) for v in row.values())
            for row in query(home, f"select * from {table} order by all")
        ]
        for table in CARRIED
    }


def _window(home: Path, day: dt.date) -> None:
    run_dbt(home, "run", *WINDOW_SELECT, dbt_vars={"start_day": str(day), "end_day": str(day)})


def test_a_window_run_inside_the_history_rewrites_the_same_rows(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Window 01-25 of the ledger site (and DAY of the detection site): every day from its
    lookback day to the last day is recomputed from the carried day before, equal to the full
    build, and the days before are left alone."""
    home = tmp_path_factory.mktemp("metering_carry")
    write_metering_sites(home)
    run_dbt(home, "run", *SELECT)
    full = _snapshot(home)
    _window(home, dt.date(2025, 1, 25))
    assert _snapshot(home) == full
    _window(home, DAY)
    assert _snapshot(home) == full
    ledger_days = {row[3] for row in full["marts.fct_customer_ledger_daily"]}
    assert dt.date(2025, 1, 24) in ledger_days and LEDGER_LAST in ledger_days


def test_a_late_purchase_and_a_late_reboot_reach_the_nightly_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A purchase paid on 01-16 and a reboot on DAY0, both delivered after the build, change
    every later closing balance and that day's health; the window run of the last day finds
    them and equals a full build."""
    home = tmp_path_factory.mktemp("metering_late")
    write_metering_sites(home)
    run_dbt(home, "run", *SELECT)
    before = _snapshot(home)
    reboots_sql = (
        "select reboots from marts.fct_meter_health_daily "
        f"where site_id = '{DETECT_SITE}' and meter_id = 'LOWBAT' and day = '{DAY0}'"
    )
    [reboots_before] = query(home, reboots_sql)
    lake = get_settings(home).lake
    loaded_at = dt.datetime(2025, 3, 13, tzinfo=dt.UTC)
    lake_writer.write_kind(
        lake,
        "purchases",
        LEDGER_SITE,
        [
            {
                "purchase_id": "P-LATE",
                "customer_id": "C1",
                "meter_id": "M1",
                "paid_at": local(dt.date(2025, 1, 16), 8),
                "amount": 7000.0,
                "discount": 0.0,
                "final_amount": 7000.0,
                "payment_method": "manual",
            }
        ],
        batch="late",
        loaded_at=loaded_at,
        timezone=JAKARTA,
    )
    lake_writer.write_kind(
        lake,
        "meter_events",
        DETECT_SITE,
        [
            {
                "event_id": "E-LATE",
                "meter_id": "LOWBAT",
                "occurred_at": local(DAY0, 3),
                "event_type": "reboot",
            }
        ],
        batch="late",
        loaded_at=loaded_at,
        timezone=JAKARTA,
    )
    _window(home, LEDGER_LAST)
    windowed = _snapshot(home)
    run_dbt(home, "run", *SELECT)
    assert windowed == _snapshot(home)
    assert windowed != before

    closing = query(
        home,
        "select day, closing_balance, credit_purchased from marts.fct_customer_ledger_daily "
        f"where site_id = '{LEDGER_SITE}' and customer_id = 'C1' order by day",
    )
    by_day = {row["day"]: row for row in closing}
    assert by_day[dt.date(2025, 1, 16)]["credit_purchased"] == 7000
    # the hand ledger's 02-02 closing balance (test_metering_ledger.py) plus the late credit
    assert by_day[LEDGER_LAST]["closing_balance"] == pytest.approx(23057.142857 + 7000, abs=1e-5)
    [reboots_after] = query(home, reboots_sql)
    assert reboots_after["reboots"] == reboots_before["reboots"] + 1
