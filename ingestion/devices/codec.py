"""Engineering values to and from Modbus registers.

A register is 16 bits. ``byte_order`` is the order of the two bytes inside each register and
``word_order`` the order of the registers of a multi-register value; big/big is the Modbus
convention (ABCD), word little is the common "CDAB" of many PLCs and meters, byte little "BADC".
A value is ``raw * scale + offset`` where ``raw`` is the register content as its data type.

Encoding (the simulator) is done here with :mod:`struct`; decoding (the collector) goes through
pymodbus' ``convert_from_registers``, so the two directions do not share one implementation and
the interoperability tests can catch a mistake in either.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from pymodbus.client.mixin import ModbusClientMixin

from siteledger.site.models import REGISTER_COUNT, ModbusAddress

STRUCT_CODE = {
    "uint16": "H",
    "int16": "h",
    "uint32": "I",
    "int32": "i",
    "float32": "f",
    "float64": "d",
}
_PYMODBUS_TYPE = {
    "uint16": ModbusClientMixin.DATATYPE.UINT16,
    "int16": ModbusClientMixin.DATATYPE.INT16,
    "uint32": ModbusClientMixin.DATATYPE.UINT32,
    "int32": ModbusClientMixin.DATATYPE.INT32,
    "float32": ModbusClientMixin.DATATYPE.FLOAT32,
    "float64": ModbusClientMixin.DATATYPE.FLOAT64,
}
INTEGER_RANGE = {
    "uint16": (0, 0xFFFF),
    "int16": (-0x8000, 0x7FFF),
    "uint32": (0, 0xFFFF_FFFF),
    "int32": (-0x8000_0000, 0x7FFF_FFFF),
}


class EncodeError(ValueError):
    """A value cannot be represented in a register's data type."""


def _swap_bytes(registers: Sequence[int]) -> list[int]:
    return [((r & 0xFF) << 8) | (r >> 8) for r in registers]


def raw_to_registers(
    raw: float | int, data_type: str, byte_order: str = "big", word_order: str = "big"
) -> list[int]:
    """Registers holding ``raw`` (already an integer for the integer types)."""
    data = struct.pack(">" + STRUCT_CODE[data_type], raw)
    registers = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    if word_order == "little":
        registers.reverse()
    if byte_order == "little":
        registers = _swap_bytes(registers)
    return registers


def encode(value: float, address: ModbusAddress) -> list[int]:
    """Registers for an engineering value; integers are rounded to the nearest step of
    ``scale``. Raises :class:`EncodeError` when the value does not fit the data type."""
    raw: float | int = (value - address.offset) / address.scale
    if address.data_type in INTEGER_RANGE:
        if not math.isfinite(raw):
            raise EncodeError(f"{value!r} has no {address.data_type} representation")
        raw = round(raw)
        low, high = INTEGER_RANGE[address.data_type]
        if not low <= raw <= high:
            raise EncodeError(
                f"{value!r} (raw {raw}) is outside {address.data_type} [{low}, {high}]"
            )
    elif address.data_type == "float32" and math.isfinite(raw) and abs(raw) > 3.4028234e38:
        raise EncodeError(f"{value!r} overflows float32")
    return raw_to_registers(raw, address.data_type, address.byte_order, address.word_order)


def decode_raw(
    registers: Sequence[int], data_type: str, byte_order: str = "big", word_order: str = "big"
) -> float | int:
    """The raw value (before scale and offset) of a value's registers."""
    if len(registers) != REGISTER_COUNT[data_type]:
        raise ValueError(
            f"{data_type} needs {REGISTER_COUNT[data_type]} registers, got {len(registers)}"
        )
    regs = _swap_bytes(registers) if byte_order == "little" else list(registers)
    value = ModbusClientMixin.convert_from_registers(
        regs, _PYMODBUS_TYPE[data_type], word_order="little" if word_order == "little" else "big"
    )
    assert isinstance(value, int | float)  # scalar types only
    return value


def decode(registers: Sequence[int], address: ModbusAddress) -> float:
    """The engineering value of a value's registers (NaN and inf pass through)."""
    raw = decode_raw(registers, address.data_type, address.byte_order, address.word_order)
    return float(raw) * address.scale + address.offset
