"""Hostile files for the importer, generated into a landing folder (nothing big is committed).

Each maker writes one file and returns its name; names match the small site's layouts
(``scada_*.csv``, ``logger_*.csv``, ``manual_*.xlsx``) so that the importer must deal with them.
"""

from __future__ import annotations

import io
import os
import random
import zipfile
from pathlib import Path

import openpyxl

LOGGER_HEADER = "time_utc,meter,value,unit,comment\n"
GOOD_LOGGER = LOGGER_HEADER + "".join(
    f"2025-01-01T{h:02d}:00:00,FT-100,{h + 0.5},m3/h,\n" for h in range(24)
)
ZIP_BOMB_BYTES = 201_000_000  # inflated size; the limit is 200 MB


def _write(landing: Path, name: str, data: bytes) -> str:
    (landing / name).write_bytes(data)
    return name


def empty_csv(landing: Path) -> str:
    return _write(landing, "scada_empty.csv", b"")


def empty_xlsx(landing: Path) -> str:
    return _write(landing, "manual_empty.xlsx", b"")


def binary_garbage(landing: Path) -> str:
    noise = random.Random(7).randbytes(64 * 1024)
    return _write(landing, "logger_garbage.csv", noise)


def high_bytes_garbage(landing: Path) -> str:
    """Random bytes without NUL: only the UTF-8 check can refuse them."""
    noise = bytes(b | 0x80 for b in random.Random(8).randbytes(4096))
    return _write(landing, "logger_noise.csv", noise)


def nul_in_text(landing: Path) -> str:
    return _write(landing, "logger_nul.csv", GOOD_LOGGER.encode()[:100] + b"\x00" + b"tail\n")


def utf16_text(landing: Path) -> str:
    return _write(landing, "logger_utf16.csv", GOOD_LOGGER.encode("utf-16"))


def latin1_text(landing: Path) -> str:
    text = LOGGER_HEADER + "2025-01-01T00:00:00,FT-100,1,m3/h,relevé à 8h\n"
    return _write(landing, "logger_latin1.csv", text.encode("latin-1"))


def one_long_line(landing: Path) -> str:
    return _write(landing, "scada_oneline.csv", b"Timestamp," + b"x" * 10_000_000)


def header_only(landing: Path) -> str:
    return _write(landing, "scada_header_only.csv", b"Timestamp,RIV_FT100 [m3/h]\r\n")


def ten_thousand_columns(landing: Path) -> str:
    """One known meter column among 9 999 unknown ones, two rows, a value in every 100th."""
    names = ["Timestamp", "RIV_FT100 [m3/h]"] + [f"JUNK_{i}" for i in range(9_998)]
    rows = []
    for stamp in ("01/01/2025 08:00", "01/01/2025 08:15"):
        cells = [stamp, "7.5"] + ["1" if i % 100 == 0 else "" for i in range(9_998)]
        rows.append(",".join(cells))
    return _write(
        landing, "scada_wide10k.csv", ("\n".join([",".join(names), *rows]) + "\n").encode()
    )


def unbalanced_quotes(landing: Path) -> str:
    text = (
        LOGGER_HEADER
        + "2025-01-01T00:00:00,FT-100,1,m3/h,ok\n"
        + '2025-01-01T01:00:00,"FT-100,2,m3/h,quote never closed\n'
        + "2025-01-01T02:00:00,FT-100,3,m3/h,ok\n"
        + '2025-01-01T03:00:00,FT-100,4,m3/h,"closed"\n'
    )
    return _write(landing, "logger_quotes.csv", text.encode())


def formula_injection_csv(landing: Path) -> str:
    text = (
        LOGGER_HEADER
        + '2025-01-01T00:00:00,FT-100,"=HYPERLINK(""http://x"",""y"")",m3/h,\n'
        + "2025-01-01T01:00:00,FT-100,+1+1,m3/h,\n"
        + "2025-01-01T02:00:00,FT-100,@SUM(A1),m3/h,\n"
        + "2025-01-01T03:00:00,FT-100,-3.2,m3/h,\n"
        + "2025-01-01T04:00:00,=cmd|' /C calc'!A0,5,m3/h,\n"
    )
    return _write(landing, "logger_formulas.csv", text.encode())


def _formula_workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Readings"
    sheet.append(["title"])
    sheet.append([])
    sheet.append(["Date / Time", "Meter", "Reading", "Unit"])
    sheet.append(["2025-01-05 07:00", "FQ-500", 100, "m3"])
    sheet.append(["2025-01-06 07:00", "FQ-500", '=D4+WEBSERVICE("http://x")', "m3"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_with_formulas(landing: Path) -> str:
    return _write(landing, "manual_formulas.xlsx", _formula_workbook())


def zip_bomb_xlsx(landing: Path) -> str:
    """A workbook-shaped zip whose sheet inflates past 200 MB (it is ~200 KB on disk)."""
    path = landing / "manual_bomb.xlsx"
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(ZIP_BOMB_BYTES // len(chunk) + 1):
                sheet.write(chunk)
    return path.name


def csv_named_xlsx(landing: Path) -> str:
    return _write(landing, "manual_really_csv.xlsx", (GOOD_LOGGER + "# renamed\n").encode())


def truncated_xlsx(landing: Path) -> str:
    whole = _formula_workbook()
    return _write(landing, "manual_truncated.xlsx", whole[: len(whole) // 2])


def traversal_names(landing: Path) -> list[str]:
    """Good one-reading logger files (value = position in the list) under names that try to
    escape the landing folder or confuse whoever reads them."""
    names = [
        "logger_..%2F..%2Fetc%2Fpasswd.csv",
        "logger_..\\..\\evil.csv",
        "logger_new\nline.csv",
        "logger_ünïcödé_水.csv",
        os.fsdecode(b"logger_\xff\xfe.csv"),
        "logger_" + "x" * 230 + ".csv",  # 241 bytes: near the 255-byte limit of the disk
    ]
    for i, name in enumerate(names):
        text = LOGGER_HEADER + f"2025-01-02T00:00:00,FT-100,{i},m3/h,\n"
        (landing / name).write_bytes(text.encode())
    return names


def symlink_to_passwd(landing: Path) -> str:
    (landing / "scada_passwd.csv").symlink_to("/etc/passwd")
    return "scada_passwd.csv"


def fifo(landing: Path) -> str:
    os.mkfifo(landing / "logger_fifo.csv")
    return "logger_fifo.csv"
