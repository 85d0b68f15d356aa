"""The two hand-made metering sites of the dbt tests, written to one lake and built once.

- ``meter_ledger`` (test_metering_ledger.py): two prepaid customers over 2025-01-14 .. 02-02,
  a block tariff whose second version starts 2025-01-20, a voucher, a district with a bulk
  meter of the water chain.
- ``meter_detect`` (test_metering_detection.py): one customer meter per detection case, with
  hourly series on 2025-03-09 .. 03-10.

Both sites are in Asia/Jakarta (UTC+7, no daylight saving): every time below is local.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ingestion.site_tables import write_site_tables
from siteledger.settings import get_settings
from siteledger.site import load_site
from tests.dbt import metering_lake as lake_writer
from tests.dbt.runner import run_dbt, shared_home

FIXTURES = Path(__file__).parent / "fixtures"
JAKARTA = dt.timezone(dt.timedelta(hours=7))
LOADED_AT = dt.datetime(2025, 3, 12, 0, 0, tzinfo=dt.UTC)
LEDGER_SITE = "meter_ledger"
DETECT_SITE = "meter_detect"

# --- the ledger site -------------------------------------------------------------------------
LEDGER_FIRST = dt.date(2025, 1, 14)
LEDGER_LAST = dt.date(2025, 2, 2)


def local(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A local (Jakarta) wall-clock time as an aware instant."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=JAKARTA)


def days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def c1_volume(day: dt.date) -> float:
    """C1's daily m3: 1 a day, 6 on 01-20, 2 a day in February."""
    if day == dt.date(2025, 1, 20):
        return 6.0
    if day.month == 2:
        return 2.0
    return 1.0


def c2_volume(day: dt.date) -> float:
    """C2's daily m3: 2 a day to 01-19, 8 on 01-20, nothing after (deactivated 01-21)."""
    if day <= dt.date(2025, 1, 19):
        return 2.0
    if day == dt.date(2025, 1, 20):
        return 8.0
    return 0.0


BULK_LOSS_M3_PER_DAY = 1.0


def _ledger_records(lake: Path) -> None:
    site = LEDGER_SITE

    def write(kind: str, rows: list[dict[str, Any]], batch: str = "b1") -> None:
        lake_writer.write_kind(
            lake, kind, site, rows, batch=batch, loaded_at=LOADED_AT, timezone=JAKARTA
        )

    created = local(LEDGER_FIRST, 10)
    write(
        "customers",
        [
            {
                "customer_id": "C1",
                "action": "create",
                "name": "Customer One",
                "segment": "house",
                "household_size": 4,
                "district_id": "north",
                "effective_at": created,
            },
            {
                "customer_id": "C2",
                "action": "create",
                "name": "Customer Two",
                "segment": "house",
                "household_size": 2,
                "district_id": "north",
                "low_balance_threshold": 5000.0,
                "effective_at": created,
            },
            {
                "customer_id": "C2",
                "action": "deactivate",
                "effective_at": local(dt.date(2025, 1, 21), 10),
            },
        ],
    )
    write(
        "meters",
        [
            {
                "meter_id": "M1",
                "action": "create",
                "customer_id": "C1",
                "communication": "nb_iot",
                "reading_interval_minutes": 60,
                "effective_at": created,
            },
            {
                "meter_id": "M2",
                "action": "create",
                "customer_id": "C2",
                "communication": "lora",
                "reading_interval_minutes": 60,
                "effective_at": created,
            },
        ],
    )
    write(
        "vouchers",
        [
            {
                "voucher_code": "SAVE10",
                "discount_type": "percentage",
                "value": 10.0,
                "max_discount": 10000.0,
                "total_limit": 100,
                "per_customer_limit": 1,
                "valid_from": local(dt.date(2025, 1, 1)),
                "valid_until": local(dt.date(2025, 3, 1)),
            }
        ],
    )
    purchase = {"discount": 0.0}
    write(
        "purchases",
        [
            {
                **purchase,
                "purchase_id": "P1",
                "customer_id": "C1",
                "meter_id": "M1",
                "paid_at": local(LEDGER_FIRST, 12),
                "amount": 30000.0,
                "final_amount": 30000.0,
                "payment_method": "virtual_account",
                "provider": "bca",
            },
            {
                "purchase_id": "P2",
                "customer_id": "C1",
                "meter_id": "M1",
                "paid_at": local(dt.date(2025, 1, 27), 9),
                "amount": 50000.0,
                "voucher_code": "SAVE10",
                "discount": 5000.0,
                "final_amount": 45000.0,
                "payment_method": "qr",
                "provider": "gopay",
            },
            {
                **purchase,
                "purchase_id": "P3",
                "customer_id": "C2",
                "meter_id": "M2",
                "paid_at": local(LEDGER_FIRST, 12),
                "amount": 10000.0,
                "final_amount": 10000.0,
                "payment_method": "e_wallet",
                "provider": "ovo",
            },
        ],
    )
    # M1: forward register read every hour from 01-14 00:00 to 02-03 00:00, the day's volume
    # spread evenly over its 24 hours; M2: interval volumes of the hour ending at each reading
    register = 100.0
    readings: list[dict[str, Any]] = [
        {"meter_id": "M1", "read_at": local(LEDGER_FIRST), "register_m3": register}
    ]
    for day in days(LEDGER_FIRST, LEDGER_LAST):
        for hour in range(24):
            register += c1_volume(day) / 24
            end = local(day, hour) + dt.timedelta(hours=1)
            readings.append({"meter_id": "M1", "read_at": end, "register_m3": register})
            readings.append({"meter_id": "M2", "read_at": end, "interval_m3": c2_volume(day) / 24})
    write("readings", readings)

    # the bulk meter of district north, read by hand at local midnight in the water chain
    bulk = 5000.0
    water = [("BULK-N", local(LEDGER_FIRST), bulk, "m3")]
    for day in days(LEDGER_FIRST, LEDGER_LAST):
        bulk += c1_volume(day) + c2_volume(day) + BULK_LOSS_M3_PER_DAY
        water.append(("BULK-N", local(day + dt.timedelta(days=1)), bulk, "m3"))
    lake_writer.write_water_readings(
        lake, site, water, batch="w1", loaded_at=LOADED_AT, timezone=JAKARTA
    )

    lake_writer.write_settings(lake, site)
    lake_writer.write_site_table(
        lake,
        "metering_tariffs",
        site,
        [
            {
                "tariff_id": "house",
                "name": "Household",
                "effective_from": dt.date(2025, 1, 1),
                "effective_to": dt.date(2025, 1, 19),
                "fixed_charge_per_month": 3100.0,
            },
            {
                "tariff_id": "house",
                "name": "Household",
                "effective_from": dt.date(2025, 1, 20),
                "effective_to": None,
                "fixed_charge_per_month": 6200.0,
            },
        ],
    )
    blocks = []
    for effective_from, rates in (
        (dt.date(2025, 1, 1), (1000, 2000, 3000)),
        (dt.date(2025, 1, 20), (1500, 2500, 3500)),
    ):
        for block_no, (lower, upper, rate) in enumerate(
            zip((0.0, 10.0, 20.0), (10.0, 20.0, None), rates, strict=True), start=1
        ):
            blocks.append(
                {
                    "tariff_id": "house",
                    "effective_from": effective_from,
                    "block_no": block_no,
                    "from_m3": lower,
                    "to_m3": upper,
                    "rate": float(rate),
                }
            )
    lake_writer.write_site_table(lake, "metering_tariff_blocks", site, blocks)
    lake_writer.write_site_table(
        lake,
        "metering_districts",
        site,
        [{"district_id": "north", "name": "North zone", "bulk_meter_id": "BULK-N"}],
    )


# --- the detection site ------------------------------------------------------------------------
DAY0 = dt.date(2025, 3, 9)
DAY = dt.date(2025, 3, 10)
DETECT_METERS = (
    "LEAK_C",
    "LEAK_I",
    "NIGHT",
    "STALE",
    "BURST",
    "REVERSE",
    "OFFLINE",
    "LOWBAT",
    "RESET",
    "GAP",
    "QUARTER",
)


def detect_litres(meter: str, day: dt.date, hour: int) -> float:
    """Litres through ``meter`` in the local hour ``hour`` of ``day`` (the hand series)."""
    if meter == "LEAK_C":
        # two morning draws every day; on DAY also 20 L in every hour (a running toilet)
        return (50.0 if hour in (7, 8) else 0.0) + (20.0 if day == DAY else 0.0)
    if meter == "LEAK_I":
        return 5.0 if day == DAY and hour <= 13 else 0.0
    if meter == "NIGHT":
        return 15.0 if day == DAY and hour <= 5 else 0.0
    if meter == "STALE":
        return 20.0 if day == DAY else 0.0
    if meter == "BURST":
        if day != DAY:
            return 0.0
        return {10: 800.0, 11: 800.0, 12: 800.0, 15: 600.0}.get(hour, 0.0)
    if meter in ("RESET", "GAP", "QUARTER"):
        return 10.0
    return 0.0


def _quarter_hour_readings(register: float) -> list[dict[str, Any]]:
    """QUARTER: a register read every 15 minutes, 2.5 L a quarter; the DAY 10:15 reading is
    delivered twice (the same record again)."""
    rows = []
    for day in (DAY0, DAY):
        for hour in range(24):
            for quarter in range(4):
                register += 0.0025
                row = {
                    "meter_id": "QUARTER",
                    "read_at": local(day, hour) + dt.timedelta(minutes=15 * (quarter + 1)),
                    "register_m3": register,
                    "reverse_m3": 3.0,
                    "battery_pct": 50.0,
                    "signal_dbm": -90.0,
                }
                rows.append(row)
                if day == DAY and hour == 10 and quarter == 0:
                    rows.append(dict(row))
    return rows


def _detect_readings() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for meter in DETECT_METERS:
        register = 500.0
        reverse = 3.0
        rows.append(
            {
                "meter_id": meter,
                "read_at": local(DAY0),
                "register_m3": register,
                "reverse_m3": reverse,
                "battery_pct": 50.0,
                "signal_dbm": -90.0,
            }
        )
        if meter == "QUARTER":
            rows.extend(_quarter_hour_readings(register))
            continue
        for day in (DAY0, DAY):
            for hour in range(24):
                end = local(day, hour) + dt.timedelta(hours=1)
                register += detect_litres(meter, day, hour) / 1000
                if meter == "REVERSE" and day == DAY:
                    reverse += 0.001
                if meter == "STALE" and day == DAY and hour >= 12:
                    continue  # the meter's last report is DAY 12:00
                if meter == "OFFLINE" and (day == DAY or hour >= 12):
                    continue  # the meter's last report is DAY0 12:00
                if meter == "GAP" and day == DAY and hour < 5:
                    continue  # no report from DAY 01:00 to 05:00; 06:00 closes the gap
                if meter == "RESET" and day == DAY and hour == 5:
                    register = 0.004  # replaced: the new register read 4 L at 06:00
                low = meter == "LOWBAT" and day == DAY
                rows.append(
                    {
                        "meter_id": meter,
                        "read_at": end,
                        "register_m3": register,
                        "reverse_m3": reverse,
                        "battery_pct": 8.0 if low else 50.0,
                        "signal_dbm": -115.0 if low else -90.0,
                    }
                )
    return rows


def _detect_records(lake: Path) -> None:
    site = DETECT_SITE

    def write(kind: str, rows: list[dict[str, Any]], batch: str = "b1", **kw: Any) -> None:
        lake_writer.write_kind(
            lake,
            kind,
            site,
            rows,
            batch=batch,
            loaded_at=kw.get("loaded_at", LOADED_AT),
            timezone=JAKARTA,
        )

    created = local(DAY0 - dt.timedelta(days=30))
    meters = [*DETECT_METERS, "WM1"]
    write(
        "customers",
        [
            {
                "customer_id": f"K-{m}",
                "action": "create",
                "name": m,
                "segment": "house",
                "household_size": 3,
                "effective_at": created,
            }
            for m in meters
        ],
    )
    write(
        "meters",
        [
            {
                "meter_id": m,
                "action": "create",
                "customer_id": f"K-{m}",
                "communication": "nb_iot",
                "q3_m3_per_h": 2.5,
                "reading_interval_minutes": 15 if m == "QUARTER" else 60,
                "effective_at": created,
            }
            for m in meters
        ],
    )
    write("readings", _detect_readings())
    write(
        "meter_events",
        [
            {
                "event_id": "E1",
                "meter_id": "LEAK_C",
                "occurred_at": local(DAY, 14),
                "event_type": "magnetic",
                "detail": "magnet on the register",
            },
            {
                "event_id": "E2",
                "meter_id": "LOWBAT",
                "occurred_at": local(DAY, 9),
                "event_type": "reboot",
            },
        ],
    )
    task = {"meter_id": "LOWBAT", "technician": "Budi", "status": "scheduled"}
    write(
        "maintenance",
        [
            {
                **task,
                "task_id": "T1",
                "task_type": "battery_replacement",
                "due_date": dt.date(2025, 3, 1),
            }
        ],
        batch="b0",
        loaded_at=LOADED_AT - dt.timedelta(days=1),
    )
    write(
        "maintenance",
        [
            # T1 re-delivered with a new due date: the later delivery wins
            {
                **task,
                "task_id": "T1",
                "task_type": "battery_replacement",
                "due_date": dt.date(2025, 3, 5),
            },
            {**task, "task_id": "T2", "task_type": "inspection", "due_date": dt.date(2025, 3, 20)},
            {**task, "task_id": "T3", "task_type": "calibration", "due_date": dt.date(2025, 4, 30)},
            {
                **task,
                "task_id": "T4",
                "task_type": "repair",
                "due_date": dt.date(2025, 3, 1),
                "status": "done",
                "done_at": local(dt.date(2025, 3, 2), 11),
            },
            {
                **task,
                "task_id": "T5",
                "task_type": "other",
                "due_date": dt.date(2025, 3, 3),
                "status": "cancelled",
            },
        ],
    )
    # WM1 is also a totaliser of the site file, polled into the water readings lake: 10 L an
    # hour on DAY, read on the hour
    water = [("WM1", local(DAY) + dt.timedelta(hours=h), 100.0 + 0.01 * h, "m3") for h in range(25)]
    lake_writer.write_water_readings(
        lake, site, water, batch="w1", loaded_at=LOADED_AT, timezone=JAKARTA
    )
    lake_writer.write_settings(lake, site)


# --- building ---------------------------------------------------------------------------------
WRITERS: dict[str, Callable[[Path], None]] = {
    LEDGER_SITE: _ledger_records,
    DETECT_SITE: _detect_records,
}
SITE_FILES = {
    LEDGER_SITE: FIXTURES / "metering_ledger_site.yaml",
    DETECT_SITE: FIXTURES / "metering_detect_site.yaml",
}
SELECT = ("--select", "+path:models/marts/metering", "--indirect-selection", "cautious")


def write_metering_sites(home: Path) -> None:
    """Site tables of both sites (the water chain's and the metering ones) and their records."""
    settings = get_settings(home)
    for site_id, writer in WRITERS.items():
        write_site_tables(settings, load_site(SITE_FILES[site_id]))
        writer(settings.lake)


def build_metering_home(home: Path) -> None:
    write_metering_sites(home)
    run_dbt(home, "build", *SELECT)


_BUILT: dict[str, Path] = {}


def metering_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The home both metering test modules read, built once per test run."""
    if "home" not in _BUILT:
        _BUILT["home"] = shared_home(tmp_path_factory, "metering", build_metering_home)
    return _BUILT["home"]
