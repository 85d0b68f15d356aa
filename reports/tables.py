"""Rows of a site's marts as the domain reports read and compare them.

The materials and metering reports read the same way: a site has a section when any of the
domain's marts holds a row of it, and each mart's rows come ordered by the columns it has of
its ordering. DECIMAL sums become floats here, once, for arithmetic and JSON.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb


def plain(value: Any) -> Any:
    """A mart value as reports use it: DECIMAL as float, non-finite floats as None."""
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """A query's rows as dicts of :func:`plain` values."""
    names = [d[0] for d in cursor.description or []]
    return [{n: plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def site_rows(
    con: duckdb.DuckDBPyConnection,
    tables: set[str],
    site_id: str,
    presence: Iterable[str],
    order: Mapping[str, str],
) -> dict[str, list[dict[str, Any]]] | None:
    """Each of ``order``'s marts in ``tables``: the site's rows, ordered by the columns of its
    ordering the mart has (by ``site_id`` when none). None when none of the ``presence`` marts
    holds a row of the site: the site has no section of that domain."""
    present = [t for t in presence if t in tables]
    if not present:
        return None
    # table names from PRESENCE, never from input
    union = " union all ".join(
        f"select 1 from {t} where site_id = $site"  # noqa: S608
        for t in present
    )
    if con.execute(f"select exists ({union})", {"site": site_id}).fetchone() != (True,):
        return None
    rows: dict[str, list[dict[str, Any]]] = {}
    for table, columns_order in order.items():
        if table not in tables:
            continue
        columns = {r[0] for r in con.execute(f"describe {table}").fetchall()}
        keys = [c.strip() for c in columns_order.split(",") if c.strip() in columns] or ["site_id"]
        cursor = con.execute(
            f"select * from {table} where site_id = ? order by {', '.join(keys)}",  # noqa: S608
            [site_id],
        )
        rows[table] = dicts(cursor)
    return rows


def keyed_figures(payload: dict[str, Any], keyed: Mapping[str, str]) -> dict[str, Any]:
    """The figures a restatement diff compares: the metrics, and each of ``keyed``'s parts the
    payload has, as its rows by their key (the key left out of the row)."""
    out: dict[str, Any] = {"metrics": payload["metrics"]}
    for part, key in keyed.items():
        if payload.get(part):
            out[part] = {
                str(r[key]): {k: v for k, v in r.items() if k != key} for r in payload[part]
            }
    return out
