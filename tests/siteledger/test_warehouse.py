"""Published warehouse: atomic publish, rollback, BI readers never blocked or half-served."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from siteledger.settings import Settings
from siteledger.state import StateStore
from siteledger.warehouse import PUBLISH_INFO_TABLE, PublishError, Warehouse


def _build(settings: Settings, rows: int) -> None:
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_dir / "build.duckdb")) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists staging")
        con.execute(
            "create or replace table marts.fct_balance as "
            f"select range as day, range * 10.0 as volume_m3 from range({rows})"
        )
        con.execute(
            "create or replace view marts.fct_balance_total as "
            "select sum(volume_m3) as total_m3 from marts.fct_balance"
        )
        con.execute("create or replace table staging.stg_secret as select 1 as x")


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    settings = Settings(home=tmp_path)
    return Warehouse(settings, StateStore(settings.state_store_url))


def _read(path: Path, sql: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_publish_copies_marts_only_and_records_the_version(warehouse: Warehouse):
    _build(warehouse.settings, 3)
    version = warehouse.publish(["marts"], note="first")
    assert version.tables == {"fct_balance": 3, "fct_balance_total": 1}
    assert _read(warehouse.published_db, "select sum(volume_m3) from fct_balance") == [(30.0,)]
    tables = {r[0] for r in _read(warehouse.published_db, "select table_name from duckdb_tables()")}
    assert tables == {"fct_balance", "fct_balance_total", PUBLISH_INFO_TABLE}
    info = _read(warehouse.published_db, f"select version_id, tables from {PUBLISH_INFO_TABLE}")
    assert info[0][0] == version.version_id
    assert json.loads(info[0][1]) == version.tables
    parquet = warehouse.parquet_link / "fct_balance.parquet"
    assert duckdb.execute(f"select count(*) from '{parquet}'").fetchone() == (3,)
    assert [v.status for v in warehouse.store.warehouse_versions()] == ["current"]


def test_published_file_is_readable_by_duckdb_1x(warehouse: Warehouse):
    _build(warehouse.settings, 2)
    warehouse.publish(["marts"])
    header = warehouse.published_db.read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    # storage version number 64 is what DuckDB 0.10 to 1.x read; 2.0's own default is newer
    assert int.from_bytes(header[12:20], "little") == 64


def test_second_publish_supersedes_and_rollback_restores(warehouse: Warehouse):
    _build(warehouse.settings, 3)
    first = warehouse.publish(["marts"])
    _build(warehouse.settings, 5)
    second = warehouse.publish(["marts"])
    assert _read(warehouse.published_db, "select count(*) from fct_balance") == [(5,)]
    statuses = {v.version_id: v.status for v in warehouse.store.warehouse_versions()}
    assert statuses == {first.version_id: "superseded", second.version_id: "current"}

    restored = warehouse.rollback()
    assert restored.version_id == first.version_id
    assert _read(warehouse.published_db, "select count(*) from fct_balance") == [(3,)]
    parquet = warehouse.parquet_link / "fct_balance.parquet"
    assert duckdb.execute(f"select count(*) from '{parquet}'").fetchone() == (3,)
    statuses = {v.version_id: v.status for v in warehouse.store.warehouse_versions()}
    assert statuses == {first.version_id: "current", second.version_id: "rolled_back"}
    with pytest.raises(PublishError, match="no earlier published version"):
        warehouse.rollback()


def test_publish_refuses_an_empty_build(warehouse: Warehouse):
    with pytest.raises(PublishError, match="no build database"):
        warehouse.publish(["marts"])
    _build(warehouse.settings, 1)
    with pytest.raises(PublishError, match="no tables in schemas"):
        warehouse.publish(["nothing_here"])
    assert not warehouse.published_db.exists()


def test_old_versions_are_pruned_but_current_kept(tmp_path: Path):
    settings = Settings(home=tmp_path)
    warehouse = Warehouse(settings, StateStore(settings.state_store_url), keep=2)
    ids = []
    for rows in range(1, 5):
        _build(settings, rows)
        ids.append(warehouse.publish(["marts"]).version_id)
    kept = sorted(p.stem for p in warehouse.versions_dir.glob("*.duckdb"))
    assert kept == sorted(ids[-2:])


def test_reader_keeps_its_version_while_a_new_one_is_published(warehouse: Warehouse):
    _build(warehouse.settings, 3)
    warehouse.publish(["marts"])
    reader = duckdb.connect(str(warehouse.published_db), read_only=True)
    try:
        _build(warehouse.settings, 7)
        warehouse.publish(["marts"])
        # the open reader still sees a whole, consistent old version
        assert reader.execute("select count(*) from fct_balance").fetchone() == (3,)
    finally:
        reader.close()
    assert _read(warehouse.published_db, "select count(*) from fct_balance") == [(7,)]


READER = textwrap.dedent(
    """
    import json, sys, time, duckdb
    path, seconds = sys.argv[1], float(sys.argv[2])
    reads = errors = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with duckdb.connect(path, read_only=True) as con:
                info = con.execute("select tables from _siteledger_publish").fetchone()[0]
                expected = json.loads(info)
                got = con.execute("select count(*) from fct_balance").fetchone()[0]
                if got != expected["fct_balance"]:
                    errors += 1
            reads += 1
        except Exception as exc:  # any failure to read counts against the guarantee
            print("error:", exc, file=sys.stderr)
            errors += 1
    print(json.dumps({"reads": reads, "errors": errors}))
    """
)

WRITER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("create table if not exists marts.busy as select 1 as x")
    print("locked", flush=True)
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        con.execute("insert into marts.busy select range from range(1000)")
    con.close()
    """
)


@pytest.mark.integration
def test_bi_reader_in_another_process_is_never_blocked_or_half_served(warehouse: Warehouse):
    _build(warehouse.settings, 10)
    warehouse.publish(["marts"])
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse.published_db), "6"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # a build (another process holding the build database's write lock) runs meanwhile ...
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(warehouse.build_db), "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "locked"
    writer.wait(timeout=60)
    # ... then publishes follow one another while the reader keeps reading
    for rows in (20, 30, 40, 50):
        _build(warehouse.settings, rows)
        warehouse.publish(["marts"])
        time.sleep(0.2)
    out, err = reader.communicate(timeout=60)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["errors"] == 0, err
    assert result["reads"] > 20
