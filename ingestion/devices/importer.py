"""Moving spool segments into the raw lake, exactly once and in time order.

Pending segments of a site are imported oldest first, up to ``MAX_SEGMENTS`` per batch; a batch
is one import job (source ``device``) with the file importer's rules: the lake files are written
under the batch id while the job is ``running``, the job becomes ``committed`` only when they are
all in place, and a run that dies in between is cleaned up by the next one
(:func:`ingestion.files.recovery.recover_interrupted`). Imports take turns with file imports on
the home's import lock.

Exactly once: the committed job lists its segments' names and sha256; a segment already listed
by a committed job is never imported again (its file is only deleted), and the batch's
content_sha256 (over its segments' hashes) makes a repeated batch a ``duplicate``. A reading
repeated inside a batch (one meter, one instant) is kept once; a reading whose meter the site
does not know, a reading stamped outside the site's plausible range (a collector or device
clock reset to 1970 or run away: :mod:`ingestion.plausible`), and every value the collector
rejected, becomes a quarantine row with its reason. A segment that is not readable is set aside
whole in the quarantine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingestion.devices import health
from ingestion.devices.spool import Segment, SegmentError, Spool, read_segment
from ingestion.files.quarantine import (
    QuarantineRows,
    files_dir,
    write_bytes_atomic,
    write_json_atomic,
    write_rows,
)
from ingestion.files.recovery import HOST, recover_interrupted, remove_batch_output
from ingestion.lake import Readings, day_text, import_lock, local_days, write_readings
from ingestion.plausible import PlausibleRange, plausible_range
from siteledger.settings import Settings
from siteledger.site.models import SiteConfig
from siteledger.state.store import ImportJob, StateStore, new_batch_id, utcnow

log = logging.getLogger(__name__)

SOURCE = "device"
MAX_SEGMENTS = 5000  # ~4 days of 15-minute cycles, ~3.5 days at 60 s: one lake file per day


@dataclass
class SpoolImportResult:
    site_id: str
    batches: list[str] = field(default_factory=list)
    segments: int = 0
    readings: int = 0
    quarantined_rows: int = 0
    quarantined_segments: int = 0
    already_delivered: int = 0
    duplicates_dropped: int = 0
    days: set[str] = field(default_factory=set)
    lake_files: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def spool_for(settings: Settings, site_id: str, max_bytes: int | None = None) -> Spool:
    root = settings.spool / site_id
    return Spool(root) if max_bytes is None else Spool(root, max_bytes)


def delivered_segments(store: StateStore, site_id: str) -> set[str]:
    """Names of segments that a committed device batch of the site holds."""
    names: set[str] = set()
    for job in store.jobs(site_id=site_id, status="committed"):
        if job.source == SOURCE:
            names.update(entry[0] for entry in (job.details or {}).get("segments", []))
    return names


def import_spool(
    settings: Settings,
    site: SiteConfig,
    store: StateStore,
    *,
    max_segments: int = MAX_SEGMENTS,
) -> SpoolImportResult:
    """Import every pending spool segment of ``site`` into the raw lake; see the module doc."""
    settings.ensure_dirs()
    site_id = site.site.id
    result = SpoolImportResult(site_id)
    with import_lock(settings):
        recover_interrupted(settings, store)
        spool = spool_for(settings, site_id)
        pending = spool.segments()
        delivered = delivered_segments(store, site_id)
        done = [p for p in pending if p.name in delivered]
        if done:
            # committed earlier by a run that died before it could delete them
            result.already_delivered = len(done)
            spool.delete(done)
        todo = [p for p in pending if p.name not in delivered]
        for start in range(0, len(todo), max_segments):
            _import_batch(settings, site, store, spool, todo[start : start + max_segments], result)
    return result


def _import_batch(
    settings: Settings,
    site: SiteConfig,
    store: StateStore,
    spool: Spool,
    paths: list[Path],
    result: SpoolImportResult,
) -> None:
    segments: list[Segment] = []
    for path in paths:
        try:
            segment = read_segment(path)
            if segment.site_id != site.site.id:
                raise SegmentError(
                    f"segment of site {segment.site_id!r} in the spool of {site.site.id!r}"
                )
            segments.append(segment)
        except (SegmentError, OSError) as exc:
            _quarantine_segment(settings, site.site.id, store, spool, path, str(exc), result)
    if not segments:
        return
    digest = hashlib.sha256("".join(s.sha256 for s in segments).encode()).hexdigest()
    earlier = store.committed_job_for_content(site.site.id, digest)
    if earlier is not None:
        spool.delete([s.path for s in segments])
        result.already_delivered += len(segments)
        return
    batch_id = new_batch_id()
    source_file = f"spool/{site.site.id}/{segments[0].path.name}"
    store.add_job(
        ImportJob(
            batch_id=batch_id,
            site_id=site.site.id,
            source=SOURCE,
            source_file=source_file,
            content_sha256=digest,
            size_bytes=sum(s.size for s in segments),
            status="running",
            details={"pid": os.getpid(), "host": HOST, "segments": []},
            started_at=utcnow(),
        )
    )
    try:
        plausible = plausible_range(settings, site)
        readings, rows, listing, dropped, total = _build(site, segments, plausible)
        loaded_at = utcnow()
        files = write_readings(
            settings, site.site.id, SOURCE, batch_id, source_file, readings, loaded_at
        )
        rows_path = write_rows(
            settings, site.site.id, SOURCE, batch_id, source_file, rows, loaded_at
        )
        store.update_job(
            batch_id,
            status="committed",
            finished_at=utcnow(),
            total_rows=total,
            imported_rows=len(readings),
            skipped_rows=dropped,
            failed_rows=len(rows),
            details={
                "pid": os.getpid(),
                "host": HOST,
                "segments": listing,
                "lake_files": [str(p.relative_to(settings.home)) for p in files],
                "quarantine_rows": str(rows_path.relative_to(settings.home)) if rows_path else None,
            },
        )
    except Exception as exc:
        log.exception("spool import batch %s failed", batch_id)
        remove_batch_output(settings, site.site.id, SOURCE, batch_id)
        store.update_job(
            batch_id, status="failed", finished_at=utcnow(), error=f"{type(exc).__name__}: {exc}"
        )
        result.errors.append(f"batch {batch_id}: {type(exc).__name__}: {exc}")
        return
    health.apply_polls(store, site.site.id, [(s.cycle_us, s.interval_s, s.polls) for s in segments])
    spool.delete([s.path for s in segments])
    result.batches.append(batch_id)
    result.segments += len(segments)
    result.readings += len(readings)
    result.quarantined_rows += len(rows)
    result.duplicates_dropped += dropped
    result.lake_files += files
    result.days.update(p.parent.name.removeprefix("day=") for p in files)
    log.info(
        "%s: %d segments, %d readings, %d quarantined (batch %s)",
        site.site.id,
        len(segments),
        len(readings),
        len(rows),
        batch_id,
    )


def _build(
    site: SiteConfig, segments: list[Segment], plausible: PlausibleRange
) -> tuple[Readings, QuarantineRows, list[list[object]], int, int]:
    """The batch's readings (one per meter and instant, first delivered wins), quarantine rows,
    segment listing ``[name, first row, rows, sha256]``, repeats dropped, and rows seen."""
    first_us, latest_us = plausible.first_us, plausible.latest_us()
    meters = site.meters_by_id
    meter_ids = sorted(meters)
    code = {m: i for i, m in enumerate(meter_ids)}
    units = sorted({m.unit for m in meters.values()})
    unit_code = {u: i for i, u in enumerate(units)}
    rows = QuarantineRows()
    listing: list[list[object]] = []
    meter_col: list[int] = []
    ts_col: list[int] = []
    value_col: list[float] = []
    unit_col: list[int] = []
    source_row: list[int] = []
    seen: set[tuple[int, int]] = set()
    dropped = 0
    row = 0
    for segment in segments:
        listing.append([segment.path.name, row, len(segment.meter_ids), segment.sha256])
        stamp = dt.datetime.fromtimestamp(segment.cycle_us / 1e6, dt.UTC).isoformat()
        for meter_id, value, unit, ts_us in zip(
            segment.meter_ids, segment.values, segment.units, segment.ts_us, strict=True
        ):
            meter = meters.get(meter_id)
            if meter is None:
                rows.add(row, f"meter {meter_id!r} is not in the site", meter_id, stamp, str(value))
            elif unit not in unit_code or not np.isfinite(value):
                rows.add(row, f"unit {unit!r} or value {value!r} not usable", meter_id, stamp)
            elif not first_us <= ts_us <= latest_us:
                rows.add(
                    row,
                    _implausible(plausible, ts_us, site.site.timezone),
                    meter_id,
                    _instant_text(ts_us),
                    str(value),
                )
            elif (code[meter_id], ts_us) in seen:
                dropped += 1
            else:
                seen.add((code[meter_id], ts_us))
                meter_col.append(code[meter_id])
                ts_col.append(ts_us)
                value_col.append(value)
                unit_col.append(unit_code[unit])
                source_row.append(row)
            row += 1
        for rejected in segment.rejected:
            rows.add(
                row,
                str(rejected.get("reason", "rejected by the collector")),
                str(rejected.get("meter_id", "")),
                stamp,
                " ".join(
                    f"{int(w):04X}" for w in rejected.get("registers", []) if isinstance(w, int)
                ),
            )
            row += 1
    ts = np.array(ts_col, dtype=np.int64)
    readings = Readings(
        meter_ids,
        units,
        np.array(meter_col, dtype=np.int32),
        ts,
        local_days(ts, site.site.timezone),
        np.array(value_col, dtype=np.float64),
        np.array(unit_col, dtype=np.int32),
        np.array(source_row, dtype=np.int64),
    )
    return readings, rows, listing, dropped, row


def _instant_text(ts_us: int) -> str:
    try:
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ts_us)
    except OverflowError:
        return f"{ts_us} us since 1970"
    return moment.isoformat()


def _implausible(plausible: PlausibleRange, ts_us: int, zone: str) -> str:
    shown = _instant_text(ts_us)
    if ts_us > plausible.first_us:
        return plausible.too_late(shown)
    try:
        day = day_text(int(local_days(np.array([ts_us], dtype=np.int64), zone)[0]))
    except (OverflowError, ValueError):
        day = shown[:10]
    return plausible.too_early(shown, day)


def _quarantine_segment(
    settings: Settings,
    site_id: str,
    store: StateStore,
    spool: Spool,
    path: Path,
    reason: str,
    result: SpoolImportResult,
) -> None:
    """Set an unreadable segment aside: a copy and ``reason.json`` in the quarantine, a
    quarantined job, one quarantine row; the spool no longer holds it."""
    batch_id = new_batch_id()
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    now = utcnow()
    folder = files_dir(settings, batch_id)
    write_bytes_atomic(data, folder / path.name)
    write_json_atomic(
        {"batch_id": batch_id, "site_id": site_id, "file": path.name, "reason": reason},
        folder / "reason.json",
    )
    rows = QuarantineRows()
    rows.add(None, f"spool segment not readable: {reason}")
    write_rows(settings, site_id, SOURCE, batch_id, path.name, rows, now)
    store.add_job(
        ImportJob(
            batch_id=batch_id,
            site_id=site_id,
            source=SOURCE,
            source_file=f"spool/{site_id}/{path.name}",
            content_sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            status="quarantined",
            error=reason,
            details={"quarantined_to": str(folder.relative_to(settings.home))},
            started_at=now,
            finished_at=now,
        )
    )
    spool.delete([path])
    result.quarantined_segments += 1
    log.warning("spool segment %s quarantined (batch %s): %s", path.name, batch_id, reason)
