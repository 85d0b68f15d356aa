"""What the record lakes (:mod:`ingestion.materials_lake`, :mod:`ingestion.metering_lake`) share:
the column helpers their schemas are declared with, the load columns every kind ends with, and
the writing and committed reading of one kind's files (:class:`RecordLake`).

Every file of a kind has that kind's schema: the record's own columns, then ``import_batch_id``
(the import batch that wrote the row, also the file's name), ``source_file``, ``source_row`` and
``loaded_at``. ``site`` and ``source`` (and ``day`` for day-partitioned kinds) are hive keys in
the path only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from ingestion.lake import committed_batch_ids, write_parquet_atomic
from siteledger.settings import Settings
from siteledger.state.store import StateStore

TIMESTAMP = pa.timestamp("us", tz="UTC")


def column(name: str, kind: pa.DataType, required: bool = False) -> pa.Field:
    """A record column (nullable unless ``required``)."""
    return pa.field(name, kind, nullable=not required)


def text_column(name: str, required: bool = False) -> pa.Field:
    return column(name, pa.string(), required)


# the columns every kind ends with
LOAD_FIELDS: tuple[pa.Field, ...] = (
    text_column("import_batch_id", True),
    text_column("source_file", True),
    column("source_row", pa.int64(), True),
    column("loaded_at", TIMESTAMP, True),
)
LOAD_COLUMNS = tuple(f.name for f in LOAD_FIELDS)
PARTITION_SCHEMA = pa.schema([pa.field("site", pa.string()), pa.field("source", pa.string())])
DAY_PARTITION_SCHEMA = pa.schema([*PARTITION_SCHEMA, pa.field("day", pa.date32())])


def record_schema(*fields: pa.Field) -> pa.Schema:
    """A kind's schema: its record columns, then the load columns."""
    return pa.schema([*fields, *LOAD_FIELDS])


def records_table(
    schema: pa.Schema, rows: Iterable[dict[str, Any]], constant: dict[str, Any]
) -> pa.Table:
    """The lake table of a kind from record dicts (missing optional columns are null)."""
    return pa.Table.from_pylist(
        [{**{k: r.get(k) for k in schema.names if k not in constant}, **constant} for r in rows],
        schema=schema,
    )


@dataclass(frozen=True)
class RecordLake:
    """One domain's record files: ``<lake>/<table>/<kind>/site=<site>/source=<layout>/`` then
    ``<import_batch_id>.parquet`` (``day=<YYYY-MM-DD>/`` before it for the ``day_kinds``)."""

    table: str
    schemas: dict[str, pa.Schema]
    day_kinds: frozenset[str] = frozenset()

    def root(self, settings: Settings) -> Path:
        return settings.lake / self.table

    def kind_dir(self, settings: Settings, kind: str, site_id: str, source: str) -> Path:
        """Records of one kind, site and layout."""
        return self.root(settings) / kind / f"site={site_id}" / f"source={source}"

    def batch_file(
        self, settings: Settings, kind: str, site_id: str, source: str, batch_id: str
    ) -> Path:
        """Where one batch's records of a kind (not one of the ``day_kinds``) live."""
        return self.kind_dir(settings, kind, site_id, source) / f"{batch_id}.parquet"

    def write_records(
        self,
        settings: Settings,
        kind: str,
        site_id: str,
        source: str,
        batch_id: str,
        source_file: str,
        rows: list[dict[str, Any]],
        loaded_at: dt.datetime,
    ) -> list[Path]:
        """Write one batch's records of a kind (not one of the ``day_kinds``; ``rows`` carry the
        kind's record columns and ``source_row``); returns the file, or nothing when there are
        no rows."""
        if not rows:
            return []
        constant = {"import_batch_id": batch_id, "source_file": source_file, "loaded_at": loaded_at}
        ordered = sorted(rows, key=lambda r: r["source_row"])
        table = records_table(self.schemas[kind], ordered, constant)
        path = self.batch_file(settings, kind, site_id, source, batch_id)
        return [write_parquet_atomic(table, path)]

    def committed_records(
        self, settings: Settings, store: StateStore, kind: str, site_id: str | None = None
    ) -> pa.Table:
        """Records of a kind in committed batches (every layout), with ``site`` and ``source``
        (and ``day`` for the ``day_kinds``)."""
        by_day = kind in self.day_kinds
        partitions = DAY_PARTITION_SCHEMA if by_day else PARTITION_SCHEMA
        schema = pa.unify_schemas([self.schemas[kind], partitions])
        wanted = committed_batch_ids(store, site_id)
        base = self.root(settings) / kind
        pattern = f"site={site_id or '*'}/source=*/{'day=*/' if by_day else ''}*.parquet"
        files = sorted(str(p) for p in base.glob(pattern) if p.stem in wanted)
        if not files:
            return schema.empty_table()
        dataset = ds.dataset(
            files,
            schema=schema,
            format="parquet",
            partitioning=ds.partitioning(partitions, flavor="hive"),
            partition_base_dir=str(base),
        )
        return dataset.to_table().select(schema.names)
