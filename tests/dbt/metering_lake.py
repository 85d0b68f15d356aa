"""A small writer of metering lake files and metering site tables for the dbt tests.

The ingest package writes the real ones (ingestion/metering_lake.py, ingestion/site_tables.py);
this writer follows the same contract (docs/metering.md, the metering brief's Contracts 2 and 3)
so the dbt models can be tested on hand-made records without the importer:

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

TS = pa.timestamp("us", tz="UTC")

TAIL = [
    ("import_batch_id", pa.string()),
    ("source_file", pa.string()),
    ("source_row", pa.int64()),
    ("loaded_at", TS),
]

KIND_SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema(
        [
            ("customer_id", pa.string()),
            ("action", pa.string()),
            ("name", pa.string()),
            ("segment", pa.string()),
            ("household_size", pa.int32()),
            ("district_id", pa.string()),
            ("low_balance_threshold", pa.float64()),
            ("address", pa.string()),
            ("effective_at", TS),
            *TAIL,
        ]
    ),
    "meters": pa.schema(
        [
            ("meter_id", pa.string()),
            ("action", pa.string()),
            ("customer_id", pa.string()),
            ("meter_type", pa.string()),
            ("q3_m3_per_h", pa.float64()),
            ("install_date", pa.date32()),
            ("location", pa.string()),
            ("latitude", pa.float64()),
            ("longitude", pa.float64()),
            ("communication", pa.string()),
            ("reading_interval_minutes", pa.int32()),
            ("effective_at", TS),
            *TAIL,
        ]
    ),
    "vouchers": pa.schema(
        [
            ("voucher_code", pa.string()),
            ("discount_type", pa.string()),
            ("value", pa.float64()),
            ("max_discount", pa.float64()),
            ("min_purchase", pa.float64()),
            ("total_limit", pa.int32()),
            ("per_customer_limit", pa.int32()),
            ("valid_from", TS),
            ("valid_until", TS),
            ("description", pa.string()),
            *TAIL,
        ]
    ),
    "purchases": pa.schema(
        [
            ("purchase_id", pa.string()),
            ("customer_id", pa.string()),
            ("meter_id", pa.string()),
            ("paid_at", TS),
            ("amount", pa.float64()),
            ("voucher_code", pa.string()),
            ("discount", pa.float64()),
            ("final_amount", pa.float64()),
            ("payment_method", pa.string()),
            ("provider", pa.string()),
            ("token_id", pa.string()),
            *TAIL,
        ]
    ),
    "readings": pa.schema(
        [
            ("meter_id", pa.string()),
            ("read_at", TS),
            ("register_m3", pa.float64()),
            ("interval_m3", pa.float64()),
            ("reverse_m3", pa.float64()),
            ("battery_pct", pa.float64()),
            ("signal_dbm", pa.float64()),
            *TAIL,
        ]
    ),
    "meter_events": pa.schema(
        [
            ("event_id", pa.string()),
            ("meter_id", pa.string()),
            ("occurred_at", TS),
            ("event_type", pa.string()),
            ("cleared_at", TS),
            ("detail", pa.string()),
            *TAIL,
        ]
    ),
    "maintenance": pa.schema(
        [
            ("task_id", pa.string()),
            ("meter_id", pa.string()),
            ("task_type", pa.string()),
            ("due_date", pa.date32()),
            ("technician", pa.string()),
            ("status", pa.string()),
            ("done_at", TS),
            ("notes", pa.string()),
            *TAIL,
        ]
    ),
}

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

SITE_TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "metering_settings": pa.schema(
        [
            ("site_id", pa.string()),
            ("currency", pa.string()),
            ("emergency_credit", pa.float64()),
            ("low_balance_threshold", pa.float64()),
            ("low_balance_days", pa.string()),
            ("credit_days_window", pa.int32()),
            ("night_start_hour", pa.int32()),
            ("night_end_hour", pa.int32()),
            ("night_flow_l_per_h", pa.float64()),
            ("zero_flow_l_per_h", pa.float64()),
            ("intermittent_min_hours", pa.int32()),
            ("burst_q3_fraction", pa.float64()),
            ("default_q3_m3_per_h", pa.float64()),
            ("reverse_flow_l", pa.float64()),
            ("offline_after_intervals", pa.int32()),
            ("low_battery_pct", pa.float64()),
            ("weak_signal_dbm", pa.float64()),
            ("per_capita_benchmark_l", pa.float64()),
            ("peak_hours", pa.string()),
            ("revenue_drop_pct", pa.float64()),
            ("maintenance_due_days", pa.int32()),
        ]
    ),
    "metering_tariffs": pa.schema(
        [
            ("site_id", pa.string()),
            ("tariff_id", pa.string()),
            ("name", pa.string()),
            ("effective_from", pa.date32()),
            ("effective_to", pa.date32()),
            ("fixed_charge_per_month", pa.float64()),
        ]
    ),
    "metering_tariff_blocks": pa.schema(
        [
            ("site_id", pa.string()),
            ("tariff_id", pa.string()),
            ("effective_from", pa.date32()),
            ("block_no", pa.int32()),
            ("from_m3", pa.float64()),
            ("to_m3", pa.float64()),
            ("rate", pa.float64()),
        ]
    ),
    "metering_districts": pa.schema(
        [
            ("site_id", pa.string()),
            ("district_id", pa.string()),
            ("name", pa.string()),
            ("bulk_meter_id", pa.string()),
        ]
    ),
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
