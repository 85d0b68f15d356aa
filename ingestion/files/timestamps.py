"""Timestamps of a file layout: parsed once per distinct value, then looked up per row.

A wide file of a year at 15-minute resolution has 35 040 distinct timestamps for 17.5 M cells.
Text is parsed with the standard library (``strptime`` or ``fromisoformat``), except that
formats made only of zero-padded numeric fields (``%d/%m/%Y %H:%M``) are parsed by pyarrow and
kept only where formatting the result back gives the same text - exact, and 15x faster.
Naive timestamps are wall-clock time in the layout's time zone; one that the zone skips or
repeats (daylight saving changes) is rejected rather than guessed, and so is an instant outside
the site's plausible range (:mod:`ingestion.plausible`: a logger clock reset to 1970 or run
away to 9999).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.files.numbers import shorten
from ingestion.lake import day_text, local_days
from ingestion.plausible import PlausibleRange

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)
_PADDED_DIRECTIVES = {"%Y", "%m", "%d", "%H", "%M", "%S", "%%"}


@dataclass(frozen=True)
class Coded:
    """A column as codes into its distinct values; code -1 is an empty cell."""

    codes: np.ndarray
    values: list[object]

    @classmethod
    def from_arrow(cls, array: pa.Array) -> Coded:
        """From a string or dictionary array (cells with only whitespace count as empty)."""
        if not pa.types.is_dictionary(array.type):
            array = array.dictionary_encode()
        indices = array.indices
        if indices.null_count:
            indices = indices.fill_null(-1)
        codes = indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
        values: list[object] = array.dictionary.to_pylist()
        blank = [i for i, v in enumerate(values) if v is None or not str(v).strip()]
        if blank:
            lookup = np.arange(-1, len(values), dtype=np.int32)  # lookup[code + 1] = new code
            lookup[np.array(blank) + 1] = -1
            codes = lookup[codes + 1]
        return cls(codes, values)

    @classmethod
    def from_values(cls, cells: Sequence[object]) -> Coded:
        """From Python values (spreadsheet cells); None and blank text are empty."""
        index: dict[tuple[type, object], int] = {}
        codes = np.empty(len(cells), dtype=np.int32)
        for row, cell in enumerate(cells):
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                codes[row] = -1
            else:
                codes[row] = index.setdefault((type(cell), cell), len(index))
        return cls(codes, [value for _, value in index])

    @cached_property
    def _shown(self) -> pa.Array:
        return pa.array([_as_text(v) for v in self.values], pa.string())

    def texts(self, rows: np.ndarray) -> pa.Array:
        """The cells of ``rows`` as text (empty cells null), for quarantine rows."""
        codes = self.codes[rows]
        indices = pa.array(codes, pa.int32(), mask=codes < 0)
        return pa.DictionaryArray.from_arrays(indices, self._shown).cast(pa.string())


def _as_text(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class ParsedTimes:
    """Per distinct timestamp: UTC microseconds, site-local day number, or a reason."""

    utc_us: np.ndarray
    day: np.ndarray
    reasons: list[str | None]


@dataclass
class _Stamps:
    """Work in progress of :meth:`TimestampParser.parse_all`."""

    size: int
    utc_us: np.ndarray
    wall_us: np.ndarray
    naive: np.ndarray
    reasons: list[str | None]

    @classmethod
    def empty(cls, size: int) -> _Stamps:
        zeros = np.zeros(size, dtype=np.int64)
        return cls(size, zeros, zeros.copy(), np.zeros(size, dtype=bool), [None] * size)


class TimestampParser:
    """Parses a layout's timestamps: ``fmt`` (strftime) or ISO 8601 text, or datetime cells.

    ``naive_zone`` gives naive timestamps their meaning; ``day_zone`` (the site's) decides the
    local date a reading belongs to; an instant outside ``plausible`` (when given) is rejected.
    """

    def __init__(
        self,
        fmt: str | None,
        naive_zone: str,
        day_zone: str,
        plausible: PlausibleRange | None = None,
    ):
        self.fmt = fmt
        self.plausible = plausible
        self.naive_zone = zoneinfo.ZoneInfo(naive_zone)
        self.day_zone = zoneinfo.ZoneInfo(day_zone)
        directives = set(re.findall(r"%.", fmt)) if fmt else set()
        self._padded_format = bool(fmt) and directives <= _PADDED_DIRECTIVES

    def parse_all(self, values: Sequence[object]) -> ParsedTimes:
        """Instants and local days of distinct timestamp values, or why each is not one."""
        stamps = _Stamps.empty(len(values))
        rest = self._parse_padded_texts(values, stamps)
        for i in rest:
            self._parse_one(i, values[i], stamps)
        self._localise(stamps)
        ok = np.array([r is None for r in stamps.reasons], dtype=bool)
        day = np.zeros(len(values), dtype=np.int32)
        day[ok] = local_days(stamps.utc_us[ok], self.day_zone.key)
        if self.plausible is not None:
            self._check_plausible(values, stamps, day, ok)
        return ParsedTimes(stamps.utc_us, day, stamps.reasons)

    def _check_plausible(
        self, values: Sequence[object], stamps: _Stamps, day: np.ndarray, ok: np.ndarray
    ) -> None:
        """Give instants outside the site's plausible range their reason."""
        assert self.plausible is not None
        where = np.flatnonzero(ok)
        verdict = self.plausible.implausible(stamps.utc_us[where], day[where])
        bad = verdict != 0
        for i, side in zip(where[bad].tolist(), verdict[bad].tolist(), strict=True):
            shown = shorten(_as_text(values[i]).strip())
            stamps.reasons[i] = (
                self.plausible.too_early(shown, day_text(int(day[i])))
                if side < 0
                else self.plausible.too_late(shown)
            )

    def _parse_padded_texts(self, values: Sequence[object], stamps: _Stamps) -> list[int]:
        """Parse text in a zero-padded numeric format at once; returns the indices left over."""
        if not self._padded_format:
            return list(range(len(values)))
        texts = [i for i, v in enumerate(values) if isinstance(v, str)]
        array = pa.array([str(values[i]).strip() for i in texts], pa.string())
        parsed = pc.strptime(array, format=self.fmt, unit="us", error_is_null=True)
        again = pc.strftime(parsed.cast(pa.timestamp("s")), format=self.fmt)
        exact = pc.fill_null(pc.equal(again, array), False).to_numpy(zero_copy_only=False)
        done = np.array(texts, dtype=np.int64)[exact]
        stamps.wall_us[done] = parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)[exact]
        stamps.naive[done] = True
        left = np.ones(len(values), dtype=bool)
        left[done] = False
        return np.flatnonzero(left).tolist()

    def _parse_one(self, i: int, value: object, stamps: _Stamps) -> None:
        if isinstance(value, str):
            stamp, reason = self._from_text(value.strip())
        elif isinstance(value, dt.datetime):
            stamp, reason = value, None
        elif isinstance(value, dt.date):
            stamp, reason = dt.datetime.combine(value, dt.time()), None
        else:
            stamp, reason = None, f"timestamp {shorten(repr(value))} is not a date or text"
        if stamp is None:
            stamps.reasons[i] = reason
        elif stamp.tzinfo is not None and stamp.utcoffset() is not None:
            try:
                stamps.utc_us[i] = (stamp - _EPOCH) // _MICROSECOND
            except OverflowError:
                stamps.reasons[i] = f"timestamp {shorten(_as_text(value))!r} is out of range"
        else:
            stamps.wall_us[i] = (stamp.replace(tzinfo=None) - _NAIVE_EPOCH) // _MICROSECOND
            stamps.naive[i] = True

    def _from_text(self, text: str) -> tuple[dt.datetime | None, str | None]:
        if not text:
            return None, "timestamp is empty"
        try:
            if self.fmt:
                return dt.datetime.strptime(text, self.fmt), None
            return dt.datetime.fromisoformat(text), None
        except ValueError:
            expected = self.fmt or "ISO 8601"
            return None, f"timestamp {shorten(text)!r} does not match {expected}"

    def _localise(self, stamps: _Stamps) -> None:
        """UTC instants of the naive wall-clock times; skipped or repeated ones get a reason."""
        where = np.flatnonzero(stamps.naive)
        if where.size == 0:
            return
        wall = pa.array(stamps.wall_us[where], pa.timestamp("us"))
        zone = self.naive_zone.key
        earliest, latest = (
            pc.assume_timezone(wall, timezone=zone, ambiguous=pick, nonexistent=pick)
            .cast(pa.int64())
            .to_numpy(zero_copy_only=False)
            for pick in ("earliest", "latest")
        )
        stamps.utc_us[where] = earliest
        for i in where[earliest != latest].tolist():
            shown = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(stamps.wall_us[i]))
            stamps.reasons[i] = (
                f"ambiguous or non-existent local time {shown.isoformat(sep=' ')!r} in {zone}"
            )
