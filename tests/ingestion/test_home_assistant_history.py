"""Home Assistant ``history.csv`` through the real import job: exact lake rows, skipped states,
quarantined rows with their reasons, and whole files refused with a clear reason."""

from __future__ import annotations

import copy
import random
import sqlite3
from pathlib import Path

import pytest

from ingestion.files import ImportLimits
from siteledger.site.models import SiteConfig
from tests.ingestion.hostile.home import Home, make_home, small_site

HA_METERS = [
    # cumulative: the state is the register reading
    {"id": "EH-1", "measurand": "energy", "unit": "kWh", "interval": "15min",
     "tag": "sensor.house_energy"},
    {"id": "PH-1", "measurand": "power", "unit": "kW", "interval": "15min",
     "tag": "sensor.house_power"},
    # hourly statistics
    {"id": "EG-1", "measurand": "energy", "unit": "kWh", "interval": "1h",
     "tag": "sensor.grid_energy"},
    {"id": "PW-1", "measurand": "power", "unit": "kW", "interval": "1h",
     "tag": "sensor.grid_power"},
    {"id": "TT-1", "measurand": "temperature", "unit": "degC", "interval": "1h",
     "tag": "sensor.outdoor_temperature"},
    # 5-minute (short-term) statistics
    {"id": "PS-1", "measurand": "power", "unit": "kW", "interval": "5min",
     "tag": "sensor.pv_power"},
    # a power meter whose interval matches neither statistics table
    {"id": "PQ-1", "measurand": "power", "unit": "kW", "interval": "15min",
     "tag": "sensor.pump_power"},
    # no tag: matched by id
    {"id": "IR-1", "measurand": "irradiance", "unit": "W/m2", "interval": "1h"},
]  # fmt: skip

HA_LAYOUTS = [
    {"id": "ha_history", "format": "home_assistant_history", "pattern": "history*.csv"},
    {"id": "ha_stats", "format": "home_assistant_statistics", "pattern": "home-assistant_v2*.db"},
]


def ha_site() -> SiteConfig:
    """The small test site with Home Assistant meters and both Home Assistant layouts."""
    data = copy.deepcopy(small_site().model_dump(by_alias=True))
    data["meters"] += HA_METERS
    data["file_layouts"] += HA_LAYOUTS
    return SiteConfig.model_validate(data)


def job_details(home: Home, batch_id: str | None) -> dict:
    assert batch_id is not None
    job = home.store.get_job(batch_id)
    assert job is not None
    return job.details


@pytest.fixture
def home(tmp_path):
    h = make_home(tmp_path, ha_site())
    yield h
    h.store.dispose()


HISTORY = (
    "entity_id,state,last_changed\n"
    "sensor.house_energy,1520.25,2025-03-01T00:00:00.000Z\n"
    "sensor.house_energy,unavailable,2025-03-01T00:10:00.000Z\n"
    "sensor.house_energy,1521.5,2025-03-01T00:20:00.000Z\n"
    # a fall of the register lands as it is: the warehouse counts a reset as the new reading
    "sensor.house_energy,0.75,2025-03-01T00:30:00.000Z\n"
    "sensor.house_power,2.125,2025-03-01T00:00:05.250Z\n"
    "sensor.house_power,unknown,2025-03-01T00:01:00.000Z\n"
    "sensor.house_power,,2025-03-01T00:02:00.000Z\n"
    "sensor.house_power,Unavailable ,2025-03-01T00:03:00.000Z\n"
    "sensor.house_power,on,2025-03-01T00:04:00.000Z\n"
    "sensor.house_power,NaN,2025-03-01T00:05:00.000Z\n"
    "sensor.house_power,inf,2025-03-01T00:06:00.000Z\n"
    "sensor.house_power,1e400,2025-03-01T00:07:00.000Z\n"
    "sensor.house_power,-0.5,2025-03-01T00:08:00+00:00\n"
    "sensor.kitchen_light,on,2025-03-01T00:00:00.000Z\n"
    "sensor.kitchen_light,off,2025-03-01T00:09:00.000Z\n"
    "sensor.house_power,1.0,1970-01-01T00:00:00.000Z\n"
    "sensor.house_power,1.0,2199-01-01T00:00:00.000Z\n"
    "sensor.house_power,1.0,yesterday\n"
    "IR-1,812.5,2025-03-01T04:00:00.000Z\n"
)


def test_history_lands_readings_skips_states_and_quarantines_each_bad_row(home: Home):
    home.drop("history.csv", HISTORY)

    result = home.run()["history.csv"]

    assert result.status == "committed"
    # 19 rows: 6 readings, 4 states that are no reading (skipped), 9 quarantined
    assert (result.total, result.imported, result.skipped, result.failed) == (19, 6, 4, 9)
    assert home.lake_rows() == [
        ("EH-1", "2025-03-01T00:00:00+00:00", 1520.25, "kWh"),
        ("EH-1", "2025-03-01T00:20:00+00:00", 1521.5, "kWh"),
        ("EH-1", "2025-03-01T00:30:00+00:00", 0.75, "kWh"),
        # no tag: the entity_id names the meter by its id
        ("IR-1", "2025-03-01T04:00:00+00:00", 812.5, "W/m2"),
        ("PH-1", "2025-03-01T00:00:05.250000+00:00", 2.125, "kW"),
        ("PH-1", "2025-03-01T00:08:00+00:00", -0.5, "kW"),
    ]
    quarantine = home.quarantine(result.batch_id)
    rows = list(
        zip(
            quarantine.column("source_row").to_pylist(),
            quarantine.column("column").to_pylist(),
            quarantine.column("raw_value").to_pylist(),
            quarantine.column("reason").to_pylist(),
            strict=True,
        )
    )
    assert rows[:5] == [
        (10, "sensor.house_power", "on", "value 'on' is not a number"),
        (11, "sensor.house_power", "NaN", "value 'NaN' is not a finite number"),
        (12, "sensor.house_power", "inf", "value 'inf' is not a finite number"),
        (13, "sensor.house_power", "1e400", "value '1e400' is not a finite number"),
        # one reason per entity, one row per row of the file
        (15, "sensor.kitchen_light", "on", "unknown meter 'sensor.kitchen_light'"),
    ]
    assert rows[5] == (16, "sensor.kitchen_light", "off", "unknown meter 'sensor.kitchen_light'")
    assert rows[6][0] == 17 and "before the site's first day of data 2020-01-01" in rows[6][3]
    assert rows[7][0] == 18 and "later than now plus the future tolerance" in rows[7][3]
    assert rows[8] == (
        19,
        "sensor.house_power",
        "1.0",
        "timestamp 'yesterday' does not match ISO 8601",
    )
    details = job_details(home, result.batch_id)
    assert details["skipped_reasons"] == {
        "state 'unavailable'": 2,
        "state 'unknown'": 1,
        "state is empty": 1,
    }


SMALL = (
    "entity_id,state,last_changed\n"
    "sensor.house_energy,10.5,2025-03-01T00:00:00.000Z\n"
    "sensor.house_energy,11.25,2025-03-01T01:00:00.000Z\n"
)
SMALL_ROWS = [
    ("EH-1", "2025-03-01T00:00:00+00:00", 10.5, "kWh"),
    ("EH-1", "2025-03-01T01:00:00+00:00", 11.25, "kWh"),
]


def test_bom_and_crlf_read_like_a_plain_file(home: Home):
    home.drop("history_bom.csv", b"\xef\xbb\xbf" + SMALL.replace("\n", "\r\n").encode())

    result = home.run()["history_bom.csv"]

    assert (result.status, result.total, result.imported, result.failed) == ("committed", 2, 2, 0)
    assert home.lake_rows() == SMALL_ROWS


def test_duplicate_rows_all_land_and_the_warehouse_keeps_one(home: Home):
    # the lake keeps every delivered copy; int_readings_deduplicated keeps one per instant
    home.drop("history.csv", SMALL + SMALL.split("\n", 1)[1])

    result = home.run()["history.csv"]

    assert (result.total, result.imported, result.skipped, result.failed) == (4, 4, 0, 0)
    assert home.lake_rows() == [SMALL_ROWS[0], SMALL_ROWS[0], SMALL_ROWS[1], SMALL_ROWS[1]]


def test_extra_columns_in_any_order_are_ignored(home: Home):
    text = (
        "last_changed,domain,state,entity_id\n"
        "2025-03-01T00:00:00.000Z,sensor,10.5,sensor.house_energy\n"
        "2025-03-01T01:00:00.000Z,sensor,11.25,sensor.house_energy\n"
    )
    home.drop("history.csv", text)

    assert home.run()["history.csv"].imported == 2
    assert home.lake_rows() == SMALL_ROWS


def test_a_broken_line_costs_only_itself(home: Home):
    text = SMALL + "sensor.house_energy,12\n" + '"sensor.house_energy,13,2025-03-01T02:00:00Z\n'
    home.drop("history.csv", text)

    result = home.run()["history.csv"]

    assert (result.total, result.imported, result.failed) == (4, 2, 2)
    assert home.lake_rows() == SMALL_ROWS
    reasons = home.reasons(result.batch_id)
    assert reasons[0] == "row has 2 fields, header has 3"
    assert len(reasons) == 2


def quarantined_reason(home: Home, name: str) -> str:
    result = home.run()[name]
    assert result.status == "quarantined", result
    assert home.lake_rows() == []
    assert home.reasons(result.batch_id) == [result.error]
    assert (home.settings.quarantine / "files" / str(result.batch_id) / name).exists()
    assert result.error is not None
    return result.error


def test_binary_file_is_quarantined_whole(home: Home):
    home.drop("history.csv", b"entity_id,state,last_changed\n\x00\x01\x02\xff" * 10)

    assert quarantined_reason(home, "history.csv") == "binary file: NUL byte at offset 29"


def test_a_recorder_database_named_history_is_refused_with_a_hint(home: Home, tmp_path: Path):
    db = tmp_path / "ha.db"
    with sqlite3.connect(db) as con:
        con.execute("create table statistics_meta(id integer primary key)")
    home.drop("history.csv", db.read_bytes())

    reason = quarantined_reason(home, "history.csv")

    assert reason.startswith("a SQLite database, not a history.csv")
    assert "home_assistant_statistics" in reason


def test_wrong_header_is_refused_naming_the_missing_columns(home: Home):
    home.drop("history.csv", "timestamp,meter,value\n2025-03-01T00:00:00Z,EH-1,1\n")

    reason = quarantined_reason(home, "history.csv")

    assert reason == (
        "not a Home Assistant history.csv: missing column 'entity_id', 'state', 'last_changed' "
        "(expected entity_id,state,last_changed; found 'timestamp', 'meter', 'value')"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file (0 bytes)"),
        (b"\r\n \n", "no content (only whitespace)"),
        (b"entity_id,state,last_changed\r\n", "header only: no data rows"),
        (b"entity_id,state,last_changed\n\xe9t\xe9\n", "not valid UTF-8: byte 0xe9 at offset 29"),
    ],
)
def test_unusable_text_is_refused(home: Home, content: bytes, reason: str):
    home.drop("history.csv", content)

    assert quarantined_reason(home, "history.csv") == reason


def test_a_file_over_the_size_limit_is_quarantined_unread(home: Home):
    rows = "".join(
        f"sensor.house_energy,{i}.5,2025-03-01T{i // 60:02d}:{i % 60:02d}:00Z\n"
        for i in range(1000)
    )
    home.drop("history.csv", "entity_id,state,last_changed\n" + rows)

    result = home.run(limits=ImportLimits(max_file_bytes=20_000))["history.csv"]

    assert result.status == "quarantined"
    assert result.error == "file is 46919 bytes; the limit is 20000 bytes"
    assert home.lake_rows() == []


def test_a_large_history_lands_every_row(home: Home):
    # a day of 1-second changes of one sensor: 86 400 rows, all readings, in order
    rows = "".join(
        f"sensor.house_power,{i % 1000}.25,2025-03-01T{i // 3600:02d}:{i // 60 % 60:02d}:"
        f"{i % 60:02d}Z\n"
        for i in range(86_400)
    )
    home.drop("history.csv", "entity_id,state,last_changed\n" + rows)

    result = home.run()["history.csv"]

    assert (result.total, result.imported, result.failed) == (86_400, 86_400, 0)
    table = home.lake()
    values = table.column("value").to_pylist()
    assert values[:2] == [0.25, 1.25] and values[-1] == 399.25
    assert sum(values) == pytest.approx(sum(i % 1000 + 0.25 for i in range(86_400)))


def test_timestamps_without_an_offset_are_utc_unless_the_layout_says_otherwise(tmp_path: Path):
    # a history.csv opened and saved in a spreadsheet loses the 'Z' and the milliseconds
    text = "entity_id,state,last_changed\nsensor.house_energy,10.5,2025-03-01 00:00:00\n"
    utc = make_home(tmp_path / "utc", ha_site())
    utc.drop("history.csv", text)
    utc.run()
    data = copy.deepcopy(ha_site().model_dump(by_alias=True))
    data["file_layouts"][-2]["timezone"] = "Australia/Perth"
    perth = make_home(tmp_path / "perth", SiteConfig.model_validate(data))
    perth.drop("history.csv", text)
    perth.run()

    assert utc.lake_rows() == [("EH-1", "2025-03-01T00:00:00+00:00", 10.5, "kWh")]
    assert perth.lake_rows() == [("EH-1", "2025-02-28T16:00:00+00:00", 10.5, "kWh")]
    utc.store.dispose()
    perth.store.dispose()


def test_random_damage_never_fails_an_import(home: Home):
    # 40 copies of a history.csv with 16 bytes overwritten each, any byte in the first 20 (a
    # NUL or broken UTF-8 refuses the file) and CSV-ish text in the rest (rows go wrong one by
    # one): committed (good rows kept) or quarantined whole, never 'failed'
    rng = random.Random(20250301)
    text_bytes = b'abc,,,"""\n\r 0123456789.:-TZe+'
    for n in range(40):
        data = bytearray(HISTORY.encode())
        for _ in range(16):
            byte = rng.randrange(256) if n < 20 else rng.choice(text_bytes)
            data[rng.randrange(len(data))] = byte
        home.drop(f"history_{n:02d}.csv", bytes(data))

    results = home.run()

    assert len(results) == 40
    assert {r.status for r in results.values()} <= {"committed", "quarantined"}
    for result in results.values():
        assert result.total == result.imported + result.skipped + result.failed
    committed = [r for r in results.values() if r.status == "committed"]
    assert len(committed) >= 10 and all(r.imported > 0 and r.failed > 0 for r in committed)
