"""The edge collector: polls every Modbus device of a site on a fixed cycle into the spool.

Cycle k is the instant ``k * interval`` (UTC, on the collector's clock); its poll starts a
``phase`` fraction of the interval later and every reading of the cycle is stamped with the
cycle's instant, as a historian's edge collector aligns samples to its scan class. Endpoints
(TCP servers) are polled concurrently, each over one connection, its devices in turn (a Modbus
TCP connection serves one request at a time); each device's registers are read in blocks
(:mod:`ingestion.devices.devicemap`). A request that times out is retried with exponential
backoff while the cycle has time left; a connection that fails is reopened, and an endpoint that
refuses connections is tried again after a backoff that doubles up to ``reconnect_max_s``.

Every cycle ends as one spool segment (:mod:`ingestion.devices.spool`) holding the readings,
the values rejected (NaN, inf, a register of all ones: the device has no value) and one poll
record per device (status, error kind, latency, attempts, events such as a rollover or a stuck
value). No fault of a device stops the collector. A cycle that starts later than its interval
(the machine was suspended, say) is skipped and counted, never stamped with a wrong instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException, ModbusIOException

from ingestion.devices.clock import SimClock
from ingestion.devices.codec import INTEGER_RANGE, decode
from ingestion.devices.devicemap import (
    MAX_BLOCK_REGISTERS,
    Block,
    Device,
    Endpoint,
    address_of,
    endpoints,
    site_devices,
)
from ingestion.devices.spool import SEGMENT_FORMAT, WARN_FRACTION, Spool
from siteledger.site.models import Meter, SiteConfig

log = logging.getLogger(__name__)
# pymodbus logs every timeout and refused connection at ERROR; the collector records each one
# in device health instead, so its own log stays readable on a site with a dead device.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

NOT_AVAILABLE = "registers all ones: the device reports no value"
MAX_OPEN_GAPS = 100  # spans a device's history still owes; older ones are given up


class _BackfillFailed(Exception):
    def __init__(self, meter_id: str, message: str):
        super().__init__(message)
        self.meter_id = meter_id


@dataclass(frozen=True)
class CollectorConfig:
    interval_s: float = 60.0  # simulated seconds between cycles
    timeout_s: float = 1.0  # wall seconds a request may take
    retries: int = 2
    backoff_s: float = 0.05  # first retry delay, doubling
    reconnect_s: float = 1.0  # first reconnect delay of a refusing endpoint, doubling
    reconnect_max_s: float = 60.0
    phase: float = 0.1  # start a cycle this fraction of the interval after its instant
    # identical registers this many cycles in a row is a stuck value (see _can_be_stuck); on a
    # year of the demo at 15 minutes the longest honest repeat of such a meter is 7 cycles
    stuck_cycles: int = 24
    max_connections: int = 256

    def __post_init__(self) -> None:
        if not self.interval_s > 0 or not self.timeout_s > 0:
            raise ValueError("interval and timeout must be positive")
        if not 0 <= self.phase < 1:
            raise ValueError("phase must be in [0, 1)")


@dataclass
class _MeterMemory:
    registers: tuple[int, ...] | None = None
    value: float | None = None
    repeats: int = 0


@dataclass
class _Link:
    """One endpoint's connection and reconnect backoff."""

    endpoint: Endpoint
    config: CollectorConfig
    client: AsyncModbusTcpClient | None = None
    failures: int = 0
    retry_at: float = 0.0  # wall time before which a refusing endpoint is not tried

    async def connect(self) -> bool:
        if self.client is not None and self.client.connected:
            return True
        if time.time() < self.retry_at:
            return False
        self.close()
        self.client = AsyncModbusTcpClient(
            self.endpoint.host,
            port=self.endpoint.port,
            timeout=self.config.timeout_s,
            retries=0,
            reconnect_delay=0,  # reconnecting is ours: backoff and health records
        )
        try:
            connected = await asyncio.wait_for(self.client.connect(), self.config.timeout_s * 2)
        except (TimeoutError, OSError):
            connected = False
        if connected:
            self.failures = 0
            return True
        self.close()
        self.failures += 1
        delay = min(self.config.reconnect_max_s, self.config.reconnect_s * 2 ** (self.failures - 1))
        self.retry_at = time.time() + delay
        return False

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close()
            self.client = None


@dataclass
class CollectorStats:
    cycles: int = 0
    spooled: int = 0
    dropped_full: int = 0
    skipped_late: int = 0
    readings: int = 0
    rejected: int = 0
    last_cycle_us: int | None = None
    last_cycle_s: float = 0.0
    device_errors: dict[str, int] = field(default_factory=dict)


class Collector:
    def __init__(
        self,
        site: SiteConfig,
        spool: Spool,
        config: CollectorConfig | None = None,
        clock: SimClock | None = None,
        status_file: Path | None = None,
    ):
        self.site = site
        self.spool = spool
        self.config = config or CollectorConfig()
        self.clock = clock or SimClock.wall()
        self.devices = site_devices(site)
        if not self.devices:
            raise ValueError(f"site {site.site.id!r} has no meter with a Modbus address")
        self.grouped = endpoints(self.devices)
        self.links = {ep: _Link(ep, self.config) for ep in self.grouped}
        self.memory: dict[str, _MeterMemory] = {}
        self.stats = CollectorStats()
        self.run_id = uuid.uuid4().hex[:12]
        self.status_file = status_file
        self.last_polls: list[dict[str, Any]] = []
        self._semaphore = asyncio.Semaphore(self.config.max_connections)
        self._warned_fill = False
        self._full_logged_at = 0.0
        self._last_dropped = False
        # per device: the last cycle it answered, and the spans it missed that its history
        # (if it keeps one) has not given back yet
        self.last_answered: dict[str, int] = {}
        self.gaps: dict[str, list[tuple[int, int]]] = {}
        self._cycle_us = 0
        self._backfilled: list[tuple[Meter, int, float]] = []

    # -- the cycle loop ----------------------------------------------------------------------
    def first_cycle(self) -> int:
        """The next cycle to poll: after the clock's now and after the spool's newest segment
        (a restarted collector never polls an instant twice)."""
        interval = self.config.interval_s
        k = math.ceil((self.clock.now() - self.config.phase * interval) / interval)
        # the spool may have been imported (emptied) since: the status file remembers too
        for last in (self.spool.last_cycle_us(), self._status_last_cycle_us()):
            if last is not None:
                k = max(k, math.floor(last / 1e6 / interval + 1e-9) + 1)
        return k

    def _status_last_cycle_us(self) -> int | None:
        if self.status_file is None:
            return None
        try:
            last = json.loads(self.status_file.read_text(encoding="utf-8"))["last_cycle_us"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return last if isinstance(last, int) else None

    async def run(self, stop: asyncio.Event, max_cycles: int | None = None) -> CollectorStats:
        """Poll cycle after cycle until ``stop`` is set (the cycle in flight is finished and
        spooled first) or ``max_cycles`` have run."""
        torn = self.spool.remove_torn()
        if torn:
            log.warning("removed %d torn spool file(s) of an interrupted cycle", len(torn))
        interval = self.config.interval_s
        k = self.first_cycle()
        try:
            while not stop.is_set() and (max_cycles is None or self.stats.cycles < max_cycles):
                instant = k * interval
                delay = self.clock.wall_at(instant + self.config.phase * interval) - time.time()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
                    if stop.is_set():
                        break
                behind = math.floor((self.clock.now() - instant) / interval)
                if behind >= 1:
                    self.stats.skipped_late += behind
                    log.warning("%d cycle(s) skipped: the collector fell behind the clock", behind)
                    k += behind
                    continue
                await self.cycle(instant)
                k += 1
        finally:
            for link in self.links.values():
                link.close()
            self._write_status(final=True)
        return self.stats

    async def cycle(self, instant: float) -> Path | None:
        """Poll every device once for the cycle at ``instant`` and spool the result."""
        started = time.perf_counter()
        cycle_us = round(instant * 1e6)
        self._cycle_us = cycle_us
        self._backfilled = []
        deadline = self.clock.wall_at(instant + self.config.interval_s) - 0.02 * (
            self.config.interval_s / self.clock.speed
        )
        parts = await asyncio.gather(
            *(self._poll_endpoint(ep, devices, deadline) for ep, devices in self.grouped.items())
        )
        meter_ids: list[str] = []
        values: list[float] = []
        units: list[str] = []
        rejected: list[dict[str, Any]] = []
        polls: list[dict[str, Any]] = []
        for part in parts:
            for poll, readings, refused in part:
                polls.append(poll)
                rejected.extend(refused)
                for meter, value in readings:
                    meter_ids.append(meter.id)
                    values.append(value)
                    units.append(meter.unit)
        stamps = [cycle_us] * len(values)
        for meter, ts_us, value in sorted(self._backfilled, key=lambda r: (r[1], r[0].id)):
            meter_ids.append(meter.id)
            values.append(value)
            units.append(meter.unit)
            stamps.append(ts_us)
        readings_columns: dict[str, list[Any]] = {"meter_id": meter_ids, "value": values}
        readings_columns["unit"] = units
        if self._backfilled:
            readings_columns["ts_us"] = stamps
        segment = {
            "format": SEGMENT_FORMAT,
            "site_id": self.site.site.id,
            "cycle_us": cycle_us,
            "interval_s": self.config.interval_s,
            "collector": {"run_id": self.run_id, "host": socket.gethostname(), "pid": os.getpid()},
            "readings": readings_columns,
            "rejected": rejected,
            "polls": polls,
        }
        path = self.spool.write(segment, self.run_id)
        self.stats.cycles += 1
        self.stats.last_cycle_s = time.perf_counter() - started
        self.stats.last_cycle_us = cycle_us
        self.stats.readings += len(values)
        self.stats.rejected += len(rejected)
        self.last_polls = polls
        for poll in polls:
            if poll["status"] != "ok":
                kind = poll["error_kind"]
                self.stats.device_errors[kind] = self.stats.device_errors.get(kind, 0) + 1
        self._last_dropped = path is None
        if path is None:
            self.stats.dropped_full += 1
            if time.time() - self._full_logged_at > 60:
                self._full_logged_at = time.time()
                log.error(
                    "SPOOL FULL (%d of %d bytes in %s): cycle %s NOT buffered; %d cycle(s) "
                    "dropped so far. Import the spool into the lake or raise --max-spool-mb.",
                    self.spool.size_bytes,
                    self.spool.max_bytes,
                    self.spool.root,
                    cycle_us,
                    self.stats.dropped_full,
                )
        else:
            self.stats.spooled += 1
            if self.spool.fill >= WARN_FRACTION and not self._warned_fill:
                self._warned_fill = True
                log.warning(
                    "spool %.0f%% full (%s): is the import into the lake running?",
                    100 * self.spool.fill,
                    self.spool.root,
                )
            elif self.spool.fill < WARN_FRACTION:
                self._warned_fill = False
        self._write_status()
        return path

    # -- one endpoint, one device ------------------------------------------------------------
    async def _poll_endpoint(
        self, endpoint: Endpoint, devices: list[Device], deadline: float
    ) -> list[tuple[dict[str, Any], list[tuple[Meter, float]], list[dict[str, Any]]]]:
        link = self.links[endpoint]
        async with self._semaphore:
            if time.time() < link.retry_at:
                wait = link.retry_at - time.time()
                error = f"{endpoint} refused connections; next try in {wait:.1f} s"
                return [self._failed(d, "unreachable", error, 0, 0.0) for d in devices]
            started = time.perf_counter()
            if not await link.connect():
                spent = (time.perf_counter() - started) * 1000
                error = f"cannot connect to {endpoint}"
                return [self._failed(d, "unreachable", error, 1, spent) for d in devices]
            results = []
            for device in devices:
                if time.time() >= deadline:
                    # devices that time out ate the cycle: the rest wait for the next one
                    error = "no time left in the cycle (devices before it timed out)"
                    results.append(self._failed(device, "timeout", error, 0, 0.0))
                else:
                    results.append(await self._poll_device(link, device, deadline))
            return results

    def _failed(
        self, device: Device, kind: str, error: str, attempts: int, latency_ms: float
    ) -> tuple[dict[str, Any], list[tuple[Meter, float]], list[dict[str, Any]]]:
        poll = {
            "device": device.key,
            "meters": len(device.meters),
            "status": "error",
            "error_kind": kind,
            "error": error,
            "attempts": attempts,
            "latency_ms": round(latency_ms, 3),
            "registers": 0,
            "events": [],
        }
        return poll, [], []

    async def _read_block(
        self, link: _Link, device: Device, block: Block, deadline: float
    ) -> tuple[list[int] | None, str | None, str | None, int]:
        """Registers of a block, or (None, error kind, error, attempts)."""
        attempts = 0
        delay = self.config.backoff_s
        kind, error = "timeout", "no response"
        while True:
            attempts += 1
            if not await link.connect():
                return None, "unreachable", f"cannot connect to {link.endpoint}", attempts
            client = link.client
            assert client is not None
            read = (
                client.read_holding_registers
                if block.function == "holding"
                else client.read_input_registers
            )
            try:
                response = await asyncio.wait_for(
                    read(block.start, count=block.count, device_id=device.unit_id),
                    self.config.timeout_s * 1.5,
                )
            except (TimeoutError, ModbusException, OSError) as exc:
                # ModbusIOException is pymodbus' "no response"; a refused or lost connection
                # is a ConnectionException or an OSError
                kind = (
                    "timeout" if isinstance(exc, TimeoutError | ModbusIOException) else "connection"
                )
                error = f"{type(exc).__name__}: {exc}"[:300]
                # a fresh connection for the next request: a late answer to this one must not
                # be taken for the answer to another
                link.close()
            else:
                if response.isError():
                    code = getattr(response, "exception_code", None)
                    return None, "exception", f"Modbus exception {code}", attempts
                registers = list(response.registers)
                if len(registers) != block.count:
                    kind, error = "protocol", f"asked {block.count} registers, got {len(registers)}"
                else:
                    return registers, None, None, attempts
            if (
                attempts > self.config.retries
                or time.time() + delay + self.config.timeout_s > deadline
            ):
                return None, kind, error, attempts
            await asyncio.sleep(delay)
            delay *= 2

    async def _poll_device(
        self, link: _Link, device: Device, deadline: float
    ) -> tuple[dict[str, Any], list[tuple[Meter, float]], list[dict[str, Any]]]:
        started = time.perf_counter()
        readings: list[tuple[Meter, float]] = []
        refused: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        attempts = 0
        registers_read = 0
        for block in device.blocks:
            registers, kind, error, tries = await self._read_block(link, device, block, deadline)
            attempts += tries
            if registers is None:
                latency = (time.perf_counter() - started) * 1000
                poll, _, _ = self._failed(device, kind or "timeout", error or "", attempts, latency)
                poll["registers"] = registers_read
                if any(address_of(m).history_register is not None for m in device.meters):
                    # its history gives this cycle back once the device answers again; kept
                    # here as well, it would be there twice
                    readings = []
                # otherwise what the blocks before the failed one gave is kept
                return poll, readings, refused
            registers_read += len(registers)
            for meter in block.meters:
                address = address_of(meter)
                offset = address.address - block.start
                words = tuple(registers[offset : offset + address.register_count])
                self._decode(meter, words, readings, refused, events)
        await self._fill_gaps(link, device, deadline, refused, events)
        kinds = {e["kind"] for e in events}
        problem = "garbage" if "garbage" in kinds else "stuck" if "stuck" in kinds else None
        poll = {
            "device": device.key,
            "meters": len(device.meters),
            "status": "ok" if problem is None else "error",
            "error_kind": problem,
            "error": "; ".join(e["detail"] for e in events if e["kind"] == problem)[:300] or None,
            "attempts": attempts,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            "registers": registers_read,
            "events": events,
        }
        return poll, readings, refused

    def _decode(
        self,
        meter: Meter,
        words: tuple[int, ...],
        readings: list[tuple[Meter, float]],
        refused: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> None:
        address = address_of(meter)
        memory = self.memory.setdefault(meter.id, _MeterMemory())
        value = decode(words, address)
        reason = None
        if address.data_type in INTEGER_RANGE and all(word == 0xFFFF for word in words):
            reason = NOT_AVAILABLE
        if not math.isfinite(value):
            reason = f"not a finite number ({value})"
        if reason is not None:
            refused.append({"meter_id": meter.id, "registers": list(words), "reason": reason})
            events.append(
                {"kind": "garbage", "meter_id": meter.id, "detail": f"{meter.id}: {reason}"}
            )
            memory.registers, memory.repeats = None, 0
            return
        if meter.cumulative and memory.value is not None and value < memory.value:
            top = meter.rollover
            kind = "rollover" if top and memory.value - value > top / 2 else "reset"
            events.append(
                {
                    "kind": kind,
                    "meter_id": meter.id,
                    "detail": f"{meter.id}: {memory.value:g} -> {value:g}",
                }
            )
        if words == memory.registers:
            memory.repeats += 1
        else:
            memory.registers, memory.repeats = words, 0
        if _can_be_stuck(meter, value) and memory.repeats + 1 >= self.config.stuck_cycles:
            events.append(
                {
                    "kind": "stuck",
                    "meter_id": meter.id,
                    "detail": f"{meter.id}: {value:g} for {memory.repeats + 1} cycles",
                }
            )
        memory.value = value
        readings.append((meter, value))

    # -- gaps and device history ----------------------------------------------------------
    async def _fill_gaps(
        self,
        link: _Link,
        device: Device,
        deadline: float,
        refused: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> None:
        """After a device answered: note the cycles it missed since it last answered, and read
        what it recorded for them from the history of the meters that keep one."""
        now_us, step_us = self._cycle_us, round(self.config.interval_s * 1e6)
        last = self.last_answered.get(device.key)
        self.last_answered[device.key] = now_us
        history = [m for m in device.meters if address_of(m).history_register is not None]
        if not history:
            return
        gaps = self.gaps.setdefault(device.key, [])
        if last is not None and now_us - last > step_us:
            gaps.append((last, now_us))
            del gaps[:-MAX_OPEN_GAPS]
        if not gaps:
            return
        filled = 0
        for since, until in list(gaps):
            try:
                for meter in history:
                    filled += await self._backfill(
                        link, device, meter, since, until, deadline, refused, events
                    )
            except _BackfillFailed as exc:
                events.append(
                    {"kind": "backfill_failed", "meter_id": exc.meter_id, "detail": str(exc)}
                )
                return  # tried again after the next cycle the device answers
            gaps.remove((since, until))
        if filled:
            events.append(
                {
                    "kind": "backfill",
                    "meter_id": None,
                    "detail": f"{filled} readings from the device's history",
                }
            )

    async def _backfill(
        self,
        link: _Link,
        device: Device,
        meter: Meter,
        since_us: int,
        until_us: int,
        deadline: float,
        refused: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> int:
        """Readings of ``meter`` strictly between two cycles, from its history; returns how many
        were added. Raises :class:`_BackfillFailed` when the history cannot be read."""
        mb = address_of(meter)
        assert mb.history_register is not None
        header = await self._read_history(link, device, meter, 0, 3, deadline)
        newest_us = ((header[0] << 16) | header[1]) * 1_000_000
        count = min(header[2], mb.history_depth)
        step_us = meter.interval_seconds * 1_000_000
        first = (since_us // step_us + 1) * step_us
        wanted = [t for t in range(first, min(until_us, newest_us + 1), step_us)]
        kept = [t for t in wanted if (newest_us - t) // step_us < count]
        if len(kept) < len(wanted):
            events.append(
                {
                    "kind": "history_short",
                    "meter_id": meter.id,
                    "detail": f"{meter.id}: {len(wanted) - len(kept)} instants older than its "
                    f"history of {count} records",
                }
            )
        if not kept:
            return 0
        n = mb.register_count
        newest_index = (newest_us - kept[-1]) // step_us
        oldest_index = (newest_us - kept[0]) // step_us
        per_read = MAX_BLOCK_REGISTERS // n
        words: dict[int, list[int]] = {}
        for low in range(newest_index, oldest_index + 1, per_read):
            high = min(oldest_index, low + per_read - 1)
            block = await self._read_history(
                link, device, meter, 3 + low * n, (high - low + 1) * n, deadline
            )
            for index in range(low, high + 1):
                offset = (index - low) * n
                words[index] = block[offset : offset + n]
        added = 0
        for t in kept:
            registers = words[(newest_us - t) // step_us]
            value = decode(registers, mb)
            if not math.isfinite(value) or (
                mb.data_type in INTEGER_RANGE and all(w == 0xFFFF for w in registers)
            ):
                reason = f"history record not a value ({value})"
                refused.append({"meter_id": meter.id, "registers": registers, "reason": reason})
                continue
            self._backfilled.append((meter, t, value))
            added += 1
        return added

    async def _read_history(
        self, link: _Link, device: Device, meter: Meter, offset: int, count: int, deadline: float
    ) -> list[int]:
        mb = address_of(meter)
        assert mb.history_register is not None
        block = Block(mb.function, mb.history_register + offset, count, ())
        registers, _, error, _ = await self._read_block(link, device, block, deadline)
        if registers is None:
            raise _BackfillFailed(meter.id, f"{meter.id}: history not readable: {error}")
        return registers

    # -- what an operator looks at -----------------------------------------------------------
    def status(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "site_id": self.site.site.id,
            "run_id": self.run_id,
            "pid": os.getpid(),
            "written_at": time.time(),
            "clock": self.clock.spec(),
            "interval_s": self.config.interval_s,
            "devices": len(self.devices),
            "cycles": stats.cycles,
            "spooled": stats.spooled,
            "dropped_spool_full": stats.dropped_full,
            "skipped_late": stats.skipped_late,
            "readings": stats.readings,
            "rejected": stats.rejected,
            "last_cycle_us": stats.last_cycle_us,
            "last_cycle_seconds": round(stats.last_cycle_s, 4),
            "spool_bytes": self.spool.size_bytes,
            "spool_max_bytes": self.spool.max_bytes,
            "spool_full": self._last_dropped,
            "device_errors": stats.device_errors,
            "failing_devices": sorted(p["device"] for p in self.last_polls if p["status"] != "ok"),
        }

    def _write_status(self, final: bool = False) -> None:
        if self.status_file is None:
            return
        data = self.status() | {"running": not final}
        tmp = self.status_file.with_name(f".{self.status_file.name}.tmp")
        with contextlib.suppress(OSError):
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(tmp, self.status_file)


def _can_be_stuck(meter: Meter, value: float) -> bool:
    """Whether a repeated value of this meter says the instrument is stuck. Not for counters
    (a stopped pump), zero (no flow, no rain), a value at the edge of the valid range (a
    saturated humidity probe reads 100 % for hours) or levels (a big store's level stays within
    0.1 mm for hours: the demo's process water dam held one level for 699 cycles)."""
    if meter.cumulative or meter.measurand == "level" or value == 0:
        return False
    return meter.valid_range is None or value not in meter.valid_range
