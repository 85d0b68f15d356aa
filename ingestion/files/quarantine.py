"""The quarantine: rejected rows (Parquet, with the reason) and rejected whole files.

quarantine/rows/site=<site_id>/source=<layout>/<batch_id>.parquet
quarantine/files/<batch_id>/<sanitised name>  +  reason.json
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.lake import (
    QUARANTINE_SCHEMA,
    quarantine_rows_file,
    temporary_path,
    write_parquet_atomic,
)
from siteledger.settings import Settings

RAW_TEXT_LIMIT = 200
_ROW_FIELDS = ("source_row", "column", "raw_timestamp", "raw_value", "reason")
_POSITION = "position"
TextColumn: TypeAlias = pa.Array | str | None


def _text(value: TextColumn, n: int) -> pa.Array:
    """``n`` texts cut to :data:`RAW_TEXT_LIMIT` characters."""
    if value is None:
        return pa.nulls(n, pa.string())
    if isinstance(value, str):
        return pa.repeat(pa.scalar(value[:RAW_TEXT_LIMIT], pa.string()), n)
    if pa.types.is_dictionary(value.type):
        value = value.cast(pa.string())
    return pc.utf8_slice_codeunits(value, 0, RAW_TEXT_LIMIT)


class QuarantineRows:
    """Rejected rows of one file, gathered column-wise in pieces (one piece per cause)."""

    def __init__(self) -> None:
        self._pieces: list[pa.Table] = []

    def __len__(self) -> int:
        return sum(piece.num_rows for piece in self._pieces)

    def add(
        self,
        source_row: np.ndarray | int | None,
        reason: pa.Array | str,
        column: TextColumn = None,
        raw_timestamp: TextColumn = None,
        raw_value: TextColumn = None,
        position: np.ndarray | int = 0,
    ) -> None:
        """Add rows; scalars apply to every row, the row count comes from the arrays.

        ``position`` (the column's place in the file) orders rows of the same source row.
        """
        if isinstance(source_row, np.ndarray):
            n = source_row.shape[0]
            rows = pa.array(source_row, pa.int64())
        else:
            n = next(
                (
                    len(v)
                    for v in (reason, column, raw_timestamp, raw_value)
                    if isinstance(v, pa.Array)
                ),
                1,
            )
            rows = pa.repeat(pa.scalar(source_row, pa.int64()), n)
        if n == 0:
            return
        values = [rows, *(_text(v, n) for v in (column, raw_timestamp, raw_value, reason))]
        values.append(pa.array(np.broadcast_to(np.asarray(position, dtype=np.int64), (n,))))
        self._pieces.append(pa.Table.from_arrays(values, names=[*_ROW_FIELDS, _POSITION]))

    def extend(self, other: QuarantineRows) -> None:
        """Add ``other``'s rows."""
        self._pieces += other._pieces

    def table(self, batch_id: str, source_file: str, quarantined_at: dt.datetime) -> pa.Table:
        """All rows in file order, with the batch columns filled in."""
        if not self._pieces:
            return QUARANTINE_SCHEMA.empty_table()
        rows = pa.concat_tables(self._pieces)
        rows = rows.sort_by([("source_row", "ascending", "at_start"), (_POSITION, "ascending")])
        n = rows.num_rows
        return pa.Table.from_arrays(
            [
                pa.repeat(pa.scalar(batch_id, pa.string()), n),
                pa.repeat(pa.scalar(source_file, pa.string()), n),
                *(rows.column(name) for name in _ROW_FIELDS),
                pa.repeat(pa.scalar(quarantined_at, pa.timestamp("us", tz="UTC")), n),
            ],
            schema=QUARANTINE_SCHEMA,
        )


def files_dir(settings: Settings, batch_id: str) -> Path:
    return settings.quarantine / "files" / batch_id


def write_rows(
    settings: Settings,
    site_id: str,
    source: str,
    batch_id: str,
    source_file: str,
    rows: QuarantineRows,
    quarantined_at: dt.datetime,
) -> Path | None:
    """Write a batch's quarantined rows (atomically); None when there are none."""
    if not len(rows):
        return None
    path = quarantine_rows_file(settings, site_id, source, batch_id)
    return write_parquet_atomic(rows.table(batch_id, source_file, quarantined_at), path)


def batch_row_files(settings: Settings, site_id: str, source: str, batch_id: str) -> list[Path]:
    """The quarantine rows file of a batch and its temporary twin."""
    path = quarantine_rows_file(settings, site_id, source, batch_id)
    return [path, temporary_path(path)]


def write_json_atomic(data: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def write_bytes_atomic(data: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
