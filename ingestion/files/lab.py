"""Lab and field water quality results (layouts ``lab_csv`` and ``lab_excel``): one result per row.

A row names its sample point (id or name), the time it was sampled, the parameter (id, name or
alias of the site's catalogue), the value and its unit (empty: the parameter's unit), and
optionally a detection-limit qualifier, the lab, the method and the lab's sample id. The files
share the readers, the quarantine and the import jobs of the readings layouts
(:mod:`ingestion.files.jobs`); results go to their own lake table (:func:`write_lab_results`).

Each row gets at most one reason, checked in this order: formula cell, empty value (skipped, not
an error), timestamp (unreadable, before the site's ``data_start``, or later than now plus
``water_quality.future_tolerance_hours``), sample point, parameter, unit, value. A result below
the detection limit (``<0.01`` in the value cell, or ``<`` in the qualifier column) is kept with
the limit as its value and ``below_detection`` set; detection-limit text without a number
(``ND``, ``<LOR``) is quarantined. Two rows of one file for the same sample point, instant and
parameter: the later row wins, as a re-delivered reading does; the earlier is quarantined.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ingestion.files.csvread import read_columns, read_header
from ingestion.files.errors import FileRejected
from ingestion.files.excel import read_sheet_rows
from ingestion.files.limits import ImportLimits
from ingestion.files.numbers import Cell, parse_value, shorten
from ingestion.files.quarantine import QuarantineRows
from ingestion.files.text import utf8_text
from ingestion.files.timestamps import TimestampParser
from ingestion.lake import day_text, write_lab_results
from siteledger.settings import Settings
from siteledger.site.models import SiteConfig
from siteledger.site.water_quality import LabLayout, Parameter, SamplePoint
from siteledger.units import UnknownUnitError, resolve_unit

FORMULA_REASON = "formula cell not accepted"
# what labs write instead of a result when nothing was detected: a limit is needed to keep it
_DETECTION_WORDS = re.compile(
    r"^(<\s*)?(nd|n\.d\.?|bdl|lor|<?lor|dl|mdl|pql|not detected|below detection( limit)?|"
    r"less than lor|trace)$",
    re.IGNORECASE,
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class LabContext:
    """A lab layout of a site, with its lookups and the instant that bounds sample times."""

    site: SiteConfig
    layout: LabLayout
    limits: ImportLimits
    times: TimestampParser
    now: dt.datetime
    points: dict[str, SamplePoint]
    parameters: dict[str, Parameter]

    @classmethod
    def build(
        cls,
        site: SiteConfig,
        layout: LabLayout,
        limits: ImportLimits,
        now: dt.datetime | None = None,
    ) -> LabContext:
        times = TimestampParser(
            layout.timestamp_format, site.layout_timezone(layout), site.site.timezone
        )
        points: dict[str, SamplePoint] = {}
        for point in site.water_quality.sample_points:
            points[point.id] = point
            if point.name.strip():
                points.setdefault(point.name.strip().lower(), point)
            points.setdefault(point.id.lower(), point)
        return cls(
            site,
            layout,
            limits,
            times,
            now or dt.datetime.now(dt.UTC),
            points,
            site.water_quality.parameter_index(),
        )

    def columns(self) -> dict[str, str]:
        """Key -> header name of every column the layout reads."""
        lay = self.layout
        names = {
            "ts": lay.timestamp_column,
            "point": lay.sample_point_column,
            "parameter": lay.parameter_column,
            "value": lay.value_column,
            "unit": lay.unit_column,
            "qualifier": lay.qualifier_column,
            "lab": lay.lab_column,
            "method": lay.method_column,
            "sample_id": lay.sample_id_column,
        }
        return {key: name for key, name in names.items() if name}


@dataclass
class LabParsed:
    """Kept results and rejected rows of one lab file; ``total`` = results + skipped +
    quarantined rows."""

    results: list[dict[str, Any]]
    quarantine: QuarantineRows
    total: int
    skipped: int

    @property
    def imported(self) -> int:
        return len(self.results)

    @property
    def failed(self) -> int:
        return len(self.quarantine)

    def write(
        self,
        settings: Settings,
        site_id: str,
        source: str,
        batch_id: str,
        source_file: str,
        loaded_at: dt.datetime,
    ) -> list[Path]:
        return write_lab_results(
            settings, site_id, source, batch_id, source_file, self.results, loaded_at
        )


@dataclass
class _Row:
    line: int
    cells: dict[str, object]
    formula: bool = False


@dataclass
class _Rejects:
    lines: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    columns: list[str | None] = field(default_factory=list)
    stamps: list[str | None] = field(default_factory=list)
    values: list[str | None] = field(default_factory=list)

    def add(self, row: _Row, reason: str) -> None:
        point, parameter = row.cells.get("point"), row.cells.get("parameter")
        what = "/".join(_text(v) for v in (point, parameter) if v is not None) or None
        self.lines.append(row.line)
        self.reasons.append(reason)
        self.columns.append(what)
        self.stamps.append(_text(row.cells["ts"]) if row.cells.get("ts") is not None else None)
        value = row.cells.get("value")
        self.values.append(_text(value) if value is not None else None)

    def into(self, quarantine: QuarantineRows) -> None:
        if not self.lines:
            return
        quarantine.add(
            np.array(self.lines, dtype=np.int64),
            pa.array(self.reasons, pa.string()),
            pa.array(self.columns, pa.string()),
            pa.array(self.stamps, pa.string()),
            pa.array(self.values, pa.string()),
        )


def _text(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value).strip()


def parse_lab(data: bytes, ctx: LabContext) -> LabParsed:
    """Results and quarantined rows of a lab file's bytes, by its layout's format."""
    quarantine = QuarantineRows()
    if ctx.layout.format == "lab_excel":
        rows = [
            _Row(r.line, r.cells, r.formula)
            for r in read_sheet_rows(data, ctx.layout, ctx.limits, ctx.columns())
        ]
        extra = 0
    else:
        rows, extra = _csv_rows(data, ctx, quarantine)
    parsed = _assemble(rows, ctx)
    parsed.quarantine.extend(quarantine)
    parsed.total += extra
    return parsed


def _csv_rows(data: bytes, ctx: LabContext, quarantine: QuarantineRows) -> tuple[list[_Row], int]:
    text = utf8_text(data, ctx.layout.encoding, ctx.limits)
    header = read_header(text, ctx.layout, ctx.limits)
    wanted = ctx.columns()
    found = {key: header.find(name) for key, name in wanted.items()}
    missing = [repr(wanted[key]) for key, index in found.items() if index is None]
    if missing:
        shown = ", ".join(repr(n[:40]) for n in header.names[:12])
        raise FileRejected(f"no usable header: missing column {', '.join(missing)} (found {shown})")
    at = {key: index for key, index in found.items() if index is not None}
    if len(set(at.values())) < len(at):
        raise FileRejected("the layout reads one column of the header for two purposes")
    columns = read_columns(
        text, ctx.layout, header, {i: pa.string() for i in at.values()}, ctx.limits
    )
    if columns.num_rows == 0 and not columns.bad_lines:
        raise FileRejected("header only: no data rows")
    cells = {key: columns.array(index).to_pylist() for key, index in at.items()}
    rows = [
        _Row(int(line), {key: cells[key][i] for key in at})
        for i, line in enumerate(columns.lines.tolist())
    ]
    for bad in columns.bad_lines:
        quarantine.add(bad.line, bad.reason, raw_value=bad.text)
    return rows, len(columns.bad_lines)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _assemble(rows: list[_Row], ctx: LabContext) -> LabParsed:
    rejects = _Rejects()
    skipped = 0
    stamps = _times(rows, ctx)
    kept: dict[tuple[str, int, str], tuple[_Row, dict[str, Any]]] = {}
    for row in rows:
        if row.formula:
            rejects.add(row, FORMULA_REASON)
            continue
        if _blank(row.cells.get("value")) and _blank(row.cells.get("qualifier")):
            skipped += 1
            continue
        result, reason = _result(row, stamps, ctx)
        if reason is not None:
            rejects.add(row, reason)
            continue
        assert result is not None
        key = (result["sample_point_id"], result["ts_us"], result["parameter_id"])
        earlier = kept.get(key)
        if earlier is not None:
            # the later row of a file wins, as the later copy of a re-delivered reading does
            rejects.add(earlier[0], _duplicate_reason(key, earlier[1], row.line))
        kept[key] = (row, result)
    quarantine = QuarantineRows()
    rejects.into(quarantine)
    results = [result for _, result in kept.values()]
    for result in results:
        del result["ts_us"]
    return LabParsed(results, quarantine, len(rows), skipped)


def _duplicate_reason(key: tuple[str, int, str], result: dict[str, Any], winner: int) -> str:
    return (
        f"duplicate sample: {key[0]} {result['sampled_at'].isoformat()} {key[2]} again on "
        f"line {winner}, which wins"
    )


@dataclass(frozen=True)
class _Stamp:
    utc_us: int
    day: int
    reason: str | None


def _times(rows: list[_Row], ctx: LabContext) -> dict[object, _Stamp]:
    """Each distinct timestamp cell parsed once, with its plausibility checked."""
    distinct = list({_key(row.cells.get("ts")): row.cells.get("ts") for row in rows}.values())
    present = [v for v in distinct if not _blank(v)]
    parsed = ctx.times.parse_all(present)
    start = ctx.site.site.data_start
    latest = ctx.now + dt.timedelta(hours=ctx.site.water_quality.future_tolerance_hours)
    latest_us = (latest - _EPOCH) // dt.timedelta(microseconds=1)
    out: dict[object, _Stamp] = {}
    for i, value in enumerate(present):
        reason = parsed.reasons[i]
        utc_us, day = int(parsed.utc_us[i]), int(parsed.day[i])
        if reason is None and start is not None and day_text(day) < start.isoformat():
            reason = f"sampled on {day_text(day)}, before the site's data_start {start}"
        if reason is None and utc_us > latest_us:
            shown = shorten(_text(value))
            reason = f"sampled at {shown!r}, later than now plus the tolerance"
        out[_key(value)] = _Stamp(utc_us, day, reason)
    return out


def _key(value: object) -> object:
    return (type(value).__name__, value)


def _result(
    row: _Row, stamps: dict[object, _Stamp], ctx: LabContext
) -> tuple[dict[str, Any] | None, str | None]:
    cells = row.cells
    ts = cells.get("ts")
    if _blank(ts):
        return None, "timestamp is empty"
    stamp = stamps[_key(ts)]
    if stamp.reason is not None:
        return None, stamp.reason
    point_text = cells.get("point")
    if _blank(point_text):
        return None, "sample point is empty"
    point = ctx.points.get(_text(point_text)) or ctx.points.get(_text(point_text).lower())
    if point is None:
        return None, f"unknown sample point {shorten(_text(point_text))!r}"
    parameter_text = cells.get("parameter")
    if _blank(parameter_text):
        return None, "parameter is empty"
    parameter = ctx.parameters.get(_text(parameter_text).lower())
    if parameter is None:
        return None, f"unknown parameter {shorten(_text(parameter_text))!r}"
    unit_text = cells.get("unit")
    unit_symbol = parameter.unit if _blank(unit_text) else _text(unit_text)
    try:
        unit = resolve_unit(unit_symbol)
    except UnknownUnitError:
        return None, f"unknown unit {shorten(unit_symbol)!r}"
    canonical = resolve_unit(parameter.unit)
    if unit.dimension != canonical.dimension:
        wanted = canonical.symbol
        return None, f"unit {unit.symbol!r} cannot be converted to {parameter.id}'s unit {wanted!r}"
    value, below, reason = _value(cells.get("value"), cells.get("qualifier"), ctx)
    if reason is not None:
        return None, reason
    in_canonical = value * unit.factor / canonical.factor
    if parameter.min_value is not None and in_canonical < parameter.min_value:
        return None, f"value {value:g} {unit.symbol} is below {parameter.id}'s plausible minimum"
    if parameter.max_value is not None and in_canonical > parameter.max_value:
        return None, f"value {value:g} {unit.symbol} is above {parameter.id}'s plausible maximum"
    sampled_at = _EPOCH + dt.timedelta(microseconds=stamp.utc_us)
    return {
        "sample_point_id": point.id,
        "sampled_at": sampled_at,
        "ts_us": stamp.utc_us,
        "parameter_id": parameter.id,
        "value": value,
        "unit": unit.symbol,
        "below_detection": below,
        "lab": _optional(cells.get("lab")),
        "method": _optional(cells.get("method")),
        "sample_id": _optional(cells.get("sample_id")),
        "source_row": row.line,
        "day": day_text(stamp.day),
    }, None


def _optional(value: object) -> str | None:
    return None if _blank(value) else _text(value)[:200]


def _value(raw: object, qualifier: object, ctx: LabContext) -> tuple[float, bool, str | None]:
    """(value, below detection, reason) of a value cell and its qualifier cell."""
    below = False
    if not _blank(qualifier):
        q = _text(qualifier)
        if q == "<":
            below = True
        elif q not in ("=", ""):
            return math.nan, False, f"qualifier {shorten(q)!r} not understood (only '<' is)"
    if _blank(raw):
        return math.nan, False, "value is empty (a qualifier alone is not a result)"
    if isinstance(raw, bool):
        return math.nan, False, f"value {raw!r} is not a number"
    if isinstance(raw, int | float):
        number = float(raw)
        if not math.isfinite(number):
            return math.nan, False, f"value {_text(raw)!r} is not a finite number"
        return number, below, None
    text = _text(raw)
    body = text
    if body.startswith("<"):
        below, body = True, body[1:].strip()
    if body.startswith((">", "<")):
        return math.nan, False, f"value {shorten(text)!r}: only '<' (below detection) is accepted"
    number, state = parse_value(body, ctx.layout.decimal)
    if state == Cell.NUMBER:
        return number, below, None
    if _DETECTION_WORDS.match(text):
        return (
            math.nan,
            False,
            (f"detection-limit text {shorten(text)!r} without a limit (write it as '<0.01')"),
        )
    if state == Cell.NOT_FINITE:
        return math.nan, False, f"value {shorten(text)!r} is not a finite number"
    return math.nan, False, f"value {shorten(text)!r} is not a number"
