"""The device simulator: every Modbus meter of a site served over Modbus TCP, with faults.

Each (host, port) of the site's register map is a TCP server on 127.0.0.1 (a PLC or gateway);
each unit id behind it a device; holding (function 3) and input (function 4) registers hold the
meters' values at the simulated instant of the request (:mod:`demo.devices.values`),
encoded by the register map. Registers inside a device's range that no meter uses read 0; a read
touching no meter gets exception 2 (illegal data address), an unknown unit id exception 11
(gateway target failed to respond), any other function exception 1.

Faults are switched on and off while it runs (:meth:`DeviceSimulator.inject`, or a JSON file the
CLI watches): ``unreachable`` (the port refuses connections and drops open ones), ``timeout``
(a unit never answers), ``exception`` (a unit answers with an exception code), ``stuck`` (a
meter freezes at its current value), ``garbage`` (a meter's registers hold NaN, inf, or all
ones for integer types) and ``rollover`` (a cumulative meter is moved to just below its rollover
so that it wraps: inject it before polling starts, since the move itself is a jump).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import json
import logging
import math
import struct
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from demo.devices.values import MeterValues
from ingestion.devices.clock import SimClock
from ingestion.devices.codec import INTEGER_RANGE, EncodeError, encode, raw_to_registers
from ingestion.devices.devicemap import address_of
from siteledger.site.models import Meter, SiteConfig

log = logging.getLogger(__name__)

FaultKind = Literal["unreachable", "timeout", "exception", "stuck", "garbage", "rollover"]
FAULT_KINDS: tuple[str, ...] = (
    "unreachable",
    "timeout",
    "exception",
    "stuck",
    "garbage",
    "rollover",
)
ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE = 1, 2, 3
GATEWAY_TARGET_FAILED = 11
_FUNCTION_CODES = {3: "holding", 4: "input"}


@dataclass
class Fault:
    """One injected fault. ``port`` targets a server, ``port`` + ``unit_id`` a device,
    ``meter`` a meter."""

    kind: FaultKind
    port: int | None = None
    unit_id: int | None = None
    meter: str | None = None
    code: int = 4  # exception: server device failure
    garbage: Literal["nan", "inf", "-inf"] = "nan"
    before_rollover: float = 10.0  # rollover: the count is put this far below its rollover
    id: int = 0
    # filled in when it takes effect: the value a stuck meter keeps, a rollover's shift
    frozen: float | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {list(FAULT_KINDS)}")
        if self.kind in ("stuck", "garbage", "rollover") and self.meter is None:
            raise ValueError(f"a {self.kind} fault needs a meter")
        if self.kind in ("unreachable",) and self.port is None:
            raise ValueError("an unreachable fault needs a port")
        if self.kind in ("timeout", "exception") and (self.port is None or self.unit_id is None):
            raise ValueError(f"a {self.kind} fault needs a port and a unit_id")
        if self.kind == "exception" and not 1 <= self.code <= 255:
            raise ValueError(f"exception code {self.code} is not 1..255")

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("frozen")
        return {k: v for k, v in data.items() if v is not None}


@dataclass
class _Unit:
    """The register images of one device: sorted first addresses per function, and the
    history blocks of meters that keep one."""

    meters: dict[str, list[tuple[int, Meter]]]
    histories: dict[str, list[Meter]] = field(default_factory=dict)

    def histories_in(self, function: str, start: int, count: int) -> list[Meter]:
        found = []
        for meter in self.histories.get(function, []):
            mb = address_of(meter)
            assert mb.history_register is not None  # only meters with one are listed
            if mb.history_register < start + count and start < (
                mb.history_register + mb.history_register_count
            ):
                found.append(meter)
        return found

    def meters_in(self, function: str, start: int, count: int) -> list[tuple[int, Meter]]:
        entries = self.meters.get(function, [])
        firsts = [address for address, _ in entries]
        # a float64 starting up to 3 registers before ``start`` still overlaps it
        low = bisect.bisect_left(firsts, start - 3)
        high = bisect.bisect_left(firsts, start + count)
        return [
            (address, meter)
            for address, meter in entries[low:high]
            if address + address_of(meter).register_count > start
        ]


class DeviceSimulator:
    """Serves a site's Modbus meters on 127.0.0.1 (the hosts in the register map are not used:
    every port is bound locally)."""

    def __init__(
        self,
        site: SiteConfig,
        values: MeterValues,
        clock: SimClock,
        host: str = "127.0.0.1",
    ):
        self.site = site
        self.values = values
        self.clock = clock
        self.host = host
        self.units: dict[int, dict[int, _Unit]] = {}
        for meter in site.meters:
            if meter.modbus is None:
                continue
            mb = meter.modbus
            unit = self.units.setdefault(mb.port, {}).setdefault(mb.unit_id, _Unit({}))
            unit.meters.setdefault(mb.function, []).append((mb.address, meter))
            if mb.history_register is not None:
                unit.histories.setdefault(mb.function, []).append(meter)
        for port_units in self.units.values():
            for unit in port_units.values():
                for entries in unit.meters.values():
                    entries.sort(key=lambda entry: entry[0])
        self.faults: dict[int, Fault] = {}
        self._ids = itertools.count(1)
        self._servers: dict[int, asyncio.Server] = {}
        self._connections: dict[int, set[asyncio.StreamWriter]] = {}
        self.requests = 0
        self._warned: set[str] = set()

    @property
    def ports(self) -> list[int]:
        return sorted(self.units)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        for port in self.ports:
            await self._listen(port)

    async def _listen(self, port: int) -> None:
        if port in self._servers:
            return
        self._connections.setdefault(port, set())
        self._servers[port] = await asyncio.start_server(
            lambda r, w, p=port: self._serve(p, r, w), self.host, port, reuse_address=True
        )

    async def _stop_listening(self, port: int) -> None:
        server = self._servers.pop(port, None)
        for writer in list(self._connections.get(port, ())):
            writer.close()
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    async def stop(self) -> None:
        for port in list(self._servers):
            await self._stop_listening(port)

    # -- faults ------------------------------------------------------------------------------
    async def inject(self, fault: Fault) -> int:
        """Switch a fault on; returns its id."""
        self._check_target(fault)
        fault.id = fault.id or next(self._ids)
        now = self.clock.now()
        if fault.meter is not None:
            meter = self.site.meter(fault.meter)
            current = self.values.value(meter, now)
            if fault.kind == "stuck":
                fault.frozen = current
            elif fault.kind == "rollover":
                fault.frozen = (meter.rollover or 0.0) - fault.before_rollover - current
        self.faults[fault.id] = fault
        if fault.kind == "unreachable" and fault.port is not None:
            await self._stop_listening(fault.port)
        log.info("fault on: %s", fault.as_dict())
        return fault.id

    async def clear(self, fault_id: int | None = None) -> None:
        """Switch one fault (or every fault) off."""
        ids = list(self.faults) if fault_id is None else [fault_id]
        for key in ids:
            fault = self.faults.pop(key, None)
            if fault is None:
                continue
            log.info("fault off: %s", fault.as_dict())
            if (
                fault.kind == "unreachable"
                and fault.port is not None
                and not any(
                    f.kind == "unreachable" and f.port == fault.port for f in self.faults.values()
                )
            ):
                await self._listen(fault.port)

    async def apply(self, faults: Iterable[Fault]) -> None:
        """Make the active faults exactly ``faults`` (what a watched faults file says)."""
        wanted = {json.dumps(f.as_dict() | {"id": 0}, sort_keys=True): f for f in faults}
        have = {
            json.dumps(f.as_dict() | {"id": 0}, sort_keys=True): key
            for key, f in self.faults.items()
        }
        for text, key in have.items():
            if text not in wanted:
                await self.clear(key)
        for text, fault in wanted.items():
            if text not in have:
                await self.inject(fault)

    def _check_target(self, fault: Fault) -> None:
        if fault.meter is not None:
            meter = self.site.meters_by_id.get(fault.meter)
            if meter is None or meter.modbus is None:
                raise ValueError(f"no Modbus meter {fault.meter!r} in site {self.site.site.id!r}")
            if fault.kind == "rollover" and meter.rollover is None:
                raise ValueError(f"meter {fault.meter!r} has no rollover")
        if fault.port is not None and fault.port not in self.units:
            raise ValueError(f"the site has no Modbus port {fault.port}")
        if fault.unit_id is not None and fault.unit_id not in self.units.get(fault.port or -1, {}):
            raise ValueError(f"port {fault.port} has no unit id {fault.unit_id}")

    def _device_fault(self, port: int, unit_id: int) -> Fault | None:
        for fault in self.faults.values():
            if (
                fault.port == port
                and fault.unit_id == unit_id
                and fault.kind in ("timeout", "exception")
            ):
                return fault
        return None

    def _meter_fault(self, meter_id: str) -> Fault | None:
        for fault in self.faults.values():
            if fault.meter == meter_id:
                return fault
        return None

    # -- protocol ----------------------------------------------------------------------------
    async def _serve(
        self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        connections = self._connections.setdefault(port, set())
        connections.add(writer)
        try:
            while True:
                header = await reader.readexactly(7)
                transaction, protocol, length, unit_id = struct.unpack(">HHHB", header)
                if protocol != 0 or not 2 <= length <= 254:
                    break  # not Modbus TCP: drop the connection
                pdu = await reader.readexactly(length - 1)
                self.requests += 1
                response = self._respond(port, unit_id, pdu)
                if response is None:
                    continue  # a unit that times out never answers
                writer.write(
                    struct.pack(">HHHB", transaction, 0, len(response) + 1, unit_id) + response
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            connections.discard(writer)
            writer.close()

    def _respond(self, port: int, unit_id: int, pdu: bytes) -> bytes | None:
        function_code = pdu[0]
        unit = self.units.get(port, {}).get(unit_id)
        if unit is None:
            return _exception(function_code, GATEWAY_TARGET_FAILED)
        fault = self._device_fault(port, unit_id)
        if fault is not None:
            return None if fault.kind == "timeout" else _exception(function_code, fault.code)
        function = _FUNCTION_CODES.get(function_code)
        if function is None:
            return _exception(function_code, ILLEGAL_FUNCTION)
        if len(pdu) != 5:
            return _exception(function_code, ILLEGAL_VALUE)
        start, count = struct.unpack(">HH", pdu[1:5])
        if not 1 <= count <= 125:
            return _exception(function_code, ILLEGAL_VALUE)
        if start + count > 65536:
            return _exception(function_code, ILLEGAL_ADDRESS)
        meters = unit.meters_in(function, start, count)
        histories = unit.histories_in(function, start, count)
        if not meters and not histories:
            return _exception(function_code, ILLEGAL_ADDRESS)
        registers = [0] * count
        now = self.clock.now()
        for address, meter in meters:
            for i, word in enumerate(self._registers(meter, now)):
                if 0 <= address + i - start < count:
                    registers[address + i - start] = word
        for meter in histories:
            self._history(meter, now, start, registers)
        return struct.pack(f">BB{count}H", function_code, 2 * count, *registers)

    def _history(self, meter: Meter, now: float, start: int, registers: list[int]) -> None:
        """Fill the part of ``registers`` (read from ``start``) that a meter's history covers:
        the time of the newest record (the current interval's start) as uint32, the record count
        (the depth: the logger has always been logging), then the records, newest first. The
        history is what the sensor measured: faults of the live registers are not in it."""
        mb = address_of(meter)
        assert mb.history_register is not None
        step = meter.interval_seconds
        newest = math.floor(now / step) * step
        n = mb.register_count
        first = max(start, mb.history_register) - mb.history_register
        last = min(start + len(registers), mb.history_register + mb.history_register_count)
        last -= mb.history_register
        header = [(newest >> 16) & 0xFFFF, newest & 0xFFFF, mb.history_depth]
        records: dict[int, list[int]] = {}
        for offset in range(first, last):
            if offset < 3:
                word = header[offset]
            else:
                record, part = divmod(offset - 3, n)
                if record not in records:
                    value = self.values.value(meter, newest - record * step)
                    records[record] = self._encode(meter, value)
                word = records[record][part]
            registers[mb.history_register + offset - start] = word

    def _registers(self, meter: Meter, now: float) -> list[int]:
        address = address_of(meter)
        fault = self._meter_fault(meter.id)
        if fault is not None and fault.kind == "garbage":
            if address.data_type in INTEGER_RANGE:
                return [0xFFFF] * address.register_count
            return raw_to_registers(
                float(fault.garbage), address.data_type, address.byte_order, address.word_order
            )
        value = self.values.value(meter, now)
        if fault is not None and fault.kind == "stuck" and fault.frozen is not None:
            value = fault.frozen
        elif fault is not None and fault.kind == "rollover" and fault.frozen is not None:
            value = round((value + fault.frozen) % (meter.rollover or math.inf), 1)
        return self._encode(meter, value)

    def _encode(self, meter: Meter, value: float) -> list[int]:
        address = address_of(meter)
        try:
            return encode(value, address)
        except EncodeError as exc:
            if meter.id not in self._warned:
                self._warned.add(meter.id)
                log.warning("meter %s: %s; serving the nearest value it can hold", meter.id, exc)
            low, high = INTEGER_RANGE.get(address.data_type, (-math.inf, math.inf))
            raw = min(max((value - address.offset) / address.scale, low), high)
            return encode(raw * address.scale + address.offset, address)


def _exception(function_code: int, code: int) -> bytes:
    return bytes([(function_code | 0x80) & 0xFF, code])


def load_faults(path: Path) -> list[Fault]:
    """Faults from a JSON file: a list of objects like ``{"kind": "timeout", "port": 5020,
    "unit_id": 3}``. Raises ValueError with the reason when the file is not like that."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "[]")
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of faults")
    faults = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"{path}[{index}]: expected an object")
        try:
            faults.append(Fault(**{k: v for k, v in item.items() if k != "id"}))
        except TypeError as exc:
            raise ValueError(f"{path}[{index}]: {exc}") from exc
    return faults


async def watch_faults(simulator: DeviceSimulator, path: Path, stop: asyncio.Event) -> None:
    """Keep the simulator's faults equal to the file's, checking twice a second."""
    seen: tuple[int, int] | None = None
    while not stop.is_set():
        try:
            info = path.stat()
            stamp = (info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            stamp = (0, 0)
        if stamp != seen:
            seen = stamp
            try:
                faults = load_faults(path) if stamp != (0, 0) else []
                await simulator.apply(faults)
            except ValueError as exc:
                log.error("faults file ignored: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
