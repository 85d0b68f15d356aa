"""Home Assistant as a file source: its ``history.csv`` download and its recorder's database.

``home_assistant_history``: the history panel's download, ``entity_id,state,last_changed`` (ISO
8601 UTC), one row per state change. A row's meter is the one whose ``tag`` is the entity_id (its
id as a fallback), in the meter's configured unit (the file has no unit). The states
``unavailable`` and ``unknown`` and an empty state are not readings: they are skipped, counted by
reason in the job's ``skipped_reasons``. Each other row gets at most one reason, checked in this
order: timestamp, entity (no meter), state (not a finite number). A cumulative meter's state is
its register reading as it is; a fall is left to the warehouse's register logic.

``home_assistant_statistics``: the recorder's SQLite database (``home-assistant_v2.db``), read
from a private copy of the bytes that were hashed, opened read-only and immutable. Each
``statistics_meta`` row whose ``statistic_id`` is a meter's tag (or id) is read from
``statistics`` (hourly periods) or, for a meter with a 5-minute interval,
``statistics_short_term``; statistics that match no meter are not read (their ids and row counts
are in the job's ``unmatched_statistics``). The unit is ``statistics_meta.unit_of_measurement``
(none: the meter's). A cumulative meter (``energy``, ``totaliser``) gets a register rebuilt from
the statistic's ``sum``, stamped at the period's end; any other meter the period's ``mean``,
stamped at the period's start (the lake's interval-beginning convention). See
docs/home-assistant.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.files.csvread import Header, read_columns, read_header
from ingestion.files.errors import FileRejected
from ingestion.files.numbers import Cell, parse_values, shorten
from ingestion.files.parsed import ParseContext, Parsed, Reasons, row_times, value_reasons
from ingestion.files.quarantine import QuarantineRows
from ingestion.files.text import utf8_text
from ingestion.files.timestamps import Coded, TimestampParser
from ingestion.lake import Readings
from siteledger.site.models import FileLayout, Meter, interval_seconds
from siteledger.units import MEASURANDS

SQLITE_MAGIC = b"SQLite format 3\x00"
HISTORY_COLUMNS = ("entity_id", "state", "last_changed")
NOT_A_READING = ("unavailable", "unknown")
# A new sum below this share of the previous one is a reset (DOMAIN_ENERGY.md): the new value is
# then the period's consumption. A smaller fall is noise and counts nothing.
RESET_FRACTION = 0.9
# float64 keeps 0.001 of a unit (1 Wh in kWh) exact up to ~9e12; a sum beyond 1e12 would wipe
# out every later delta of a rebuilt register, so such a value is quarantined, not summed.
MAX_SUM = 1e12
HOURLY_S = 3600
SHORT_TERM_S = 300
# A hostile database can make a query crawl; no real recorder file needs this long.
QUERY_BUDGET_S = 600.0
_TEXT_CODES = pa.dictionary(pa.int32(), pa.string())


@dataclass
class HomeAssistantParsed(Parsed):
    """:class:`Parsed`, with what the job's details keep of a Home Assistant file: skipped rows
    by reason, statistics that match no meter, resets found in sums, the table each meter used."""

    skipped_reasons: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.skipped_reasons:
            out["skipped_reasons"] = dict(sorted(self.skipped_reasons.items()))
        out.update(self.notes)
        return out


# --- history.csv ------------------------------------------------------------------------------


def _history_layout(layout: FileLayout) -> FileLayout:
    """The layout as Home Assistant writes the file: fixed columns, ',' and '.', and no null
    spellings ('NaN' is a value to quarantine, not an empty cell)."""
    return layout.model_copy(
        update={
            "delimiter": ",",
            "decimal": ".",
            "null_values": [],
            "timestamp_column": "last_changed",
            "meter_column": "entity_id",
            "value_column": "state",
        }
    )


def _history_positions(header: Header) -> tuple[int, int, int]:
    found = [header.find(name) for name in HISTORY_COLUMNS]
    missing = [repr(n) for n, at in zip(HISTORY_COLUMNS, found, strict=True) if at is None]
    if missing:
        shown = ", ".join(repr(n[:40]) for n in header.names[:12])
        raise FileRejected(
            f"not a Home Assistant history.csv: missing column {', '.join(missing)} "
            f"(expected {','.join(HISTORY_COLUMNS)}; found {shown})"
        )
    entity, state, changed = (at for at in found if at is not None)
    return entity, state, changed


def parse_history(data: bytes, ctx: ParseContext) -> HomeAssistantParsed:
    """Readings, skipped states and quarantined rows of a Home Assistant ``history.csv``."""
    if data.startswith(SQLITE_MAGIC):
        raise FileRejected(
            "a SQLite database, not a history.csv: a recorder database needs a layout of format "
            "home_assistant_statistics"
        )
    layout = _history_layout(ctx.layout)
    # Home Assistant writes ISO 8601 in UTC: a timestamp that lost its 'Z' (a spreadsheet
    # round trip) is UTC too, unless the layout names another zone
    times = TimestampParser(
        None, layout.timezone or "UTC", ctx.site.site.timezone, ctx.times.plausible
    )
    ctx = dataclasses.replace(ctx, layout=layout, times=times)
    text = utf8_text(data, layout.encoding, ctx.limits)
    header = read_header(text, layout, ctx.limits)
    entity, state, changed = _history_positions(header)
    wanted = {entity: _TEXT_CODES, changed: _TEXT_CODES, state: pa.string()}
    columns = read_columns(text, layout, header, wanted, ctx.limits)
    if columns.num_rows == 0 and not columns.bad_lines:
        raise FileRejected("header only: no data rows")
    parsed = _assemble_history(
        columns.lines,
        Coded.from_arrow(columns.array(changed)),
        Coded.from_arrow(columns.array(entity)),
        columns.array(state),
        ctx,
    )
    for bad_line in columns.bad_lines:
        parsed.quarantine.add(bad_line.line, bad_line.reason, raw_value=bad_line.text)
    parsed.total += len(columns.bad_lines)
    return parsed


def _entity_meters(entities: Coded, ctx: ParseContext, reasons: Reasons) -> tuple[np.ndarray, ...]:
    """Per row: meter code, unit code and reason code (-1: fine), resolved per distinct entity."""
    count = len(entities.values) + 1  # the last slot serves an empty cell (code -1)
    meter = np.full(count, -1, dtype=np.int32)
    unit = np.full(count, -1, dtype=np.int32)
    reason = np.full(count, -1, dtype=np.int32)
    reason[-1] = reasons.id("entity_id is empty")
    for i, name in enumerate(entities.values):
        resolved = ctx.meters.lookup(str(name), "tag", None)
        if resolved.reason is not None:
            reason[i] = reasons.id(resolved.reason)
        meter[i], unit[i] = resolved.meter_code, resolved.unit_code
    return meter[entities.codes], unit[entities.codes], reason[entities.codes]


def _not_a_reading(states: pa.Array, kind: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """Rows whose state is no reading (empty, ``unavailable``, ``unknown``), and each state's
    lower-case trimmed text."""
    normal = pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(states, "")))
    word = pc.is_in(normal, value_set=pa.array(NOT_A_READING, pa.string()))
    return (kind == Cell.EMPTY) | word.to_numpy(zero_copy_only=False), normal


def _assemble_history(
    lines: np.ndarray, ts: Coded, entities: Coded, states: pa.Array, ctx: ParseContext
) -> HomeAssistantParsed:
    reasons = Reasons()
    times = row_times(ts, ctx.times, reasons)
    meter_code, unit_code, reason = _entity_meters(entities, ctx, reasons)
    values, kind = parse_values(states, ".")
    skip, normal = _not_a_reading(states, kind)
    bad_value = (kind >= Cell.NOT_A_NUMBER) & ~skip & (reason < 0)
    where = np.flatnonzero(bad_value)
    if where.size:
        reason[where] = value_reasons(states.take(where), kind[where], reasons)
    np.copyto(reason, times.reason, where=~times.ok)
    reason[skip] = -1
    failed = np.flatnonzero(reason >= 0)
    quarantine = QuarantineRows()
    if failed.size:
        quarantine.add(
            lines[failed],
            reasons.column(reason[failed]),
            entities.texts(failed),
            ts.texts(failed),
            states.take(failed),
        )
    good = ~skip & (reason < 0)
    readings = Readings(
        ctx.meters.meter_ids,
        list(ctx.meters.units),
        meter_code[good],
        times.utc_us(good),
        times.day(good),
        values[good],
        unit_code[good],
        lines[good],
    )
    skipped = Counter(
        "state is empty" if not text else f"state {text!r}"
        for text in normal.filter(pa.array(skip)).to_pylist()
    )
    return HomeAssistantParsed(
        readings, quarantine, len(lines), int(np.count_nonzero(skip)), dict(skipped)
    )


# --- the recorder database ------------------------------------------------------------------


@dataclass(frozen=True)
class Statistic:
    """One ``statistics_meta`` row matched to a meter."""

    metadata_id: int
    statistic_id: str
    unit: str | None
    has_sum: bool
    meter: Meter


@dataclass
class _Series:
    """The good rows of one statistic, gathered in period order."""

    ids: list[int] = field(default_factory=list)
    ts_us: list[int] = field(default_factory=list)
    day: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)


@dataclass
class _Build:
    """Readings and quarantined rows of a database in progress."""

    ctx: ParseContext
    quarantine: QuarantineRows = field(default_factory=QuarantineRows)
    parts: list[Readings] = field(default_factory=list)
    total: int = 0
    resets: dict[str, int] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)

    def reject(self, stat: Statistic, rows: list[tuple[Any, ...]], reason: str) -> None:
        """Quarantine rows of a statistic (id, start_ts, value) with one reason."""
        if not rows:
            return
        self.quarantine.add(
            np.array([_row_id(r[0]) for r in rows], dtype=np.int64),
            reason,
            stat.statistic_id,
            pa.array([_shown(r[1]) for r in rows], pa.string()),
            pa.array([_shown(r[2]) for r in rows], pa.string()),
        )


def _row_id(value: Any) -> int:
    return value if isinstance(value, int) and -(1 << 63) <= value < 1 << 63 else -1


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return f"<{len(value)}-byte blob>"
    return shorten(str(value), 200)


def _number_reason(name: str, value: Any) -> str | None:
    """Why a database cell is not a finite number (None: it is one)."""
    if value is None:
        return f"{name} is NULL"
    if isinstance(value, bytes):
        return f"{name} is a blob, not a number"
    if isinstance(value, str):
        return f"{name} {shorten(value)!r} is text, not a number"
    if not isinstance(value, int | float):
        return f"{name} {shorten(repr(value))} is not a number"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{name} {value!r} is not a finite number"
    return None


def parse_statistics(data: bytes, ctx: ParseContext) -> HomeAssistantParsed:
    """Readings and quarantined rows of a Home Assistant recorder database's statistics."""
    _check_sqlite_bytes(data)
    with tempfile.TemporaryDirectory(prefix="siteledger-ha-") as folder:
        copy = Path(folder) / "recorder.db"
        copy.write_bytes(data)
        try:
            with contextlib.closing(_connect(copy)) as con:
                return _read_database(con, ctx)
        except _READ_ERRORS as exc:
            raise FileRejected(f"cannot read the SQLite database: {_error_text(exc)}") from exc


def _check_sqlite_bytes(data: bytes) -> None:
    if not data:
        raise FileRejected("empty file (0 bytes)")
    if data.startswith(SQLITE_MAGIC):
        if len(data) < 512:
            raise FileRejected(f"truncated SQLite database: {len(data)} bytes")
        _check_size(data)
        return
    start = data[:40].decode("utf-8", "replace")
    hint = ""
    if data.removeprefix(b"\xef\xbb\xbf").startswith(b"entity_id"):
        hint = " (a history.csv? it needs a layout of format home_assistant_history)"
    raise FileRejected(f"not a SQLite database: the file starts with {start!r}{hint}")


def _check_size(data: bytes) -> None:
    """Refuse a copy shorter than its header says (a copy cut off in transit).

    The header's page count (offset 28) is trusted only when its "valid for" counter (offset
    92) matches the change counter (offset 24), as SQLite does.
    """
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(data[28:32], "big")
    if data[24:28] != data[92:96] or not pages:
        return
    expected = pages * page_size
    if len(data) < expected:
        raise FileRejected(
            f"truncated SQLite database: its header says {pages} pages of {page_size} bytes "
            f"({expected} bytes), the file has {len(data)}"
        )


# SQLite's own message about a damaged schema can hold bytes that are not UTF-8, which the
# driver fails to decode before it can raise the error itself
_READ_ERRORS = (sqlite3.Error, UnicodeDecodeError)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "database disk image is malformed (an error message that is not UTF-8)"
    return str(exc)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def _connect(path: Path) -> sqlite3.Connection:
    """The copy, read-only and immutable (no locks, no journal): nothing is ever written."""
    con = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    # text that is not UTF-8 (a damaged page) is shown with escapes rather than raised
    con.text_factory = _decode
    deadline = time.monotonic() + QUERY_BUDGET_S
    con.set_progress_handler(lambda: time.monotonic() > deadline, 100_000)
    try:
        # the file's own views and triggers never run functions with side effects
        con.execute("pragma trusted_schema = off")
        con.execute("pragma query_only = on")
    except _READ_ERRORS:
        con.close()
        raise
    return con


def _tables(con: sqlite3.Connection) -> dict[str, str]:
    rows = con.execute("select name, type from sqlite_master").fetchall()
    return {str(name): str(kind) for name, kind in rows}


def _columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in con.execute(f'pragma table_info("{table}")').fetchall()}


_REQUIRED = {
    "statistics_meta": ("id", "statistic_id", "unit_of_measurement", "has_sum"),
    "statistics": ("metadata_id", "start_ts", "mean", "sum"),
    "statistics_short_term": ("metadata_id", "start_ts", "mean", "sum"),
}


def _table_problem(con: sqlite3.Connection, tables: dict[str, str], table: str) -> str | None:
    """Why a recorder table cannot be read (None: it can)."""
    kind = tables.get(table)
    if kind is None:
        return f"no table {table!r}"
    if kind != "table":
        return f"{table!r} is a {kind}, not a table"
    missing = [c for c in _REQUIRED[table] if c not in _columns(con, table)]
    if missing:
        hint = " (a recorder from before Home Assistant 2023.3?)" if "start_ts" in missing else ""
        return f"table {table!r} has no column {', '.join(map(repr, missing))}{hint}"
    return None


def _read_database(con: sqlite3.Connection, ctx: ParseContext) -> HomeAssistantParsed:
    tables = _tables(con)
    for table in ("statistics_meta", "statistics"):
        problem = _table_problem(con, tables, table)
        if problem is not None:
            shown = ", ".join(sorted(tables)[:12]) or "none"
            raise FileRejected(
                f"not a Home Assistant recorder database: {problem} (tables: {shown})"
            )
    matched, unmatched, ignored = _statistics(con, ctx)
    build = _Build(ctx)
    by_table: dict[str, list[Statistic]] = {"statistics": []}
    short_term = _table_problem(con, tables, "statistics_short_term")
    for stat in matched:
        table = _source_table(stat.meter)[0]
        build.tables[stat.meter.id] = table
        if table == "statistics_short_term" and short_term is not None:
            build.total += 1
            build.quarantine.add(
                None,
                f"statistic {stat.statistic_id!r}: meter {stat.meter.id} reads 5-minute periods "
                f"but {short_term}",
                stat.statistic_id,
            )
            continue
        by_table.setdefault(table, []).append(stat)
    scans = {t: _scan(con, t, {s.metadata_id for s in stats}) for t, stats in by_table.items()}
    errors = [scan.error for scan in scans.values() if scan.error is not None]
    if errors and not any(rows for scan in scans.values() for rows in scan.rows.values()):
        # nothing of a matched statistic could be read: the file is damaged, not its rows
        raise FileRejected(f"cannot read the SQLite database: {errors[0]}")
    for table, stats in by_table.items():
        for stat in stats:
            _read_statistic(stat, scans[table], build)
    counts = scans["statistics"].counts
    readings = Readings.concat(build.parts, ctx.meters.meter_ids, list(ctx.meters.units))
    notes: dict[str, Any] = {"statistics_tables": dict(sorted(build.tables.items()))}
    if build.resets:
        notes["sum_resets"] = dict(sorted(build.resets.items()))
    if unmatched:
        notes["unmatched_statistics"] = {
            statistic_id: counts[meta_id]
            for meta_id, statistic_id in sorted(unmatched.items(), key=lambda kv: kv[1])[:200]
        }
    if ignored:
        notes["unreadable_statistics_meta_rows"] = ignored
    return HomeAssistantParsed(readings, build.quarantine, build.total, 0, {}, notes)


def _statistics(
    con: sqlite3.Connection, ctx: ParseContext
) -> tuple[list[Statistic], dict[int, str], int]:
    """Meta rows matched to meters, the unmatched ones (id -> statistic_id), and how many meta
    rows were unusable (an id or statistic_id of the wrong type)."""
    matched: list[Statistic] = []
    unmatched: dict[int, str] = {}
    ignored = 0
    query = "select id, statistic_id, unit_of_measurement, has_sum from statistics_meta order by 2"
    for meta_id, statistic_id, unit, has_sum in con.execute(query):
        if not isinstance(meta_id, int) or not isinstance(statistic_id, str):
            ignored += 1
            continue
        meter = ctx.meters.find(statistic_id, "tag")
        if meter is None:
            unmatched[meta_id] = statistic_id
            continue
        # a unit that is not text (a blob, a number) is shown as such and resolves to nothing
        shown_unit = unit if unit is None or isinstance(unit, str) else _shown(unit)
        # has_sum is 0 or 1; anything else (text, NULL) is not a sum
        summed = isinstance(has_sum, int | float) and has_sum == 1
        matched.append(Statistic(meta_id, statistic_id, shown_unit, summed, meter))
    return matched, unmatched, ignored


def _source_table(meter: Meter) -> tuple[str, int]:
    """``statistics_short_term`` (5-minute periods) for a meter read every 5 minutes, else the
    hourly ``statistics``."""
    if interval_seconds(meter.interval) == SHORT_TERM_S:
        return "statistics_short_term", SHORT_TERM_S
    return "statistics", HOURLY_S


@dataclass
class _Scan:
    """The rows (row id, start_ts, mean, sum) of the wanted statistics in one table, rows per
    metadata_id of every statistic, and the error that stopped the scan early (if one did)."""

    rows: dict[int, list[tuple[Any, ...]]]
    counts: Counter[int]
    error: str | None = None


def _scan(con: sqlite3.Connection, table: str, wanted: set[int]) -> _Scan:
    """One pass over a statistics table in storage order.

    No index and no ``order by``: a damaged index can hand back another statistic's rows, and a
    sort reads the whole table before the first row; row by row, the rows read before a damaged
    page are kept (and put in period order once checked).
    """
    id_column = "id" if "id" in _columns(con, table) else "rowid"
    # the table name is one of this module's two, never text from the file
    query = f'select metadata_id, {id_column}, start_ts, mean, sum from "{table}" not indexed'  # noqa: S608
    scan = _Scan({meta_id: [] for meta_id in wanted}, Counter())
    try:
        for meta_id, *row in con.execute(query):
            if isinstance(meta_id, int):
                scan.counts[meta_id] += 1
                if meta_id in scan.rows:
                    scan.rows[meta_id].append(tuple(row))
    except _READ_ERRORS as exc:
        scan.error = _error_text(exc)
    return scan


def _read_statistic(stat: Statistic, scan: _Scan, build: _Build) -> None:
    ctx = build.ctx
    period_s = _source_table(stat.meter)[1]
    cumulative = MEASURANDS[stat.meter.measurand].cumulative
    # (row id, start_ts, the value this meter takes)
    rows = [(r[0], r[1], r[3] if cumulative else r[2]) for r in scan.rows[stat.metadata_id]]
    build.total += len(rows)
    if scan.error is not None:
        build.total += 1
        reason = f"rows of statistic {stat.statistic_id!r} after row {len(rows)} cannot be read"
        build.quarantine.add(None, f"{reason}: {scan.error}", stat.statistic_id)
    problem = _statistic_problem(stat, cumulative, period_s)
    resolved = ctx.meters.resolve(stat.meter, stat.statistic_id, stat.unit)
    problem = problem or resolved.reason
    if problem is not None:
        build.reject(stat, rows, problem)
        return
    series = _good_rows(rows, stat, build, cumulative, period_s)
    values = series.value
    if cumulative:
        values, resets = rebuild_register(values)
        if resets:
            build.resets[stat.statistic_id] = resets
    n = len(values)
    build.parts.append(
        Readings(
            ctx.meters.meter_ids,
            ctx.meters.units,
            np.full(n, resolved.meter_code, dtype=np.int32),
            np.array(series.ts_us, dtype=np.int64),
            np.array(series.day, dtype=np.int32),
            np.array(values, dtype=np.float64),
            np.full(n, resolved.unit_code, dtype=np.int32),
            np.array(series.ids, dtype=np.int64),
        )
    )


def _statistic_problem(stat: Statistic, cumulative: bool, period_s: int) -> str | None:
    """Why no row of a matched statistic can be a reading of its meter."""
    meter = stat.meter
    if cumulative and not stat.has_sum:
        return (
            f"statistic {stat.statistic_id!r} has no sum (has_sum is not 1): "
            f"{meter.measurand} meter {meter.id} needs a total_increasing or total sensor"
        )
    if not cumulative and interval_seconds(meter.interval) != period_s:
        return (
            f"meter {meter.id} has interval {meter.interval} but the statistic's means are "
            f"over {period_s // 60} min: set the meter's interval to 1h (or 5min)"
        )
    return None


def _good_rows(
    rows: list[tuple[Any, ...]], stat: Statistic, build: _Build, cumulative: bool, period_s: int
) -> _Series:
    """The rows with a usable period start and value; the others go to the quarantine."""
    name = "sum" if cumulative else "mean"
    bad: dict[str, list[tuple[Any, ...]]] = {}
    stamps: list[Any] = []
    kept: list[tuple[Any, ...]] = []
    # a register value holds at the period's end; a mean over [start, end) is stamped at start
    shift = period_s if cumulative else 0
    for row in rows:
        reason = _number_reason("start_ts", row[1]) or _number_reason(name, row[2])
        if reason is None and cumulative and abs(row[2]) > MAX_SUM:
            reason = f"sum {row[2]!r} is beyond {MAX_SUM:g}, more than a register can carry"
        stamp = None
        if reason is None:
            try:
                stamp = dt.datetime.fromtimestamp(row[1] + shift, dt.UTC)
            except (OverflowError, OSError, ValueError):
                reason = f"start_ts {_shown(row[1])} is out of range"
        if reason is not None:
            bad.setdefault(reason, []).append(row)
            continue
        stamps.append(stamp)
        kept.append(row)
    times = build.ctx.times.parse_all(stamps)
    good: list[tuple[int, int, int, float]] = []
    for i, row in enumerate(kept):
        reason = times.reasons[i]
        if reason is not None:
            bad.setdefault(reason, []).append(row)
            continue
        good.append((int(times.utc_us[i]), _row_id(row[0]), int(times.day[i]), float(row[2])))
    for reason, rejected in bad.items():
        build.reject(stat, rejected, reason)
    good.sort()
    series = _Series()
    for ts_us, row_id, day, value in good:
        series.ts_us.append(ts_us)
        series.ids.append(row_id)
        series.day.append(day)
        series.value.append(value)
    return series


def rebuild_register(sums: list[float]) -> tuple[list[float], int]:
    """A continuous register from a statistic's sums, and the number of resets found.

    The register starts at the first sum; each period adds its consumption: sum[t] - sum[t-1],
    or, when sum[t] < 0.9 x sum[t-1] (a reset), sum[t] itself. A fall of less than 10 % adds
    nothing. Without a reset the register is the sums themselves.
    """
    register: list[float] = []
    resets = 0
    for i, value in enumerate(sums):
        if i == 0:
            register.append(value)
            continue
        previous = sums[i - 1]
        if previous > 0 and value < RESET_FRACTION * previous:
            resets += 1
            used = max(value, 0.0)
        else:
            used = max(value - previous, 0.0)
        register.append(register[-1] + used)
    return register, resets
