"""Names chosen by whoever dropped a file become harmless base names."""

from __future__ import annotations

import os

import pytest

from ingestion.files.names import MAX_NAME_BYTES, sanitise_name


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("scada_20250101.csv", "scada_20250101.csv"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\x.csv", "x.csv"),
        ("a/b/../c.csv", "c.csv"),
        ("..", "unnamed"),
        ("...hidden.csv", "hidden.csv"),
        ("line\nbreak\r\t.csv", "line_break__.csv"),
        ("bell\x07\x1b[31m.csv", "bell__[31m.csv"),
        ('what?<is>:"this"|*.csv', "what__is___this___.csv"),
        ("ünïcödé_水.csv", "ünïcödé_水.csv"),
        ("e\u0301.csv", "é.csv"),  # NFC: one code point
        (os.fsdecode(b"bad\xff\xfe.csv"), "bad__.csv"),
        ("CON.csv", "_CON.csv"),
        ("trailing dots. . .", "trailing dots"),
        ("\u202ecod.exe", "_cod.exe"),  # right-to-left override is a control character
    ],
)
def test_sanitise_name(raw: str, safe: str):
    assert sanitise_name(raw) == safe


def test_long_names_are_cut_to_the_byte_limit_keeping_the_extension():
    ascii_name = sanitise_name("a" * 300 + ".csv")
    wide_name = sanitise_name("水" * 300 + ".xlsx")

    assert ascii_name == "a" * (MAX_NAME_BYTES - 4) + ".csv"
    assert wide_name.endswith(".xlsx") and len(wide_name.encode()) <= MAX_NAME_BYTES
    assert len(wide_name.encode()) > MAX_NAME_BYTES - 3  # cut at a character, not below it
    assert sanitise_name("x" * 300) == "x" * MAX_NAME_BYTES
