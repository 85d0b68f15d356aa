"""Home Assistant recorder databases through the real import job: registers rebuilt from sums
(resets included, reproduced by hand), means, units, hostile rows and hostile files."""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from ingestion.files import ImportLimits, home_assistant, import_landing
from ingestion.files.home_assistant import rebuild_register
from ingestion.site_tables import write_site_tables
from siteledger.settings import Settings
from siteledger.state.store import StateStore
from tests.dbt.runner import query, run_dbt
from tests.ingestion.hostile.home import Home, make_home
from tests.ingestion.test_home_assistant_history import ha_site, job_details

T0 = int(dt.datetime(2025, 3, 1, tzinfo=dt.UTC).timestamp())  # 1740787200
HOUR = 3600

META_COLUMNS = (
    "id integer primary key, statistic_id varchar(255), source varchar(32), "
    "unit_of_measurement varchar(255), has_mean boolean, has_sum boolean, name varchar(255)"
)
STAT_COLUMNS = (
    "id integer primary key, created_ts float, metadata_id integer, start_ts float, "
    "mean float, min float, max float, last_reset_ts float, state float, sum float"
)


def recorder(
    path: Path,
    metas: Iterable[tuple[int, str, str | None, int]],
    hourly: Iterable[tuple[Any, ...]] = (),
    short_term: Iterable[tuple[Any, ...]] | None = None,
    wal: bool = False,
    index: bool = True,
) -> bytes:
    """A recorder database laid out as Home Assistant's (schema 2023.3 on); ``metas`` are
    (id, statistic_id, unit, has_sum), rows (metadata_id, start_ts, mean, sum)."""
    con = sqlite3.connect(path)
    if wal:
        con.execute("pragma journal_mode = wal")
    con.execute(f"create table statistics_meta ({META_COLUMNS})")
    con.execute(f"create table statistics ({STAT_COLUMNS})")
    if index:
        con.execute("create index ix_statistics_start_ts on statistics (metadata_id, start_ts)")
    con.executemany(
        "insert into statistics_meta values (?, ?, 'recorder', ?, ?, ?, null)",
        [(i, sid, unit, 1 - has_sum, has_sum) for i, sid, unit, has_sum in metas],
    )
    insert = "insert into {} (created_ts, metadata_id, start_ts, mean, sum) values (0, ?, ?, ?, ?)"
    con.executemany(insert.format("statistics"), list(hourly))
    if short_term is not None:
        con.execute(f"create table statistics_short_term ({STAT_COLUMNS})")
        con.executemany(insert.format("statistics_short_term"), list(short_term))
    con.commit()
    if wal:
        con.execute("pragma wal_checkpoint(truncate)")
    con.close()
    return path.read_bytes()


@pytest.fixture
def home(tmp_path):
    h = make_home(tmp_path, ha_site())
    yield h
    h.store.dispose()


def stamp(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


# The grid meter's sums, hour by hour from 2025-03-01 00:00 UTC, and the register rebuilt:
#   period  sum    rule                                        consumption  register (at end)
#   00-01   10.0   first sum: the register starts there           -            10.0
#   01-02   12.5   12.5 - 10.0                                    2.5          12.5
#   02-03   15.0   15.0 - 12.5                                    2.5          15.0
#   03-04    1.0   1.0 < 0.9 x 15.0 = 13.5: a reset, the new sum  1.0          16.0
#   04-05    3.0   3.0 - 1.0                                      2.0          18.0
#   05-06    2.75  2.75 >= 0.9 x 3.0 = 2.7: noise, nothing         0.0          18.0
#   06-07    4.25  4.25 - 2.75                                    1.5          19.5
SUMS = [10.0, 12.5, 15.0, 1.0, 3.0, 2.75, 4.25]
REGISTER = [10.0, 12.5, 15.0, 16.0, 18.0, 18.0, 19.5]


def test_rebuild_register_reproduces_the_hand_computed_series():
    assert rebuild_register(SUMS) == (REGISTER, 1)
    # without a reset the register is the sums themselves
    assert rebuild_register([0.0, 0.5, 0.5, 7.25]) == ([0.0, 0.5, 0.5, 7.25], 0)
    # a reset to a negative sum counts nothing, and a fall from zero is no reset
    assert rebuild_register([5.0, -1.0, 0.0, -2.0, 1.0]) == ([5.0, 5.0, 6.0, 6.0, 9.0], 1)


def test_sum_series_with_a_reset_lands_as_a_continuous_register_at_period_ends(
    home: Home, tmp_path: Path
):
    rows = [(1, T0 + i * HOUR, None, s) for i, s in enumerate(SUMS)]
    home.drop(
        "home-assistant_v2.db",
        recorder(tmp_path / "r.db", [(1, "sensor.grid_energy", "kWh", 1)], rows),
    )

    result = home.run()["home-assistant_v2.db"]

    assert (result.status, result.total, result.imported, result.failed) == ("committed", 7, 7, 0)
    assert home.lake_rows() == [
        ("EG-1", stamp(T0 + (i + 1) * HOUR), value, "kWh") for i, value in enumerate(REGISTER)
    ]
    # the warehouse's day of consumption: 19.5 - 10.0 = 9.5 kWh from 01:00 to 07:00, which is
    # 2.5 + 2.5 + 1.0 + 2.0 + 0.0 + 1.5 = 9.5 over the six periods after the first
    details = job_details(home, result.batch_id)
    assert details["sum_resets"] == {"sensor.grid_energy": 1}
    assert details["statistics_tables"] == {"EG-1": "statistics"}
    # source_row leads back to statistics.id
    assert home.lake().column("source_row").to_pylist() == [1, 2, 3, 4, 5, 6, 7]


METAS = [
    (1, "sensor.grid_energy", "kWh", 1),
    (2, "sensor.grid_power", "W", 0),
    (3, "sensor.outdoor_temperature", "°C", 0),
    (4, "IR-1", "W/m²", 0),
    (5, "sensor.pv_power", "kW", 0),
    (6, "sensor.fridge_power", "W", 0),
    (7, "sensor.dishwasher_energy", "Wh", 1),
]


def test_means_land_at_period_starts_in_the_statistics_unit(home: Home, tmp_path: Path):
    hourly = [
        (2, T0, 1250.0, None),
        (2, T0 + HOUR, 875.5, None),
        (3, T0, 21.25, None),
        (4, T0 + 5 * HOUR, 640.0, None),
        # hourly rows of the 5-minute meter are not read: it takes the short-term table
        (5, T0, 9.0, None),
    ]
    short = [(5, T0 + 300 * i, 1.5 + i, None) for i in range(3)]
    # rows of statistics that match no meter are not read
    hourly += [(6, T0 + HOUR * i, 80.0, None) for i in range(4)]
    hourly += [(7, T0 + HOUR * i, None, 100.0 * i) for i in range(3)]
    home.drop("home-assistant_v2.db", recorder(tmp_path / "r.db", METAS, hourly, short))

    result = home.run()["home-assistant_v2.db"]

    assert (result.status, result.total, result.imported, result.failed) == ("committed", 7, 7, 0)
    assert home.lake_rows() == [
        ("IR-1", stamp(T0 + 5 * HOUR), 640.0, "W/m2"),
        ("PS-1", stamp(T0), 1.5, "kW"),
        ("PS-1", stamp(T0 + 300), 2.5, "kW"),
        ("PS-1", stamp(T0 + 600), 3.5, "kW"),
        # kept in the delivered unit (W), as every file source does; staging converts to kW
        ("PW-1", stamp(T0), 1250.0, "W"),
        ("PW-1", stamp(T0 + HOUR), 875.5, "W"),
        ("TT-1", stamp(T0), 21.25, "degC"),
    ]
    details = job_details(home, result.batch_id)
    assert details["unmatched_statistics"] == {
        "sensor.dishwasher_energy": 3,
        "sensor.fridge_power": 4,
    }
    assert details["statistics_tables"] == {
        "EG-1": "statistics",  # matched, without rows
        "IR-1": "statistics",
        "PS-1": "statistics_short_term",
        "PW-1": "statistics",
        "TT-1": "statistics",
    }
    assert "sum_resets" not in details


def quarantine_rows(home: Home, batch_id: str | None) -> list[tuple[Any, ...]]:
    table = home.quarantine(batch_id)
    return list(
        zip(
            table.column("source_row").to_pylist(),
            table.column("column").to_pylist(),
            table.column("raw_timestamp").to_pylist(),
            table.column("raw_value").to_pylist(),
            table.column("reason").to_pylist(),
            strict=True,
        )
    )


def test_a_unit_that_does_not_fit_quarantines_every_row_of_its_statistic(
    home: Home, tmp_path: Path
):
    metas = [
        (1, "sensor.grid_energy", "kWh", 1),
        (2, "sensor.grid_power", "kWh", 0),  # an energy unit for a power meter
        (3, "sensor.outdoor_temperature", "°F", 0),  # a unit siteledger does not know
    ]
    hourly = [
        (1, T0, None, 5.0),
        (2, T0, 1.0, None),
        (2, T0 + HOUR, 2.0, None),
        (3, T0, 70.0, None),
        (1, T0 + HOUR, None, 6.5),
    ]
    home.drop("home-assistant_v2.db", recorder(tmp_path / "r.db", metas, hourly))

    result = home.run()["home-assistant_v2.db"]

    assert (result.total, result.imported, result.failed) == (5, 2, 3)
    assert home.lake_rows() == [
        ("EG-1", stamp(T0 + HOUR), 5.0, "kWh"),
        ("EG-1", stamp(T0 + 2 * HOUR), 6.5, "kWh"),
    ]
    assert quarantine_rows(home, result.batch_id) == [
        (2, "sensor.grid_power", str(float(T0)), "1.0", "unit 'kWh' does not measure power"),
        (3, "sensor.grid_power", str(float(T0 + HOUR)), "2.0", "unit 'kWh' does not measure power"),
        (4, "sensor.outdoor_temperature", str(float(T0)), "70.0", "unknown unit '°F'"),
    ]


def test_statistics_that_cannot_feed_their_meter_are_quarantined_with_the_fix(
    home: Home, tmp_path: Path
):
    metas = [
        (1, "sensor.grid_energy", "kWh", 0),  # a measurement sensor: no sum for a register
        (2, "sensor.pump_power", "W", 0),  # meter PQ-1 reads every 15 min: hourly means do not fit
    ]
    hourly = [(1, T0, 4.0, None), (2, T0, 100.0, None)]
    home.drop("home-assistant_v2.db", recorder(tmp_path / "r.db", metas, hourly))

    result = home.run()["home-assistant_v2.db"]

    assert (result.status, result.total, result.imported, result.failed) == ("committed", 2, 0, 2)
    assert home.reasons(result.batch_id) == [
        "statistic 'sensor.grid_energy' has no sum (has_sum is not 1): energy meter EG-1 needs a "
        "total_increasing or total sensor",
        "meter PQ-1 has interval 15min but the statistic's means are over 60 min: set the "
        "meter's interval to 1h (or 5min)",
    ]


def test_a_five_minute_meter_without_a_short_term_table_gets_one_quarantine_row(
    home: Home, tmp_path: Path
):
    metas = [(1, "sensor.grid_energy", "kWh", 1), (5, "sensor.pv_power", "kW", 0)]
    hourly = [(1, T0, None, 1.0), (5, T0, 3.0, None)]
    home.drop("home-assistant_v2.db", recorder(tmp_path / "r.db", metas, hourly))

    result = home.run()["home-assistant_v2.db"]

    assert (result.total, result.imported, result.failed) == (2, 1, 1)
    assert quarantine_rows(home, result.batch_id) == [
        (
            None,
            "sensor.pv_power",
            None,
            None,
            "statistic 'sensor.pv_power': meter PS-1 reads 5-minute periods but no table "
            "'statistics_short_term'",
        )
    ]


def test_hostile_rows_are_quarantined_and_the_good_ones_keep_the_register(
    home: Home, tmp_path: Path
):
    metas = [(1, "sensor.grid_energy", "kWh", 1), (2, "sensor.grid_power", "kW", 0)]
    hourly: list[tuple[Any, ...]] = [
        (1, T0, None, 100.0),  # id 1: good
        (1, T0 + HOUR, None, None),  # 2: NULL sum
        (1, T0 + 2 * HOUR, None, "nan"),  # 3: text
        (1, T0 + 3 * HOUR, None, float("inf")),  # 4: SQLite keeps inf as a REAL
        (1, T0 + 4 * HOUR, None, b"\x00\x01"),  # 5: a blob
        (1, T0 + 5 * HOUR, None, 1e300),  # 6: finite but beyond any register
        (1, "yesterday", None, 101.0),  # 7: text period start
        (1, None, None, 101.0),  # 8: NULL period start
        (1, 0, None, 101.0),  # 9: 1970: before the site's first day of data
        (1, 4_102_444_800, None, 101.0),  # 10: 2100: later than now
        (1, 1e20, None, 101.0),  # 11: beyond any date
        (1, T0 + 6 * HOUR, None, 112.5),  # 12: good: 112.5 - 100.0 over the bad rows
        (1, T0 + 6 * HOUR, None, 112.5),  # 13: a repeated period (no unique index here)
        (2, T0, -3.0, None),  # 14: good (a negative mean is a value)
        (2, T0 + HOUR, 9.0e15, None),  # 15: a huge mean is a value; VEE's valid_range judges it
    ]
    con_path = tmp_path / "r.db"
    data = recorder(con_path, metas, [])
    con = sqlite3.connect(con_path)
    con.execute("drop index ix_statistics_start_ts")
    columns = "created_ts, metadata_id, start_ts, mean, sum"
    con.executemany(f"insert into statistics ({columns}) values (0, ?, ?, ?, ?)", hourly)
    con.commit()
    con.close()
    data = con_path.read_bytes()
    home.drop("home-assistant_v2.db", data)

    result = home.run()["home-assistant_v2.db"]

    assert (result.status, result.total, result.imported, result.failed) == ("committed", 15, 5, 10)
    assert home.lake_rows() == [
        ("EG-1", stamp(T0 + HOUR), 100.0, "kWh"),
        ("EG-1", stamp(T0 + 7 * HOUR), 112.5, "kWh"),
        ("EG-1", stamp(T0 + 7 * HOUR), 112.5, "kWh"),
        ("PW-1", stamp(T0), -3.0, "kW"),
        ("PW-1", stamp(T0 + HOUR), 9.0e15, "kW"),
    ]
    rows = quarantine_rows(home, result.batch_id)
    assert [(r[0], r[4]) for r in rows[:7]] == [
        (2, "sum is NULL"),
        (3, "sum 'nan' is text, not a number"),
        (4, "sum inf is not a finite number"),
        (5, "sum is a blob, not a number"),
        (6, "sum 1e+300 is beyond 1e+12, more than a register can carry"),
        (7, "start_ts 'yesterday' is text, not a number"),
        (8, "start_ts is NULL"),
    ]
    assert [r[3] for r in rows[:5]] == [None, "nan", "inf", "<2-byte blob>", "1e+300"]
    # the instant checked is the period's end, where the register value holds
    assert rows[7][2] == "0.0" and "timestamp '1970-01-01T01:00:00+00:00'" in rows[7][4]
    assert rows[7][0] == 9 and "before the site's first day of data 2020-01-01" in rows[7][4]
    assert rows[8][0] == 10 and "later than now plus the future tolerance" in rows[8][4]
    assert rows[9] == (11, "sensor.grid_energy", "1e+20", "101.0", "start_ts 1e+20 is out of range")


def two_statistics(path: Path, n: int = 3000) -> bytes:
    """Two energy statistics of ``n`` hours each (sums 0, 1, 2, ...), one after the other, in
    table pages only (no index)."""
    metas = [(1, "sensor.grid_energy", "kWh", 1), (2, "sensor.house_energy", "kWh", 1)]
    rows = [(m, T0 + HOUR * i, None, float(i)) for m in (1, 2) for i in range(n)]
    return recorder(path, metas, rows, index=False)


def test_a_damaged_page_costs_only_the_rows_behind_it(home: Home, tmp_path: Path):
    data = bytearray(two_statistics(tmp_path / "r.db"))
    pages = len(data) // 4096
    # a page in the first statistic's rows overwritten: rows stream in storage order, so those
    # read before it are kept, and each statistic that meets it gets a quarantine row
    middle = pages // 4
    data[middle * 4096 : (middle + 1) * 4096] = b"\xff" * 4096
    home.drop("home-assistant_v2.db", bytes(data))

    result = home.run()["home-assistant_v2.db"]

    assert result.status == "committed"
    lake = home.lake()
    kept = lake.num_rows
    assert 0 < kept < 3000
    # the rows kept are the first hours, their register the sums themselves
    assert lake.column("value").to_pylist() == [float(i) for i in range(kept)]
    assert lake.column("meter_id").unique().to_pylist() == ["EG-1"]
    assert (result.total, result.imported, result.failed) == (kept + 2, kept, 2)
    reasons = home.reasons(result.batch_id)
    assert reasons[0] == (
        f"rows of statistic 'sensor.grid_energy' after row {kept} cannot be read: "
        "database disk image is malformed"
    )
    assert reasons[1].startswith("rows of statistic 'sensor.house_energy' after row ")


def test_wal_mode_copy_reads_like_any_other(home: Home, tmp_path: Path):
    rows = [(1, T0, None, 2.5), (1, T0 + HOUR, None, 4.0)]
    data = recorder(tmp_path / "r.db", [(1, "sensor.grid_energy", "kWh", 1)], rows, wal=True)
    assert data[18:20] == b"\x02\x02"  # the header says WAL
    home.drop("home-assistant_v2.db", data)

    result = home.run()["home-assistant_v2.db"]

    assert result.imported == 2
    assert home.lake_rows() == [
        ("EG-1", stamp(T0 + HOUR), 2.5, "kWh"),
        ("EG-1", stamp(T0 + 2 * HOUR), 4.0, "kWh"),
    ]


def quarantined_reason(home: Home, limits: ImportLimits | None = None) -> str:
    result = home.run(limits)["home-assistant_v2.db"]
    assert result.status == "quarantined", result
    assert home.lake_rows() == []
    assert home.reasons(result.batch_id) == [result.error]
    kept = home.settings.quarantine / "files" / str(result.batch_id) / "home-assistant_v2.db"
    assert kept.exists()
    assert home.landing_names() == []
    assert result.error is not None
    return result.error


def database(path: Path, *statements: str) -> bytes:
    con = sqlite3.connect(path)
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()
    return path.read_bytes()


META = f"create table statistics_meta ({META_COLUMNS})"
STATS = f"create table statistics ({STAT_COLUMNS})"


@pytest.mark.parametrize(
    ("statements", "reason"),
    [
        (
            ["create table states (state_id integer primary key)"],
            "not a Home Assistant recorder database: no table 'statistics_meta' (tables: states)",
        ),
        (
            [META],
            "not a Home Assistant recorder database: no table 'statistics' "
            "(tables: statistics_meta)",
        ),
        (
            [META, "create table s (metadata_id, start_ts, mean, sum)",
             "create view statistics as select * from s"],
            "not a Home Assistant recorder database: 'statistics' is a view, not a table "
            "(tables: s, statistics, statistics_meta)",
        ),
        (
            [META, "create table statistics (id integer primary key, metadata_id, start_ts, mean)"],
            "not a Home Assistant recorder database: table 'statistics' has no column 'sum' "
            "(tables: statistics, statistics_meta)",
        ),
        (
            [META, "create table statistics (id, metadata_id, start, mean, sum)"],
            "not a Home Assistant recorder database: table 'statistics' has no column 'start_ts' "
            "(a recorder from before Home Assistant 2023.3?) (tables: statistics, statistics_meta)",
        ),
        (
            ["create table statistics_meta (id, statistic_id)", STATS],
            "not a Home Assistant recorder database: table 'statistics_meta' has no column "
            "'unit_of_measurement', 'has_sum' (tables: statistics, statistics_meta)",
        ),
    ],
)  # fmt: skip
def test_a_database_without_the_recorder_tables_is_refused_naming_what_is_missing(
    home: Home, tmp_path: Path, statements: list[str], reason: str
):
    home.drop("home-assistant_v2.db", database(tmp_path / "x.db", *statements))

    assert quarantined_reason(home) == reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file (0 bytes)"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "not a SQLite database: the file starts with "),
        (
            b"entity_id,state,last_changed\nsensor.grid_energy,1,2025-03-01T00:00:00Z\n",
            "not a SQLite database: the file starts with "
            "'entity_id,state,last_changed\\nsensor.grid' "
            "(a history.csv? it needs a layout of format home_assistant_history)",
        ),
        (b"SQLite format 3\x00" + bytes(84), "truncated SQLite database: 100 bytes"),
    ],
)
def test_a_file_that_is_no_database_is_refused(home: Home, content: bytes, reason: str):
    home.drop("home-assistant_v2.db", content)

    assert quarantined_reason(home).startswith(reason)


def test_a_copy_cut_short_is_refused_as_truncated(home: Home, tmp_path: Path):
    data = two_statistics(tmp_path / "r.db")
    home.drop("home-assistant_v2.db", data[: len(data) // 2])

    reason = quarantined_reason(home)

    pages = len(data) // 4096
    assert reason == (
        f"truncated SQLite database: its header says {pages} pages of 4096 bytes "
        f"({len(data)} bytes), the file has {len(data) // 2}"
    )


def test_a_damaged_header_page_is_refused(home: Home, tmp_path: Path):
    data = bytearray(two_statistics(tmp_path / "r.db", n=10))
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema page after the 100-byte header
    home.drop("home-assistant_v2.db", bytes(data))

    reason = quarantined_reason(home)

    assert reason.startswith("cannot read the SQLite database: ")
    assert "malformed" in reason or "not a database" in reason


def test_a_database_where_no_matched_statistic_can_be_read_is_refused(home: Home, tmp_path: Path):
    data = bytearray(two_statistics(tmp_path / "r.db", n=400))
    # every page after the schema's damaged: the header's size still holds
    data[2 * 4096 :] = b"\xff" * (len(data) - 2 * 4096)
    home.drop("home-assistant_v2.db", bytes(data))

    assert quarantined_reason(home) == (
        "cannot read the SQLite database: database disk image is malformed"
    )


def test_a_database_over_the_size_limit_is_quarantined_unread(home: Home, tmp_path: Path):
    data = two_statistics(tmp_path / "r.db", n=100)
    home.drop("home-assistant_v2.db", data)

    reason = quarantined_reason(home, ImportLimits(max_file_bytes=4096))

    assert reason == f"file is {len(data)} bytes; the limit is 4096 bytes"


def test_a_query_that_runs_past_its_budget_is_stopped(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(home_assistant, "QUERY_BUDGET_S", 0.0)
    home.drop("home-assistant_v2.db", two_statistics(tmp_path / "r.db", n=20_000))

    result = home.run()["home-assistant_v2.db"]

    # SQLite asks every 100 000 steps (~10 000 rows here) whether to go on: the rows read by
    # then are kept, the rest of each statistic is one quarantine row
    assert result.status == "committed"
    assert 0 < result.imported < 20_000
    reasons = home.reasons(result.batch_id)
    assert reasons[-2:] == [
        f"rows of statistic 'sensor.grid_energy' after row {result.imported} cannot be read: "
        "interrupted",
        "rows of statistic 'sensor.house_energy' after row 0 cannot be read: interrupted",
    ]


HISTORY_EXPORT = (
    "entity_id,state,last_changed\r\n"
    "sensor.house_energy,250.5,2025-03-01T00:00:00.000Z\r\n"
    "sensor.house_energy,unavailable,2025-03-01T00:15:00.000Z\r\n"
    "sensor.house_energy,251.25,2025-03-01T00:30:00.000Z\r\n"
    "sensor.house_power,3.5,2025-03-01T00:00:00.000Z\r\n"
    "sensor.house_power,unknown,2025-03-01T00:45:00.000Z\r\n"
    "sensor.house_power,on,2025-03-01T01:00:00.000Z\r\n"
    "binary_sensor.door,off,2025-03-01T01:00:00.000Z\r\n"
)


def test_both_home_assistant_files_land_through_one_import_run(home: Home, tmp_path: Path):
    metas = [
        (1, "sensor.grid_energy", "kWh", 1),
        (2, "sensor.grid_power", "W", 0),
        (6, "sensor.fridge_power", "W", 0),
    ]
    hourly = [(1, T0 + i * HOUR, None, s) for i, s in enumerate(SUMS)]
    hourly += [(2, T0, 1500.0, None), (2, T0 + HOUR, None, None)]
    hourly += [(6, T0, 60.0, None)]
    home.drop("home-assistant_v2.db", recorder(tmp_path / "r.db", metas, hourly))
    home.drop("history.csv", b"\xef\xbb\xbf" + HISTORY_EXPORT.encode())

    results = home.run()

    stats, history = results["home-assistant_v2.db"], results["history.csv"]
    assert (stats.status, stats.layout_id) == ("committed", "ha_stats")
    assert (history.status, history.layout_id) == ("committed", "ha_history")
    # 7 sums + 2 power rows (one with a NULL mean); the fridge is not a meter and is not read
    assert (stats.total, stats.imported, stats.skipped, stats.failed) == (9, 8, 0, 1)
    assert (history.total, history.imported, history.skipped, history.failed) == (7, 3, 2, 2)
    assert home.lake_rows(source="ha_stats") == [
        *(("EG-1", stamp(T0 + (i + 1) * HOUR), v, "kWh") for i, v in enumerate(REGISTER)),
        ("PW-1", stamp(T0), 1500.0, "W"),
    ]
    assert home.lake_rows(source="ha_history") == [
        ("EH-1", "2025-03-01T00:00:00+00:00", 250.5, "kWh"),
        ("EH-1", "2025-03-01T00:30:00+00:00", 251.25, "kWh"),
        ("PH-1", "2025-03-01T00:00:00+00:00", 3.5, "kW"),
    ]
    # the lake's day folders are site-local days (Perth, UTC+8)
    days = sorted({p.parent.name for p in (*stats.lake_files, *history.lake_files)})
    assert days == ["day=2025-03-01"]
    assert quarantine_rows(home, stats.batch_id) == [
        (9, "sensor.grid_power", str(float(T0 + HOUR)), None, "mean is NULL")
    ]
    assert [(r[0], r[1], r[4]) for r in quarantine_rows(home, history.batch_id)] == [
        (7, "sensor.house_power", "value 'on' is not a number"),
        (8, "binary_sensor.door", "unknown meter 'binary_sensor.door'"),
    ]
    stats_job = home.store.get_job(str(stats.batch_id))
    history_job = home.store.get_job(str(history.batch_id))
    assert stats_job is not None and history_job is not None
    assert (stats_job.status, stats_job.total_rows, stats_job.imported_rows) == ("committed", 9, 8)
    assert (stats_job.skipped_rows, stats_job.failed_rows) == (0, 1)
    assert stats_job.details["sum_resets"] == {"sensor.grid_energy": 1}
    assert stats_job.details["unmatched_statistics"] == {"sensor.fridge_power": 1}
    assert (history_job.total_rows, history_job.skipped_rows, history_job.failed_rows) == (7, 2, 2)
    assert history_job.details["skipped_reasons"] == {
        "state 'unavailable'": 1,
        "state 'unknown'": 1,
    }
    assert home.landing_names() == []
    assert len(home.archive_names()) == 2

    # the same bytes again are duplicates: nothing lands twice
    home.drop("history.csv", b"\xef\xbb\xbf" + HISTORY_EXPORT.encode())
    assert home.run()["history.csv"].status == "duplicate"
    assert len(home.lake_rows()) == 11


def test_hostile_meta_rows_are_left_out_or_quarantined_with_their_statistic(
    home: Home, tmp_path: Path
):
    path = tmp_path / "r.db"
    recorder(path, [], [(1, T0, 7.5, None), (3, T0, None, 1.0)])
    con = sqlite3.connect(path)
    meta = "insert into statistics_meta (id, statistic_id, unit_of_measurement, has_sum) values "
    con.execute(meta + "(1, 'sensor.grid_power', x'0102', 0)")  # a blob for a unit
    con.execute(meta + "(2, x'73656e736f72', 'kW', 0)")  # a blob for a statistic_id: left out
    con.execute(meta + "(3, 'sensor.grid_energy', 'kWh', 'yes')")  # has_sum must be 1
    con.commit()
    con.close()
    home.drop("home-assistant_v2.db", path.read_bytes())

    result = home.run()["home-assistant_v2.db"]

    assert (result.status, result.total, result.imported, result.failed) == ("committed", 2, 0, 2)
    assert home.reasons(result.batch_id) == [
        "unknown unit '<2-byte blob>'",
        "statistic 'sensor.grid_energy' has no sum (has_sum is not 1): energy meter EG-1 needs a "
        "total_increasing or total sensor",
    ]
    assert job_details(home, result.batch_id)["unreadable_statistics_meta_rows"] == 1


@pytest.mark.integration
def test_the_warehouse_counts_the_rebuilt_register_the_history_reset_and_watts(tmp_path: Path):
    settings = Settings(home=tmp_path.resolve() / "home")
    settings.ensure_dirs()
    site = ha_site()
    write_site_tables(settings, site)
    store = StateStore(settings.state_store_url)
    metas = [(1, "sensor.grid_energy", "kWh", 1), (2, "sensor.grid_power", "W", 0)]
    hourly = [(1, T0 + i * HOUR, None, s) for i, s in enumerate(SUMS)]
    hourly += [(2, T0, 1500.0, None), (2, T0 + HOUR, 500.0, None)]
    (settings.landing / "home-assistant_v2.db").write_bytes(
        recorder(tmp_path / "r.db", metas, hourly)
    )
    (settings.landing / "history.csv").write_text(
        "entity_id,state,last_changed\n"
        "sensor.house_energy,1520.25,2025-03-01T00:00:00.000Z\n"
        "sensor.house_energy,unavailable,2025-03-01T00:10:00.000Z\n"
        "sensor.house_energy,1521.5,2025-03-01T00:20:00.000Z\n"
        "sensor.house_energy,0.75,2025-03-01T00:30:00.000Z\n"
    )
    results = import_landing(settings, site, store)
    store.dispose()
    assert sorted(r.status for r in results) == ["committed", "committed"]

    day = "2025-03-01"  # every reading is on 1 March in Perth (UTC+8)
    run_dbt(
        settings.home,
        "run",
        "--select",
        "+int_energy_fuel_daily",
        dbt_vars={"start_day": day, "end_day": day},
    )

    rows = query(
        settings.home,
        "select meter_id, amount, n_readings, n_resets from intermediate.int_energy_fuel_daily "
        f"where day = '{day}' order by meter_id",
    )
    got = [(r["meter_id"], round(r["amount"], 9), r["n_readings"], r["n_resets"]) for r in rows]
    assert got == [
        # statistics: the rebuilt register 10.0 ... 19.5 has no fall left: 9.5 kWh, no reset
        ("EG-1", 9.5, 6, 0),
        # history: 1521.5 - 1520.25 = 1.25, then the fall to 0.75 is a reset that counts 0.75
        ("EH-1", 2.0, 2, 1),
        # hourly means in W, converted by staging: (1.5 + 0.5) kW x 1 h
        ("PW-1", 2.0, 2, 0),
    ]


def test_random_damage_never_fails_an_import(home: Home, tmp_path: Path):
    # 40 copies of a small recorder database, each with 64 random bytes overwritten past the
    # magic: every one is committed (good rows kept) or quarantined whole, never 'failed'
    rows = [(1, T0 + i * HOUR, None, float(i)) for i in range(300)]
    rows += [(2, T0 + i * HOUR, 100.0 + i, None) for i in range(300)]
    metas = [(1, "sensor.grid_energy", "kWh", 1), (2, "sensor.grid_power", "kW", 0)]
    clean = recorder(tmp_path / "r.db", metas, rows)
    rng = random.Random(20250301)
    for n in range(int(os.environ.get("HA_FUZZ", "40"))):
        data = bytearray(clean)
        for _ in range(64):
            data[rng.randrange(16, len(data))] = rng.randrange(256)
        home.drop(f"home-assistant_v2_{n:02d}.db", bytes(data))

    results = home.run()

    assert len(results) == int(os.environ.get("HA_FUZZ", "40"))
    statuses = {r.status for r in results.values()}
    assert statuses <= {"committed", "quarantined"}, [
        (r.file_name, r.error) for r in results.values() if r.status == "failed"
    ]
    for result in results.values():
        assert result.total == result.imported + result.skipped + result.failed
        if result.status == "quarantined":
            assert result.error
