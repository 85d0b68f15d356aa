"""The prepaid metering records in the raw lake: one Parquet file per import batch, kind and site
(readings: per site-local day too).

Layout (dbt's ``metering_lake`` source reads it exactly like this)::

    lake/metering/<kind>/site=<site_id>/source=<layout>/<import_batch_id>.parquet
    lake/metering/readings/site=<site_id>/source=<layout>/day=<YYYY-MM-DD>/<import_batch_id>.parquet

``kind`` is one of :data:`siteledger.site.metering.METERING_KINDS`; ``site``, ``source`` and
``day`` are hive keys in the path only. Every file of a kind has that kind's schema in
:data:`METERING_SCHEMAS`: the record's own columns, then ``import_batch_id``, ``source_file``,
``source_row`` and ``loaded_at`` (:mod:`ingestion.record_lake`). Timestamps are UTC
instants, dates ``date32``, money float64 in the site currency, volumes in m3.

Customers and meters are a history of actions: each row holds the whole state of the customer
(meter) after its ``action`` (``create``, ``update``, ``deactivate``; an empty cell of the file
kept the value before), effective from ``effective_at``. Maintenance tasks may be delivered
again with a new status: the latest row of a task (by ``loaded_at``, then ``source_row``) holds.

As with readings, a file is only *committed* once its import job says so in the state store:
:func:`committed_records` reads the committed files only.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa

from ingestion.lake import METERING_TABLE, PARQUET_OPTIONS, day_text, write_parquet_atomic
from ingestion.record_lake import LOAD_COLUMNS, RecordLake
from ingestion.record_lake import TIMESTAMP as _TS
from ingestion.record_lake import column as _f
from ingestion.record_lake import record_schema as _schema
from ingestion.record_lake import text_column as _s
from siteledger.settings import Settings

METERING_SCHEMAS: dict[str, pa.Schema] = {
    "customers": _schema(
        _s("customer_id", True),
        _s("action", True),
        _s("name"),
        _s("segment"),
        _f("household_size", pa.int32()),
        _s("district_id"),
        _f("low_balance_threshold", pa.float64()),
        _s("address"),
        _f("effective_at", _TS, True),
    ),
    "meters": _schema(
        _s("meter_id", True),
        _s("action", True),
        _s("customer_id"),
        _s("meter_type"),
        _f("q3_m3_per_h", pa.float64()),
        _f("install_date", pa.date32()),
        _s("location"),
        _f("latitude", pa.float64()),
        _f("longitude", pa.float64()),
        _s("communication"),
        _f("reading_interval_minutes", pa.int32()),
        _f("effective_at", _TS, True),
    ),
    "vouchers": _schema(
        _s("voucher_code", True),
        _s("discount_type", True),
        _f("value", pa.float64(), True),
        _f("max_discount", pa.float64()),
        _f("min_purchase", pa.float64()),
        _f("total_limit", pa.int32()),
        _f("per_customer_limit", pa.int32()),
        _f("valid_from", _TS, True),
        _f("valid_until", _TS, True),
        _s("description"),
    ),
    "purchases": _schema(
        _s("purchase_id", True),
        _s("customer_id", True),
        _s("meter_id"),
        _f("paid_at", _TS, True),
        _f("amount", pa.float64(), True),
        _s("voucher_code"),
        _f("discount", pa.float64(), True),
        _f("final_amount", pa.float64(), True),
        _s("payment_method", True),
        _s("provider"),
        _s("token_id"),
    ),
    "readings": _schema(
        _s("meter_id", True),
        _f("read_at", _TS, True),
        _f("register_m3", pa.float64()),
        _f("interval_m3", pa.float64()),
        _f("reverse_m3", pa.float64()),
        _f("battery_pct", pa.float64()),
        _f("signal_dbm", pa.float64()),
    ),
    "meter_events": _schema(
        _s("event_id", True),
        _s("meter_id", True),
        _f("occurred_at", _TS, True),
        _s("event_type", True),
        _f("cleared_at", _TS),
        _s("detail"),
    ),
    "maintenance": _schema(
        _s("task_id", True),
        _s("meter_id", True),
        _s("task_type", True),
        _f("due_date", pa.date32(), True),
        _s("technician"),
        _s("status", True),
        _f("done_at", _TS),
        _s("notes"),
    ),
}
# what was delivered, to tell a re-delivery of a record from a changed one
CONTENT_COLUMNS: dict[str, tuple[str, ...]] = {
    kind: tuple(n for n in schema.names if n not in LOAD_COLUMNS)
    for kind, schema in METERING_SCHEMAS.items()
}
READINGS_PARQUET_OPTIONS = {
    **PARQUET_OPTIONS,
    "use_dictionary": ["meter_id", "import_batch_id", "source_file"],
}


_LAKE = RecordLake(METERING_TABLE, METERING_SCHEMAS, day_kinds=frozenset({"readings"}))
metering_root = _LAKE.root
metering_dir = _LAKE.kind_dir
metering_file = _LAKE.batch_file
write_records = _LAKE.write_records
committed_records = _LAKE.committed_records


def metering_readings_file(
    settings: Settings, site_id: str, source: str, day: str, batch_id: str
) -> Path:
    """Where one batch's readings of one site-local day (``YYYY-MM-DD``) live."""
    return (
        metering_dir(settings, "readings", site_id, source) / f"day={day}" / f"{batch_id}.parquet"
    )


def write_readings(
    settings: Settings,
    site_id: str,
    source: str,
    batch_id: str,
    source_file: str,
    columns: dict[str, pa.Array],
    day: np.ndarray,
    loaded_at: dt.datetime,
) -> list[Path]:
    """Write one batch's readings, one file per site-local day (``day``: days since 1970-01-01
    per row; ``columns``: the readings schema's record columns and ``source_row``). Rows given
    in day order (as the importer gives them: by day, meter and time) are written in that
    order; otherwise they are grouped by day first."""
    n = len(day)
    if n == 0:
        return []
    schema = METERING_SCHEMAS["readings"]
    table = pa.table(
        {
            **{name: columns[name] for name in schema.names if name in columns},
            "import_batch_id": pa.nulls(n, pa.string()).fill_null(batch_id),
            "source_file": pa.nulls(n, pa.string()).fill_null(source_file),
            "loaded_at": pa.nulls(n, _TS).fill_null(pa.scalar(loaded_at, _TS)),
        }
    )
    table = table.select(schema.names).cast(schema)
    if n > 1 and not bool(np.all(np.diff(day) >= 0)):
        order = np.argsort(day, kind="stable")
        table, day = table.take(pa.array(order)), day[order]
    cuts = np.flatnonzero(np.diff(day)) + 1
    starts = np.concatenate([[0], cuts]).tolist()
    stops = np.concatenate([cuts, [n]]).tolist()
    # Parquet encoding releases the GIL: the day files are written side by side
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = [
            pool.submit(
                write_parquet_atomic,
                table.slice(start, stop - start),
                metering_readings_file(
                    settings, site_id, source, day_text(int(day[start])), batch_id
                ),
                READINGS_PARQUET_OPTIONS,
            )
            for start, stop in zip(starts, stops, strict=True)
        ]
        return [future.result() for future in futures]
