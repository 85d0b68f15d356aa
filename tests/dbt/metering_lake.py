"""A small writer of metering lake files and metering site tables for the dbt tests.

The ingest package writes the real ones (ingestion/metering_lake.py, ingestion/site_tables.py);
this writer uses their schemas and follows the same contract (docs/metering.md, the metering
brief's Contracts 2 and 3) so the dbt models can be tested on hand-made records without the
importer:

- ``lake/metering/<kind>/site=<site>/source=<layout>/<import_batch_id>.parquet``
- ``lake/metering/readings/site=<site>/source=<layout>/day=<YYYY-MM-DD>/<batch>.parquet`` (one
  file per site-local day)
- ``lake/config/metering_<table>/site=<site>.parquet``

Every kind ends with import_batch_id, source_file, source_row and loaded_at; instants are UTC
``timestamp[us, tz=UTC]``, dates ``date32``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.metering_lake import METERING_SCHEMAS
from ingestion.site_tables import METERING_SITE_SCHEMAS

TS = pa.timestamp("us", tz="UTC")


def _lenient(schema: pa.Schema) -> pa.Schema:
    # hand-made rows may leave out a column the importer always fills: every column may be null
    return pa.schema([field.with_nullable(True) for field in schema])


# the production schemas, so the hand-made files cannot drift from what the importer writes
KIND_SCHEMAS: dict[str, pa.Schema] = {
    kind: _lenient(schema) for kind, schema in METERING_SCHEMAS.items()
}
SITE_TABLE_SCHEMAS: dict[str, pa.Schema] = METERING_SITE_SCHEMAS

SETTINGS_DEFAULTS: dict[str, Any] = {
    "currency": "IDR",
    "emergency_credit": 20000.0,
    "low_balance_threshold": 25000.0,
    "low_balance_days": "7,3,1",
    "credit_days_window": 7,
    "night_start_hour": 2,
    "night_end_hour": 5,
    "night_flow_l_per_h": 10.0,
    "zero_flow_l_per_h": 1.0,
    "intermittent_min_hours": 12,
    "burst_q3_fraction": 0.2,
    "default_q3_m3_per_h": 2.5,
    "reverse_flow_l": 5.0,
    "offline_after_intervals": 3,
    "low_battery_pct": 10.0,
    "weak_signal_dbm": -110.0,
    "per_capita_benchmark_l": 100.0,
    "peak_hours": "7,8,18,19,20",
    "revenue_drop_pct": 20.0,
    "maintenance_due_days": 14,
}

WATER_SCHEMA = pa.schema(
    [
        ("meter_id", pa.string()),
        ("ts", TS),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("batch_id", pa.string()),
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("loaded_at", TS),
    ]
)

Row = Mapping[str, Any]


def _table(schema: pa.Schema, rows: Sequence[Row], tail: Mapping[str, Any] | None) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for number, row in enumerate(rows, start=1):
        unknown = set(row) - set(schema.names)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        full = {**row, **(tail or {})}
        if tail is not None:
            full["source_row"] = number
        for name in schema.names:
            columns[name].append(full.get(name))
    return pa.table(columns, schema=schema)


def write_kind(
    lake: Path,
    kind: str,
    site: str,
    rows: Sequence[Row],
    *,
    batch: str,
    loaded_at: dt.datetime,
    layout: str = "hand",
    timezone: dt.tzinfo = dt.UTC,
) -> list[Path]:
    """Write one import batch of ``kind`` for ``site``; readings go one file per local day."""
    tail = {
        "import_batch_id": batch,
        "source_file": f"{kind}_{batch}.csv",
        "loaded_at": loaded_at,
    }
    folder = lake / "metering" / kind / f"site={site}" / f"source={layout}"
    schema = KIND_SCHEMAS[kind]
    if kind != "readings":
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{batch}.parquet"
        pq.write_table(_table(schema, rows, tail), path)
        return [path]
    by_day: dict[dt.date, list[Row]] = defaultdict(list)
    for row in rows:
        by_day[row["read_at"].astimezone(timezone).date()].append(row)
    written = []
    for day, day_rows in sorted(by_day.items()):
        day_folder = folder / f"day={day.isoformat()}"
        day_folder.mkdir(parents=True, exist_ok=True)
        path = day_folder / f"{batch}.parquet"
        pq.write_table(_table(schema, day_rows, tail), path)
        written.append(path)
    return written


def write_site_table(lake: Path, table: str, site: str, rows: Sequence[Row]) -> Path:
    """Write one metering site table of ``site`` (``lake/config/<table>/site=<site>.parquet``)."""
    rows = [{"site_id": site, **row} for row in rows]
    folder = lake / "config" / table
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"site={site}.parquet"
    pq.write_table(_table(SITE_TABLE_SCHEMAS[table], rows, None), path)
    return path


def write_settings(lake: Path, site: str, **overrides: Any) -> Path:
    """The site's metering_settings row: the defaults of the `metering:` section, overridden."""
    return write_site_table(lake, "metering_settings", site, [{**SETTINGS_DEFAULTS, **overrides}])


def write_water_readings(
    lake: Path,
    site: str,
    readings: Sequence[tuple[str, dt.datetime, float, str]],
    *,
    batch: str,
    loaded_at: dt.datetime,
    timezone: dt.tzinfo,
    source: str = "hand",
) -> None:
    """Water readings lake files (``lake/readings/site=/source=/day=/<batch>.parquet``)."""
    by_day: dict[dt.date, list[Row]] = defaultdict(list)
    for meter_id, ts, value, unit in readings:
        by_day[ts.astimezone(timezone).date()].append(
            {"meter_id": meter_id, "ts": ts, "value": value, "unit": unit}
        )
    for day, rows in sorted(by_day.items()):
        folder = lake / "readings" / f"site={site}" / f"source={source}" / f"day={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        tail = {"batch_id": batch, "source_file": f"{batch}.csv", "loaded_at": loaded_at}
        pq.write_table(_table(WATER_SCHEMA, rows, tail), folder / f"{batch}.parquet")
