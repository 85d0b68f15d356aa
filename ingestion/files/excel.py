"""``excel_long`` files: one reading per row of one sheet of an .xlsx workbook.

Rows above ``header_row`` are titles; columns the layout does not name are ignored. Datetime
cells are naive local time. Formula cells are never evaluated: a row with a formula in a column
the layout reads is quarantined. The workbook is checked as a zip before it is parsed, so a zip
bomb is refused from its directory without inflating anything.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import warnings
import zipfile
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import openpyxl
import pyarrow as pa

from ingestion.files.csvread import Header
from ingestion.files.errors import FileRejected
from ingestion.files.limits import ImportLimits, describe_bytes
from ingestion.files.long import LongColumns, LongRows, assemble_long
from ingestion.files.numbers import Cell, parse_value
from ingestion.files.parsed import ParseContext, Parsed
from ingestion.files.timestamps import Coded
from siteledger.site.models import FileLayout

_ZIP_SIGNATURE = b"PK\x03\x04"
T = TypeVar("T")


def check_workbook_zip(data: bytes, limits: ImportLimits) -> None:
    """Refuse what is not a zip-packaged workbook, or would inflate past the limit."""
    if not data:
        raise FileRejected("empty file (0 bytes)")
    if not data.startswith(_ZIP_SIGNATURE):
        raise FileRejected("not an .xlsx workbook: no zip signature (a CSV or .xls file renamed?)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise FileRejected(f"corrupt .xlsx workbook: {exc}") from exc
    inflated = sum(entry.file_size for entry in entries)
    limit = limits.max_xlsx_uncompressed_bytes
    if inflated > limit:
        raise FileRejected(
            f"zip bomb: the workbook inflates to {inflated} bytes (limit {describe_bytes(limit)})"
        )
    if "xl/workbook.xml" not in {entry.filename for entry in entries}:
        raise FileRejected("not an .xlsx workbook: no xl/workbook.xml in the zip")


@dataclass
class _Columns:
    """Cells of the data rows, gathered row by row."""

    lines: list[int] = field(default_factory=list)
    ts: list[object] = field(default_factory=list)
    meter: list[object] = field(default_factory=list)
    unit: list[object] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    state: list[int] = field(default_factory=list)
    raw: list[str | None] = field(default_factory=list)
    formula: list[bool] = field(default_factory=list)


def parse_excel(data: bytes, ctx: ParseContext) -> Parsed:
    """Readings and quarantined rows of an .xlsx workbook."""
    return _guarded_workbook(data, ctx.limits, lambda: _parse_workbook(data, ctx))


def _guarded_workbook(data: bytes, limits: ImportLimits, read: Callable[[], T]) -> T:
    """``read()`` of a workbook checked as a zip first; any openpyxl error rejects the file."""
    check_workbook_zip(data, limits)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it skips; they do not matter here
            warnings.simplefilter("ignore")
            return read()
    except FileRejected:
        raise
    except Exception as exc:  # openpyxl raises anything from KeyError to XML errors on bad input
        raise FileRejected(
            f"unsupported or corrupt .xlsx workbook: {type(exc).__name__}: {exc}"
        ) from exc


def _parse_workbook(data: bytes, ctx: ParseContext) -> Parsed:
    book = openpyxl.load_workbook(
        io.BytesIO(data), read_only=True, data_only=False, keep_links=False
    )
    try:
        sheet = _sheet(book, ctx.layout)
        sheet.reset_dimensions()  # the stored dimensions may lie; read the cells that exist
        columns = _read_sheet(sheet, ctx)
    finally:
        book.close()
    if not columns.lines:
        raise FileRejected("header only: no data rows")
    return assemble_long(_long_rows(columns), ctx)


def _sheet(book: Any, layout: FileLayout) -> Any:
    name = layout.sheet
    if name is None:
        return book.worksheets[0]
    if name not in book.sheetnames:
        shown = ", ".join(repr(s) for s in book.sheetnames[:10])
        raise FileRejected(f"no sheet {name!r} in the workbook (sheets: {shown})")
    return book[name]


def _header(cells: dict[int, Any], row: int, ctx: ParseContext) -> LongColumns:
    width = max(cells, default=-1) + 1
    names = [_text(cells[i].value) if i in cells else "" for i in range(width)]
    where = f"header in row {row}"
    return LongColumns.find(Header([n.strip() for n in names], row), ctx, where)


def _read_sheet(sheet: Any, ctx: ParseContext) -> _Columns:
    header_row = ctx.layout.header_row
    nulls = set(ctx.layout.null_values)
    positions: LongColumns | None = None
    columns = _Columns()
    seen = 0
    for row in sheet.iter_rows():
        seen += len(row)
        if seen > ctx.limits.max_xlsx_cells:
            raise FileRejected(f"workbook sheet has more than {ctx.limits.max_xlsx_cells} cells")
        cells = {c.column - 1: c for c in row if getattr(c, "column", None)}
        if not cells:
            continue
        number = next(iter(cells.values())).row
        if number < header_row:
            continue
        if positions is None:
            if number != header_row:
                break
            positions = _header(cells, number, ctx)
            continue
        _add_row(columns, cells, number, positions, nulls, ctx)
    if positions is None:
        sheet_name = ctx.layout.sheet or "the first sheet"
        raise FileRejected(f"no usable header: row {header_row} of {sheet_name!r} is empty")
    return columns


def _value(cells: dict[int, Any], index: int | None, nulls: set[str]) -> object:
    if index is None or index not in cells:
        return None
    value = cells[index].value
    if isinstance(value, str) and value in nulls:
        return None
    return value


def _add_row(
    columns: _Columns,
    cells: dict[int, Any],
    number: int,
    positions: LongColumns,
    nulls: set[str],
    ctx: ParseContext,
) -> None:
    used = [positions.ts, positions.meter, positions.value, positions.unit]
    picked = [_value(cells, index, nulls) for index in used]
    if all(v is None or (isinstance(v, str) and not v.strip()) for v in picked):
        return  # an empty row between or after the data is not a row
    ts, meter, value, unit = picked
    columns.lines.append(number)
    columns.ts.append(ts)
    columns.meter.append(_text(meter) if meter is not None else None)
    columns.unit.append(_text(unit) if unit is not None else None)
    columns.formula.append(
        any(i is not None and i in cells and cells[i].data_type == "f" for i in used)
    )
    parsed, state = _number(value, ctx.layout.decimal)
    columns.values.append(parsed)
    columns.state.append(state)
    columns.raw.append(None if value is None else _text(value))


def _number(value: object, decimal: str) -> tuple[float, Cell]:
    if value is None:
        return math.nan, Cell.EMPTY
    if isinstance(value, bool):
        return math.nan, Cell.NOT_A_NUMBER
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer cell beyond float64
            return math.nan, Cell.NOT_FINITE
        return number, Cell.NUMBER if math.isfinite(number) else Cell.NOT_FINITE
    if isinstance(value, str):
        return parse_value(value, decimal)
    return math.nan, Cell.NOT_A_NUMBER


@dataclass
class SheetRow:
    """One data row of a sheet: its row number, the named cells' values (None: empty) and
    whether any of them is a formula."""

    line: int
    cells: dict[str, object]
    formula: bool


def read_sheet_rows(
    data: bytes,
    layout: FileLayout,
    limits: ImportLimits,
    columns: dict[str, str],
    optional: Collection[str] = (),
) -> list[SheetRow]:
    """The data rows of a workbook's sheet, reading the ``columns`` (key -> header name) by the
    same rules as ``excel_long``: titles above ``header_row``, formulas never evaluated, a zip
    bomb refused unopened. A missing header name rejects the file, unless its key is one of
    ``optional`` (then the rows have no such key)."""
    return _guarded_workbook(
        data, limits, lambda: _sheet_rows(data, layout, limits, columns, optional)
    )


def _sheet_rows(
    data: bytes,
    layout: FileLayout,
    limits: ImportLimits,
    columns: dict[str, str],
    optional: Collection[str],
) -> list[SheetRow]:
    book = openpyxl.load_workbook(
        io.BytesIO(data), read_only=True, data_only=False, keep_links=False
    )
    nulls = set(layout.null_values)
    rows: list[SheetRow] = []
    positions: dict[str, int] | None = None
    seen = 0
    try:
        sheet = _sheet(book, layout)
        sheet.reset_dimensions()
        for row in sheet.iter_rows():
            seen += len(row)
            if seen > limits.max_xlsx_cells:
                raise FileRejected(f"workbook sheet has more than {limits.max_xlsx_cells} cells")
            cells = {c.column - 1: c for c in row if getattr(c, "column", None)}
            if not cells:
                continue
            number = next(iter(cells.values())).row
            if number < layout.header_row:
                continue
            if positions is None:
                if number != layout.header_row:
                    break
                positions = _named_positions(cells, number, columns, optional)
                continue
            values = {key: _value(cells, index, nulls) for key, index in positions.items()}
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values.values()):
                continue
            formula = any(i in cells and cells[i].data_type == "f" for i in positions.values())
            rows.append(SheetRow(number, values, formula))
    finally:
        book.close()
    if positions is None:
        raise FileRejected(
            f"no usable header: row {layout.header_row} of {layout.sheet or 'the first sheet'!r} "
            "is empty"
        )
    if not rows:
        raise FileRejected("header only: no data rows")
    return rows


def _named_positions(
    cells: dict[int, Any], row: int, columns: dict[str, str], optional: Collection[str] = ()
) -> dict[str, int]:
    width = max(cells, default=-1) + 1
    names = [_text(cells[i].value).strip() if i in cells else "" for i in range(width)]
    header = Header(names, row)
    found = {key: header.find(name) for key, name in columns.items()}
    missing = [
        repr(columns[key]) for key, index in found.items() if index is None and key not in optional
    ]
    if missing:
        shown = ", ".join(repr(n[:40]) for n in names[:12])
        raise FileRejected(
            f"no usable header in row {row}: missing column {', '.join(missing)} (found {shown})"
        )
    return {key: index for key, index in found.items() if index is not None}


def _text(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _long_rows(columns: _Columns) -> LongRows:
    return LongRows(
        np.array(columns.lines, dtype=np.int64),
        Coded.from_values(columns.ts),
        Coded.from_values(columns.meter),
        Coded.from_values(columns.unit),
        np.array(columns.values, dtype=np.float64),
        np.array(columns.state, dtype=np.int8),
        pa.array(columns.raw, pa.string()),
        np.array(columns.formula, dtype=bool),
    )
