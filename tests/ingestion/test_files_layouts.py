"""Each file layout of the small site, end to end: exact values, instants, units and day
partitions in the lake (Australia/Perth is UTC+8 all year)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pyarrow.parquet as pq
import pytest

from ingestion.lake import READINGS_SCHEMA
from tests.ingestion.hostile.home import Home, make_home, small_site


@pytest.fixture
def home(tmp_path):
    h = make_home(tmp_path)
    yield h
    h.store.dispose()


SCADA = (
    "Timestamp,RIV_FT100 [m3/h],DAM_LT300 [m],PLT_FT400A [L/s],RG1\n"
    "31/12/2024 23:45,120.5,3.25,10,0.2\n"
    "01/01/2025 00:00,121,3.3,10.5,\n"
    "01/01/2025 07:45,-3.5,3.31,+11,0\n"
)


def test_scada_wide_file_lands_with_exact_values_units_and_utc_instants(home: Home):
    home.drop("scada_20250101.csv", SCADA)

    result = home.run()["scada_20250101.csv"]

    assert result.status == "committed"
    assert (result.total, result.imported, result.skipped, result.failed) == (12, 11, 1, 0)
    assert home.lake_rows() == [
        ("FT-100", "2024-12-31T15:45:00+00:00", 120.5, "m3/h"),
        ("FT-100", "2024-12-31T16:00:00+00:00", 121.0, "m3/h"),
        ("FT-100", "2024-12-31T23:45:00+00:00", -3.5, "m3/h"),
        # unit from the header, kept as delivered (no conversion to the meter's m3/h)
        ("FT-400A", "2024-12-31T15:45:00+00:00", 10.0, "L/s"),
        ("FT-400A", "2024-12-31T16:00:00+00:00", 10.5, "L/s"),
        ("FT-400A", "2024-12-31T23:45:00+00:00", 11.0, "L/s"),
        ("LT-300", "2024-12-31T15:45:00+00:00", 3.25, "m"),
        ("LT-300", "2024-12-31T16:00:00+00:00", 3.3, "m"),
        ("LT-300", "2024-12-31T23:45:00+00:00", 3.31, "m"),
        # no unit in the header: the meter's configured unit
        ("RG-1", "2024-12-31T15:45:00+00:00", 0.2, "mm"),
        ("RG-1", "2024-12-31T23:45:00+00:00", 0.0, "mm"),
    ]


def test_day_partition_is_the_site_local_date_not_the_utc_date(home: Home):
    home.drop("scada_20250101.csv", SCADA)

    result = home.run()["scada_20250101.csv"]

    days = sorted(p.parent.name for p in result.lake_files)
    assert days == ["day=2024-12-31", "day=2025-01-01"]
    # 01/01/2025 00:00 in Perth is 2024-12-31 16:00 UTC, yet it belongs to the 1 January file
    jan = next(p for p in result.lake_files if p.parent.name == "day=2025-01-01")
    table = pq.read_table(jan)
    stamps = sorted({t.isoformat() for t in table.column("ts").to_pylist()})
    assert stamps == ["2024-12-31T16:00:00+00:00", "2024-12-31T23:45:00+00:00"]
    expected = f"site=small_site/source=scada/day=2025-01-01/{result.batch_id}.parquet"
    assert str(jan.relative_to(home.settings.readings_lake)) == expected


def test_lake_file_has_the_contract_schema_sorted_rows_and_traceability(home: Home):
    home.drop("scada_20250101.csv", SCADA)

    result = home.run()["scada_20250101.csv"]

    jan = next(p for p in result.lake_files if p.parent.name == "day=2025-01-01")
    table = pq.read_table(jan)
    assert table.schema.equals(READINGS_SCHEMA)
    rows = table.to_pylist()
    keys = [(r["meter_id"], r["ts"]) for r in rows]
    assert keys == sorted(keys)
    first = rows[0]
    assert first["meter_id"] == "FT-100"
    assert first["source_row"] == 3  # line 3 of the CSV: header is line 1
    assert first["source_file"] == "scada_20250101.csv"
    assert first["batch_id"] == result.batch_id
    assert first["loaded_at"].tzinfo is not None
    assert {r["source_row"] for r in rows} == {3, 4}


LOGGER = (
    "time_utc,meter,value,unit,comment\n"
    "2025-01-01T15:59:00,FT-100,33.5,m3/h,naive: UTC by the layout\n"
    "2025-01-01T16:00:00,FT-100,34,,empty unit: the meter's\n"
    "2025-01-01T16:00:00+08:00,LT-300,2.5,m,offset converted\n"
    "2025-01-01T08:15:00Z,BORE_FQ200,1000.25,kL,tag as fallback; kL is m3\n"
    "2025-01-01T08:30:00Z,RG-1,,mm,no value\n"
)


def test_logger_long_file_uses_layout_timezone_offsets_tags_and_unit_column(home: Home):
    home.drop("logger_a.csv", LOGGER)

    result = home.run()["logger_a.csv"]

    assert (result.total, result.imported, result.skipped, result.failed) == (5, 4, 1, 0)
    assert home.lake_rows() == [
        ("FQ-200", "2025-01-01T08:15:00+00:00", 1000.25, "m3"),
        ("FT-100", "2025-01-01T15:59:00+00:00", 33.5, "m3/h"),
        ("FT-100", "2025-01-01T16:00:00+00:00", 34.0, "m3/h"),
        ("LT-300", "2025-01-01T08:00:00+00:00", 2.5, "m"),
    ]
    by_day = {p.parent.name: pq.read_table(p).num_rows for p in result.lake_files}
    # 16:00 UTC is midnight in Perth: that reading opens 2 January
    assert by_day == {"day=2025-01-01": 3, "day=2025-01-02": 1}


def manual_workbook(rows: list[list[object]], title_rows: int = 2) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Readings"
    sheet.append(["Manual readings - Small Test Site"])
    for _ in range(title_rows - 1):
        sheet.append([])
    sheet.append(["Date / Time", "Meter", "Reading", "Unit", "Checked by"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_manual_excel_sheet_reads_below_the_header_row_with_local_datetimes(home: Home):
    home.drop(
        "manual_2025-01.xlsx",
        manual_workbook(
            [
                [dt.datetime(2025, 1, 5, 7, 0), "FQ-500", 51234.5, "m3", "AB"],
                ["2025-01-06 07:00", "EP-1", "6.5", None, "CD"],
                [dt.datetime(2025, 1, 7, 7, 0), "EP-1", 7, "mm"],
                [None, None, None, None, "a note in an ignored column only"],
            ]
        ),
    )

    result = home.run()["manual_2025-01.xlsx"]

    assert result.status == "committed"
    assert (result.total, result.imported, result.skipped, result.failed) == (3, 3, 0, 0)
    assert home.lake_rows() == [
        ("EP-1", "2025-01-05T23:00:00+00:00", 6.5, "mm"),
        ("EP-1", "2025-01-06T23:00:00+00:00", 7.0, "mm"),
        ("FQ-500", "2025-01-04T23:00:00+00:00", 51234.5, "m3"),
    ]
    table = home.lake()
    assert sorted(table.column("source_row").to_pylist()) == [4, 5, 6]  # sheet rows
    assert {d.isoformat() for d in table.column("day").to_pylist()} == {
        "2025-01-05",
        "2025-01-06",
        "2025-01-07",
    }


def test_decimal_comma_semicolon_layout_and_custom_null_values(tmp_path):
    site = small_site(logger={"delimiter": ";", "decimal": ",", "null_values": ["", "-", "n/a"]})
    h = make_home(tmp_path, site)
    h.drop(
        "logger_eu.csv",
        "time_utc;meter;value;unit;comment\n"
        "2025-01-01T00:00:00;FT-100;12,75;m3/h;x\n"
        "2025-01-01T00:15:00;FT-100;-;m3/h;dash is null here\n"
        "2025-01-01T00:30:00;FT-100;n/a;m3/h;\n"
        "2025-01-01T00:45:00;FT-100;1.5;m3/h;a point is not this layout's decimal mark\n",
    )

    result = h.run()["logger_eu.csv"]

    assert (result.total, result.imported, result.skipped, result.failed) == (4, 1, 2, 1)
    assert h.lake_rows() == [("FT-100", "2025-01-01T00:00:00+00:00", 12.75, "m3/h")]
    assert h.reasons() == ["value '1.5' is not a number"]
    h.store.dispose()


def test_latin1_layout_reads_a_latin1_file(tmp_path):
    site = small_site(logger={"encoding": "latin-1"})
    h = make_home(tmp_path, site)
    h.drop(
        "logger_fr.csv",
        "time_utc,meter,value,unit,comment\n2025-01-01T00:00:00,FT-100,4.5,m3/h,relevé\n",
        encoding="latin-1",
    )

    assert h.run()["logger_fr.csv"].imported == 1
    assert h.lake_rows() == [("FT-100", "2025-01-01T00:00:00+00:00", 4.5, "m3/h")]
    h.store.dispose()


def test_wide_layout_matching_headers_by_id(tmp_path):
    site = small_site(scada={"header_meter_key": "id", "unit_in_header": None})
    h = make_home(tmp_path, site)
    h.drop("scada_ids.csv", "Timestamp,FT-100,RG1\n01/01/2025 08:00,5,1.5\n")

    h.run()

    # ids first; a tag still finds its meter as the fallback
    assert h.lake_rows() == [
        ("FT-100", "2025-01-01T00:00:00+00:00", 5.0, "m3/h"),
        ("RG-1", "2025-01-01T00:00:00+00:00", 1.5, "mm"),
    ]
    h.store.dispose()
