"""Typed record files, one record per row (CSV, one sheet of an .xlsx workbook, or a JSON array
of objects), for every domain that has them: the materials records (``materials.layouts``:
receipts, purchase orders, stock movements, production batches, lot edges, QC results, sales and
jobs) and the prepaid metering records (``metering.layouts``, :mod:`ingestion.files.
metering_records`). A :class:`RecordDomain` says per kind which columns a file has, which one is
the key, how a record is checked and where it goes; reading, typing cells, quarantining and
duplicate handling are the same for all. What follows describes the materials domain.

A file's columns have the canonical names of :data:`siteledger.site.materials.RECORD_COLUMNS`
(or the headers the layout's ``columns`` maps them to); other columns are ignored. A required
column missing from a CSV or Excel header rejects the file; in JSON, where every object brings
its own keys, a missing required value quarantines that record only. Each record goes to the
lake (:mod:`ingestion.materials_lake`) or to the quarantine with one reason, the first of:
formula cell; a required value missing; a value that is not a number, integer, date, timestamp,
unit, currency or one of the kind's choices; a timestamp before the site's first day of data or
later than now plus the site's future tolerance; a reference the site does not know (material,
supplier, product, recipe and version, specification and version, test, job type; with a
did-you-mean); a unit that does not fit the material (or product) without a density; an amount
in a currency without an exchange rate on its day; a quantity that must be positive and is not;
dates out of order (finished before started, expiry before receipt, promised before ordered, a
job's received / started / completed / invoiced). Then duplicates: two records of one file with
the same key (the later wins, as a re-delivered reading does; the earlier is quarantined), and a
key that a committed batch already holds: the same content again is skipped (a re-delivery),
different content is quarantined with the batch that holds it. Receipts also keep a lot id to
one receipt.

Quantities are converted to the material's base unit (``qty``; products: the product's unit)
and money to the site currency per base unit, beside the values as delivered (``qty_given``,
``unit_given``, ``currency_given``, ``unit_cost_given``).
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import get_close_matches
from itertools import pairwise
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
from ingestion.materials_lake import CONTENT_COLUMNS, committed_records, write_records
from ingestion.plausible import PlausibleRange, plausible_range
from siteledger.settings import Settings
from siteledger.site.materials import (
    RECORD_COLUMNS,
    RECORD_KEYS,
    MaterialsSettings,
    RecordLayout,
)
from siteledger.site.metering import MeteringLayout, MeteringSettings
from siteledger.site.models import SiteConfig
from siteledger.site.records import RecordColumn
from siteledger.state.store import StateStore
from siteledger.units import UnknownUnitError, convert_amount, resolve_unit

FORMULA_REASON = "formula cell not accepted"
MAX_TEXT = 500
# a date this long after the record's own day is a typo or a sentinel (9999-12-31), not a plan
MAX_EXPIRY_YEARS = 50
MAX_PROMISE_YEARS = 10
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_DAY = dt.date(1970, 1, 1)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# the timestamp a quarantined row is shown with
_MAIN_TIME = {
    "receipts": "received_at",
    "purchase_orders": "ordered_at",
    "movements": "moved_at",
    "batches": "started_at",
    "lot_edges": "moved_at",
    "qc_results": "tested_at",
    "sales": "sold_at",
    "jobs": "received_at",
}
_NOUN = {
    "receipts": "receipt",
    "purchase_orders": "purchase order",
    "movements": "movement",
    "batches": "batch",
    "lot_edges": "lot edge",
    "qc_results": "QC result",
    "sales": "sale",
    "jobs": "job",
}


class _Reject(Exception):
    """A record that is not imported: why, and the column at fault (when one is)."""

    def __init__(self, reason: str, column: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.column = column


class _Skip(Exception):
    """A record that a committed batch already holds as it is (a re-delivery): not imported,
    not an error."""


# how a kind's key behaves against committed batches and other rows of the file:
# ``immutable``: a committed key delivered again is skipped when identical and quarantined when
#   not; two rows of one file with a key: the later wins (materials, vouchers, purchases, ...)
# ``upsert``: as immutable, but a committed key with new content is a new version (maintenance)
# ``entity``: the kind's validator resolves every row against committed state and the earlier
#   rows of the file itself (customers and meters: create, update, deactivate)
KeyMode = str
Validator = Callable[[str, dict[str, Any], "RecordContext", Any], None]


@dataclass(frozen=True)
class RecordDomain:
    """What the record importer needs to know of one domain's record files."""

    name: str
    columns: dict[str, tuple[RecordColumn, ...]]
    keys: dict[str, str]
    main_time: dict[str, str]
    nouns: dict[str, str]
    content_columns: dict[str, tuple[str, ...]]
    # (kind, values, context, file state): checks and completes a typed record in place;
    # raises _Reject (quarantine) or _Skip (already committed as it is)
    validate: Validator
    committed: Callable[[Settings, StateStore, str, str | None], pa.Table]
    write: Callable[
        [Settings, str, str, str, str, str, list[dict[str, Any]], dt.datetime], list[Path]
    ]
    # a fresh state per file, handed to ``validate`` (cross-row checks); None for no state
    file_state: Callable[[RecordContext], Any] = lambda ctx: None
    modes: dict[str, KeyMode] = field(default_factory=dict)
    # kinds read by a parser of their own (bytes, context) -> parsed file
    parsers: dict[str, Callable[[bytes, RecordContext], Any]] = field(default_factory=dict)
    # kinds whose timestamps may lie further ahead than the site's future tolerance (a
    # voucher valid until next year)
    future_tolerance: dict[str, dt.timedelta] = field(default_factory=dict)
    # a UTF-8 CSV with a few lines in another encoding (hand-edited exports) loses those lines
    # only, each quarantined with its reason; otherwise the whole file is rejected
    row_level_encoding: bool = False

    def mode(self, kind: str) -> KeyMode:
        return self.modes.get(kind, "immutable")


@dataclass(frozen=True)
class RecordContext:
    """A record layout of a site, with what its parser looks up: the site's materials
    settings, the timestamp parser and plausible range, and where committed records are."""

    settings: Settings
    store: StateStore
    site: SiteConfig
    layout: RecordLayout | MeteringLayout
    limits: ImportLimits
    times: TimestampParser
    plausible: PlausibleRange
    now: dt.datetime
    domain: RecordDomain = field(default_factory=lambda: _materials_domain())

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: StateStore,
        site: SiteConfig,
        layout: RecordLayout | MeteringLayout,
        limits: ImportLimits,
        now: dt.datetime | None = None,
    ) -> RecordContext:
        domain = domain_of(layout)
        plausible = plausible_range(settings, site)
        if layout.kind in domain.future_tolerance:
            ahead = domain.future_tolerance[layout.kind]
            plausible = dataclasses.replace(plausible, future_tolerance=ahead)
        times = TimestampParser(
            layout.timestamp_format, site.layout_timezone(layout), site.site.timezone, plausible
        )
        return cls(
            settings,
            store,
            site,
            layout,
            limits,
            times,
            plausible,
            now or dt.datetime.now(dt.UTC),
            domain,
        )

    @property
    def kind(self) -> str:
        return self.layout.kind

    @property
    def materials(self) -> MaterialsSettings:
        return self.site.materials

    @property
    def metering(self) -> MeteringSettings:
        return self.site.metering

    def columns(self) -> tuple[RecordColumn, ...]:
        return self.domain.columns[self.kind]

    def committed(self, kind: str | None = None) -> pa.Table:
        """Records of this kind (or another of the domain) and site in committed batches."""
        return self.domain.committed(
            self.settings, self.store, kind or self.kind, self.site.site.id
        )


def _materials_domain() -> RecordDomain:
    return MATERIALS


def domain_of(layout: RecordLayout | MeteringLayout) -> RecordDomain:
    """The record domain a layout belongs to."""
    if isinstance(layout, MeteringLayout):
        from ingestion.files.metering_records import METERING

        return METERING
    return MATERIALS


@dataclass
class RecordsParsed:
    """Kept records and rejected rows of one record file; ``total`` = records + skipped
    (re-delivered as committed) + quarantined rows."""

    kind: str
    records: list[dict[str, Any]]
    quarantine: QuarantineRows
    total: int
    skipped: int
    writer: Callable[
        [Settings, str, str, str, str, str, list[dict[str, Any]], dt.datetime], list[Path]
    ] = write_records

    @property
    def imported(self) -> int:
        return len(self.records)

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
        return self.writer(
            settings, self.kind, site_id, source, batch_id, source_file, self.records, loaded_at
        )


@dataclass
class _Row:
    line: int
    cells: dict[str, object]
    formula: bool = False


@dataclass
class _Rejects:
    domain: RecordDomain
    lines: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    columns: list[str | None] = field(default_factory=list)
    stamps: list[str | None] = field(default_factory=list)
    values: list[str | None] = field(default_factory=list)

    def add(self, row: _Row, reason: str, column: str | None, kind: str) -> None:
        key = self.domain.keys[kind]
        shown = column or key
        value = row.cells.get(shown)
        stamp = row.cells.get(self.domain.main_time[kind])
        self.lines.append(row.line)
        self.reasons.append(reason)
        self.columns.append(shown)
        self.stamps.append(None if _blank(stamp) else _text(stamp))
        self.values.append(None if _blank(value) else _text(value))

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
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# -- reading the rows --------------------------------------------------------------------------


def parse_records(data: bytes, ctx: RecordContext) -> RecordsParsed:
    """Records and quarantined rows of a record file's bytes, by its layout's format."""
    parser = ctx.domain.parsers.get(ctx.kind)
    if parser is not None:
        parsed_by_kind: RecordsParsed = parser(data, ctx)
        return parsed_by_kind
    quarantine = QuarantineRows()
    extra = 0
    if ctx.layout.format == "excel":
        wanted = {c.name: ctx.layout.header(c.name) for c in ctx.columns()}
        optional = {c.name for c in ctx.columns() if not c.required}
        rows = [
            _Row(r.line, r.cells, r.formula)
            for r in read_sheet_rows(data, ctx.layout, ctx.limits, wanted, optional)
        ]
    elif ctx.layout.format == "json":
        rows, extra = _json_rows(data, ctx, quarantine)
    else:
        undecodable: dict[int, str] = {}
        if ctx.domain.row_level_encoding:
            data, undecodable = undecodable_lines(data, ctx.layout.encoding)
        rows, extra = _csv_rows(data, ctx, quarantine)
        if undecodable:
            for row in rows:
                if row.line in undecodable:
                    quarantine.add(row.line, undecodable[row.line])
                    extra += 1
            rows = [row for row in rows if row.line not in undecodable]
    parsed = _assemble(rows, ctx)
    parsed.quarantine.extend(quarantine)
    parsed.total += extra
    return parsed


def undecodable_lines(data: bytes, encoding: str) -> tuple[bytes, dict[int, str]]:
    """A UTF-8 file's lines that are not UTF-8 (line number -> reason), with those lines made
    decodable (their bad bytes replaced) so that the rest of the file reads. A bad header line,
    or a file without one good data line, is rejected whole."""
    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig") or data.isascii():
        return data, {}
    try:
        data.decode("utf-8")
        return data, {}
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    bad: dict[int, str] = {}
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad[number] = (
                f"not valid UTF-8: byte 0x{line[exc.start]:02x} at column {exc.start + 1} (the "
                f"layout reads {encoding}; set its encoding for files from another program)"
            )
            lines[number - 1] = line.decode("utf-8", errors="replace").encode("utf-8")
    data_lines = sum(1 for line in lines[1:] if line.strip())
    if 1 in bad or len(bad) >= data_lines:
        first = min(bad)
        raise FileRejected(f"{bad[first].split(' (')[0]} on line {first}: the file is not UTF-8")
    return b"\n".join(lines), bad


def _csv_rows(
    data: bytes, ctx: RecordContext, quarantine: QuarantineRows
) -> tuple[list[_Row], int]:
    text = utf8_text(data, ctx.layout.encoding, ctx.limits)
    header = read_header(text, ctx.layout, ctx.limits)
    found = {c.name: header.find(ctx.layout.header(c.name)) for c in ctx.columns()}
    missing = [
        repr(ctx.layout.header(c.name))
        for c in ctx.columns()
        if c.required and found[c.name] is None
    ]
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


def _json_text(data: bytes, encoding: str) -> str:
    if not data:
        raise FileRejected("empty file (0 bytes)")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        raise FileRejected(
            f"not valid {name}: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from exc
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise FileRejected("no content (only whitespace)")
    return text


def _json_rows(
    data: bytes, ctx: RecordContext, quarantine: QuarantineRows
) -> tuple[list[_Row], int]:
    """One row per object of the file's top-level array; ``source_row`` is its position (1 =
    the first object)."""
    text = _json_text(data, ctx.layout.encoding)
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejected(f"not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    except RecursionError as exc:
        raise FileRejected("not valid JSON: values nest too deeply") from exc
    if not isinstance(items, list):
        raise FileRejected(f"a JSON record file is an array of objects, not {_json_kind(items)}")
    if not items:
        raise FileRejected("no records: the JSON array is empty")
    headers = {c.name: ctx.layout.header(c.name) for c in ctx.columns()}
    rows: list[_Row] = []
    rejected = 0
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            quarantine.add(
                position, f"record is {_json_kind(item)}, not an object", raw_value=_short(item)
            )
            rejected += 1
            continue
        cells: dict[str, object] = {}
        nested = None
        for key, header in headers.items():
            value = item.get(header)
            if isinstance(value, dict | list):
                nested = (key, value)
                break
            cells[key] = value
        if nested is not None:
            quarantine.add(
                position,
                f"{nested[0]} holds {_json_kind(nested[1])}, not a value",
                column=nested[0],
                raw_value=_short(nested[1]),
            )
            rejected += 1
            continue
        rows.append(_Row(position, cells))
    return rows, rejected


def _json_kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string"


def _short(value: object) -> str:
    try:
        return json.dumps(value)[:200]
    except (TypeError, ValueError):
        return repr(value)[:200]


# -- typed cells -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stamp:
    utc: dt.datetime
    day: dt.date


def _stamps(rows: list[_Row], ctx: RecordContext) -> dict[object, _Stamp | str]:
    """Each distinct timestamp cell of the file parsed once: its instant and site-local day,
    or why it is not a plausible timestamp."""
    names = [c.name for c in ctx.columns() if c.type == "timestamp"]
    distinct = {
        _key(row.cells.get(name)): row.cells.get(name)
        for row in rows
        for name in names
        if not _blank(row.cells.get(name))
    }
    values = list(distinct.values())
    parsed = ctx.times.parse_all(values)
    out: dict[object, _Stamp | str] = {}
    for i, value in enumerate(values):
        reason = parsed.reasons[i]
        if reason is not None:
            out[_key(value)] = reason
            continue
        utc = _EPOCH + dt.timedelta(microseconds=int(parsed.utc_us[i]))
        out[_key(value)] = _Stamp(utc, _EPOCH_DAY + dt.timedelta(days=int(parsed.day[i])))
    return out


def _key(value: object) -> object:
    return (type(value).__name__, value)


class _Cells:
    """Typed access to one row's cells; every failure raises :class:`_Reject`."""

    def __init__(self, row: _Row, ctx: RecordContext, stamps: dict[object, _Stamp | str]):
        self.row = row
        self.ctx = ctx
        self.stamps = stamps
        self.spec = {c.name: c for c in ctx.columns()}

    def raw(self, name: str) -> object:
        value = self.row.cells.get(name)
        if isinstance(value, str) and value in self.ctx.layout.null_values:
            return None
        return None if _blank(value) else value

    def _present(self, name: str) -> object | None:
        value = self.raw(name)
        if value is None and self.spec[name].required:
            raise _Reject(f"{name} is empty (required)", name)
        return value

    def ident(self, name: str) -> str | None:
        value = self._present(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise _Reject(f"{name} {value!r} is a boolean, not an id", name)
        text = _text(value)
        if len(text) > 128 or _CONTROL.search(text):
            raise _Reject(
                f"{name} {shorten(text)!r} is not an id (at most 128 printable characters)", name
            )
        return text

    def text(self, name: str) -> str | None:
        value = self._present(name)
        if value is None:
            return None
        text = _text(value)
        if len(text) > MAX_TEXT:
            raise _Reject(f"{name} is longer than {MAX_TEXT} characters", name)
        return text

    def number(self, name: str) -> float | None:
        value = self._present(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise _Reject(f"{name} {value!r} is not a number", name)
        if isinstance(value, int | float):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise _Reject(f"{name} {_text(value)!r} is not a finite number", name)
            return number
        if isinstance(value, dt.datetime | dt.date):
            raise _Reject(f"{name} {_text(value)!r} is a date, not a number", name)
        text = _text(value)
        number, state = parse_value(text, self.ctx.layout.decimal)
        if state == Cell.NOT_FINITE:
            raise _Reject(f"{name} {shorten(text)!r} is not a finite number", name)
        if state != Cell.NUMBER:
            raise _Reject(f"{name} {shorten(text)!r} is not a number", name)
        return number

    def integer(self, name: str) -> int | None:
        number = self.number(name)
        if number is None:
            return None
        if not number.is_integer() or abs(number) > 2**31 - 1:
            raise _Reject(f"{name} {_text(self.raw(name))!r} is not a whole number", name)
        return int(number)

    def stamp(self, name: str) -> _Stamp | None:
        value = self._present(name)
        if value is None:
            return None
        found = self.stamps[_key(value)]
        if isinstance(found, str):
            raise _Reject(f"{name}: {found}", name)
        return found

    def date(self, name: str) -> dt.date | None:
        value = self._present(name)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, bool | int | float):
            raise _Reject(f"{name} {_text(value)!r} is not a date", name)
        text = _text(value)
        fmt = self.ctx.layout.date_format
        try:
            if fmt:
                return dt.datetime.strptime(text, fmt).date()
            return dt.date.fromisoformat(text)
        except ValueError:
            raise _Reject(
                f"{name} {shorten(text)!r} does not match {fmt or 'ISO 8601 (YYYY-MM-DD)'}", name
            ) from None

    def unit(self, name: str) -> str | None:
        value = self._present(name)
        if value is None:
            return None
        text = _text(value)
        try:
            return resolve_unit(text).symbol
        except UnknownUnitError:
            raise _Reject(f"unknown unit {shorten(text)!r}", name) from None

    def currency(self, name: str) -> str | None:
        value = self._present(name)
        if value is None:
            return None
        text = _text(value).upper()
        if not _CURRENCY.match(text):
            raise _Reject(f"currency {shorten(_text(value))!r} is not a 3-letter code", name)
        return text

    def choice(self, name: str) -> str | None:
        value = self._present(name)
        if value is None:
            return None
        text = _text(value).lower()
        choices = self.spec[name].choices
        if text not in choices:
            raise _Reject(
                f"unknown {name} {shorten(_text(value))!r}{_hint(text, list(choices))}; "
                f"one of {', '.join(choices)}",
                name,
            )
        return text

    def typed(self) -> dict[str, Any]:
        """Every column of the kind, converted by its type."""
        read: dict[str, Callable[[str], Any]] = {
            "id": self.ident,
            "text": self.text,
            "number": self.number,
            "integer": self.integer,
            "timestamp": self.stamp,
            "date": self.date,
            "unit": self.unit,
            "currency": self.currency,
            "choice": self.choice,
        }
        return {c.name: read[c.type](c.name) for c in self.ctx.columns()}


def _hint(value: str, choices: list[str]) -> str:
    match = get_close_matches(value, choices, n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


# -- checks shared by the kinds ----------------------------------------------------------------


def _positive(values: dict[str, Any], name: str, allow_zero: bool = False) -> None:
    number = values.get(name)
    if number is None:
        return
    if number < 0 or (number == 0 and not allow_zero):
        wanted = "0 or more" if allow_zero else "above 0"
        raise _Reject(f"{name} {number:g} must be {wanted}", name)


def _known(what: str, name: str, value: str | None, known: list[str], extra: str = "") -> None:
    if value is not None and value not in known:
        raise _Reject(f"unknown {what} {shorten(value)!r}{_hint(value, known)}{extra}", name)


def _convert(
    qty: float, unit: str, target: str, what: str, density: float | None, column: str = "unit"
) -> float:
    try:
        return convert_amount(qty, unit, target, density)
    except UnknownUnitError:
        a, b = resolve_unit(unit), resolve_unit(target)
        extra = " without a density" if {a.dimension, b.dimension} == {"mass", "volume"} else ""
        raise _Reject(
            f"unit {unit!r} ({a.dimension}) does not fit the unit {target!r} ({b.dimension}) "
            f"of {what}{extra}",
            column,
        ) from None


def _material_qty(values: dict[str, Any], ctx: RecordContext, name: str = "material_id") -> None:
    """Check the material and put ``qty`` in its base unit, keeping what was given."""
    materials = ctx.materials
    _known("material", name, values[name], [m.id for m in materials.materials])
    material = materials.material(values[name])
    assert material is not None
    _positive(values, "qty")
    given_unit = values.get("unit") or material.unit
    values["qty_given"], values["unit_given"] = values["qty"], given_unit
    values["qty"] = _convert(
        values["qty"],
        given_unit,
        material.unit,
        f"material {material.id!r}",
        material.density_g_per_ml,
    )
    values["unit"] = material.unit


def _product_qty(values: dict[str, Any], ctx: RecordContext, unit_column: str = "unit") -> str:
    """Check the product; returns its unit after checking ``unit_column`` fits it."""
    products = ctx.materials.products
    _known("product", "product_id", values["product_id"], [p.id for p in products])
    product = ctx.materials.product(values["product_id"])
    assert product is not None
    given = values.get(unit_column) or product.unit
    _convert(1.0, given, product.unit, f"product {product.id!r}", None, unit_column)
    return product.unit


def _rate(values: dict[str, Any], ctx: RecordContext, day: dt.date) -> tuple[str, float]:
    """(currency as given, site currency per unit of it on ``day``)."""
    materials = ctx.materials
    currency = values.get("currency") or materials.currency
    rate = materials.rate_on(currency, day)
    if rate is None:
        firsts = [d for c, d, _ in materials.rate_rows() if c == currency]
        detail = f"its first rate is from {firsts[0]}" if firsts else "the site has no rate for it"
        raise _Reject(
            f"currency {currency} has no exchange rate to {materials.currency} on {day} ({detail})",
            "currency",
        )
    return currency, rate


def _not_before(values: dict[str, Any], later: str, earlier: str, what: str) -> None:
    """Refuse a record whose timestamp ``later`` is before its timestamp ``earlier``."""
    a, b = values.get(later), values.get(earlier)
    if a is None or b is None or a.utc >= b.utc:
        return
    raise _Reject(
        f"{what}: {later} {values[f'_{later}_text']} is before {earlier} "
        f"{values[f'_{earlier}_text']}",
        later,
    )


# -- the kinds ---------------------------------------------------------------------------------


def _receipt(values: dict[str, Any], ctx: RecordContext) -> None:
    _known(
        "supplier", "supplier_id", values["supplier_id"], [s.id for s in ctx.materials.suppliers]
    )
    _material_qty(values, ctx)
    _positive(values, "unit_cost", allow_zero=True)
    received: _Stamp = values["received_at"]
    currency, rate = _rate(values, ctx, received.day)
    values["currency_given"], values["unit_cost_given"] = currency, values["unit_cost"]
    # per base unit in the site currency: the receipt's value is the same either way
    values["unit_cost"] = values["unit_cost"] * rate * values["qty_given"] / values["qty"]
    expiry = values.get("expiry_date")
    if expiry is not None:
        if expiry < received.day:
            raise _Reject(
                f"expiry_date {expiry} is before the receipt on {received.day}", "expiry_date"
            )
        if expiry > _add_years(received.day, MAX_EXPIRY_YEARS):
            raise _Reject(
                f"expiry_date {expiry} is more than {MAX_EXPIRY_YEARS} years after the receipt",
                "expiry_date",
            )


def _purchase_order(values: dict[str, Any], ctx: RecordContext) -> None:
    _known(
        "supplier", "supplier_id", values["supplier_id"], [s.id for s in ctx.materials.suppliers]
    )
    _material_qty(values, ctx)
    _positive(values, "unit_price", allow_zero=True)
    ordered: _Stamp = values["ordered_at"]
    _, rate = _rate(values, ctx, ordered.day)
    values["unit_price"] = values["unit_price"] * rate * values["qty_given"] / values["qty"]
    promised: dt.date = values["promised_date"]
    if promised < ordered.day:
        raise _Reject(
            f"promised_date {promised} is before the order on {ordered.day}", "promised_date"
        )
    if promised > _add_years(ordered.day, MAX_PROMISE_YEARS):
        raise _Reject(
            f"promised_date {promised} is more than {MAX_PROMISE_YEARS} years after the order",
            "promised_date",
        )


def _movement(values: dict[str, Any], ctx: RecordContext) -> None:
    _material_qty(values, ctx)
    # a cost on an outflow is kept as delivered; FIFO costs outflows from the lots
    if values.get("unit_cost") is not None:
        _positive(values, "unit_cost", allow_zero=True)
        _, rate = _rate(values, ctx, values["moved_at"].day)
        values["unit_cost"] = values["unit_cost"] * rate * values["qty_given"] / values["qty"]


def _batch(values: dict[str, Any], ctx: RecordContext) -> None:
    unit = _product_qty(values, ctx, "output_unit")
    materials = ctx.materials
    recipe_id, version = values["recipe_id"], values["recipe_version"]
    versions = sorted(r.version for r in materials.recipes if r.id == recipe_id)
    _known("recipe", "recipe_id", recipe_id, sorted({r.id for r in materials.recipes}))
    recipe = materials.recipe(recipe_id, version)
    if recipe is None:
        shown = ", ".join(str(v) for v in versions)
        raise _Reject(
            f"unknown version {version} of recipe {recipe_id!r} (versions {shown})",
            "recipe_version",
        )
    if recipe.product != values["product_id"]:
        raise _Reject(
            f"recipe {recipe_id!r} version {version} makes {recipe.product!r}, not "
            f"{values['product_id']!r}",
            "recipe_id",
        )
    _positive(values, "planned_qty")
    _positive(values, "actual_qty", allow_zero=True)
    if values.get("samples_qty") is None:
        values["samples_qty"] = 0.0
    _positive(values, "samples_qty", allow_zero=True)
    _positive(values, "containers", allow_zero=True)
    given = values.get("output_unit") or unit
    for name in ("planned_qty", "actual_qty", "samples_qty"):
        values[name] = convert_amount(values[name], given, unit)
    values["output_unit"] = unit
    if values["samples_qty"] > values["actual_qty"]:
        raise _Reject(
            f"samples_qty {values['samples_qty']:g} is more than actual_qty "
            f"{values['actual_qty']:g}",
            "samples_qty",
        )
    _not_before(values, "finished_at", "started_at", "finished before started")
    started: _Stamp = values["started_at"]
    if recipe.valid_from is not None and started.day < recipe.valid_from:
        raise _Reject(
            f"recipe {recipe_id!r} version {version} is valid from {recipe.valid_from}; the "
            f"batch started on {started.day}",
            "recipe_version",
        )


def _lot_edge(values: dict[str, Any], ctx: RecordContext) -> None:
    _positive(values, "qty")
    if values["parent_lot_id"] == values["child_lot_id"]:
        raise _Reject(f"lot {values['parent_lot_id']!r} cannot be its own parent", "child_lot_id")
    dimension = resolve_unit(values["unit"]).dimension
    if dimension not in ("mass", "volume", "count"):
        raise _Reject(
            f"unit {values['unit']!r} measures {dimension}, not a mass, volume or count", "unit"
        )


def _qc_result(values: dict[str, Any], ctx: RecordContext) -> None:
    materials = ctx.materials
    spec_id, version = values["spec_id"], values["spec_version"]
    _known("specification", "spec_id", spec_id, sorted({s.id for s in materials.specifications}))
    spec = materials.specification(spec_id, version)
    if spec is None:
        shown = ", ".join(str(s.version) for s in materials.specifications if s.id == spec_id)
        raise _Reject(
            f"unknown version {version} of specification {spec_id!r} (versions {shown})",
            "spec_version",
        )
    tests = {t.id: t for t in spec.tests}
    _known("test", "test_id", values["test_id"], list(tests), f" of {spec_id!r} version {version}")
    test = tests[values["test_id"]]
    if test.numeric and values.get("value") is None:
        raise _Reject(f"test {test.id!r} is numeric: value is empty", "value")
    if not test.numeric and values.get("result_text") is None:
        raise _Reject(f"test {test.id!r} has a text result: result_text is empty", "result_text")


def _sale(values: dict[str, Any], ctx: RecordContext) -> None:
    unit = _product_qty(values, ctx)
    _positive(values, "qty")
    given = values.get("unit") or unit
    values["qty"] = convert_amount(values["qty"], given, unit)
    values["unit"] = unit
    _positive(values, "unit_price", allow_zero=True)
    currency, rate = _rate(values, ctx, values["sold_at"].day)
    values["currency_given"], values["unit_price_given"] = currency, values["unit_price"]
    # per product unit, as the quantity
    values["unit_price"] = values["unit_price"] * rate * convert_amount(1.0, unit, given)


def _job(values: dict[str, Any], ctx: RecordContext) -> None:
    materials = ctx.materials
    _known("job type", "job_type_id", values["job_type_id"], [j.id for j in materials.job_types])
    _known(
        "material",
        "powder_material_id",
        values["powder_material_id"],
        [m.id for m in materials.materials],
    )
    _positive(values, "parts", allow_zero=True)
    _positive(values, "area_m2")
    _positive(values, "film_um")
    for name in ("labour_hours", "oven_kwh", "oven_cost", "quoted_price", "invoiced_price"):
        _positive(values, name, allow_zero=True)
    order = ["received_at", "started_at", "completed_at", "invoiced_at"]
    given = [name for name in order if values.get(name) is not None]
    for earlier, later in pairwise(given):
        _not_before(values, later, earlier, "dates out of order")
    status = values["status"]
    if status in ("completed", "invoiced") and values.get("completed_at") is None:
        raise _Reject(f"a {status} job needs completed_at", "completed_at")
    if status == "invoiced":
        for name in ("invoiced_at", "invoiced_price"):
            if values.get(name) is None:
                raise _Reject(f"an invoiced job needs {name}", name)


_KINDS: dict[str, Callable[[dict[str, Any], RecordContext], None]] = {
    "receipts": _receipt,
    "purchase_orders": _purchase_order,
    "movements": _movement,
    "batches": _batch,
    "lot_edges": _lot_edge,
    "qc_results": _qc_result,
    "sales": _sale,
    "jobs": _job,
}


def _add_years(day: dt.date, years: int) -> dt.date:
    if day.year + years > dt.MAXYEAR:
        return dt.date.max
    if (day.month, day.day) == (2, 29):
        day = day.replace(day=28)
    return day.replace(year=day.year + years)


def _validate_materials(kind: str, values: dict[str, Any], ctx: RecordContext, state: Any) -> None:
    _KINDS[kind](values, ctx)


MATERIALS = RecordDomain(
    name="materials",
    columns=RECORD_COLUMNS,
    keys=RECORD_KEYS,
    main_time=_MAIN_TIME,
    nouns=_NOUN,
    content_columns=CONTENT_COLUMNS,
    validate=_validate_materials,
    committed=committed_records,
    write=write_records,
)


def _record(
    row: _Row, ctx: RecordContext, stamps: dict[object, _Stamp | str], state: Any = None
) -> dict[str, Any]:
    """The lake record of a row; raises :class:`_Reject` (or :class:`_Skip`)."""
    cells = _Cells(row, ctx, stamps)
    values = cells.typed()
    values["_line"] = row.line
    for column in ctx.columns():
        if column.type == "timestamp" and values[column.name] is not None:
            values[f"_{column.name}_text"] = _text(cells.raw(column.name))
    ctx.domain.validate(ctx.kind, values, ctx, state)
    for column in ctx.columns():
        if column.type == "timestamp" and values[column.name] is not None:
            values[column.name] = values[column.name].utc
    values.pop("currency", None)
    values["source_row"] = row.line
    return {k: v for k, v in values.items() if not k.startswith("_")}


# -- duplicates --------------------------------------------------------------------------------


@dataclass
class _Committed:
    """What committed batches hold of this kind: key -> (content, batch); receipts' lots."""

    content: dict[str, tuple[tuple[Any, ...], str]]
    lots: dict[str, tuple[str, str]]

    @classmethod
    def read(cls, ctx: RecordContext) -> _Committed:
        table = ctx.committed()
        key = ctx.domain.keys[ctx.kind]
        names = ctx.domain.content_columns[ctx.kind]
        content: dict[str, tuple[tuple[Any, ...], str]] = {}
        lots: dict[str, tuple[str, str]] = {}
        if ctx.domain.mode(ctx.kind) == "upsert":
            # the latest version of a key holds
            table = table.sort_by([("loaded_at", "ascending"), ("source_row", "ascending")])
        for row in table.to_pylist():
            content[row[key]] = (tuple(row[n] for n in names), row["import_batch_id"])
            if ctx.kind == "receipts":
                lots[row["lot_id"]] = (row["receipt_id"], row["import_batch_id"])
        return cls(content, lots)


def _differences(domain: RecordDomain, kind: str, old: tuple[Any, ...], new: dict[str, Any]) -> str:
    names = domain.content_columns[kind]
    changed = [
        f"{name} {_shown(a)} -> {_shown(new.get(name))}"
        for name, a in zip(names, old, strict=True)
        if a != new.get(name)
    ]
    return "; ".join(changed[:3])


def _shown(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, float):
        return f"{value:g}"
    return _text(value)


def _assemble(rows: list[_Row], ctx: RecordContext) -> RecordsParsed:
    kind = ctx.kind
    domain = ctx.domain
    rejects = _Rejects(domain)
    stamps = _stamps(rows, ctx)
    state = domain.file_state(ctx)
    typed: list[tuple[_Row, dict[str, Any]]] = []
    skipped = 0
    for row in rows:
        if row.formula:
            rejects.add(row, FORMULA_REASON, None, kind)
            continue
        try:
            typed.append((row, _record(row, ctx, stamps, state)))
        except _Reject as exc:
            rejects.add(row, exc.reason, exc.column, kind)
        except _Skip:
            skipped += 1  # delivered again as committed
    mode = domain.mode(kind)
    if mode == "entity":
        # the validator checked each row against committed state and the rows before it
        records = [record for _, record in typed]
    else:
        committed = _Committed.read(ctx) if typed else _Committed({}, {})
        fresh: list[tuple[_Row, dict[str, Any]]] = []
        for row, record in typed:
            verdict = _against_committed(record, committed, kind, domain)
            if verdict is None:
                fresh.append((row, record))
            elif isinstance(verdict, tuple):
                reason, column = verdict
                rejects.add(row, reason, column, kind)
            else:
                skipped += 1  # delivered again as committed
        records = _latest_of_each_key(fresh, rejects, kind)
    quarantine = QuarantineRows()
    rejects.into(quarantine)
    return RecordsParsed(kind, records, quarantine, len(rows), skipped, domain.write)


def _against_committed(
    record: dict[str, Any], committed: _Committed, kind: str, domain: RecordDomain = MATERIALS
) -> str | tuple[str, str] | None:
    """None for a new record, ``"same"`` for one committed as it is, else (reason, column)."""
    key_name = domain.keys[kind]
    key = record[key_name]
    held = committed.content.get(key)
    if held is not None:
        old, batch = held
        if old == tuple(record.get(n) for n in domain.content_columns[kind]):
            return "same"
        if domain.mode(kind) == "upsert":
            return None  # a new version of the record
        changes = _differences(domain, kind, old, record)
        return (
            f"{domain.nouns[kind]} {key!r} already committed in batch {batch} with different "
            f"content ({changes})",
            key_name,
        )
    if kind == "receipts":
        lot = committed.lots.get(record["lot_id"])
        if lot is not None:
            return (
                f"lot {record['lot_id']!r} already received in batch {lot[1]} (receipt {lot[0]!r})",
                "lot_id",
            )
    return None


def _latest_of_each_key(
    rows: list[tuple[_Row, dict[str, Any]]], rejects: _Rejects, kind: str
) -> list[dict[str, Any]]:
    """The records of a file with one per key (and receipts one per lot): the later row wins,
    as the later copy of a re-delivered reading does; the earlier is quarantined."""
    key_name = rejects.domain.keys[kind]
    kept: dict[str, tuple[_Row, dict[str, Any]]] = {}
    lots: dict[str, str] = {}  # receipts: lot id -> receipt id kept for it
    for row, record in rows:
        key = record[key_name]
        earlier = kept.pop(key, None)
        if earlier is not None:
            reason = f"duplicate {key_name} {key!r}: again on line {row.line}, which wins"
            rejects.add(earlier[0], reason, key_name, kind)
            if kind == "receipts":
                lots.pop(earlier[1]["lot_id"], None)
        if kind == "receipts":
            other = lots.get(record["lot_id"])
            if other is not None:
                first = kept.pop(other)
                reason = (
                    f"duplicate lot_id {record['lot_id']!r}: received again on line {row.line} "
                    f"(receipt {key!r}), which wins"
                )
                rejects.add(first[0], reason, "lot_id", kind)
            lots[record["lot_id"]] = key
        kept[key] = (row, record)
    return [record for _, record in kept.values()]
