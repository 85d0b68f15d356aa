"""The collector's store-and-forward spool: one JSON segment per poll cycle, per site.

A segment is written to a hidden temporary name, flushed to disk (fsync), renamed into place,
and the folder is flushed too, so after a ``kill -9`` or a power cut a segment is either whole or
absent; a leftover temporary file is the in-flight cycle and is removed on the next start.
Names start with the cycle's UTC instant, so name order is time order::

    spool/<site_id>/20250701T001500000000Z-<run id>.json

The spool is bounded (``max_bytes``): when it is full new cycles are not written (and counted
as dropped) rather than deleting what is already buffered, and the collector says so loudly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siteledger.durable import fsync_path

SEGMENT_FORMAT = 1
SEGMENT_RE = re.compile(r"^(?P<cycle>\d{8}T\d{12}Z)-(?P<run>[0-9a-f]{1,32})\.json$")
TMP_PREFIX = "."
TMP_SUFFIX = ".tmp"
DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB: ~2 weeks of a 500-device site at a 60 s interval
WARN_FRACTION = 0.8


class SegmentError(ValueError):
    """A spool segment that cannot be read as one."""


def cycle_text(cycle_us: int) -> str:
    moment = dt.datetime.fromtimestamp(cycle_us / 1e6, dt.UTC)
    return moment.strftime("%Y%m%dT%H%M%S%fZ")


def cycle_us_of(name: str) -> int | None:
    match = SEGMENT_RE.match(name)
    if not match:
        return None
    moment = dt.datetime.strptime(match.group("cycle"), "%Y%m%dT%H%M%S%fZ")
    return round(moment.replace(tzinfo=dt.UTC).timestamp() * 1e6)


@dataclass
class Spool:
    root: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    size_bytes: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.size_bytes = sum(p.stat().st_size for p in self.segments())

    def segments(self) -> list[Path]:
        """Finished segments, oldest cycle first."""
        with os.scandir(self.root) as entries:
            names = sorted(e.name for e in entries if SEGMENT_RE.match(e.name))
        return [self.root / name for name in names]

    def remove_torn(self) -> list[Path]:
        """Delete temporary files left by a writer that died mid-write; returns them."""
        torn = [
            self.root / name
            for name in os.listdir(self.root)
            if name.startswith(TMP_PREFIX) and name.endswith(TMP_SUFFIX)
        ]
        for path in torn:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return torn

    def last_cycle_us(self) -> int | None:
        segments = self.segments()
        return cycle_us_of(segments[-1].name) if segments else None

    @property
    def fill(self) -> float:
        return self.size_bytes / self.max_bytes if self.max_bytes else 0.0

    def write(self, segment: dict[str, Any], run_id: str) -> Path | None:
        """Write one cycle's segment durably; None (nothing written) when the spool is full."""
        data = json.dumps(segment, separators=(",", ":"), allow_nan=False).encode()
        if self.size_bytes + len(data) > self.max_bytes:
            return None
        path = self.root / f"{cycle_text(segment['cycle_us'])}-{run_id}.json"
        tmp = self.root / f"{TMP_PREFIX}{path.name}{TMP_SUFFIX}"
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_path(self.root)
        self.size_bytes += len(data)
        return path

    def delete(self, paths: list[Path]) -> None:
        for path in paths:
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                continue
            self.size_bytes = max(0, self.size_bytes - size)


@dataclass(frozen=True)
class Segment:
    """A segment as read back: its bytes' sha256 and its parsed content."""

    path: Path
    sha256: str
    size: int
    cycle_us: int
    site_id: str
    meter_ids: list[str]
    values: list[float]
    units: list[str]
    ts_us: list[int]  # the cycle's instant, or a device history record's
    rejected: list[dict[str, Any]]
    polls: list[dict[str, Any]]
    interval_s: float


def read_segment(path: Path) -> Segment:
    """Parse and check a segment file; raises :class:`SegmentError` with the reason."""
    data = path.read_bytes()
    try:
        content = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SegmentError(f"not JSON: {exc}") from exc
    if not isinstance(content, dict) or content.get("format") != SEGMENT_FORMAT:
        raise SegmentError(f"not a spool segment of format {SEGMENT_FORMAT}")
    try:
        cycle_us = content["cycle_us"]
        readings = content["readings"]
        meter_ids, values, units = readings["meter_id"], readings["value"], readings["unit"]
        site_id = content["site_id"]
        rejected = content.get("rejected", [])
        polls = content.get("polls", [])
        interval_s = float(content.get("interval_s", 0))
    except (KeyError, TypeError) as exc:
        raise SegmentError(f"missing {exc}") from exc
    if not isinstance(cycle_us, int) or isinstance(cycle_us, bool):
        raise SegmentError("cycle_us is not an integer")
    if cycle_us_of(path.name) not in (None, cycle_us):
        raise SegmentError("the cycle in the name and in the content differ")
    if not (isinstance(meter_ids, list) and isinstance(values, list) and isinstance(units, list)):
        raise SegmentError("readings are not lists")
    if not len(meter_ids) == len(values) == len(units):
        raise SegmentError("readings columns differ in length")
    if not all(isinstance(m, str) for m in meter_ids + units):
        raise SegmentError("a meter id or unit is not text")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise SegmentError("a value is not a number")
    stamps = readings.get("ts_us", [cycle_us] * len(values))
    if not isinstance(stamps, list) or len(stamps) != len(values):
        raise SegmentError("readings columns differ in length")
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in stamps):
        raise SegmentError("a reading time is not an integer")
    if not isinstance(rejected, list) or not isinstance(polls, list):
        raise SegmentError("rejected or polls is not a list")
    return Segment(
        path,
        hashlib.sha256(data).hexdigest(),
        len(data),
        cycle_us,
        str(site_id),
        meter_ids,
        [float(v) for v in values],
        units,
        stamps,
        [r for r in rejected if isinstance(r, dict)],
        [p for p in polls if isinstance(p, dict)],
        interval_s,
    )
