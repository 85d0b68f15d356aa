"""A custom report's figures, read from the published warehouse only.

Every mart and column a template names is looked up in the warehouse's own schema
(``information_schema.columns``) before a query is written: only names found there are quoted
into SQL, and every value (site, nodes, dates) is a parameter. Rows are cut to the template's
site, nodes and dates in SQL; conditions (``where``, formatting rules) are then evaluated over
the fetched columns by :mod:`alerts.expressions`, whole columns at a time.

The payload is plain JSON, like the shipped reports': the renderers, the registry (content hash)
and the tests read the same dict.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from reports.custom.dates import DateRange
from reports.custom.model import (
    MAX_CHART_SERIES,
    Chart,
    LoadedTemplate,
    MetricCard,
    Sankey,
    Table,
    TextBlock,
    check_expression,
    expressions_of,
    fill_placeholders,
)
from reports.periods import Period
from siteledger.site.loader import ConfigProblem

SCHEMA_ID = "siteledger-custom-report/1.0"
# rows one element may read before its condition is applied (a year of daily rows of 100
# nodes is 36 500): more is refused with a message to narrow the dates or facilities
MAX_SCAN_ROWS = 200_000
DATE_COLUMNS = ("day", "month_start", "period_start")
_NUMERIC = (
    "DOUBLE",
    "FLOAT",
    "REAL",
    "DECIMAL",
    "INTEGER",
    "BIGINT",
    "SMALLINT",
    "TINYINT",
    "HUGEINT",
    "UBIGINT",
    "UINTEGER",
    "USMALLINT",
    "UTINYINT",
    "BOOLEAN",
)


class CustomDataError(RuntimeError):
    pass


@dataclass(frozen=True)
class Mart:
    """A published mart as its schema describes it."""

    name: str
    columns: dict[str, str]  # name -> DuckDB type

    @property
    def numeric(self) -> set[str]:
        return {c for c, t in self.columns.items() if t.upper().startswith(_NUMERIC)}

    @property
    def date_column(self) -> str | None:
        return next((c for c in DATE_COLUMNS if c in self.columns), None)


def warehouse_schema(con: duckdb.DuckDBPyConnection) -> dict[str, Mart]:
    """The published marts (``fct_*``, ``dim_*``) and their columns."""
    cols: dict[str, dict[str, str]] = {}
    for table, column, kind in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'main' and (table_name like 'fct\\_%' escape '\\' "
        "or table_name like 'dim\\_%' escape '\\') order by table_name, ordinal_position"
    ).fetchall():
        cols.setdefault(str(table), {})[str(column)] = str(kind)
    return {name: Mart(name, columns) for name, columns in cols.items()}


def _unknown(what: str, name: str, known: list[str]) -> str:
    hint = get_close_matches(name, known, n=1)
    return f"unknown {what} {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")


def schema_problems(loaded: LoadedTemplate, schema: Mapping[str, Mart]) -> list[ConfigProblem]:
    """Every mart, column and condition of the template checked against the warehouse."""
    problems: list[ConfigProblem] = []
    for path, element in loaded.template.elements():
        if isinstance(element, Sankey):
            if "fct_flow_sankey" not in schema:
                problems.append(loaded.problem(path, "the warehouse has no fct_flow_sankey mart"))
            continue
        if isinstance(element, TextBlock):
            continue
        mart = schema.get(element.mart)
        if mart is None:
            problems.append(
                loaded.problem(f"{path}.mart", _unknown("mart", element.mart, sorted(schema)))
            )
            continue
        named: list[tuple[str, str]] = []
        if isinstance(element, MetricCard):
            named.append(("column", element.column))
        elif isinstance(element, Table):
            named += [(f"columns[{i}]", c) for i, c in enumerate(element.columns)]
            named += [(f"sort[{i}]", s.lstrip("-")) for i, s in enumerate(element.sort)]
            named += [(f"labels.{c}", c) for c in element.labels if c not in element.columns]
        elif isinstance(element, Chart):
            named += [("x", element.x), *((f"y[{i}]", c) for i, c in enumerate(element.y))]
            if element.series:
                named.append(("series", element.series))
        for key, column in named:
            if column not in mart.columns:
                message = _unknown(f"column of {mart.name}", column, sorted(mart.columns))
                problems.append(loaded.problem(f"{path}.{key}", message))
        numeric_needed = [("column", element.column)] if isinstance(element, MetricCard) else []
        if isinstance(element, MetricCard) and element.aggregate == "count":
            numeric_needed = []
        if isinstance(element, Chart):
            numeric_needed = [(f"y[{i}]", c) for i, c in enumerate(element.y)]
            if element.series and len(element.y) != 1:
                problems.append(
                    loaded.problem(f"{path}.y", "a chart split by series draws one y column")
                )
        for key, column in numeric_needed:
            if column in mart.columns and column not in mart.numeric:
                problems.append(
                    loaded.problem(
                        f"{path}.{key}", f"{column!r} is {mart.columns[column]}, not a number"
                    )
                )
        for key, text in expressions_of(element):
            names = (
                {"value"} if isinstance(element, MetricCard) and ".when" in key else mart.numeric
            )
            try:
                check_expression(text, names)
            except ValueError as exc:
                problems.append(loaded.problem(f"{path}.{key}", f"condition {text!r}: {exc}"))
        if isinstance(element, Table):
            for i, rule in enumerate(element.formatting):
                if rule.column is not None and rule.column not in element.columns:
                    problems.append(
                        loaded.problem(
                            f"{path}.formatting[{i}].column",
                            f"{rule.column!r} is not one of the table's columns",
                        )
                    )
    return problems


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "as_integer_ratio") and not isinstance(value, int | float):
        return float(value)  # Decimal
    return value


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def fetch(
    con: duckdb.DuckDBPyConnection,
    mart: Mart,
    columns: list[str],
    site_id: str,
    nodes: list[str],
    period: DateRange,
) -> list[dict[str, Any]]:
    """Rows of ``mart`` for the site, nodes and dates, ``columns`` only, in date order."""
    for column in columns:
        if column not in mart.columns:  # schema_problems said so already; never quote a stranger
            raise CustomDataError(f"{column!r} is not a column of {mart.name}")
    wanted = list(dict.fromkeys(columns))
    # names found in the schema only, quoted; every value is a parameter
    sql = f"select {', '.join(_quote(c) for c in wanted)} from {_quote(mart.name)} where true"  # noqa: S608
    params: list[Any] = []
    if "site_id" in mart.columns:
        sql += " and site_id = ?"
        params.append(site_id)
    if nodes and "node_id" in mart.columns:
        sql += f" and node_id in ({', '.join('?' for _ in nodes)})"
        params += nodes
    date_column = mart.date_column
    if date_column is not None:
        first = period.start if date_column == "day" else period.start.replace(day=1)
        sql += f" and {_quote(date_column)} between ? and ?"
        params += [first, period.end]
        sql += f" order by {_quote(date_column)}"
        if "node_id" in mart.columns:
            sql += ", node_id"
    sql += f" limit {MAX_SCAN_ROWS + 1}"
    cursor = con.execute(sql, params)
    rows = [dict(zip(wanted, (_plain(v) for v in row), strict=True)) for row in cursor.fetchall()]
    if len(rows) > MAX_SCAN_ROWS:
        raise CustomDataError(
            f"{mart.name} has more than {MAX_SCAN_ROWS} rows for {site_id} over "
            f"{period.key}; narrow the dates or the facilities"
        )
    return rows


def _mask(rows: list[dict[str, Any]], text: str | None, names: set[str]) -> np.ndarray:
    """1.0 where ``text`` holds on a row, 0.0 where not, NaN where a value it uses is missing."""
    if not text:
        return np.ones(len(rows))
    compiled = check_expression(text, names)
    arrays = {
        n: np.array([np.nan if r.get(n) is None else float(r[n]) for r in rows], dtype=np.float64)
        for n in compiled.names
    }
    if not rows:
        return np.ones(0)
    return compiled.evaluate_arrays(arrays)


def condition_names(text: str | None, names: set[str]) -> set[str]:
    return set() if not text else set(check_expression(text, names).names)


def _aggregate(values: list[Any], how: str) -> float | None:
    numbers = [float(v) for v in values if v is not None]
    if how == "count":
        return float(len(values))
    if not numbers:
        return None
    if how == "sum":
        return math.fsum(numbers)
    if how == "mean":
        return math.fsum(numbers) / len(numbers)
    if how == "min":
        return min(numbers)
    if how == "max":
        return max(numbers)
    return numbers[0] if how == "first" else numbers[-1]


def metric_text(value: float | None, decimals: int, unit: str) -> str:
    if value is None:
        return "n/a"
    if abs(value) < 0.5 * 10**-decimals:
        value = 0.0  # never "-0"
    text = f"{value:,.{decimals}f}"
    return f"{text} {unit}".strip()


def _metric(
    con: duckdb.DuckDBPyConnection, e: MetricCard, mart: Mart, ctx: _Context
) -> dict[str, Any]:
    used = condition_names(e.where, mart.numeric)
    rows = fetch(con, mart, [e.column, *sorted(used)], ctx.site_id, ctx.nodes, ctx.period)
    mask = _mask(rows, e.where, mart.numeric)
    kept = [r[e.column] for r, keep in zip(rows, mask, strict=True) if keep == 1.0]
    value = _aggregate(kept, e.aggregate)
    colour = None
    for rule in e.formatting:
        if check_expression(rule.when, {"value"}).evaluate({"value": value}):
            colour = rule.colour
            break
    return {
        "type": "metric",
        "id": e.id,
        "title": e.title,
        "label": e.label,
        "mart": e.mart,
        "column": e.column,
        "aggregate": e.aggregate,
        "rows": len(kept),
        "value": value,
        "text": metric_text(value, e.decimals, e.unit),
        "unit": e.unit,
        "colour": colour,
    }


def _sort_key(value: Any) -> tuple[int, Any]:
    return (1, 0) if value is None else (0, value)


def _table(con: duckdb.DuckDBPyConnection, e: Table, mart: Mart, ctx: _Context) -> dict[str, Any]:
    used = condition_names(e.where, mart.numeric)
    for rule in e.formatting:
        used |= condition_names(rule.when, mart.numeric)
    sort = [s.lstrip("-") for s in e.sort]
    rows = fetch(con, mart, [*e.columns, *sort, *sorted(used)], ctx.site_id, ctx.nodes, ctx.period)
    mask = _mask(rows, e.where, mart.numeric)
    rows = [r for r, keep in zip(rows, mask, strict=True) if keep == 1.0]
    for key in reversed(e.sort):  # stable sorts, last key first
        name = key.lstrip("-")
        rows.sort(key=lambda r: _sort_key(r[name]), reverse=key.startswith("-"))
    total = len(rows)
    rows = rows[: e.limit]
    fills: list[list[str | None]] = [[None] * len(e.columns) for _ in rows]
    # the first rule that holds colours a cell: rules are written most important first
    for rule in reversed(e.formatting):
        hits = _mask(rows, rule.when, mart.numeric)
        for i, hit in enumerate(hits):
            if hit != 1.0:
                continue
            for j, column in enumerate(e.columns):
                if rule.column is None or rule.column == column:
                    fills[i][j] = rule.colour
    return {
        "type": "table",
        "title": e.title,
        "mart": e.mart,
        "columns": list(e.columns),
        "headings": [e.labels.get(c, c) for c in e.columns],
        "numeric": [c in mart.numeric for c in e.columns],
        "decimals": e.decimals,
        "condition": e.where,
        "rows": [[r[c] for c in e.columns] for r in rows],
        "fills": fills,
        "total_rows": total,
    }


def _chart(con: duckdb.DuckDBPyConnection, e: Chart, mart: Mart, ctx: _Context) -> dict[str, Any]:
    used = condition_names(e.where, mart.numeric)
    extra = [e.series] if e.series else []
    rows = fetch(con, mart, [e.x, *e.y, *extra, *sorted(used)], ctx.site_id, ctx.nodes, ctx.period)
    mask = _mask(rows, e.where, mart.numeric)
    rows = [r for r, keep in zip(rows, mask, strict=True) if keep == 1.0]
    rows.sort(key=lambda r: _sort_key(r[e.x]))
    series: dict[str, list[list[Any]]] = {}
    if e.series:
        for r in rows:
            series.setdefault(str(r[e.series]), []).append([r[e.x], r[e.y[0]]])
    else:
        for column in e.y:
            series[e.labels.get(column, column)] = [[r[e.x], r[column]] for r in rows]
    points = sum(len(p) for p in series.values())
    if points > e.max_points:
        raise CustomDataError(
            f"chart {e.title or e.mart!r} would draw {points} points; its limit is "
            f"{e.max_points} (max_points, at most 2000): narrow the dates or facilities"
        )
    # a split by a column with many values draws the first MAX_CHART_SERIES (by name); the
    # rest are named under the chart and are in the workbook's data sheet
    names = sorted(series) if e.series else list(series)
    omitted = names[MAX_CHART_SERIES:]
    return {
        "type": "chart",
        "kind": e.kind,
        "title": e.title,
        "mart": e.mart,
        "x": e.x,
        "unit": e.unit,
        "series": [{"name": name, "points": series[name]} for name in names[:MAX_CHART_SERIES]],
        "omitted": [{"name": name, "points": series[name]} for name in omitted],
    }


def _sankey(db: Path, e: Sankey, ctx: _Context) -> dict[str, Any]:
    from reports.data import _flows, load_site

    period = Period("monthly", ctx.period.key, ctx.period.start, ctx.period.end)
    flows = _flows(load_site(db, ctx.site_id), period)
    return {
        "type": "sankey",
        "title": e.title,
        "months": [m.isoformat() for m in period.months],
        "months_label": " – ".join(
            dict.fromkeys(m.strftime("%B %Y") for m in (period.months[0], period.months[-1]))
        ),
        "flows": [
            {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in f.items()}
            for f in flows
        ],
    }


@dataclass
class _Context:
    site_id: str
    nodes: list[str]
    period: DateRange


def site_row(con: duckdb.DuckDBPyConnection, site_id: str) -> dict[str, Any]:
    cursor = con.execute("select * from dim_sites where site_id = ?", [site_id])
    row = cursor.fetchone()
    if row is None:
        raise CustomDataError(f"site {site_id!r} is not in the published warehouse")
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def build_payload(
    db: Path,
    loaded: LoadedTemplate,
    site_id: str,
    period: DateRange,
    con: duckdb.DuckDBPyConnection,
    schema: Mapping[str, Mart],
) -> dict[str, Any]:
    """The report's figures for one site and period (the schema was checked before)."""
    t = loaded.template
    site = site_row(con, site_id)
    ctx = _Context(site_id, list(t.facilities.nodes), period)
    version = con.execute("select version_id from _siteledger_publish").fetchone()
    pages: list[dict[str, Any]] = []
    metrics: dict[str, dict[str, Any]] = {}
    for template_page in t.pages:
        out = []
        for e in template_page.elements:
            if isinstance(e, MetricCard):
                item = _metric(con, e, schema[e.mart], ctx)
                metrics[e.id] = item
            elif isinstance(e, Table):
                item = _table(con, e, schema[e.mart], ctx)
            elif isinstance(e, Chart):
                item = _chart(con, e, schema[e.mart], ctx)
            elif isinstance(e, Sankey):
                item = _sankey(db, e, ctx)
            else:
                item = {"type": "text", "title": e.title, "text": e.text}
            out.append(item)
        pages.append({"title": template_page.title, "elements": out})
    values = {
        "title": t.title,
        "site_id": site_id,
        "site_name": str(site.get("site_name") or site_id),
        "period": period.label,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        **{k: m["text"] for k, m in metrics.items()},
    }
    values["title"] = fill_placeholders(t.title, values)
    for page in pages:
        page["title"] = fill_placeholders(page["title"], values)
        for item in page["elements"]:
            item["title"] = fill_placeholders(item["title"], values)
            if item["type"] == "text":
                item["text"] = fill_placeholders(item["text"], values)
    return {
        "schema": SCHEMA_ID,
        "domain": "custom",
        "definition": {
            "id": loaded.definition_id,
            "name": t.name,
            "title": values["title"],
            "description": t.description,
            "facilities": {"sites": list(t.facilities.sites), "nodes": list(t.facilities.nodes)},
            "sections": [],
        },
        "site": {"id": site_id, "name": values["site_name"]},
        "period": period.as_dict(),
        "warehouse_version": None if version is None else str(version[0]),
        "metrics": {k: m["value"] for k, m in metrics.items()},
        "pages": pages,
        "footer": fill_placeholders(t.branding.footer, values),
    }
