"""Daily series for the analytics, read from the warehouse's metric mart (``fct_metric_daily``).

A series is one metric of one scope of one site (a store's closing volume, a flow's daily
volume, a site's demand), named ``{site_id}/{scope}/{scope_id}/{metric}``. Only closed days
are read: an open day's figures are provisional.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

METRIC_TABLE = "marts.fct_metric_daily"
SERIES_COLUMNS = ["series_id", "site_id", "scope", "scope_id", "metric", "day", "value", "unit"]


def series_id(site_id: str, scope: str, scope_id: str, metric: str) -> str:
    return f"{site_id}/{scope}/{scope_id}/{metric}"


def has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


def read_metrics(
    con: duckdb.DuckDBPyConnection,
    scopes: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Closed days of the metric mart (of ``scopes`` and ``metrics`` when given), with a
    ``series_id``; non-finite values become missing."""
    if not has_table(con, METRIC_TABLE):
        return pd.DataFrame(columns=SERIES_COLUMNS)
    where = ["is_day_closed"]
    params: list[object] = []
    if scopes is not None:
        where.append(f"scope in ({', '.join('?' * len(scopes))})" if scopes else "false")
        params.extend(scopes)
    if metrics is not None:
        where.append(f"metric in ({', '.join('?' * len(metrics))})" if metrics else "false")
        params.extend(metrics)
    frame = con.execute(
        "select site_id, scope, scope_id, metric, day, value, unit "  # noqa: S608
        f"from {METRIC_TABLE} where {' and '.join(where)} "
        "order by site_id, scope, scope_id, metric, day",
        params,
    ).df()
    frame["day"] = pd.to_datetime(frame["day"])
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame.loc[~np.isfinite(frame["value"]), "value"] = np.nan
    frame.insert(
        0,
        "series_id",
        frame["site_id"] + "/" + frame["scope"] + "/" + frame["scope_id"] + "/" + frame["metric"],
    )
    return frame[SERIES_COLUMNS]


def daily(frame: pd.DataFrame) -> pd.Series:
    """One series' rows as values on a complete daily index (missing days NaN)."""
    if frame.empty:
        return pd.Series(dtype="float64")
    values = frame.set_index("day")["value"].astype("float64").sort_index()
    values = values[~values.index.duplicated(keep="last")]
    index = pd.date_range(values.index.min(), values.index.max(), freq="D")
    return values.reindex(index)


def read_stores(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Stores with a capacity: site_id, node_id, capacity_m3, surface_area_m2."""
    return con.execute(
        "select site_id, node_id, capacity_m3, surface_area_m2 from marts.dim_nodes "
        "where node_kind = 'store' and capacity_m3 > 0 order by site_id, node_id"
    ).df()


def read_evidence(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """What could explain an anomaly on a flow's daily volume: days its meters had readings VEE
    judged invalid or estimated (``vee_flag``), and flows read by hand (``manual_source``).
    Columns: series_id, day, kind, detail."""
    columns = ["series_id", "day", "kind", "detail"]
    if not has_table(con, "marts.fct_meter_quality_daily"):
        return pd.DataFrame(columns=columns)
    vee = con.execute(
        """
        select
            q.site_id || '/flow/' || m.flow_id || '/volume_m3' as series_id,
            q.day,
            'vee_flag' as kind,
            'meter ' || q.meter_id || ': ' || q.n_invalid || ' invalid, '
                || q.n_estimated || ' estimated readings' as detail
        from marts.fct_meter_quality_daily as q
        inner join marts.dim_meters as m
            on q.site_id = m.site_id and q.meter_id = m.meter_id
        where m.flow_id is not null and (q.n_invalid > 0 or q.n_estimated > 0)
        """
    ).df()
    manual = con.execute(
        """
        select
            q.site_id || '/flow/' || m.flow_id || '/volume_m3' as series_id,
            q.day,
            'manual_source' as kind,
            'meter ' || q.meter_id || ' is read by hand' as detail
        from marts.fct_meter_quality_daily as q
        inner join marts.dim_meters as m
            on q.site_id = m.site_id and q.meter_id = m.meter_id
        where m.flow_id is not null and m.is_manual
        """
    ).df()
    out = pd.concat([vee, manual], ignore_index=True)
    out["day"] = pd.to_datetime(out["day"])
    return out[columns]
