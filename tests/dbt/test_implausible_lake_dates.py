"""Readings stamped far outside plausibility that reached the lake anyway (imported before the
importer quarantined them) leave the day spine and the gap series bounded: the build finishes
and its days are the site's real ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from siteledger.settings import Settings
from tests.dbt.hand_lake import D1, D3, D4, LAKE_SCHEMA, SITE_ID
from tests.dbt.homes import add_hand_site
from tests.dbt.runner import query, run_dbt

pytestmark = pytest.mark.integration

# a logger clock reset to 1900 and to the epoch, one run away to 2200 and to 9999
EXTREMES = [
    dt.datetime(1900, 1, 1, tzinfo=dt.UTC),
    dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2200, 7, 1, tzinfo=dt.UTC),
    dt.datetime(9999, 12, 31, 12, tzinfo=dt.UTC),
]


def _write_extremes(home: Path) -> None:
    """One FT-100 reading per extreme instant, each in its own day folder as an old importer
    wrote it (the site-local day of its instant)."""
    lake = Settings(home=home).readings_lake / f"site={SITE_ID}" / "source=clock"
    for ts in EXTREMES:
        day = (ts + dt.timedelta(hours=8)).date()
        folder = lake / f"day={day}"
        folder.mkdir(parents=True)
        row = {
            "meter_id": "FT-100",
            "ts": ts,
            "value": 100.0,
            "unit": "m3/h",
            "batch_id": "bclock",
            "source_file": "clock.csv",
            "source_row": 2,
            "loaded_at": dt.datetime(2025, 7, 4, 3, tzinfo=dt.UTC),
        }
        pq.write_table(pa.Table.from_pylist([row], schema=LAKE_SCHEMA), folder / "bclock.parquet")


def _extent(home: Path, table: str, column: str) -> tuple[dt.date, dt.date, int]:
    [row] = query(
        home, f"select min({column}) as lo, max({column}) as hi, count(*) as n from {table}"
    )
    return row["lo"], row["hi"], row["n"]


def test_extreme_dates_in_the_lake_leave_the_spine_and_gaps_bounded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    add_hand_site(home)
    _write_extremes(home)

    # every day of data, as a first `siteledger run` does, then a window that holds an extreme
    run_dbt(home, "run")
    full = {
        name: _extent(home, f"intermediate.{name}", column)
        for name, column in (
            ("int_site_days", "day"),
            ("int_readings_deduplicated", "reading_day"),
            ("int_reading_flags", "reading_day"),
        )
    }
    run_dbt(home, "run", dbt_vars={"start_day": "1969-12-31", "end_day": str(D3)})
    windowed = _extent(home, "intermediate.int_site_days", "day")

    assert full["int_site_days"] == (D1, D4, 4)
    assert full["int_readings_deduplicated"][:2] == (D1, D4)
    lo, hi, flags = full["int_reading_flags"]
    assert lo >= D1 and hi <= D4
    # the hand site's own flags (a spike, a missing level, a replaced meter...), not 400 k gaps
    assert flags < 2_000
    assert windowed == (D1, D4, 4)  # D3 and its lookahead day, D4
    gaps = query(
        home,
        "select count(*) as n from intermediate.int_reading_flags "
        "where flag = 'gap' and meter_id = 'FT-100'",
    )
    assert gaps == [{"n": 0}]
