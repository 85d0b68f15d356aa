"""What parsing one file produces, and what every parser needs to know about the site."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ingestion.files.limits import ImportLimits
from ingestion.files.meters import MeterIndex
from ingestion.files.numbers import Cell, value_reason
from ingestion.files.quarantine import QuarantineRows
from ingestion.files.timestamps import Coded, TimestampParser
from ingestion.lake import Readings, write_readings
from ingestion.plausible import PlausibleRange
from siteledger.settings import Settings
from siteledger.site.models import FileLayout, SiteConfig


@dataclass
class Parsed:
    """Readings and rejected rows of one file, with the counts of what was considered.

    ``total`` = readings + ``skipped`` (empty cells, no reading) + quarantined rows.
    """

    readings: Readings
    quarantine: QuarantineRows
    total: int
    skipped: int

    @property
    def imported(self) -> int:
        return len(self.readings)

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
        """Write the readings to the raw lake; returns the files."""
        return write_readings(
            settings, site_id, source, batch_id, source_file, self.readings, loaded_at
        )


@dataclass(frozen=True)
class ParseContext:
    """A layout of a site, with the lookups its parser uses; shared by the files of one run.

    ``headers`` keeps what a parser learnt from a header line, so that 365 daily files with the
    same 500-column header resolve their meters once.
    """

    site: SiteConfig
    layout: FileLayout
    meters: MeterIndex
    times: TimestampParser
    limits: ImportLimits
    headers: dict[tuple[str, ...], Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        site: SiteConfig,
        layout: FileLayout,
        limits: ImportLimits,
        plausible: PlausibleRange | None = None,
    ) -> ParseContext:
        times = TimestampParser(
            layout.timestamp_format, site.layout_timezone(layout), site.site.timezone, plausible
        )
        return cls(site, layout, MeterIndex(site), times, limits)


@dataclass
class Reasons:
    """Distinct reason texts, numbered so that rows can carry a small code."""

    texts: list[str] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)

    def id(self, text: str) -> int:
        if text not in self._ids:
            self._ids[text] = len(self.texts)
            self.texts.append(text)
        return self._ids[text]

    def lookup(self, texts: list[str | None]) -> np.ndarray:
        """Codes for a list of optional reasons (-1 for None)."""
        return np.array([-1 if t is None else self.id(t) for t in texts], dtype=np.int32)

    def column(self, codes: np.ndarray) -> pa.Array:
        """Reason texts of rows with the given (non-negative) codes."""
        dictionary = pa.array(self.texts, pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), dictionary).cast(
            pa.string()
        )


@dataclass(frozen=True)
class RowTimes:
    """Each row's timestamp as a code into distinct values, with a reason code per row (-1:
    fine). Instants and days are looked up only for the rows asked for, since a long file's
    17.5 M rows would need 210 MB for them."""

    codes: np.ndarray
    value_utc_us: np.ndarray
    value_day: np.ndarray
    reason: np.ndarray
    ok: np.ndarray

    def utc_us(self, rows: np.ndarray | slice) -> np.ndarray:
        return self.value_utc_us[self.codes[rows]]

    def day(self, rows: np.ndarray | slice) -> np.ndarray:
        return self.value_day[self.codes[rows]]


def row_times(coded: Coded, parser: TimestampParser, reasons: Reasons) -> RowTimes:
    """Parse each distinct timestamp once and spread the reasons over the rows."""
    parsed = parser.parse_all(coded.values)
    # one extra slot at the end serves code -1 (an empty cell)
    per_value = reasons.lookup([*parsed.reasons, "timestamp is empty"])
    reason = per_value[coded.codes]
    return RowTimes(
        coded.codes,
        np.append(parsed.utc_us, 0),
        np.append(parsed.day, 0),
        reason,
        reason < 0,
    )


def value_reasons(raw: pa.Array, state: np.ndarray, reasons: Reasons) -> np.ndarray:
    """Reason codes for value cells that are not readings (one reason per distinct text)."""
    encoded = raw.cast(pa.string()).dictionary_encode()
    indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    texts = encoded.dictionary.to_pylist()
    distinct, first = np.unique(indices, return_index=True)
    codes = np.full(len(texts) + 1, -1, dtype=np.int32)  # the last slot serves null texts
    for i, row in zip(distinct.tolist(), first.tolist(), strict=True):
        shown = texts[i] if i >= 0 else ""
        codes[i] = reasons.id(value_reason(shown, Cell(int(state[row]))))
    return codes[indices]
