"""Smart meter readings through the vectorised readings importer: every hostile row gets one
reason while the good rows land one file per site-local day; litres become m3; two rows of one
meter and instant keep the later; an identical re-delivery is skipped; a rollback removes the
day files and marks the days for rebuilding; a million-row file imports in seconds. The test
site is in Australia/Perth (UTC+8)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import time

import numpy as np
import openpyxl
import pyarrow.parquet as pq
import pytest

from ingestion.files import recovery, rollback_batch
from ingestion.metering_lake import METERING_SCHEMAS, committed_records, metering_readings_file
from siteledger.state.store import utcnow
from tests.ingestion.hostile.home import Home, make_home
from tests.ingestion.metering_site import metering_site

SITE = "small_site"


@pytest.fixture
def home(tmp_path):
    h = make_home(tmp_path, metering_site())
    h.drop("customers_1.csv", "customer_id,segment\nC1,household_iiia\nC2,business\n")
    h.drop(
        "meters_1.csv",
        "meter_id,customer_id,communication,q3_m3_per_h,reading_interval_minutes\n"
        "M1,C1,nb_iot,2.5,60\nM2,C2,lora,,15\n",
    )
    results = h.run()
    assert all(r.status == "committed" for r in results.values())
    yield h
    h.store.dispose()


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


HEADER = "meter_id,read_at,register_m3,interval_m3,reverse_m3,battery_pct,signal_dbm\n"
HOSTILE = HEADER + "\n".join(
    [
        "M1,2025-03-01 00:00,100.5,,0,95,-80",  # 2 good (local day 03-01)
        "M1,2025-03-01 01:00,100.7,,,,",  # 3 superseded by line 4
        "M1,2025-03-01 01:00,100.8,,,,",  # 4 wins
        "M9,2025-03-01 01:00,1,,,,",  # 5 unknown meter
        ",2025-03-01 01:00,1,,,,",  # 6 no meter
        "M1,not a time,1,,,,",  # 7 timestamp
        "M1,2099-01-01 00:00,1,,,,",  # 8 far future
        "M1,1970-01-01 00:00,1,,,,",  # 9 a clock reset
        "M1,2025-03-01 02:00,,,,,",  # 10 neither volume
        "M1,2025-03-01 03:00,1,2,,,",  # 11 both
        "M1,2025-03-01 04:00,-3,,,,",  # 12 negative register
        "M1,2025-03-01 05:00,2e7,,,,",  # 13 absurd register
        "M2,2025-03-01 06:00,,70,,,",  # 14 above 100 x Q3 (2.5) x 0.25 h = 62.5
        "M2,2025-03-01 06:15,,0.02,,,",  # 15 good
        "M1,2025-03-01 07:00,abc,,,,",  # 16 not a number
        "M1,2025-03-01 08:00,inf,,,,",  # 17 not finite
        "M1,2025-03-01 09:00,101,,,150,",  # 18 battery above 100
        "M1,2025-03-01 10:00,101,,,,20",  # 19 signal above 0
        "M1,2025-03-01 23:30,102,,0.5,,",  # 20 good, next UTC day but the same local day
        "M1,2025-03-02 00:30,103,,,,",  # 21 good, local 03-02
    ]
)


def test_hostile_readings_are_quarantined_and_good_ones_land_per_local_day(home: Home):
    home.drop("readings_2025-03-01.csv", HOSTILE)

    result = home.run()["readings_2025-03-01.csv"]

    assert result.status == "committed"
    assert (result.total, result.imported, result.skipped, result.failed) == (20, 5, 0, 15)
    assert sorted(result.lake_files) == [
        metering_readings_file(home.settings, SITE, "headend", day, result.batch_id)
        for day in ("2025-03-01", "2025-03-02")
    ]
    first = pq.read_table(result.lake_files[0])
    assert first.schema.equals(METERING_SCHEMAS["readings"])
    rows = [
        (r["meter_id"], r["read_at"], r["register_m3"], r["interval_m3"], r["reverse_m3"],
         r["source_row"])
        for path in sorted(result.lake_files)
        for r in pq.read_table(path).to_pylist()
    ]  # fmt: skip
    assert rows == [
        ("M1", _at(2025, 2, 28, 16), 100.5, None, 0.0, 2),
        ("M1", _at(2025, 2, 28, 17), 100.8, None, None, 4),
        ("M1", _at(2025, 3, 1, 15, 30), 102.0, None, 0.5, 20),
        ("M2", _at(2025, 2, 28, 22, 15), None, 0.02, None, 15),
        ("M1", _at(2025, 3, 1, 16, 30), 103.0, None, None, 21),
    ]
    reasons = home.reasons_by_row(result.batch_id)
    assert reasons[3] == "duplicate reading of this meter and time: again on line 4, which wins"
    assert reasons[5] == "unknown meter 'M9': not registered in a committed meters file"
    assert reasons[6] == "meter_id is empty (required)"
    assert "not a time" in reasons[7]
    assert "later than now plus the future tolerance" in reasons[8]
    assert "before the site's first day of data 2025-01-01" in reasons[9]
    assert reasons[10] == "register_m3 and interval_m3 are both empty (one is needed)"
    assert reasons[11] == "register_m3 and interval_m3 are both given (exactly one)"
    assert reasons[12] == "register_m3 -3 is negative"
    assert reasons[13] == "register_m3 2e+07 is implausible (not within 0 to 1e+07)"
    assert reasons[14] == (
        "interval_m3 70 is implausible (above 100 x Q3 over the meter's interval: 62.5 m3)"
    )
    assert reasons[16] == "register_m3 'abc' is not a number"
    assert reasons[17] == "register_m3 'inf' is not a finite number"
    assert reasons[18] == "battery_pct 150 is implausible (not within 0 to 100)"
    assert reasons[19] == "signal_dbm 20 is implausible (not within -200 to 0)"
    assert len(reasons) == 15
    raw = {r["source_row"]: (r["raw_value"], r["raw_timestamp"])
           for r in home.quarantine(result.batch_id).to_pylist()}  # fmt: skip
    assert raw[16] == ("abc", "2025-03-01 07:00")
    assert raw[14] == ("70", "2025-03-01 06:00")


def test_litres_are_converted_and_renamed_columns_read(home: Home):
    home.drop(
        "litres_1.csv",
        "serial,time,litres\nM1,2025-03-01T00:00:00Z,12.5\nM1,2025-03-01T01:00:00Z,250001\n",
    )

    result = home.run()["litres_1.csv"]

    assert (result.imported, result.failed) == (1, 1)
    [row] = committed_records(home.settings, home.store, "readings", SITE).to_pylist()
    assert (row["meter_id"], row["read_at"], row["interval_m3"]) == ("M1", _at(2025, 3, 1), 0.0125)
    assert row["day"] == dt.date(2025, 3, 1)
    assert home.reasons_by_row(result.batch_id) == {
        3: "interval_m3 250.001 is implausible (above 100 x Q3 over the meter's interval: 250 m3)"
    }


def test_an_identical_redelivery_is_skipped_and_a_changed_one_kept(home: Home):
    home.drop("readings_a.csv", HEADER + "M1,2025-03-01 00:00,5,,,,\nM1,2025-03-01 01:00,6,,,,\n")
    home.run()
    home.drop(
        "readings_b.csv",
        HEADER
        + "M1,2025-03-01 00:00,5,,,,\nM1,2025-03-01 01:00,6.5,,,,\nM1,2025-03-01 02:00,7,,,,\n",
    )

    result = home.run()["readings_b.csv"]

    assert (result.total, result.imported, result.skipped, result.failed) == (3, 2, 1, 0)
    table = committed_records(home.settings, home.store, "readings", SITE)
    assert table.num_rows == 4


def test_a_rollback_removes_the_day_files_and_marks_the_days(home: Home):
    home.drop("readings_a.csv", HOSTILE)
    result = home.run()["readings_a.csv"]
    assert len(result.lake_files) == 2

    rollback_batch(home.settings, home.store, result.batch_id)

    assert not any(path.exists() for path in result.lake_files)
    assert committed_records(home.settings, home.store, "readings", SITE).num_rows == 0
    assert sorted({row.day for row in home.store.rebuild_days()}) == ["2025-03-01", "2025-03-02"]


def test_readings_from_a_workbook_and_json(home: Home):
    site = home.site.model_copy(deep=True)
    site.metering.layouts.append(
        site.metering.layouts[6].model_copy(
            update={"id": "headend_x", "pattern": "readings_*.xlsx", "format": "excel"}
        )
    )
    site.metering.layouts.append(
        site.metering.layouts[6].model_copy(
            update={"id": "headend_j", "pattern": "readings_*.json", "format": "json"}
        )
    )
    home.site = site
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["meter_id", "read_at", "interval_m3"])
    sheet.append(["M1", dt.datetime(2025, 3, 1, 8), 0.25])
    sheet.append(["M1", dt.datetime(2025, 3, 1, 9), "=C2*2"])
    sheet.append(["M1", dt.datetime(2025, 3, 1, 10), True])
    out = io.BytesIO()
    book.save(out)
    home.drop("readings_x.xlsx", out.getvalue())
    home.drop(
        "readings_j.json",
        json.dumps(
            [
                {"meter_id": "M2", "read_at": "2025-03-01T08:00:00+08:00", "register_m3": 3},
                {"meter_id": "M2", "read_at": "2025-03-01T09:00:00+08:00", "register_m3": "x"},
                {"meter_id": "M2", "read_at": "2025-03-01T10:00:00+08:00", "register_m3": [1]},
            ]
        ),
    )

    results = home.run()

    xlsx, js = results["readings_x.xlsx"], results["readings_j.json"]
    assert (xlsx.imported, xlsx.failed) == (1, 2)
    assert home.reasons_by_row(xlsx.batch_id) == {
        3: "formula cell not accepted",
        4: "interval_m3 'True (bool)' is not a number",
    }
    assert (js.imported, js.failed) == (1, 2)
    assert home.reasons_by_row(js.batch_id) == {
        2: "register_m3 'x' is not a number",
        3: "register_m3 holds an array, not a value",
    }


def test_a_big_file_imports_at_hundreds_of_thousands_of_rows_per_second(home: Home, capsys):
    # 500 meters x 1 000 hourly readings (a million, SITELEDGER_BIG=1: 1 000 meters); the
    # meters file registers them first
    meters = 1000 if os.environ.get("SITELEDGER_BIG") else 500
    home.drop(
        "meters_big.csv",
        "meter_id,customer_id,communication\n"
        + "".join(f"B{i:04d},C1,nb_iot\n" for i in range(meters)),
    )
    assert home.run()["meters_big.csv"].imported == meters
    hours = 1000
    start = np.datetime64("2025-03-01T00:00")
    stamps = np.datetime_as_string(start + np.arange(hours).astype("timedelta64[h]"), unit="m")
    ids = np.array([f"B{i:04d}" for i in range(meters)])
    meter_col = np.repeat(ids, hours)
    time_col = np.tile(stamps, meters)
    register = np.round(np.tile(np.arange(hours) * 0.01, meters), 3).astype(str)
    lines = np.char.add(
        np.char.add(np.char.add(meter_col, ","), np.char.add(time_col, ",")), register
    )
    body = "meter_id,read_at,register_m3\n" + "\n".join(lines.tolist()) + "\n"
    home.drop("readings_big.csv", body)

    began = time.perf_counter()
    result = home.run()["readings_big.csv"]
    seconds = time.perf_counter() - began

    assert (result.imported, result.failed) == (meters * hours, 0)
    rate = result.imported / seconds
    with capsys.disabled():
        print(f"\nmetering readings import: {result.imported} rows in {seconds:.2f} s "
              f"= {rate:,.0f} rows/s ({len(result.lake_files)} day files)")  # fmt: skip
    assert rate > 100_000


class Crash(BaseException):
    """Kills the import like a dead process (not an Exception, so no job records it)."""


def test_an_interrupted_readings_import_is_cleaned_up_by_the_next_run(home: Home, monkeypatch):
    home.drop("readings_a.csv", HOSTILE)
    update_job = home.store.update_job

    def die_on_commit(batch_id, **fields):
        if fields.get("status") == "committed":
            raise Crash
        return update_job(batch_id, **fields)

    monkeypatch.setattr(home.store, "update_job", die_on_commit)
    with pytest.raises(Crash):
        home.run()
    monkeypatch.setattr(home.store, "update_job", update_job)
    [job] = [j for j in home.store.jobs() if j.status == "running"]
    left = sorted((home.settings.lake / "metering" / "readings").rglob("*.parquet"))
    assert [(p.parent.name, p.name) for p in left] == [
        ("day=2025-03-01", f"{job.batch_id}.parquet"),
        ("day=2025-03-02", f"{job.batch_id}.parquet"),
    ]
    assert committed_records(home.settings, home.store, "readings", SITE).num_rows == 0

    monkeypatch.setattr(recovery, "PROCESS_STARTED_AT", utcnow())
    results = home.run()

    assert home.store.get_job(job.batch_id).status == "failed"
    assert not any(p.exists() for p in left)
    assert results["readings_a.csv"].imported == 5
    assert committed_records(home.settings, home.store, "readings", SITE).num_rows == 5
