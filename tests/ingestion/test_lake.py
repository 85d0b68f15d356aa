"""The raw lake writer and reader: partitioning by site-local day, sort order, schema,
atomic files, and reading back with filters and committed batches only."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow.parquet as pq
import pytest

from ingestion.lake import (
    READINGS_SCHEMA,
    Readings,
    batch_files,
    day_text,
    read_quarantine,
    read_readings,
    readings_file,
    temporary_path,
    write_readings,
)
from siteledger.settings import Settings
from siteledger.state.store import ImportJob, StateStore

HOUR = 3_600_000_000
LOADED = dt.datetime(2025, 2, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings(home=tmp_path / "home")
    s.ensure_dirs()
    return s


def readings(rows: list[tuple[int, int, int, float]]) -> Readings:
    """Readings from (meter code, hour since epoch, day, value) rows."""
    meter, hour, day, value = (np.array(c) for c in zip(*rows, strict=True))
    n = len(rows)
    return Readings(
        ["A-1", "B-2", "C-3"],
        ["m3/h", "L/s"],
        meter.astype(np.int32),
        hour.astype(np.int64) * HOUR,
        day.astype(np.int32),
        value.astype(np.float64),
        (meter % 2).astype(np.int32),
        np.arange(10, 10 + n, dtype=np.int64),
    )


def test_one_file_per_day_sorted_by_meter_then_time(settings: Settings):
    batch = readings(
        [(2, 5, 0, 1.0), (0, 7, 1, 2.0), (0, 3, 0, 3.0), (1, 4, 0, 4.0), (0, 2, 0, 5.0)]
    )

    files = write_readings(settings, "s1", "scada", "B1", "f.csv", batch, LOADED)

    assert [p.relative_to(settings.readings_lake).as_posix() for p in files] == [
        "site=s1/source=scada/day=1970-01-01/B1.parquet",
        "site=s1/source=scada/day=1970-01-02/B1.parquet",
    ]
    first = pq.read_table(files[0])
    assert first.schema.equals(READINGS_SCHEMA)
    assert first.select(["meter_id", "value", "unit", "source_row"]).to_pylist() == [
        {"meter_id": "A-1", "value": 5.0, "unit": "m3/h", "source_row": 14},
        {"meter_id": "A-1", "value": 3.0, "unit": "m3/h", "source_row": 12},
        {"meter_id": "B-2", "value": 4.0, "unit": "L/s", "source_row": 13},
        {"meter_id": "C-3", "value": 1.0, "unit": "m3/h", "source_row": 10},
    ]
    assert set(first.column("batch_id").to_pylist()) == {"B1"}
    assert set(first.column("loaded_at").to_pylist()) == {LOADED}
    assert [t.hour for t in first.column("ts").to_pylist()] == [2, 3, 4, 5]


def test_many_days_in_meter_major_order_are_grouped(settings: Settings):
    rng = np.random.default_rng(3)
    rows = [
        (m, d * 24 + h, d, float(rng.integers(100)))
        for m in range(3)
        for d in range(40)
        for h in range(0, 24, 6)
    ]

    files = write_readings(settings, "s1", "scada", "B1", "f.csv", readings(rows), LOADED)

    assert len(files) == 40
    for day, path in enumerate(files):
        table = pq.read_table(path)
        assert path.parent.name == f"day={day_text(day)}"
        keys = list(
            zip(table.column("meter_id").to_pylist(), table.column("ts").to_pylist(), strict=True)
        )
        assert keys == sorted(keys) and len(keys) == 12


def test_temporary_files_are_hidden_from_readers(settings: Settings):
    files = write_readings(
        settings, "s1", "scada", "B1", "f.csv", readings([(0, 1, 0, 1.0)]), LOADED
    )
    tmp = temporary_path(readings_file(settings, "s1", "scada", "1970-01-01", "B2"))
    pq.write_table(pq.read_table(files[0]), tmp)

    assert read_readings(settings).column("batch_id").to_pylist() == ["B1"]
    assert batch_files(settings, "s1", "scada", "B2") == [tmp]
    assert tmp.name == ".B2.parquet.tmp"


def test_read_readings_filters_and_keeps_committed_batches(settings: Settings):
    store = StateStore(settings.state_store_url)
    for batch_id, site, source, status in (
        ("B1", "s1", "scada", "committed"),
        ("B2", "s1", "logger", "committed"),
        ("B3", "s2", "scada", "committed"),
        ("B4", "s1", "scada", "running"),
    ):
        rows = [(0, 0, 0, 1.0), (1, 30, 1, 2.0), (2, 60, 2, 3.0)]
        write_readings(settings, site, source, batch_id, "f.csv", readings(rows), LOADED)
        store.add_job(
            ImportJob(
                batch_id=batch_id,
                site_id=site,
                source=source,
                source_file="f.csv",
                content_sha256=batch_id,
                status=status,
            )
        )

    everything = read_readings(settings)
    committed = read_readings(settings, store=store)
    narrow = read_readings(settings, "s1", "scada", "1970-01-02", dt.date(1970, 1, 3), store=store)

    assert everything.num_rows == 12
    assert sorted(set(committed.column("batch_id").to_pylist())) == ["B1", "B2", "B3"]
    assert narrow.select(["meter_id", "site", "source"]).to_pylist() == [
        {"meter_id": "B-2", "site": "s1", "source": "scada"},
        {"meter_id": "C-3", "site": "s1", "source": "scada"},
    ]
    assert [d.isoformat() for d in narrow.column("day").to_pylist()] == ["1970-01-02", "1970-01-03"]
    assert read_readings(settings, "nowhere").num_rows == 0
    assert read_readings(settings, "nowhere").schema.names[-3:] == ["site", "source", "day"]
    store.dispose()


def test_read_quarantine_filters_by_batch_and_names_the_partitions(settings: Settings):
    from ingestion.files.quarantine import QuarantineRows, write_rows

    for batch_id, source in (("B1", "scada"), ("B2", "logger")):
        rows = QuarantineRows()
        rows.add(np.array([3, 2]), f"bad in {batch_id}", "FT-1", None, "x")
        write_rows(settings, "s1", source, batch_id, "f.csv", rows, LOADED)

    everything = read_quarantine(settings)
    one = read_quarantine(settings, batch_id="B2")

    assert everything.column("batch_id").to_pylist() == ["B1", "B1", "B2", "B2"]
    assert everything.column("source_row").to_pylist() == [2, 3, 2, 3]
    assert (
        one.select(["site", "source", "reason"]).to_pylist()
        == [{"site": "s1", "source": "logger", "reason": "bad in B2"}] * 2
    )
    assert read_quarantine(settings, "nowhere").num_rows == 0
