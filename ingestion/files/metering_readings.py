"""Smart meter readings (``metering.layouts`` of kind ``readings``): one reading per row, checked
column-wise with numpy and pyarrow (no Python per row: a head-end export of millions of rows
takes seconds).

A CSV is read with the water readings' CSV reader (:mod:`ingestion.files.csvread`), meter ids
and timestamps dictionary-encoded so that each distinct meter and timestamp is resolved once
(:class:`ingestion.files.timestamps.Coded`, :func:`ingestion.files.parsed.row_times`); Excel and
JSON files go through the record readers and then the same checks. Each row gets at most one
reason, the first of: formula cell; meter empty or not registered (a meter of a committed meters
batch: meters files import before readings files in a run); timestamp empty, unparseable or
outside the site's plausible range; register_m3 and interval_m3 both empty or both given; a
value that is not a finite number; a negative value; an implausible one (a register above
1e7 m3, an interval volume above 100 x Q3 over the meter's reading interval, reverse_m3 above
1e7 m3, battery_pct outside 0-100, signal_dbm outside -200-0).

Volumes in litres (layout ``unit: L``) are converted to m3. Two rows of a file for one meter
and instant: the later wins, the earlier is quarantined. A reading a committed batch already
holds with the same values is skipped (a re-delivery); with other values it is imported (the
later batch wins downstream). The readings land one file per site-local day
(:func:`ingestion.metering_lake.write_readings`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ingestion.files.csvread import TypedReadFailed, read_columns, read_header
from ingestion.files.errors import FileRejected
from ingestion.files.excel import read_sheet_rows
from ingestion.files.numbers import Cell, parse_values, shorten
from ingestion.files.parsed import Reasons, row_times
from ingestion.files.quarantine import QuarantineRows
from ingestion.files.records import (
    FORMULA_REASON,
    RecordContext,
    _json_rows,
    _Row,
    undecodable_lines,
)
from ingestion.files.text import utf8_text
from ingestion.files.timestamps import Coded
from ingestion.lake import committed_batch_ids, day_text
from ingestion.metering_lake import METERING_SCHEMAS, metering_dir, write_readings
from siteledger.settings import Settings
from siteledger.site.metering import METERING_COLUMNS

_TEXT_CODES = pa.dictionary(pa.int32(), pa.string())
NUMBER_COLUMNS = ("register_m3", "interval_m3", "reverse_m3", "battery_pct", "signal_dbm")
VOLUME_COLUMNS = ("register_m3", "interval_m3", "reverse_m3")
MAX_REGISTER_M3 = 1e7
INTERVAL_Q3_FACTOR = 100.0
# (low, high) a value may have; volumes are checked in m3
_BOUNDS = {
    "register_m3": (0.0, MAX_REGISTER_M3),
    "reverse_m3": (0.0, MAX_REGISTER_M3),
    "battery_pct": (0.0, 100.0),
    "signal_dbm": (-200.0, 0.0),
}
_TS = pa.timestamp("us", tz="UTC")


@dataclass
class _Columns:
    """The cells of a readings file, column by column."""

    lines: np.ndarray
    meter: Coded
    ts: Coded
    numbers: dict[str, tuple[np.ndarray, np.ndarray, pa.Array | None]]  # values, Cell, raw text
    formula: np.ndarray | None = None
    undecodable: dict[int, str] | None = None  # line -> reason: not in the file's encoding

    def __len__(self) -> int:
        return int(self.lines.shape[0])


@dataclass
class MeteringReadingsParsed:
    """Readings and rejected rows of one readings file; ``total`` = imported + skipped
    (re-delivered as committed) + quarantined rows."""

    columns: dict[str, pa.Array]
    day: np.ndarray
    quarantine: QuarantineRows
    total: int
    skipped: int
    kind: str = "readings"

    @property
    def imported(self) -> int:
        return int(self.day.shape[0])

    @property
    def failed(self) -> int:
        return len(self.quarantine)

    @property
    def records(self) -> list[dict[str, Any]]:
        """The readings as dicts (for a preview; a big file is better left as columns)."""
        return pa.table(self.columns).to_pylist()

    def write(
        self,
        settings: Settings,
        site_id: str,
        source: str,
        batch_id: str,
        source_file: str,
        loaded_at: dt.datetime,
    ) -> list[Path]:
        return write_readings(
            settings, site_id, source, batch_id, source_file, self.columns, self.day, loaded_at
        )


# -- reading the file --------------------------------------------------------------------------


def _csv_columns(
    data: bytes, ctx: RecordContext, quarantine: QuarantineRows
) -> tuple[_Columns, int]:
    layout = ctx.layout
    data, undecodable = undecodable_lines(data, layout.encoding)
    text = utf8_text(data, layout.encoding, ctx.limits)
    header = read_header(text, layout, ctx.limits)
    names = [c.name for c in METERING_COLUMNS["readings"]]
    found = {name: header.find(layout.header(name)) for name in names}
    missing = [repr(layout.header(n)) for n in ("meter_id", "read_at") if found[n] is None]
    if found["register_m3"] is None and found["interval_m3"] is None:
        missing.append(f"{layout.header('register_m3')!r} or {layout.header('interval_m3')!r}")
    if missing:
        shown = ", ".join(repr(n[:40]) for n in header.names[:12])
        raise FileRejected(f"no usable header: missing column {', '.join(missing)} (found {shown})")
    at = {name: index for name, index in found.items() if index is not None}
    if len(set(at.values())) < len(at):
        raise FileRejected("the layout reads one column of the header for two purposes")

    def read(typed: bool) -> Any:
        wanted: dict[int, pa.DataType] = {at["meter_id"]: _TEXT_CODES, at["read_at"]: _TEXT_CODES}
        for name in NUMBER_COLUMNS:
            if name in at:
                wanted[at[name]] = pa.float64() if typed else pa.string()
        return read_columns(text, layout, header, wanted, ctx.limits)

    decimal_comma = layout.decimal != "."
    try:
        columns = read(typed=not decimal_comma)
    except TypedReadFailed:
        columns = read(typed=False)
    if columns.num_rows == 0 and not columns.bad_lines:
        raise FileRejected("header only: no data rows")
    numbers = {}
    for name in NUMBER_COLUMNS:
        if name in at:
            numbers[name] = _numbers(columns.array(at[name]), layout.decimal)
    for bad in columns.bad_lines:
        quarantine.add(bad.line, bad.reason, raw_value=bad.text)
    cells = _Columns(
        columns.lines.astype(np.int64),
        Coded.from_arrow(columns.array(at["meter_id"])),
        Coded.from_arrow(columns.array(at["read_at"])),
        numbers,
        undecodable=undecodable,
    )
    return cells, len(columns.bad_lines)


def _numbers(array: pa.Array, decimal: str) -> tuple[np.ndarray, np.ndarray, pa.Array | None]:
    if pa.types.is_floating(array.type):
        values = array.to_numpy(zero_copy_only=False)
        valid = array.is_valid().to_numpy(zero_copy_only=False)
        state = np.where(valid, Cell.NUMBER, Cell.EMPTY).astype(np.int8)
        state[valid & ~np.isfinite(values)] = Cell.NOT_FINITE
        return values, state, None
    values, state = parse_values(array, decimal)
    return values, state, array


def _row_columns(rows: list[_Row], ctx: RecordContext) -> _Columns:
    """The columns of rows read from a workbook or JSON (Python cells)."""
    lines = np.array([r.line for r in rows], dtype=np.int64)
    numbers = {}
    for name in NUMBER_COLUMNS:
        texts: list[str | None] = []
        for row in rows:
            cell = row.cells.get(name)
            if cell is None or (isinstance(cell, str) and cell in ctx.layout.null_values):
                texts.append(None)
            elif isinstance(cell, bool | dt.date):
                texts.append(f"{cell!s} ({type(cell).__name__})")  # never a number
            elif isinstance(cell, int | float):
                texts.append(repr(float(cell)) if isinstance(cell, float) else str(cell))
            else:
                texts.append(str(cell))
        raw = pa.array(texts, pa.string())
        values, state = parse_values(raw, ".")
        numbers[name] = (values, state, raw)
    return _Columns(
        lines,
        Coded.from_values([r.cells.get("meter_id") for r in rows]),
        Coded.from_values([r.cells.get("read_at") for r in rows]),
        numbers,
        np.array([r.formula for r in rows], dtype=bool),
    )


def parse_metering_readings(data: bytes, ctx: RecordContext) -> MeteringReadingsParsed:
    """Readings and quarantined rows of a readings file's bytes, by its layout's format."""
    quarantine = QuarantineRows()
    extra = 0
    layout = ctx.layout
    if layout.format == "csv":
        cells, extra = _csv_columns(data, ctx, quarantine)
    else:
        if layout.format == "excel":
            wanted = {c.name: layout.header(c.name) for c in ctx.columns()}
            optional = {c.name for c in ctx.columns() if not c.required}
            rows = [
                _Row(r.line, r.cells, r.formula)
                for r in read_sheet_rows(data, layout, ctx.limits, wanted, optional)
            ]
        else:
            rows, extra = _json_rows(data, ctx, quarantine)
        cells = _row_columns(rows, ctx)
    parsed = _assemble(cells, ctx)
    parsed.quarantine.extend(quarantine)
    parsed.total += extra
    return parsed


# -- the checks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Meters:
    """Registered meters: id -> index, with each one's Q3 and reading interval."""

    index: dict[str, int]
    q3: np.ndarray
    interval_h: np.ndarray

    @classmethod
    def read(cls, ctx: RecordContext) -> _Meters:
        table = ctx.committed("meters")
        default_q3 = ctx.metering.default_q3_m3_per_h
        latest: dict[str, tuple[Any, Any]] = {}
        if table.num_rows:
            table = table.sort_by(
                [
                    ("effective_at", "ascending"),
                    ("loaded_at", "ascending"),
                    ("source_row", "ascending"),
                ]
            )
            for meter_id, q3, minutes in zip(
                table.column("meter_id").to_pylist(),
                table.column("q3_m3_per_h").to_pylist(),
                table.column("reading_interval_minutes").to_pylist(),
                strict=True,
            ):
                latest[meter_id] = (q3, minutes)
        ids = sorted(latest)
        q3s = np.array([latest[m][0] or default_q3 for m in ids], dtype=np.float64)
        hours = np.array([(latest[m][1] or 60) / 60.0 for m in ids], dtype=np.float64)
        return cls({m: i for i, m in enumerate(ids)}, q3s, hours)


def _meter_codes(
    cells: _Columns, meters: _Meters, reasons: Reasons
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the registered meter's index (-1: none) and a reason code (-1: fine)."""
    per_value = np.full(len(cells.meter.values) + 1, -1, dtype=np.int32)  # last slot: empty
    reason_value = np.full(len(cells.meter.values) + 1, -1, dtype=np.int32)
    for i, value in enumerate(cells.meter.values):
        name = str(value).strip()
        found = meters.index.get(name)
        if found is None:
            reason_value[i] = reasons.id(
                f"unknown meter {shorten(name)!r}: not registered in a committed meters file"
            )
        else:
            per_value[i] = found
    reason_value[-1] = reasons.id("meter_id is empty (required)")
    codes = cells.meter.codes
    return per_value[codes], reason_value[codes]


def _value_reasons(
    name: str,
    raw: pa.Array | None,
    values: np.ndarray,
    state: np.ndarray,
    rows: np.ndarray,
    reasons: Reasons,
) -> np.ndarray:
    """Reason codes of ``rows`` whose ``name`` cell is not a finite number (one per text)."""
    out = np.empty(rows.size, dtype=np.int32)
    shown = raw.take(pa.array(rows)).to_pylist() if raw is not None else [None] * rows.size
    for j, (row, text) in enumerate(zip(rows.tolist(), shown, strict=True)):
        cell = shorten(str(text if text is not None else values[row]).strip())
        what = "a finite number" if state[row] == Cell.NOT_FINITE else "a number"
        out[j] = reasons.id(f"{name} {cell!r} is not {what}")
    return out


def _bound_reason(name: str, value: float, low: float, high: float) -> str:
    if value < 0 and low == 0:
        return f"{name} {value:g} is negative"
    return f"{name} {value:g} is implausible (not within {low:g} to {high:g})"


def _assemble(cells: _Columns, ctx: RecordContext) -> MeteringReadingsParsed:
    n = len(cells)
    reasons = Reasons()
    meters = _Meters.read(ctx)
    factor = ctx.layout.volume_factor  # type: ignore[union-attr]
    # reasons are set from the last in the documented order to the first: the first one wins
    reason = np.full(n, -1, dtype=np.int32)
    numbers: dict[str, np.ndarray] = {}
    given: dict[str, np.ndarray] = {}
    meter_index, meter_reason = _meter_codes(cells, meters, reasons)
    safe_meter = np.maximum(meter_index, 0)
    for name in reversed(NUMBER_COLUMNS):
        if name not in cells.numbers:
            numbers[name] = np.full(n, np.nan)
            given[name] = np.zeros(n, dtype=bool)
            continue
        values, state, raw = cells.numbers[name]
        values = values * factor if name in VOLUME_COLUMNS and factor != 1.0 else values
        numbers[name] = values
        given[name] = state == Cell.NUMBER
        finite = state == Cell.NUMBER
        if name == "interval_m3":
            high = INTERVAL_Q3_FACTOR * meters.q3[safe_meter] * meters.interval_h[safe_meter]
            bad = finite & ((values < 0) | (values > high))
            where = np.flatnonzero(bad)
            reason[where] = [
                reasons.id(
                    f"interval_m3 {values[i]:g} is negative"
                    if values[i] < 0
                    else f"interval_m3 {values[i]:g} is implausible (above {INTERVAL_Q3_FACTOR:g}"
                    f" x Q3 over the meter's interval: {high[i]:g} m3)"
                )
                for i in where.tolist()
            ]
        else:
            low, high_bound = _BOUNDS[name]
            bad = finite & ((values < low) | (values > high_bound))
            where = np.flatnonzero(bad)
            reason[where] = [
                reasons.id(_bound_reason(name, values[i], low, high_bound)) for i in where.tolist()
            ]
        not_number = np.flatnonzero(state >= Cell.NOT_A_NUMBER)
        if not_number.size:
            reason[not_number] = _value_reasons(name, raw, values, state, not_number, reasons)
    # a cell that is not a number counts as given here: its own reason is the better one
    for name in ("register_m3", "interval_m3"):
        if name in cells.numbers:
            given[name] = cells.numbers[name][1] != Cell.EMPTY
    neither = ~given["register_m3"] & ~given["interval_m3"]
    both = given["register_m3"] & given["interval_m3"]
    reason[neither] = reasons.id("register_m3 and interval_m3 are both empty (one is needed)")
    reason[both] = reasons.id("register_m3 and interval_m3 are both given (exactly one)")
    times = row_times(cells.ts, ctx.times, reasons)
    np.copyto(reason, times.reason, where=~times.ok)
    np.copyto(reason, meter_reason, where=meter_reason >= 0)
    if cells.formula is not None and cells.formula.any():
        reason[cells.formula] = reasons.id(FORMULA_REASON)
    if cells.undecodable:
        for line, why in cells.undecodable.items():
            reason[cells.lines == line] = reasons.id(why)

    good = np.flatnonzero(reason < 0)
    ts_us = times.utc_us(good)
    meter_good = meter_index[good]
    # duplicates in the file: the later line of a meter and instant wins
    order = np.lexsort((cells.lines[good], ts_us, meter_good))
    sorted_meter, sorted_ts = meter_good[order], ts_us[order]
    last = np.ones(order.size, dtype=bool)
    if order.size > 1:
        last[:-1] = (sorted_meter[1:] != sorted_meter[:-1]) | (sorted_ts[1:] != sorted_ts[:-1])
    if not last.all():
        # the winning line of each group, spread back over the group
        group_end = np.flatnonzero(last)
        group_of = np.searchsorted(group_end, np.arange(order.size))
        winner_line = cells.lines[good][order][group_end][group_of]
        losers = np.flatnonzero(~last)
        lose_rows = good[order[losers]]
        reason[lose_rows] = [
            reasons.id(
                f"duplicate reading of this meter and time: again on line {line}, which wins"
            )
            for line in winner_line[losers].tolist()
        ]
        keep = np.sort(order[last])
        good = good[keep]
    ids = sorted(meters.index, key=meters.index.__getitem__)  # meter ids in index order
    id_array = pa.array(ids, pa.string())
    # the lake's order: by site-local day, meter and time (integer keys sort ~10x faster
    # than the meter id text); the day files are then slices of it
    day = times.day(good)
    ts_good = times.utc_us(good)
    order = np.lexsort((ts_good, meter_index[good], day))
    good, day, ts_good = good[order], day[order], ts_good[order]
    meter_of = meter_index[good]
    read_at = pa.array(ts_good, pa.timestamp("us")).cast(_TS)
    columns: dict[str, pa.Array] = {
        "meter_id": pa.DictionaryArray.from_arrays(pa.array(meter_of, pa.int32()), id_array).cast(
            pa.string()
        ),
        "read_at": read_at,
    }
    for name in NUMBER_COLUMNS:
        values = numbers[name][good]
        columns[name] = pa.array(values, pa.float64(), mask=~given_number(cells, name, good))
    columns["source_row"] = pa.array(cells.lines[good], pa.int64())
    columns, day, skipped = _drop_redelivered(columns, day, ctx)

    quarantine = QuarantineRows()
    failed = np.flatnonzero(reason >= 0)
    if failed.size:
        shown = _shown_values(cells, failed)
        quarantine.add(
            cells.lines[failed],
            reasons.column(reason[failed]),
            cells.meter.texts(failed),
            cells.ts.texts(failed),
            shown,
        )
    return MeteringReadingsParsed(columns, day, quarantine, n, skipped)


def given_number(cells: _Columns, name: str, rows: np.ndarray) -> np.ndarray:
    """Whether each of ``rows`` holds a number in column ``name``."""
    if name not in cells.numbers:
        return np.zeros(rows.size, dtype=bool)
    return cells.numbers[name][1][rows] == Cell.NUMBER


def _shown_values(cells: _Columns, rows: np.ndarray) -> pa.Array:
    """The register (else interval) cell of rejected rows, as text, for the quarantine."""
    for name in ("register_m3", "interval_m3"):
        if name in cells.numbers:
            values, state, raw = cells.numbers[name]
            if raw is not None:
                texts = raw.take(pa.array(rows)).cast(pa.string())
            else:
                texts = pa.array(
                    [
                        None if s == Cell.EMPTY else f"{v:g}"
                        for v, s in zip(values[rows].tolist(), state[rows].tolist(), strict=True)
                    ],
                    pa.string(),
                )
            other = "interval_m3" if name == "register_m3" else None
            if other is not None and other in cells.numbers:
                alt_values, alt_state, alt_raw = cells.numbers[other]
                alt = (
                    alt_raw.take(pa.array(rows)).cast(pa.string())
                    if alt_raw is not None
                    else pa.array(
                        [
                            None if s == Cell.EMPTY else f"{v:g}"
                            for v, s in zip(
                                alt_values[rows].tolist(), alt_state[rows].tolist(), strict=True
                            )
                        ],
                        pa.string(),
                    )
                )
                texts = pc.coalesce(texts, alt)
            return texts
    return pa.nulls(rows.size, pa.string())


def _drop_redelivered(
    columns: dict[str, pa.Array], day: np.ndarray, ctx: RecordContext
) -> tuple[dict[str, pa.Array], np.ndarray, int]:
    """Readings without those a committed batch holds with the same values (re-deliveries)."""
    n = len(day)
    if n == 0:
        return columns, day, 0
    days = {day_text(int(d)) for d in np.unique(day).tolist()}
    wanted = committed_batch_ids(ctx.store, ctx.site.site.id)
    base = metering_dir(ctx.settings, "readings", ctx.site.site.id, "x").parent
    files = [
        str(p)
        for p in base.glob("source=*/day=*/*.parquet")
        if p.stem in wanted and p.parent.name.removeprefix("day=") in days
    ]
    if not files:
        return columns, day, 0
    names = ["meter_id", "read_at", *NUMBER_COLUMNS]
    schema = pa.schema([METERING_SCHEMAS["readings"].field(name) for name in names])
    held = ds.dataset(files, schema=schema, format="parquet").to_table(columns=names)
    fresh = pa.table({**{k: columns[k] for k in names}, "_row": pa.array(np.arange(n))})
    joined = fresh.join(
        held.rename_columns(["meter_id", "read_at", *(f"_held_{c}" for c in NUMBER_COLUMNS)]),
        ["meter_id", "read_at"],
        join_type="inner",
    )
    if joined.num_rows == 0:
        return columns, day, 0
    same = np.ones(joined.num_rows, dtype=bool)
    for name in NUMBER_COLUMNS:
        a, b = joined.column(name), joined.column(f"_held_{name}")
        equal = pc.fill_null(pc.equal(a, b), False).to_numpy(zero_copy_only=False)
        both_null = pc.is_null(a).to_numpy(zero_copy_only=False) & pc.is_null(b).to_numpy(
            zero_copy_only=False
        )
        same &= equal | both_null
    drop = np.unique(joined.column("_row").to_numpy()[same])
    if drop.size == 0:
        return columns, day, 0
    keep = np.ones(n, dtype=bool)
    keep[drop] = False
    index = pa.array(np.flatnonzero(keep))
    return {k: v.take(index) for k, v in columns.items()}, day[keep], int(drop.size)
