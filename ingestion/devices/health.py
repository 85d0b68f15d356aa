"""Device health, kept in the state store from the collector's own poll records.

One row per device (``host:port/unit``) of a site: when it was last polled and last answered
(last seen), how the last poll went, error counts by kind, consecutive failures and poll
latency. Rows are updated from spool segments as they are imported, oldest cycle first, and a
cycle already applied is never applied twice (``last_cycle_us``), so re-importing is harmless.

Status, as an operator reads it:

- ``online``: the last poll answered with good values;
- ``erroring``: the device answers, but with a Modbus exception, values it cannot have (NaN,
  inf, all ones) or a value stuck for many cycles;
- ``offline``: the last poll got no answer (connection refused, timeout);
- ``stale``: no poll record for more than ``STALE_AFTER_CYCLES`` intervals (the collector or its
  link to the platform is down), or never polled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from sqlalchemy import JSON, BigInteger, DateTime, Float, Integer, String, Table, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from ingestion.devices.devicemap import site_devices
from siteledger.settings import Settings
from siteledger.site.models import SiteConfig
from siteledger.state.store import Base, StateStore, utcnow

STALE_AFTER_CYCLES = 3
OFFLINE_KINDS = ("unreachable", "timeout", "connection")
LATENCY_SMOOTHING = 0.2  # weight of the newest poll in the running mean


class DeviceHealth(Base):
    __tablename__ = "device_health"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device: Mapped[str] = mapped_column(String(300), primary_key=True)
    meters: Mapped[int] = mapped_column(Integer, default=0)
    poll_interval_s: Mapped[float] = mapped_column(Float, default=0.0)
    last_cycle_us: Mapped[int] = mapped_column(BigInteger, default=0)
    last_poll_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[str] = mapped_column(String(16), default="unknown")
    last_error_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    error_counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    event_counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    latency_ms_last: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_ms_mean: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_ms_max: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def ensure_table(store: StateStore) -> None:
    Base.metadata.create_all(store.engine, tables=[cast(Table, DeviceHealth.__table__)])


def _as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def apply_polls(
    store: StateStore,
    site_id: str,
    cycles: Iterable[tuple[int, float, list[dict[str, Any]]]],
) -> int:
    """Fold poll records (``(cycle_us, interval_s, polls)`` per cycle, oldest first) into the
    health rows; returns how many records were applied."""
    ensure_table(store)
    applied = 0
    with store.session() as session:
        rows = {
            row.device: row
            for row in session.scalars(select(DeviceHealth).where(DeviceHealth.site_id == site_id))
        }
        for cycle_us, interval_s, polls in cycles:
            at = dt.datetime.fromtimestamp(cycle_us / 1e6, dt.UTC)
            for poll in polls:
                key = str(poll.get("device", ""))[:300]
                if not key:
                    continue
                row = rows.get(key)
                if row is None:
                    row = DeviceHealth(
                        site_id=site_id, device=key, error_counts={}, event_counts={}
                    )
                    row.last_cycle_us = 0
                    row.polls = row.failures = row.consecutive_failures = 0
                    session.add(row)
                    rows[key] = row
                if cycle_us <= (row.last_cycle_us or 0):
                    continue
                _apply(row, poll, cycle_us, interval_s, at)
                applied += 1
    return applied


def _apply(
    row: DeviceHealth, poll: dict[str, Any], cycle_us: int, interval_s: float, at: dt.datetime
) -> None:
    ok = poll.get("status") == "ok"
    kind = None if ok else str(poll.get("error_kind") or "error")
    row.meters = int(poll.get("meters") or row.meters or 0)
    row.poll_interval_s = interval_s or row.poll_interval_s
    row.last_cycle_us = cycle_us
    row.last_poll_at = at
    row.polls = (row.polls or 0) + 1
    answered = kind not in OFFLINE_KINDS
    if answered:
        row.last_seen_at = at
    if ok:
        row.consecutive_failures = 0
        row.last_status = "online"
        row.last_error_kind = None
    else:
        row.failures = (row.failures or 0) + 1
        row.consecutive_failures = (row.consecutive_failures or 0) + 1
        row.last_status = "erroring" if answered else "offline"
        assert kind is not None
        row.last_error_kind = kind
        row.last_error = str(poll.get("error") or "")[:1000]
        row.error_counts = {
            **(row.error_counts or {}),
            kind: (row.error_counts or {}).get(kind, 0) + 1,
        }
    events = [e for e in poll.get("events") or [] if isinstance(e, dict)]
    if events:
        counts = dict(row.event_counts or {})
        for event in events:
            name = str(event.get("kind"))
            counts[name] = counts.get(name, 0) + 1
        row.event_counts = counts
    latency = poll.get("latency_ms")
    if isinstance(latency, int | float) and answered:
        row.latency_ms_last = float(latency)
        row.latency_ms_max = max(float(latency), row.latency_ms_max or 0.0)
        mean = row.latency_ms_mean
        row.latency_ms_mean = (
            float(latency)
            if mean is None
            else (1 - LATENCY_SMOOTHING) * mean + LATENCY_SMOOTHING * float(latency)
        )
    row.updated_at = utcnow()


def device_status(row: DeviceHealth, now: dt.datetime) -> str:
    """online / erroring / offline / stale for a health row at ``now`` (on the poll clock)."""
    last = _as_utc(row.last_poll_at)
    if last is None:
        return "stale"
    if (
        row.poll_interval_s
        and (now - last).total_seconds() > STALE_AFTER_CYCLES * row.poll_interval_s
    ):
        return "stale"
    return row.last_status


def poll_clock_now(settings: Settings, site_id: str) -> dt.datetime:
    """Now on the clock the site's collector polls by (its status file names it: a simulated
    clock in a demo), or the wall clock."""
    import json

    from ingestion.devices.clock import SimClock

    status = settings.spool / site_id / "collector.json"
    try:
        clock = SimClock.parse(json.loads(status.read_text(encoding="utf-8"))["clock"])
    except (OSError, ValueError, KeyError, TypeError):
        return utcnow()
    return dt.datetime.fromtimestamp(clock.now(), dt.UTC)


def health_table(
    store: StateStore, site: SiteConfig, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """One row per device of the site's register map (and any other device with records),
    with its status at ``now`` (default: the wall clock; see :func:`poll_clock_now`)."""
    ensure_table(store)
    now = now or utcnow()
    with store.session() as session:
        rows = {
            row.device: row
            for row in session.scalars(
                select(DeviceHealth).where(DeviceHealth.site_id == site.site.id)
            )
        }
    keys = [d.key for d in site_devices(site)]
    keys += sorted(set(rows) - set(keys))
    table = []
    for key in keys:
        row = rows.get(key)
        if row is None:
            table.append({"site_id": site.site.id, "device": key, "status": "stale", "polls": 0})
            continue
        table.append(
            {
                "site_id": site.site.id,
                "device": key,
                "status": device_status(row, now),
                "meters": row.meters,
                "last_poll_at": _as_utc(row.last_poll_at),
                "last_seen_at": _as_utc(row.last_seen_at),
                "last_error_kind": row.last_error_kind,
                "last_error": row.last_error,
                "consecutive_failures": row.consecutive_failures,
                "polls": row.polls,
                "failures": row.failures,
                "error_counts": dict(row.error_counts or {}),
                "event_counts": dict(row.event_counts or {}),
                "latency_ms_last": row.latency_ms_last,
                "latency_ms_mean": row.latency_ms_mean,
                "latency_ms_max": row.latency_ms_max,
                "poll_interval_s": row.poll_interval_s,
            }
        )
    return table


HEALTH_SCHEMA_FIELDS = (
    ("site_id", "string"),
    ("device", "string"),
    ("status", "string"),
    ("meters", "int64"),
    ("last_poll_at", "timestamp"),
    ("last_seen_at", "timestamp"),
    ("last_error_kind", "string"),
    ("last_error", "string"),
    ("consecutive_failures", "int64"),
    ("polls", "int64"),
    ("failures", "int64"),
    ("error_counts", "string"),
    ("event_counts", "string"),
    ("latency_ms_last", "float64"),
    ("latency_ms_mean", "float64"),
    ("latency_ms_max", "float64"),
    ("poll_interval_s", "float64"),
)


def health_snapshot_path(settings: Settings, site_id: str) -> Path:
    return settings.lake / "device_health" / f"site={site_id}.parquet"


def write_health_snapshot(
    settings: Settings, store: StateStore, site: SiteConfig, now: dt.datetime | None = None
) -> tuple[Path, list[dict[str, Any]]]:
    """The site's device health table as Parquet (for BI and reports); returns it too."""
    import json

    import pyarrow as pa

    from ingestion.lake import write_parquet_atomic

    rows = health_table(store, site, now or poll_clock_now(settings, site.site.id))
    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    schema = pa.schema([pa.field(name, types[kind]) for name, kind in HEALTH_SCHEMA_FIELDS])
    columns = {name: [row.get(name) for row in rows] for name, _ in HEALTH_SCHEMA_FIELDS}
    for name in ("error_counts", "event_counts"):
        columns[name] = [json.dumps(v or {}, sort_keys=True) for v in columns[name]]
    table = pa.Table.from_pydict(columns, schema=schema)
    path = write_parquet_atomic(table, health_snapshot_path(settings, site.site.id))
    return path, rows
