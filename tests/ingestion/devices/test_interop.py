"""Interoperability: the collector decodes the same values from an independent Modbus server
(pyModBusTCP's) as from the project's simulator, for every data type and byte/word order, and
an independent client (pyModbusTCP's) reads the simulator's registers as a reference says.

The expected registers come from a reference written here with :mod:`struct` only, so a mistake
shared by the codec's encoder and the collector's decoder cannot cancel out."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from pathlib import Path

import pytest
from pyModbusTCP.client import ModbusClient
from pyModbusTCP.server import ModbusServer

from ingestion.devices.clock import SimClock
from ingestion.devices.collector import Collector, CollectorConfig
from ingestion.devices.spool import Spool, read_segment
from siteledger.site.models import REGISTER_COUNT, Meter, SiteConfig, SiteInfo
from tests.ingestion.devices.helpers import (
    FixedValues,
    ThreadedSimulator,
    free_ports,
    wait_until_listening,
)

pytestmark = pytest.mark.integration

FORMATS = {"uint16": "H", "int16": "h", "uint32": "I", "int32": "i", "float32": "f", "float64": "d"}
# raw register contents near each type's limits (exact in the type)
RAW = {
    "uint16": 54321,
    "int16": -12345,
    "uint32": 3_000_000_123,
    "int32": -2_000_000_123,
    "float32": -1234.5,
    "float64": 123456.789012345,
}
ORDERS = [("big", "big"), ("big", "little"), ("little", "big"), ("little", "little")]


def reference_registers(raw: float, data_type: str, byte_order: str, word_order: str) -> list[int]:
    data = struct.pack(">" + FORMATS[data_type], raw)
    words = [data[i : i + 2] for i in range(0, len(data), 2)]
    if word_order == "little":
        words = words[::-1]
    if byte_order == "little":
        words = [w[::-1] for w in words]
    return [int.from_bytes(w, "big") for w in words]


def reference_value(registers: list[int], data_type: str, byte_order: str, word_order: str):
    words = [r.to_bytes(2, "big") for r in registers]
    if byte_order == "little":
        words = [w[::-1] for w in words]
    if word_order == "little":
        words = words[::-1]
    return struct.unpack(">" + FORMATS[data_type], b"".join(words))[0]


def _site(port: int) -> tuple[SiteConfig, dict[str, float], dict[str, list[int]]]:
    """24 meters (6 types x 4 orders) on holding registers of unit 1 and input registers of
    unit 2; their expected engineering values and reference registers."""
    meters, expected, registers = [], {}, {}
    address = {"holding": 0, "input": 0}
    for i, (data_type, raw) in enumerate(RAW.items()):
        for j, (byte_order, word_order) in enumerate(ORDERS):
            function = "holding" if (i + j) % 2 == 0 else "input"
            integer = not data_type.startswith("float")
            scale, offset = (0.1, 5.0) if integer else (1.0, 0.0)
            meter_id = f"{data_type}-{byte_order[0]}{word_order[0]}"
            meters.append(
                Meter.model_validate(
                    {
                        "id": meter_id,
                        "measurand": "temperature",
                        "unit": "degC",
                        "modbus": {
                            "port": port,
                            "unit_id": 1 if function == "holding" else 2,
                            "register": address[function],
                            "function": function,
                            "data_type": data_type,
                            "byte_order": byte_order,
                            "word_order": word_order,
                            "scale": scale,
                            "offset": offset,
                        },
                    }
                )
            )
            expected[meter_id] = float(raw) * scale + offset
            registers[meter_id] = reference_registers(raw, data_type, byte_order, word_order)
            address[function] += REGISTER_COUNT[data_type]
    site = SiteConfig(site=SiteInfo(id="interop", name="Interop"), nodes=[], meters=meters)
    return site, expected, registers


def _poll_once(site: SiteConfig, tmp: Path) -> dict[str, float]:
    spool = Spool(tmp)
    # a generous timeout: this test is about decoding, and CI machines can be busy
    collector = Collector(site, spool, CollectorConfig(interval_s=60, timeout_s=5.0))

    async def cycle() -> Path | None:
        try:
            # the cycle starts now: a cycle stamped at the start of the minute has no time left
            # for its polls in the minute's last second or so (its deadline is one interval on)
            return await collector.cycle(float(int(time.time())))
        finally:
            for link in collector.links.values():
                link.close()

    path = asyncio.run(cycle())
    assert path is not None
    segment = read_segment(path)
    assert [p["status"] for p in segment.polls] == ["ok", "ok"], segment.polls
    return dict(zip(segment.meter_ids, segment.values, strict=True))


def test_collector_decodes_an_independent_server_and_the_simulator_alike(tmp_path: Path):
    port, sim_port = free_ports(2)
    site, expected, registers = _site(port)
    server = ModbusServer("127.0.0.1", port, no_block=True)
    for meter in site.meters:
        mb = meter.modbus
        assert mb is not None
        if mb.function == "holding":
            assert server.data_bank.set_holding_registers(mb.address, registers[meter.id])
        else:
            assert server.data_bank.set_input_registers(mb.address, registers[meter.id])
    server.start()
    try:
        wait_until_listening(port)
        from_independent = _poll_once(site, tmp_path / "a")
    finally:
        server.stop()
    assert from_independent.keys() == expected.keys()
    for meter_id, value in expected.items():
        assert from_independent[meter_id] == pytest.approx(value, rel=1e-12, abs=1e-9), meter_id

    sim_site, _, _ = _site(sim_port)
    clock = SimClock.wall()
    with ThreadedSimulator(sim_site, FixedValues(expected), clock):
        from_simulator = _poll_once(sim_site, tmp_path / "b")
        # an independent client reads the very registers the reference encodes
        for meter in sim_site.meters:
            mb = meter.modbus
            assert mb is not None
            client = ModbusClient("127.0.0.1", sim_port, unit_id=mb.unit_id, timeout=2)
            read = (
                client.read_holding_registers
                if mb.function == "holding"
                else (client.read_input_registers)
            )
            got = read(mb.address, mb.register_count)
            client.close()
            assert got == registers[meter.id], meter.id
            raw = reference_value(got, mb.data_type, mb.byte_order, mb.word_order)
            assert raw * mb.scale + mb.offset == pytest.approx(expected[meter.id], rel=1e-12)
    assert from_simulator == from_independent


def test_the_simulator_answers_protocol_errors_with_exception_codes():
    [port] = free_ports(1)
    site, expected, _ = _site(port)
    with ThreadedSimulator(site, FixedValues(expected), SimClock.wall()):
        client = ModbusClient("127.0.0.1", port, unit_id=1, timeout=2)
        assert client.read_holding_registers(5000, 4) is None
        assert client.last_except == 2  # illegal data address: no meter there
        assert client.read_coils(0, 8) is None
        assert client.last_except == 1  # illegal function
        client.unit_id = 99
        assert client.read_holding_registers(0, 2) is None
        assert client.last_except == 11  # gateway target device failed to respond
        client.close()
        # more than 125 registers (a frame the client library would refuse to send)
        assert _raw_request(port, struct.pack(">HHHBBHH", 7, 0, 6, 1, 3, 0, 126)) == struct.pack(
            ">HHHBBB", 7, 0, 3, 1, 0x83, 3
        )
        # hostile frames: another protocol id, a length the frame does not have, noise
        for frame in (
            struct.pack(">HHHBBHH", 1, 9, 6, 1, 3, 0, 2),
            struct.pack(">HHHB", 1, 0, 300, 1) + b"x" * 50,
            b"\x00" * 3,
            bytes(range(256)) * 4,
        ):
            assert _raw_request(port, frame) == b""  # the connection is dropped, no answer
        client = ModbusClient("127.0.0.1", port, unit_id=1, timeout=2)
        assert client.read_holding_registers(0, 2) is not None  # still serving
        client.close()


def _raw_request(port: int, frame: bytes) -> bytes:
    """Send bytes, return what comes back before the server closes or 0.5 s pass."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(frame)
        sock.settimeout(0.5)
        data = b""
        try:
            while chunk := sock.recv(4096):
                data += chunk
                if len(data) >= 9:
                    break
        except TimeoutError:
            pass
        return data
