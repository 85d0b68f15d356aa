"""Copying the raw lake into PostgreSQL (``siteledger.lake_load``) on the machine's server:
hive keys as columns, incremental by file, changed and removed files replaced, nulls and empty
text kept apart, and a bad file stopping its source without touching what was copied."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from siteledger.lake_load import (
    BOOK_SCHEMA,
    FILE_COLUMN,
    LakeLoadError,
    conninfo_from_env,
    lake_sources,
    load_lake,
    target_env,
)
from tests.postgres import scratch_database

pytestmark = pytest.mark.integration

MANIFEST = {
    "sources": {
        "source.siteledger.lake.readings": {
            "schema": "lake",
            "identifier": "readings",
            "meta": {"external_location": "'{lake_root}/readings/*/*/*/*.parquet'"},
        },
        "source.siteledger.site_config.sites": {
            "schema": "site_config",
            "identifier": "sites",
            "meta": {"external_location": "'{lake_root}/config/sites/*.parquet'"},
        },
        # a source without files in the lake (not an external location) is not copied
        "source.siteledger.other.thing": {"schema": "other", "identifier": "thing", "meta": {}},
    }
}
UTC = dt.UTC


def _readings(path: Path, meter: str, values: list[float | None], unit: str | None = "m3"):
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "meter_id": [meter] * len(values),
            "ts": pa.array(
                [dt.datetime(2025, 7, 1, h, tzinfo=UTC) for h in range(len(values))],
                pa.timestamp("us", tz="UTC"),
            ),
            "value": pa.array(values, pa.float64()),
            "unit": [unit] * len(values),
        }
    )
    pq.write_table(table, path)


def _sites(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def _conninfo(url: str) -> str:
    return conninfo_from_env(target_env(url))


def test_sources_are_the_external_locations_under_the_lake_root(tmp_path: Path):
    sources = lake_sources(MANIFEST, tmp_path)
    assert [(s.schema, s.table) for s in sources] == [
        ("lake", "readings"),
        ("site_config", "sites"),
    ]
    assert sources[0].pattern == f"{tmp_path}/readings/*/*/*/*.parquet"


def test_connection_defaults_match_the_dbt_profile():
    info = psycopg.conninfo.conninfo_to_dict(conninfo_from_env({}))
    assert info == {"host": "127.0.0.1", "port": "5432", "user": "postgres", "dbname": "siteledger"}
    with_password = conninfo_from_env({"SITELEDGER_PG_PASSWORD": "s3cret 'x'"})
    assert psycopg.conninfo.conninfo_to_dict(with_password)["password"] == "s3cret 'x'"


def test_load_is_incremental_by_file_and_replaces_changed_and_removed_files(tmp_path: Path):
    lake = tmp_path / "lake"
    day1 = lake / "readings/site=2024/source=scada/day=2025-07-01/b1.parquet"
    day2 = lake / "readings/site=2024/source=scada/day=2025-07-02/b2.parquet"
    _readings(day1, "FM-1", [1.5, None, 1e308])
    _readings(day2, "FM-2", [2.0], unit="")
    # a write in progress (ingestion/lake.py renames it into place) is not read
    _readings(day2.parent / ".b3.parquet.tmp", "FM-3", [9.0])
    _sites(lake / "config/sites/site=2024.parquet", [{"site_id": "2024", "name": "Mine"}])

    with scratch_database() as url, psycopg.connect(url) as pg:
        conninfo = _conninfo(url)
        report = load_lake(conninfo, MANIFEST, lake)
        assert report.files_loaded == {"lake.readings": 2, "site_config.sites": 1}
        assert report.rows_loaded == {"lake.readings": 4, "site_config.sites": 1}
        rows = pg.execute(
            "select site, source, day, meter_id, ts, value, unit from lake.readings"
            " order by meter_id, ts"
        ).fetchall()
        # hive keys typed like DuckDB's reader: a site id of digits stays text, day is a date
        assert rows[0][:3] == ("2024", "scada", dt.date(2025, 7, 1))
        assert [r[5] for r in rows] == [1.5, None, 1e308, 2.0]
        # an empty unit is empty text, a missing value is null
        assert [r[6] for r in rows] == ["m3", "m3", "m3", ""]
        assert rows[0][4] == dt.datetime(2025, 7, 1, 0, tzinfo=UTC)
        files = pg.execute(f"select distinct {FILE_COLUMN} from lake.readings").fetchall()
        assert {f for (f,) in files} == {str(day1), str(day2)}

        # nothing new: nothing copied
        again = load_lake(conninfo, MANIFEST, lake)
        assert again.total_rows == 0 and sum(again.files_loaded.values()) == 0

        # a file rewritten (a site table after its YAML changed) replaces its rows; a file
        # removed (a batch rolled back) takes its rows away; a new file with a new column adds it
        _sites(
            lake / "config/sites/site=2024.parquet",
            [{"site_id": "2024", "name": "Mine renamed", "timezone": "Australia/Perth"}],
        )
        st = day1.stat()
        os.utime(lake / "config/sites/site=2024.parquet", ns=(st.st_atime_ns, st.st_mtime_ns + 10))
        day2.unlink()
        report = load_lake(conninfo, MANIFEST, lake)
        assert report.files_removed == {"lake.readings": 1, "site_config.sites": 0}
        assert report.files_loaded == {"lake.readings": 0, "site_config.sites": 1}
        assert pg.execute("select count(*) from lake.readings").fetchone() == (3,)
        assert pg.execute("select site_id, name, timezone from site_config.sites").fetchall() == [
            ("2024", "Mine renamed", "Australia/Perth")
        ]
        booked = pg.execute(f"select count(*) from {BOOK_SCHEMA}.loaded_files").fetchone()
        assert booked == (2,)


def test_a_corrupt_file_stops_its_source_and_leaves_its_table_as_it_was(tmp_path: Path):
    lake = tmp_path / "lake"
    good = lake / "readings/site=s/source=x/day=2025-07-01/b1.parquet"
    _readings(good, "FM-1", [1.0, 2.0])
    _sites(lake / "config/sites/site=s.parquet", [{"site_id": "s", "name": "S"}])
    with scratch_database() as url, psycopg.connect(url) as pg:
        conninfo = _conninfo(url)
        load_lake(conninfo, MANIFEST, lake)
        bad = lake / "readings/site=s/source=x/day=2025-07-02/b2.parquet"
        bad.parent.mkdir(parents=True)
        bad.write_bytes(b"PAR1 this is not a parquet file PAR1")
        with pytest.raises(LakeLoadError, match=r"lake\.readings"):
            load_lake(conninfo, MANIFEST, lake, only=["lake.readings"])
        assert pg.execute("select count(*) from lake.readings").fetchone() == (2,)
        paths = pg.execute(
            f"select path from {BOOK_SCHEMA}.loaded_files where table_name = 'readings'"
        ).fetchall()
        assert paths == [(str(good),)]
        # once the file is fixed, the next load copies it
        _readings(bad, "FM-1", [3.0])
        report = load_lake(conninfo, MANIFEST, lake, only=["lake.readings"])
        assert report.rows_loaded == {"lake.readings": 1}


def test_a_folder_key_that_is_not_a_partition_key_is_refused_by_name(tmp_path: Path):
    lake = tmp_path / "lake"
    _readings(lake / "readings/site=s/source=x/day=2025-07-01/b1.parquet", "FM-1", [1.0])
    _readings(lake / "readings/site=s/source=x/d'ay=1/b2.parquet", "FM-1", [2.0])
    _sites(lake / "config/sites/site=s.parquet", [{"site_id": "s", "name": "S"}])
    with scratch_database() as url, psycopg.connect(url) as pg:
        with pytest.raises(LakeLoadError, match=r"lake\.readings.*folder key \"d'ay\""):
            load_lake(_conninfo(url), MANIFEST, lake)
        assert pg.execute("select to_regclass('lake.readings')").fetchone() == (None,)
        # the other sources still load on their own
        report = load_lake(_conninfo(url), MANIFEST, lake, only=["site_config.sites"])
        assert report.rows_loaded == {"site_config.sites": 1}
