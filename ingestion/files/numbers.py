"""Deciding, cell by cell, whether text is a reading value.

A value is a plain decimal number (sign, digits, one decimal mark, optional exponent), with
surrounding whitespace allowed. 'inf'/'nan' spellings and numbers too large for a float64 are
numbers but not finite, which a reading must be. Anything else - '#VALUE!', '=1+2', '@x',
'1_000', a thousands separator - is not a number. Empty cells are not readings at all.
"""

from __future__ import annotations

import math
import re
from enum import IntEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NUMBER = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_NON_FINITE = r"^[+-]?(?:inf|infinity|nan)$"
_NUMBER_RE = re.compile(_NUMBER)
_NON_FINITE_RE = re.compile(_NON_FINITE, re.IGNORECASE)


class Cell(IntEnum):
    """What a value cell holds."""

    NUMBER = 0
    EMPTY = 1
    NOT_A_NUMBER = 2
    NOT_FINITE = 3


def _normalised(texts: pa.Array, decimal: str) -> tuple[pa.Array, np.ndarray]:
    """Trimmed texts with '.' as the decimal mark, and where a decimal-comma text used a '.'."""
    trimmed = pc.utf8_trim_whitespace(texts)
    if decimal == ".":
        return trimmed, np.zeros(len(texts), dtype=bool)
    wrong_mark = pc.fill_null(pc.match_substring(trimmed, "."), False).to_numpy(False)
    return pc.replace_substring(trimmed, decimal, "."), wrong_mark


def _mask(array: pa.Array) -> np.ndarray:
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)


def parse_values(texts: pa.Array, decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """Float values (NaN where there is none) and the :class:`Cell` kind of every text cell."""
    if pa.types.is_dictionary(texts.type):
        texts = texts.cast(pa.string())
    normal, wrong_mark = _normalised(texts, decimal)
    empty = _mask(pc.equal(pc.fill_null(normal, ""), ""))
    number = _mask(pc.match_substring_regex(normal, _NUMBER)) & ~wrong_mark
    non_finite_word = _mask(pc.match_substring_regex(normal, _NON_FINITE, ignore_case=True))
    values = pc.if_else(pa.array(number), normal, pa.nulls(len(normal), pa.string()))
    floats = values.cast(pa.float64()).to_numpy(zero_copy_only=False)
    state = np.full(len(texts), Cell.NOT_A_NUMBER, dtype=np.int8)
    state[number] = Cell.NUMBER
    # '1e400' matches the number pattern but overflows to inf
    state[(number & ~np.isfinite(floats)) | (non_finite_word & ~wrong_mark)] = Cell.NOT_FINITE
    state[empty] = Cell.EMPTY
    return floats, state


def parse_value(text: str, decimal: str) -> tuple[float, Cell]:
    """One text cell (from a spreadsheet) by the same rules as :func:`parse_values`."""
    normal = text.strip()
    if not normal:
        return math.nan, Cell.EMPTY
    if decimal != ".":
        if "." in normal:
            return math.nan, Cell.NOT_A_NUMBER
        normal = normal.replace(decimal, ".")
    if _NUMBER_RE.match(normal):
        value = float(normal)
        return value, Cell.NUMBER if math.isfinite(value) else Cell.NOT_FINITE
    if _NON_FINITE_RE.match(normal):
        return math.nan, Cell.NOT_FINITE
    return math.nan, Cell.NOT_A_NUMBER


def value_reason(raw: str, state: Cell) -> str:
    """Quarantine reason for a value cell that is not a reading."""
    shown = shorten(raw)
    if state == Cell.NOT_FINITE:
        return f"value {shown!r} is not a finite number"
    return f"value {shown!r} is not a number"


def shorten(text: str, limit: int = 60) -> str:
    """Text cut to ``limit`` characters for a human-readable reason."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
