"""Reading an export's rows from the published warehouse.

Table and column names come from the file a person wrote, so none reaches SQL unless the
published catalogue has it (checked by :func:`catalogue_problems`, then quoted); every value
(site ids, node ids, dates) is a bound parameter. Rows come back in a fixed order (every
selected column, in order) so the same warehouse version always gives the same file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from reports.exports.config import Selection, resolve_range

PUBLISH_INFO_TABLE = "_siteledger_publish"  # siteledger.warehouse.PUBLISH_INFO_TABLE
SITE_COLUMN = "site_id"
FACILITY_COLUMN = "node_id"
# the column a date range filters on when the export names none, first present wins
DATE_COLUMNS = ("day", "date", "month_start", "period_start", "month")
_DATE_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE")


class ExportQueryError(RuntimeError):
    pass


@dataclass(frozen=True)
class Catalogue:
    """The published marts and their columns (name -> DuckDB type), and the version served."""

    tables: dict[str, dict[str, str]]
    version_id: str | None
    published_at: dt.datetime | None


@dataclass(frozen=True)
class ExportData:
    """The rows of one export run, with what they were read from."""

    mart: str
    columns: list[str]
    types: dict[str, str]
    rows: list[tuple[Any, ...]]
    filters: dict[str, Any]
    warehouse_version: str | None
    published_at: dt.datetime | None


def read_catalogue(db: Path) -> Catalogue:
    """The published warehouse's tables (``_``-prefixed bookkeeping tables left out)."""
    if not db.exists():
        raise ExportQueryError(f"no published warehouse at {db}; run 'siteledger run' first")
    with duckdb.connect(str(db), read_only=True) as con:
        tables: dict[str, dict[str, str]] = {}
        for table, column, kind in con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'main' order by table_name, ordinal_position"
        ).fetchall():
            if not table.startswith("_"):
                tables.setdefault(table, {})[column] = kind
        version_id, published_at = None, None
        if con.execute(
            "select count(*) from information_schema.tables where table_name = ?",
            [PUBLISH_INFO_TABLE],
        ).fetchone() == (1,):
            row = con.execute(
                f"select version_id, published_at from {PUBLISH_INFO_TABLE}"  # noqa: S608
            ).fetchone()
            if row:
                version_id, published_at = str(row[0]), row[1]
    if isinstance(published_at, dt.datetime):
        published_at = published_at.astimezone(dt.UTC)
    return Catalogue(tables, version_id, published_at)


def date_column(selection: Selection, columns: dict[str, str]) -> str | None:
    if selection.date_column:
        return selection.date_column
    return next((c for c in DATE_COLUMNS if c in columns), None)


def catalogue_problems(selection: Selection, catalogue: Catalogue) -> list[tuple[str, str]]:
    """(key, reason) for every name in ``selection`` the published warehouse lacks."""
    if selection.mart not in catalogue.tables:
        marts = sorted(catalogue.tables)
        near = difflib.get_close_matches(selection.mart, marts, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(near)}?)" if near else f" ({len(marts)} are published)"
        return [("mart", f"no published mart {selection.mart!r}{hint}")]
    columns = catalogue.tables[selection.mart]
    problems = [
        (f"columns[{i}]", f"mart {selection.mart!r} has no column {c!r}")
        for i, c in enumerate(selection.columns)
        if c not in columns
    ]
    if selection.sites and SITE_COLUMN not in columns:
        problems.append(("sites", f"mart {selection.mart!r} has no {SITE_COLUMN} column"))
    if selection.facilities and FACILITY_COLUMN not in columns:
        problems.append(("facilities", f"mart {selection.mart!r} has no {FACILITY_COLUMN} column"))
    if selection.date_column and selection.date_column not in columns:
        problems.append(
            ("date_column", f"mart {selection.mart!r} has no column {selection.date_column!r}")
        )
    elif selection.dates is not None:
        column = date_column(selection, columns)
        if column is None:
            problems.append(
                ("dates", f"mart {selection.mart!r} has no date column; name one: date_column")
            )
        elif not columns[column].upper().startswith(_DATE_TYPES):
            problems.append(("date_column", f"column {column!r} is {columns[column]}, not a date"))
    return problems


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_export(db: Path, selection: Selection, as_of: dt.date) -> ExportData:
    """The rows ``selection`` picks from the published warehouse, for a run on ``as_of``."""
    catalogue = read_catalogue(db)
    problems = catalogue_problems(selection, catalogue)
    if problems:
        raise ExportQueryError("; ".join(f"source.{k}: {m}" for k, m in problems))
    available = catalogue.tables[selection.mart]
    columns = list(selection.columns) or list(available)
    where: list[str] = []
    params: list[Any] = []
    filters: dict[str, Any] = {}
    if selection.sites:
        where.append(f"{_quote(SITE_COLUMN)} in ({', '.join('?' * len(selection.sites))})")
        params += selection.sites
        filters["sites"] = list(selection.sites)
    if selection.facilities:
        where.append(f"{_quote(FACILITY_COLUMN)} in ({', '.join('?' * len(selection.facilities))})")
        params += selection.facilities
        filters["facilities"] = list(selection.facilities)
    if selection.dates is not None:
        column = date_column(selection, available)
        assert column is not None  # checked by catalogue_problems
        first, last = resolve_range(selection.dates, as_of)
        where.append(f"cast({_quote(column)} as date) between ? and ?")
        params += [first, last]
        filters.update(
            date_column=column,
            dates=selection.dates if isinstance(selection.dates, str) else "fixed",
            date_from=first.isoformat(),
            date_to=last.isoformat(),
        )
    # every name below was found in the catalogue and is quoted
    sql = (
        f"select {', '.join(_quote(c) for c in columns)} from {_quote(selection.mart)}"  # noqa: S608
        + (f" where {' and '.join(where)}" if where else "")
        + f" order by {', '.join(_quote(c) + ' nulls last' for c in columns)}"
    )
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(sql, params).fetchall()
    return ExportData(
        mart=selection.mart,
        columns=columns,
        types={c: available[c] for c in columns},
        rows=rows,
        filters=filters,
        warehouse_version=catalogue.version_id,
        published_at=catalogue.published_at,
    )


def column_docs(mart: str) -> dict[str, str]:
    """The dbt descriptions of ``mart``'s columns from the models' YAML (empty when the project
    does not describe it); read from the shipped dbt project, no dbt run needed."""
    import yaml

    from siteledger.dbt import DBT_PROJECT_DIR

    for path in sorted((Path(DBT_PROJECT_DIR) / "models" / "marts").rglob("_*.yml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for model in doc.get("models") or []:
            if isinstance(model, dict) and model.get("name") == mart:
                return {
                    str(c["name"]): " ".join(str(c.get("description") or "").split())
                    for c in model.get("columns") or []
                    if isinstance(c, dict) and "name" in c
                }
    return {}


def filters_text(filters: dict[str, Any]) -> str:
    return json.dumps(filters, sort_keys=True)
