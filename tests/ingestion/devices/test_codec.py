"""Register codec: known byte layouts, round trips, and values a type cannot hold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ingestion.devices.codec import EncodeError, decode, decode_raw, encode, raw_to_registers
from siteledger.site.models import ModbusAddress

TYPES = ("uint16", "int16", "uint32", "int32", "float32", "float64")
ORDERS = [("big", "big"), ("big", "little"), ("little", "big"), ("little", "little")]


def _address(data_type: str, byte_order: str = "big", word_order: str = "big", **kw: float):
    return ModbusAddress.model_validate(
        {
            "register": 0,
            "data_type": data_type,
            "byte_order": byte_order,
            "word_order": word_order,
            **kw,
        }
    )


@pytest.mark.parametrize(
    ("byte_order", "word_order", "expected"),
    [
        ("big", "big", [0x1234, 0x5678]),  # ABCD
        ("big", "little", [0x5678, 0x1234]),  # CDAB
        ("little", "big", [0x3412, 0x7856]),  # BADC
        ("little", "little", [0x7856, 0x3412]),  # DCBA
    ],
)
def test_uint32_byte_layouts_follow_the_four_conventions(byte_order, word_order, expected):
    address = _address("uint32", byte_order, word_order)
    assert encode(0x12345678, address) == expected
    assert decode(expected, address) == 0x12345678


def test_known_float_and_signed_layouts():
    assert encode(1.0, _address("float32")) == [0x3F80, 0x0000]
    assert encode(1.0, _address("float32", "little", "little")) == [0x0000, 0x803F]
    assert encode(1.0, _address("float64")) == [0x3FF0, 0, 0, 0]
    assert encode(1.0, _address("float64", "big", "little")) == [0, 0, 0, 0x3FF0]
    assert encode(-2, _address("int16")) == [0xFFFE]
    assert encode(-2, _address("int32")) == [0xFFFF, 0xFFFE]
    assert decode([0xFFFE], _address("uint16")) == 65534


@pytest.mark.parametrize("data_type", TYPES)
@pytest.mark.parametrize(("byte_order", "word_order"), ORDERS)
def test_values_round_trip_through_scale_and_offset(data_type, byte_order, word_order):
    rng = np.random.default_rng(7)
    address = _address(data_type, byte_order, word_order, scale=0.01, offset=-20.0)
    low, high = {"uint16": (0, 600), "int16": (-300, 300)}.get(data_type, (-1e5, 1e5))
    if data_type == "uint32":
        low = 0
    for value in rng.uniform(max(low, -20.0 if data_type.startswith("u") else low), high, 200):
        registers = encode(value, address)
        assert all(0 <= r <= 0xFFFF for r in registers)
        back = decode(registers, address)
        if data_type.startswith("float"):
            assert back == pytest.approx(value, rel=1e-6 if data_type == "float32" else 1e-12)
        else:
            assert abs(back - value) <= 0.005 + 1e-9  # half a step of scale 0.01


@pytest.mark.parametrize(
    ("data_type", "value"),
    [
        ("uint16", -1),
        ("uint16", 65536),
        ("int16", 40000),
        ("uint32", 2.0**32),
        ("int32", -(2.0**31) - 1),
        ("uint32", math.nan),
        ("int16", math.inf),
        ("float32", 1e39),
    ],
)
def test_a_value_the_type_cannot_hold_is_refused(data_type, value):
    with pytest.raises(EncodeError):
        encode(value, _address(data_type))


def test_non_finite_floats_pass_through_for_the_collector_to_reject():
    for value in (math.inf, -math.inf):
        assert decode(raw_to_registers(value, "float32"), _address("float32")) == value
    assert math.isnan(decode(raw_to_registers(math.nan, "float64"), _address("float64")))


def test_the_wrong_number_of_registers_is_an_error():
    with pytest.raises(ValueError, match="needs 2 registers"):
        decode_raw([1], "float32")
    with pytest.raises(ValueError, match="needs 4 registers"):
        decode_raw([1, 2], "float64")
