"""An export's rows as CSV, Excel, JSON, Parquet and XML files, byte for byte reproducible.

The same rows and metadata always give the same bytes: no clock is read here. The time written
inside a file (``generated_at``; the Excel and Parquet metadata, the zip entries of a workbook)
is the publish time of the warehouse version the rows were read from, so re-running an export on
the same version delivers identical files. Text cells a spreadsheet would run as a formula (=, +,
-, @, tab, carriage return first) are neutralised with the reports' own
:func:`reports.render.tabular.safe_text` in CSV and Excel; the workbook is the reports'
:class:`~reports.render.tabular.PlainWorkbook`.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from reports.exports.query import ExportData
from reports.render.tabular import PlainWorkbook, safe_text

EXPORT_XML_NS = "urn:siteledger:export:1.0"
SCHEMA_ID = "siteledger-export/1.0"
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
    "xml": "application/xml",
}
EXCEL_MAX_ROWS = 1_048_576
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # a version without a publish time


@dataclass(frozen=True)
class ExportMeta:
    """What every file says about itself (the metadata sheet, the JSON/XML header, the Parquet
    key-value metadata)."""

    export: str
    mart: str
    filters: dict[str, Any]
    warehouse_version: str | None
    generated_at: dt.datetime
    as_of: dt.date
    row_count: int
    column_docs: dict[str, str]
    types: dict[str, str]

    def fields(self) -> list[tuple[str, str]]:
        return [
            ("export", self.export),
            ("schema", SCHEMA_ID),
            ("source_mart", self.mart),
            ("filters", json.dumps(self.filters, sort_keys=True)),
            ("as_of", self.as_of.isoformat()),
            ("generated_at", iso(self.generated_at)),
            ("warehouse_version", self.warehouse_version or ""),
            ("row_count", str(self.row_count)),
        ]


def generated_at(published_at: dt.datetime | None) -> dt.datetime:
    """The time written into the files: the warehouse version's publish time, whole seconds."""
    return (published_at or _EPOCH).astimezone(dt.UTC).replace(microsecond=0)


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(value: Any) -> Any:
    """A value as JSON holds it: dates as ISO text, non-finite floats as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _text(value: Any) -> str:
    """A value as CSV and XML write it: empty for missing, full float precision (repr)."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def render_csv(data: ExportData, meta: ExportMeta) -> bytes:
    """A header row of column names, then one row per mart row; formula-like text escaped.

    Lines end in CRLF (RFC 4180): the csv module quotes a field holding any character of the
    line terminator, so with CRLF a carriage return inside a name is quoted too (with ``\n``
    alone it would be written bare and split the row)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(data.columns)
    for row in data.rows:
        writer.writerow([safe_text(_text(v)) if isinstance(v, str) else _text(v) for v in row])
    return out.getvalue().encode("utf-8")


def render_json(data: ExportData, meta: ExportMeta) -> bytes:
    doc = {
        "export": dict(meta.fields()) | {"filters": meta.filters, "row_count": meta.row_count},
        "columns": [
            {"name": c, "type": meta.types.get(c, ""), "description": meta.column_docs.get(c, "")}
            for c in data.columns
        ],
        "rows": [dict(zip(data.columns, _plain(list(r)), strict=True)) for r in data.rows],
    }
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _cell(value: Any) -> Any:
    """A value openpyxl writes: timezone-aware times as naive UTC (Excel has no zones)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list | dict | bytes):
        return _text(value)
    return value


def render_xlsx(data: ExportData, meta: ExportMeta) -> bytes:
    """Sheets ``Data``, ``Metadata`` (source, filters, times, version, row count) and ``Columns``
    (name, type, the dbt description)."""
    if len(data.rows) >= EXCEL_MAX_ROWS:
        raise ValueError(
            f"{len(data.rows):,} rows do not fit an Excel sheet ({EXCEL_MAX_ROWS:,} rows with "
            "the header): export csv or parquet, or narrow the selection"
        )
    book = PlainWorkbook()
    book.sheet("Data", data.columns, [[_cell(v) for v in r] for r in data.rows])
    book.sheet("Metadata", ["field", "value"], [list(f) for f in meta.fields()])
    book.sheet(
        "Columns",
        ["column", "type", "description"],
        [[c, meta.types.get(c, ""), meta.column_docs.get(c, "")] for c in data.columns],
    )
    return reproducible_zip(book.to_bytes(), meta.generated_at)


def reproducible_zip(raw: bytes, stamp: dt.datetime) -> bytes:
    """A workbook's bytes with every clock reading replaced by ``stamp``: the created and
    modified times openpyxl writes into ``docProps/core.xml`` and the zip entries' times."""
    text = iso(stamp).encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest,
    ):
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                for tag in (rb"dcterms:created", rb"dcterms:modified"):
                    body = re.sub(
                        rb"(<" + tag + rb"[^>]*>)[^<]*(</" + tag + rb">)",
                        rb"\g<1>" + text + rb"\g<2>",
                        body,
                    )
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dest.writestr(entry, body)
    return out.getvalue()


def render_parquet(data: ExportData, meta: ExportMeta) -> bytes:
    """One row group; the export's metadata as the file's key-value metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # a non-finite float is a missing value here as in the other formats
    columns = {
        c: [
            None if isinstance(r[i], float) and not math.isfinite(r[i]) else r[i] for r in data.rows
        ]
        for i, c in enumerate(data.columns)
    }
    table = pa.table(columns) if data.rows else pa.table({c: pa.array([]) for c in data.columns})
    info = {f"siteledger.{k}": v for k, v in meta.fields()}
    table = table.replace_schema_metadata({k: v.encode() for k, v in info.items()})
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd", write_statistics=True)
    return out.getvalue()


def render_xml(data: ExportData, meta: ExportMeta) -> bytes:
    """``<export>`` with its metadata, the columns (name, type, description) and one ``<row>``
    per mart row of ``<v c="column">`` values (a missing value has ``null="true"``)."""
    ns = f"{{{EXPORT_XML_NS}}}"
    root = etree.Element(ns + "export", nsmap={None: EXPORT_XML_NS})
    head = etree.SubElement(root, ns + "metadata")
    for key, value in meta.fields():
        etree.SubElement(head, ns + "field", name=key).text = value
    cols = etree.SubElement(root, ns + "columns")
    for c in data.columns:
        etree.SubElement(
            cols,
            ns + "column",
            name=c,
            type=meta.types.get(c, ""),
        ).text = meta.column_docs.get(c) or None
    rows = etree.SubElement(root, ns + "rows")
    for r in data.rows:
        row = etree.SubElement(rows, ns + "row")
        for c, value in zip(data.columns, r, strict=True):
            cell = etree.SubElement(row, ns + "v", c=c)
            text = _text(value)
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                cell.set("null", "true")
            else:
                cell.text = _xml_safe(text)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    # XML 1.0 cannot hold most control characters: replaced, never dropped silently
    return _XML_INVALID.sub("\ufffd", text)


RENDERERS: dict[str, Callable[[ExportData, ExportMeta], bytes]] = {
    "csv": render_csv,
    "xlsx": render_xlsx,
    "json": render_json,
    "parquet": render_parquet,
    "xml": render_xml,
}
