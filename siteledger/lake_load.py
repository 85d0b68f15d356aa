"""The raw lake copied into a PostgreSQL warehouse, for the ``postgres`` dbt target.

DuckDB reads the lake's Parquet where it lies; PostgreSQL cannot, so before a build every dbt
source that names an ``external_location`` (a glob under the lake) is copied into a table of the
same name in the source's schema (``lake.readings``, ``site_config.meters``, ...), which is what
``source()`` refers to on that target. The hive keys of the folders (``site=``, ``source=``,
``day=``) become columns, as DuckDB's reader makes them.

The copy is incremental by file. The lake is append-only (one file per import batch and day),
so a run copies the files it has not copied before; a file that changed (a site table rewritten
when its YAML changed) or disappeared (a batch rolled back) has its rows deleted first. Every
copied row carries its file in ``_lake_file``, and ``siteledger_lake.loaded_files`` records each
file's size and modification time. One source is one transaction: a build that reads a source
while it is being loaded sees it before or after, never half.
"""

from __future__ import annotations

import glob
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

FILE_COLUMN = "_lake_file"
BOOK_SCHEMA = "siteledger_lake"
BOOK_TABLE = "loaded_files"
# hive keys with a type other than text (DuckDB's reader is told the same in macros/lake.sql)
HIVE_TYPES = {"day": "date"}
# files per COPY: bounds the memory of one read (a day of a 20 000-meter site is ~0.5 M rows)
FILES_PER_CHUNK = 64


class LakeLoadError(RuntimeError):
    """A source could not be copied; its table is left as it was."""


@dataclass(frozen=True)
class LakeSource:
    """A dbt source read from the lake: its table in the warehouse and the files' glob."""

    schema: str
    table: str
    pattern: str


@dataclass
class LoadReport:
    """What one load did, per source table (``schema.table``)."""

    files_loaded: dict[str, int]
    files_removed: dict[str, int]
    rows_loaded: dict[str, int]

    @property
    def total_rows(self) -> int:
        return sum(self.rows_loaded.values())


def conninfo_from_env(env: dict[str, str] | None = None) -> str:
    """The libpq connection string of the ``postgres`` dbt target (profiles.yml reads the same
    variables with the same defaults)."""
    env = dict(os.environ if env is None else env)
    parts = {
        "host": env.get("SITELEDGER_PG_HOST", "127.0.0.1"),
        "port": env.get("SITELEDGER_PG_PORT", "5432"),
        "user": env.get("SITELEDGER_PG_USER", "postgres"),
        "dbname": env.get("SITELEDGER_PG_DATABASE", "siteledger"),
    }
    if env.get("SITELEDGER_PG_PASSWORD"):
        parts["password"] = env["SITELEDGER_PG_PASSWORD"]
    return psycopg.conninfo.make_conninfo(**parts)


def target_env(url: str) -> dict[str, str]:
    """The environment that points the ``postgres`` dbt target and the loader at the database of
    a ``postgresql://`` URL."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    return {
        "SITELEDGER_DBT_TARGET": "postgres",
        "SITELEDGER_PG_HOST": str(info.get("host", "127.0.0.1")),
        "SITELEDGER_PG_PORT": str(info.get("port", "5432")),
        "SITELEDGER_PG_USER": str(info.get("user", "postgres")),
        "SITELEDGER_PG_PASSWORD": str(info.get("password", "")),
        "SITELEDGER_PG_DATABASE": str(info["dbname"]),
    }


def lake_sources(manifest: dict, lake_root: Path) -> list[LakeSource]:
    """Every source of the dbt manifest that reads lake files, with its glob under ``lake_root``.

    ``external_location`` is the quoted glob dbt-duckdb reads (``'{lake_root}/readings/...'``).
    """
    sources = []
    for node in manifest["sources"].values():
        location = (node.get("meta") or {}).get("external_location")
        if not location:
            continue
        pattern = location.strip().strip("'").replace("{lake_root}", str(lake_root))
        sources.append(LakeSource(node["schema"], node["identifier"], pattern))
    return sorted(sources, key=lambda s: (s.schema, s.table))


def load_lake(
    conninfo: str, manifest: dict | Path, lake_root: Path, only: Iterable[str] | None = None
) -> LoadReport:
    """Copy the lake's new and changed files into the PostgreSQL warehouse at ``conninfo``.

    ``manifest`` is dbt's manifest (or its path); ``only`` limits the load to some
    ``schema.table`` names. Raises :class:`LakeLoadError` naming the source that failed.
    """
    nodes = manifest if isinstance(manifest, dict) else json.loads(manifest.read_text())
    wanted = set(only) if only is not None else None
    report = LoadReport({}, {}, {})
    with psycopg.connect(conninfo) as pg:
        _ensure_book(pg)
        for source in lake_sources(nodes, lake_root):
            name = f"{source.schema}.{source.table}"
            if wanted is not None and name not in wanted:
                continue
            try:
                with pg.transaction():
                    loaded, removed, rows = _load_source(pg, source)
            except (psycopg.Error, duckdb.Error, OSError, LakeLoadError) as exc:
                raise LakeLoadError(f"{name} ({source.pattern}): {exc}") from exc
            report.files_loaded[name] = loaded
            report.files_removed[name] = removed
            report.rows_loaded[name] = rows
    return report


def _ensure_book(pg: psycopg.Connection) -> None:
    with pg.transaction():
        pg.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(BOOK_SCHEMA)))
        pg.execute(
            sql.SQL(
                "create table if not exists {}.{} ("
                " schema_name text not null, table_name text not null, path text not null,"
                " size bigint not null, mtime_ns bigint not null, row_count bigint not null,"
                " loaded_at timestamptz not null default now(),"
                " primary key (schema_name, table_name, path))"
            ).format(sql.Identifier(BOOK_SCHEMA), sql.Identifier(BOOK_TABLE))
        )


def _file_state(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def _load_source(pg: psycopg.Connection, source: LakeSource) -> tuple[int, int, int]:
    book = sql.SQL("{}.{}").format(sql.Identifier(BOOK_SCHEMA), sql.Identifier(BOOK_TABLE))
    target = sql.SQL("{}.{}").format(sql.Identifier(source.schema), sql.Identifier(source.table))
    known = {
        path: (size, mtime)
        for path, size, mtime in pg.execute(
            sql.SQL(
                "select path, size, mtime_ns from {} where schema_name = %s and table_name = %s"
            ).format(book),
            (source.schema, source.table),
        )
    }
    # hidden files are writes in progress (ingestion/lake.py renames them into place)
    present = {
        path: _file_state(path)
        for path in glob.glob(source.pattern)
        if not Path(path).name.startswith(".")
    }
    stale = [p for p, state in known.items() if present.get(p) != state]
    fresh = sorted(p for p, state in present.items() if known.get(p) != state)
    exists = _table_exists(pg, source)
    if stale and exists:
        pg.execute(
            sql.SQL("delete from {} where {} = any(%s)").format(
                target, sql.Identifier(FILE_COLUMN)
            ),
            (stale,),
        )
    if stale:
        pg.execute(
            sql.SQL(
                "delete from {} where schema_name = %s and table_name = %s and path = any(%s)"
            ).format(book),
            (source.schema, source.table, stale),
        )
    rows = 0
    for start in range(0, len(fresh), FILES_PER_CHUNK):
        chunk = fresh[start : start + FILES_PER_CHUNK]
        table = _read_files(chunk, source.pattern)
        if not exists:
            pg.execute(
                sql.SQL("create schema if not exists {}").format(sql.Identifier(source.schema))
            )
            pg.execute(sql.SQL("create table {} ({})").format(target, _column_defs(table.schema)))
            exists = True
        else:
            _add_missing_columns(pg, source, target, table.schema)
        _copy(pg, target, table)
        counts = table.group_by(FILE_COLUMN).aggregate([([], "count_all")]).to_pydict()
        per_file = dict(zip(counts[FILE_COLUMN], counts["count_all"], strict=True))
        with pg.cursor() as cur:
            cur.executemany(
                sql.SQL(
                    "insert into {} (schema_name, table_name, path, size, mtime_ns, row_count)"
                    " values (%s, %s, %s, %s, %s, %s)"
                ).format(book),
                [(source.schema, source.table, p, *present[p], per_file.get(p, 0)) for p in chunk],
            )
        rows += table.num_rows
    return len(fresh), len([p for p in stale if p not in present]), rows


def _table_exists(pg: psycopg.Connection, source: LakeSource) -> bool:
    row = pg.execute(
        "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
        (source.schema, source.table),
    ).fetchone()
    return row is not None


_HIVE_KEY = re.compile(r"[a-z_][a-z0-9_]*")


def _hive_keys(path: str, pattern: str) -> list[str]:
    """The ``key=`` folders of ``path`` below the fixed start of its source's glob."""
    base = Path(pattern.split("*", 1)[0])
    relative = Path(path).parent.relative_to(base) if Path(path).is_relative_to(base) else Path()
    keys = [part.split("=", 1)[0] for part in relative.parts if "=" in part]
    for key in keys:
        if not _HIVE_KEY.fullmatch(key):
            raise LakeLoadError(f"{path}: folder key {key!r} is not a lake partition key")
    return keys


def _read_files(paths: list[str], pattern: str) -> pa.Table:
    """The files' rows as one Arrow table: columns united by name, the folders' hive keys as
    columns, and each row's file in ``_lake_file``."""
    keys = _hive_keys(paths[0], pattern)
    con = duckdb.connect()
    try:
        options = "union_by_name = true, filename = '_lake_file'"
        if keys:
            types = ", ".join(f"'{k}': {HIVE_TYPES.get(k, 'varchar')}" for k in keys)
            options += f", hive_partitioning = true, hive_types = {{{types}}}"
        else:
            options += ", hive_partitioning = false"
        # the options hold hive key names checked against _HIVE_KEY
        query = f"select * from read_parquet(?, {options})"  # noqa: S608
        return con.sql(query, params=[paths]).to_arrow_table()
    finally:
        con.close()


_PG_TYPES = {
    pa.string(): "text",
    pa.large_string(): "text",
    pa.float64(): "double precision",
    pa.float32(): "real",
    pa.int64(): "bigint",
    pa.int32(): "integer",
    pa.int16(): "smallint",
    pa.int8(): "smallint",
    pa.bool_(): "boolean",
    pa.date32(): "date",
}


def _pg_type(arrow_type: pa.DataType) -> str:
    if arrow_type in _PG_TYPES:
        return _PG_TYPES[arrow_type]
    if pa.types.is_timestamp(arrow_type):
        return "timestamptz" if arrow_type.tz else "timestamp"
    if pa.types.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision}, {arrow_type.scale})"
    if pa.types.is_null(arrow_type):
        return "text"
    raise LakeLoadError(f"no PostgreSQL column type for Arrow type {arrow_type}")


def _column_defs(schema: pa.Schema) -> sql.Composed:
    return sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(_pg_type(f.type))) for f in schema
    )


def _add_missing_columns(
    pg: psycopg.Connection, source: LakeSource, target: sql.Composable, schema: pa.Schema
) -> None:
    have = {
        name
        for (name,) in pg.execute(
            "select column_name from information_schema.columns"
            " where table_schema = %s and table_name = %s",
            (source.schema, source.table),
        )
    }
    for field in schema:
        if field.name not in have:
            pg.execute(
                sql.SQL("alter table {} add column {} {}").format(
                    target, sql.Identifier(field.name), sql.SQL(_pg_type(field.type))
                )
            )


def _copy(pg: psycopg.Connection, target: sql.Composable, table: pa.Table) -> None:
    """COPY the table in as CSV: a null is an unquoted empty field, an empty text is quoted."""
    buffer = io.BytesIO()
    pacsv.write_csv(
        table,
        buffer,
        pacsv.WriteOptions(include_header=False, quoting_style="all_valid"),
    )
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in table.column_names)
    with (
        pg.cursor() as cur,
        cur.copy(sql.SQL("copy {} ({}) from stdin (format csv)").format(target, columns)) as copy,
    ):
        view = buffer.getbuffer()
        for start in range(0, len(view), 1 << 20):
            copy.write(view[start : start + (1 << 20)])
