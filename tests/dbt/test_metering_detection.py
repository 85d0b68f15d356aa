"""Leak, burst, reverse-flow and device-health detection on hand hourly series.

The ``meter_detect`` site (tests/dbt/metering_scenarios.py, Asia/Jakarta) has one customer meter
per case, read every hour on 2025-03-09 (DAY0) and 2025-03-10 (DAY); settings are the defaults
of the `metering:` section: night 02:00-05:00, zero flow < 1 L/h, night flow > 10 L/h,
intermittent from 12 flowing hours, burst above 0.2 x Q3 (2.5 m3/h) = 0.5 m3 in an hour,
reverse flow above 5 L a day, offline after 3 missed hourly reports, low battery < 10 %, weak
signal < -110 dBm. Hand figures for DAY:

    LEAK_C   20 L every hour + 50 L at 07 and 08: 24 flowing hours -> continuous (DAY0 is not)
    LEAK_I   5 L/h in hours 00-13: 14 flowing hours, night min 5 > 1 -> intermittent
    NIGHT    15 L/h in hours 00-05: 6 flowing hours, night min 15 > 10 -> night_flow
    STALE    20 L/h, last report 12:00: not fresh (12:00 < 24:00 - 3 h) -> no leak, offline
    BURST    0.8 m3 in hours 10, 11, 12 and 0.6 in hour 15: two bursts (10:00-13:00, 15:00-16:00
             local = 03:00-06:00 and 08:00-09:00 UTC); no leak (4 flowing hours)
    REVERSE  reverse register +1 L an hour: 24 L > 5 L -> one reverse-flow event
    OFFLINE  last report DAY0 12:00: offline on DAY0 and DAY, 1 day offline on DAY
    LOWBAT   battery 8 %, signal -115 dBm, a reboot at 09:00: warning, score 100 - 20 - 15 - 5 = 60
    RESET    10 L/h; the register drops to 0.004 m3 at 06:00 (replaced): 5 x 10 + 4 + 18 x 10
             = 234 L, one reset, never negative
    GAP      10 L/h; no report 01:00-05:00, the 06:00 report's 60 L spread over hours 00-05
             (gap_m3 0.06), 19 reported hours: no leak (not all hours reported, no night
             minimum), partial reporting: score 100 - 50 x (1 - 19/24) = 89.58 -> 90
    QUARTER  a register read every 15 minutes, 2.5 L a quarter (10 L/h), the DAY 10:15 reading
             delivered twice: 4 readings an hour (5 in 10:00-11:00), 10 L in every hour, 240 L
             and 97 readings on DAY; a continuous leak on DAY0 and DAY (one event, from DAY0)
    WM1      a site meter of the water chain with a customer meter's id: its register (10 L/h)
             feeds the metering readings: 240 L on DAY
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.dbt.metering_scenarios import (
    DAY,
    DAY0,
    DETECT_SITE,
    SELECT,
    metering_home,
    write_metering_sites,
)
from tests.dbt.runner import query, run_dbt


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return metering_home(tmp_path_factory)


def _by_meter(home: Path, table: str, day: dt.date = DAY) -> dict[str, dict[str, Any]]:
    rows = query(
        home,
        f"select * from marts.{table} where site_id = '{DETECT_SITE}' and day = '{day}'",
    )
    return {r["meter_id"]: r for r in rows}


def test_leak_kinds(home: Path) -> None:
    day = _by_meter(home, "fct_meter_leak_days")
    kinds = {meter: row["leak_kind"] for meter, row in day.items()}
    assert kinds == {
        "LEAK_C": "continuous",
        "LEAK_I": "intermittent",
        "NIGHT": "night_flow",
        "STALE": None,
        "BURST": None,
        "REVERSE": None,
        "LOWBAT": None,
        "RESET": "continuous",  # 10 L every hour is a running toilet too
        "GAP": None,
        "QUARTER": "continuous",
        "WM1": "continuous",
    }
    assert day["STALE"]["fresh"] is False and day["STALE"]["flowing_hours"] == 12
    assert day["LEAK_I"]["flowing_hours"] == 14 and day["LEAK_I"]["zero_flow_hours"] == 10
    assert day["LEAK_I"]["night_min_flow_l_per_h"] == pytest.approx(5)
    assert day["NIGHT"]["night_min_flow_l_per_h"] == pytest.approx(15)
    assert all(row["leak"] == (row["leak_kind"] is not None) for row in day.values())
    day0 = _by_meter(home, "fct_meter_leak_days", DAY0)
    assert day0["LEAK_C"]["leak_kind"] is None
    assert day0["LEAK_C"]["flowing_hours"] == 2


def test_daily_volumes_reset_and_gap(home: Path) -> None:
    day = _by_meter(home, "fct_meter_consumption_daily")
    litres = {meter: round(row["volume_m3"] * 1000, 6) for meter, row in day.items()}
    assert litres["LEAK_C"] == 24 * 20 + 100
    assert litres["BURST"] == 3000
    assert litres["RESET"] == 234
    assert day["RESET"]["resets"] == 1
    assert litres["GAP"] == 240
    assert round(day["GAP"]["gap_m3"], 6) == 0.06
    assert day["GAP"]["hours_reported"] == 19
    assert litres["WM1"] == 240
    assert round(day["REVERSE"]["reverse_m3"] * 1000, 6) == 24
    # the night (02-05 local) of NIGHT: 3 hours x 15 L; peak hours 07, 08 of LEAK_C: 2 x 70 L
    assert round(day["NIGHT"]["night_volume_m3"] * 1000, 6) == 45
    assert round(day["LEAK_C"]["peak_volume_m3"] * 1000, 6) == 2 * 70 + 3 * 20
    hours = query(
        home,
        "select local_hour, volume_m3, readings, gap_m3, hour_start from "
        f"marts.fct_meter_consumption_hourly where site_id = '{DETECT_SITE}' "
        f"and meter_id = 'GAP' and day = '{DAY}' order by hour_start",
    )
    assert [round(h["volume_m3"] * 1000, 6) for h in hours] == [10] * 24
    assert [h["readings"] for h in hours[:6]] == [0, 0, 0, 0, 0, 1]
    # local midnight of DAY in Jakarta is 17:00 UTC the day before
    assert hours[0]["hour_start"] == dt.datetime(2025, 3, 9, 17, tzinfo=dt.UTC)
    # several readings an hour (and one re-delivered): the hour's last register minus the
    # previous hour's last register; every delivered copy counts as a reading
    assert litres["QUARTER"] == 240 and day["QUARTER"]["readings"] == 97
    quarter_hours = query(
        home,
        "select local_hour, volume_m3, readings, gap_m3, resets from "
        f"marts.fct_meter_consumption_hourly where site_id = '{DETECT_SITE}' "
        f"and meter_id = 'QUARTER' and day in ('{DAY0}', '{DAY}') order by hour_start",
    )
    assert len(quarter_hours) == 48
    assert [round(h["volume_m3"] * 1000, 6) for h in quarter_hours] == [10] * 48
    assert [h["readings"] for h in quarter_hours[24:]] == [4] * 10 + [5] + [4] * 13
    assert {(h["gap_m3"], h["resets"]) for h in quarter_hours} == {(0, 0)}
    reset_hours = query(
        home,
        "select volume_m3 from marts.fct_meter_consumption_hourly "
        f"where site_id = '{DETECT_SITE}' and meter_id = 'RESET' and day = '{DAY}' "
        "order by hour_start",
    )
    assert min(h["volume_m3"] for h in reset_hours) >= 0


def test_detected_events(home: Path) -> None:
    rows = query(
        home,
        "select meter_id, event_type, source, occurred_at, cleared_at, detail, customer_id "
        f"from marts.fct_meter_events where site_id = '{DETECT_SITE}' and day = '{DAY}' "
        "order by meter_id, occurred_at",
    )
    utc = dt.UTC
    bursts = [r for r in rows if r["event_type"] == "burst"]
    assert [(r["occurred_at"], r["cleared_at"]) for r in bursts] == [
        (dt.datetime(2025, 3, 10, 3, tzinfo=utc), dt.datetime(2025, 3, 10, 6, tzinfo=utc)),
        (dt.datetime(2025, 3, 10, 8, tzinfo=utc), dt.datetime(2025, 3, 10, 9, tzinfo=utc)),
    ]
    assert bursts[0]["detail"] == "3 h above the burst threshold, 2.4 m3, peak 0.8 m3/h"
    assert {r["meter_id"] for r in bursts} == {"BURST"}
    reverse = [r for r in rows if r["event_type"] == "reverse_flow"]
    assert [(r["meter_id"], r["source"]) for r in reverse] == [("REVERSE", "detected")]
    leaks = {r["meter_id"] for r in rows if r["event_type"] == "leak"}
    assert leaks == {"LEAK_C", "LEAK_I", "NIGHT", "WM1"}
    # RESET leaked on DAY0 and DAY: one event for the run, dated its first day
    (run,) = query(
        home,
        "select day, cleared_at, detail from marts.fct_meter_events "
        f"where site_id = '{DETECT_SITE}' and meter_id = 'RESET' and event_type = 'leak'",
    )
    assert run["day"] == DAY0
    assert run["cleared_at"] == dt.datetime(2025, 3, 10, 17, tzinfo=utc)
    assert run["detail"] == "2 leak day(s): continuous"
    reported = [(r["meter_id"], r["event_type"]) for r in rows if r["source"] == "meter"]
    assert reported == [("LEAK_C", "magnetic"), ("LOWBAT", "reboot")]
    assert all(r["customer_id"] == f"K-{r['meter_id']}" for r in rows)


def test_device_health(home: Path) -> None:
    day = _by_meter(home, "fct_meter_health_daily")
    status = {meter: (row["status"], row["health_score"]) for meter, row in day.items()}
    assert status["LEAK_C"] == ("online", 100)
    assert status["OFFLINE"] == ("offline", 0)
    assert status["STALE"] == ("offline", 0)
    assert status["LOWBAT"] == ("warning", 60)
    assert status["GAP"] == ("warning", 90)
    low = day["LOWBAT"]
    assert (low["battery_pct"], low["signal_dbm"], low["reboots"]) == (8, -115, 1)
    assert low["issues"] == "low battery; weak signal; reboots"
    assert day["GAP"]["issues"] == "partial reporting"
    assert (day["OFFLINE"]["readings"], day["OFFLINE"]["expected_readings"]) == (0, 24)
    # DAY0 12:00 Jakarta = 05:00 UTC, carried over the silent day
    assert day["OFFLINE"]["last_seen_at"] == dt.datetime(2025, 3, 9, 5, tzinfo=dt.UTC)
    day0 = _by_meter(home, "fct_meter_health_daily", DAY0)
    assert day0["OFFLINE"]["status"] == "offline"
    assert day0["LOWBAT"]["status"] == "online"
    latest = {
        r["meter_id"]: r
        for r in query(
            home, f"select * from marts.fct_meter_health where site_id = '{DETECT_SITE}'"
        )
    }
    assert latest["OFFLINE"]["day"] == DAY and latest["OFFLINE"]["days_offline"] == 1
    assert latest["STALE"]["days_offline"] == 0
    assert latest["LEAK_C"]["days_offline"] == 0


def test_maintenance_due_states(home: Path) -> None:
    rows = query(
        home,
        "select task_id, due_date, due_state, days_overdue, customer_id "
        f"from marts.fct_maintenance_tasks where site_id = '{DETECT_SITE}' order by task_id",
    )
    # as of DAY (03-10), due soon = within 14 days; T1's later delivery moved it to 03-05
    assert [(r["task_id"], r["due_state"], r["days_overdue"]) for r in rows] == [
        ("T1", "overdue", 5),
        ("T2", "due_soon", 0),
        ("T3", "scheduled", 0),
        ("T4", "done", None),
        ("T5", "cancelled", None),
    ]
    assert rows[0]["due_date"] == dt.date(2025, 3, 5)
    assert {r["customer_id"] for r in rows} == {"K-LOWBAT"}


def test_tips(home: Path) -> None:
    rows = query(
        home,
        "select customer_id, tip_id, category, metric_value from marts.fct_water_saving_tips "
        f"where site_id = '{DETECT_SITE}' and month = '2025-03-01' order by customer_id, tip_id",
    )
    tips = {(r["customer_id"], r["tip_id"]): r for r in rows}
    assert tips[("K-LEAK_C", "leak_days")]["category"] == "leak_prevention"
    assert tips[("K-LEAK_C", "leak_days")]["metric_value"] == 1
    assert tips[("K-LOWBAT", "meter_attention")]["category"] == "maintenance"
    assert tips[("K-OFFLINE", "meter_attention")]["metric_value"] == 2
    assert ("K-LOWBAT", "leak_days") not in tips


def _snapshot(home: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        table: query(home, f"select * from marts.{table} order by all")
        for table in ("fct_meter_consumption_hourly", "fct_meter_consumption_daily")
    }


def test_a_one_day_window_run_rewrites_the_same_rows(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The nightly run of DAY (with its lookback day) leaves the incremental volume marts as
    the full build made them; a meter's first hour in the window has its previous hour."""
    home = tmp_path_factory.mktemp("metering_window")
    write_metering_sites(home)
    run_dbt(home, "run", *SELECT)
    full = _snapshot(home)
    run_dbt(
        home,
        "run",
        "--select",
        "fct_meter_consumption_hourly",
        "fct_meter_consumption_daily",
        dbt_vars={"start_day": str(DAY), "end_day": str(DAY)},
    )
    assert _snapshot(home) == full
    assert any(r["day"] == DAY for r in full["fct_meter_consumption_daily"])


def test_the_grain_test_reports_a_repeated_key_and_a_null_key(home: Path, tmp_path: Path) -> None:
    """The project's `grain` test (tests/generic/grain.sql) first groups by a hash of the key,
    then compares the columns of the keys whose hash repeats: a repeated key and a key with a
    null column are both failing rows, and the built mart has none."""
    compiled = home / "dbt" / "target" / "compiled"
    (path,) = compiled.rglob("grain_fct_meter_consumption_daily_*.sql")
    sql = path.read_text(encoding="utf-8")
    copy = tmp_path / "build.duckdb"  # the compiled SQL names its database `build`
    shutil.copy(home / "warehouse" / "build.duckdb", copy)
    with duckdb.connect(str(copy)) as con:
        assert con.execute(sql).fetchall() == []
        con.execute(
            "insert into marts.fct_meter_consumption_daily "
            "select * from marts.fct_meter_consumption_daily "
            f"where meter_id = 'GAP' and day = '{DAY}'"
        )
        con.execute(
            "insert into marts.fct_meter_consumption_daily "
            "select * replace (cast(null as varchar) as meter_id) "
            f"from marts.fct_meter_consumption_daily where meter_id = 'RESET' and day = '{DAY}'"
        )
        failing = sorted(con.execute(sql).fetchall(), key=str)
    assert failing == sorted([(DETECT_SITE, "GAP", DAY, 2), (DETECT_SITE, None, DAY, 1)], key=str)
