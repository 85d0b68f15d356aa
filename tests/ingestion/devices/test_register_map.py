"""Register maps in the site YAML: validation errors with their key path and line, the demo's
map, and how a device's registers become block reads."""

from __future__ import annotations

import pytest
import yaml

from demo.energy import has_station, station_meter_ids
from demo.site import build_demo_site
from ingestion.devices.devicemap import plan_blocks, site_devices
from siteledger.site import SiteConfigError, dump_site, parse_site_text
from siteledger.site.models import Meter

BASE = """\
site: {id: rm, name: Register map}
nodes: []
meters:
  - id: FT-1
    measurand: flow_rate
    unit: m3/h
    modbus: {host: 10.0.0.5, port: 502, unit_id: 3, register: 100, data_type: float32}
  - id: FQ-1
    measurand: totaliser
    unit: m3
    modbus: {MODBUS}
"""


def _problems(modbus: str) -> list[str]:
    with pytest.raises(SiteConfigError) as info:
        parse_site_text(BASE.replace("{MODBUS}", modbus), "rm.yaml")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("modbus", "path", "message"),
    [
        ("{register: 10, data_type: float16}", "meters[1].modbus.data_type", "'float64'"),
        ("{register: 10, byte_order: middle}", "meters[1].modbus.byte_order", "'little'"),
        ("{register: 10, function: coil}", "meters[1].modbus.function", "'input'"),
        ("{register: 65535, data_type: float32}", "meters[1].modbus", "past register 65535"),
        ("{register: 10, scale: 0}", "meters[1].modbus", "scale must not be 0"),
        ("{register: 10, unit_id: 300}", "meters[1].modbus.unit_id", "255"),
        ("{register: 10, port: 0}", "meters[1].modbus.port", "1"),
        ("{register: -1}", "meters[1].modbus.register", "0"),
        ("{data_type: uint16}", "meters[1].modbus.register", "required"),
        ("{register: 10, wordorder: big}", "meters[1].modbus.wordorder", "unknown key"),
        (
            "{host: 10.0.0.5, port: 502, unit_id: 3, register: 101}",
            "meters[1].modbus.register",
            "overlaps meter 'FT-1'",
        ),
        (
            "{register: 10, data_type: uint16, history_register: 65500}",
            "meters[1].modbus",
            "a history of 96 records at register 65500 runs past register 65535",
        ),
        (
            "{host: 10.0.0.5, port: 502, unit_id: 3, register: 0, history_register: 90, "
            "history_depth: 10}",
            "meters[1].modbus.history_register",
            "register 100 on 10.0.0.5:502 unit 3 overlaps meter 'FT-1'",
        ),
        (
            "{register: 10, history_register: 200, history_depth: 0}",
            "meters[1].modbus.history_depth",
            "greater than or equal to 1",
        ),
    ],
)
def test_a_bad_register_map_is_reported_with_its_key_path_and_line(modbus, path, message):
    problems = _problems(modbus)
    assert any(f"rm.yaml:11: {path}" in p and message in p for p in problems), problems


def test_the_same_register_on_another_unit_function_or_port_is_fine():
    for modbus in (
        "{host: 10.0.0.5, port: 502, unit_id: 4, register: 100}",
        "{host: 10.0.0.5, port: 502, unit_id: 3, register: 100, function: input}",
        "{host: 10.0.0.5, port: 503, unit_id: 3, register: 100}",
    ):
        site = parse_site_text(BASE.replace("{MODBUS}", modbus), "rm.yaml")
        # accepted as written: both meters keep register 100 on their own device or table
        first, second = (m.modbus for m in site.meters)
        assert first is not None and second is not None
        assert first.address == second.address == 100
        assert (first.port, first.unit_id, first.function) != (
            second.port,
            second.unit_id,
            second.function,
        )


def test_the_demo_map_round_trips_through_yaml_and_reads_in_few_blocks():
    site = build_demo_site()
    again = parse_site_text(dump_site(site))
    assert [m.modbus for m in again.meters] == [m.modbus for m in site.meters]
    # manual meters and the power station's (they arrive as files: demo/energy.py) have none
    station = station_meter_ids() if has_station(site) else frozenset()
    assert {m.id for m in site.meters if m.modbus is None} == {
        m.id for m in site.meters if m.manual
    } | station
    devices = site_devices(site)
    assert len(devices) == 20  # 14 SCADA areas + 6 bores
    assert sum(len(d.blocks) for d in devices) == 21  # one area has holding and input registers
    data = yaml.safe_load(dump_site(site))
    assert data["meters"][0]["modbus"]["register"] == 0  # written with the YAML key 'register'


def _meter(meter_id: str, register: int, data_type: str = "uint16", function: str = "holding"):
    return Meter.model_validate(
        {
            "id": meter_id,
            "measurand": "temperature",
            "unit": "degC",
            "modbus": {"register": register, "data_type": data_type, "function": function},
        }
    )


def test_registers_merge_into_blocks_within_the_limits():
    meters = [
        _meter("a", 0, "float64"),
        _meter("b", 4),
        _meter("c", 13),  # a gap of 8 registers is read through
        _meter("d", 30),  # a gap of 16 is not
        _meter("e", 0, function="input"),
        _meter("f", 150, "float32"),  # 30..151 would pass 125 registers
    ]
    blocks = plan_blocks(meters)
    assert [(b.function, b.start, b.count, [m.id for m in b.meters]) for b in blocks] == [
        ("holding", 0, 14, ["a", "b", "c"]),
        ("holding", 30, 1, ["d"]),
        ("holding", 150, 2, ["f"]),
        ("input", 0, 1, ["e"]),
    ]
    many = [_meter(f"m{i}", 2 * i, "float32") for i in range(100)]
    assert [(b.start, b.count) for b in plan_blocks(many)] == [(0, 124), (124, 76)]
