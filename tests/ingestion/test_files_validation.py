"""Row-level validation at ingest: every problem gets a quarantine row with a clear reason, and
the good rows of the same file are still imported; counts always add up."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.ingestion.hostile.home import Home, make_home, small_site
from tests.ingestion.test_files_layouts import manual_workbook


@pytest.fixture
def home(tmp_path):
    h = make_home(tmp_path)
    yield h
    h.store.dispose()


def quarantine_rows(home: Home) -> list[tuple[object, ...]]:
    table = home.quarantine()
    return list(
        zip(
            table.column("source_row").to_pylist(),
            table.column("column").to_pylist(),
            table.column("raw_timestamp").to_pylist(),
            table.column("raw_value").to_pylist(),
            table.column("reason").to_pylist(),
            strict=True,
        )
    )


def test_wide_file_quarantines_each_bad_cell_and_keeps_the_rest(home: Home):
    home.drop(
        "scada_bad.csv",
        "Timestamp,RIV_FT100 [m3/h],DAM_LT300 [m3/h],FT-999 [m3/h],RG1 [gal/furlong],PLT_FT400A\n"
        "01/01/2025 08:00,#VALUE!,1,7,2,=1+2\n"
        "01/01/2025 08:15,inf,2,,,-3.2\n"
        "31/02/2025 25:61,5,3,8,,4\n"
        "01/01/2025 08:30,NaN,,,,@SUM(A1)\n"
        "01/01/2025 08:45,12.5,4,9\n"
        "01/01/2025 09:00,1e400,,,,+6\n",
    )

    result = home.run()["scada_bad.csv"]

    assert result.status == "committed"
    bad_time = "timestamp '31/02/2025 25:61' does not match %d/%m/%Y %H:%M"
    not_level = "unit 'm3/h' does not measure level"
    # in file order: row by row, left to right
    assert quarantine_rows(home) == [
        (2, "RIV_FT100 [m3/h]", "01/01/2025 08:00", "#VALUE!", "value '#VALUE!' is not a number"),
        (2, "DAM_LT300 [m3/h]", "01/01/2025 08:00", "1", not_level),
        (2, "FT-999 [m3/h]", "01/01/2025 08:00", "7", "unknown meter 'FT-999'"),
        (2, "RG1 [gal/furlong]", "01/01/2025 08:00", "2", "unknown unit 'gal/furlong'"),
        (2, "PLT_FT400A", "01/01/2025 08:00", "=1+2", "value '=1+2' is not a number"),
        (3, "RIV_FT100 [m3/h]", "01/01/2025 08:15", "inf", "value 'inf' is not a finite number"),
        (3, "DAM_LT300 [m3/h]", "01/01/2025 08:15", "2", not_level),
        (4, "RIV_FT100 [m3/h]", "31/02/2025 25:61", "5", bad_time),
        (4, "DAM_LT300 [m3/h]", "31/02/2025 25:61", "3", not_level),
        (4, "FT-999 [m3/h]", "31/02/2025 25:61", "8", "unknown meter 'FT-999'"),
        (4, "PLT_FT400A", "31/02/2025 25:61", "4", bad_time),
        (5, "PLT_FT400A", "01/01/2025 08:30", "@SUM(A1)", "value '@SUM(A1)' is not a number"),
        (6, None, None, "01/01/2025 08:45,12.5,4,9", "row has 4 fields, header has 6"),
        (
            7,
            "RIV_FT100 [m3/h]",
            "01/01/2025 09:00",
            "1e400",
            "value '1e400' is not a finite number",
        ),
    ]
    # the good cells of the same rows: -3.2 and +6 are numbers even if they start like formulas
    assert home.lake_rows() == [
        ("FT-400A", "2025-01-01T00:15:00+00:00", -3.2, "m3/h"),
        ("FT-400A", "2025-01-01T01:00:00+00:00", 6.0, "m3/h"),
    ]
    # 5 rows x 5 meter columns + 1 broken row; 'NaN' is a null value, so skipped
    assert (result.total, result.imported, result.skipped, result.failed) == (26, 2, 10, 14)
    assert result.total == result.imported + result.skipped + result.failed


def test_long_file_reasons_in_order_and_good_rows_imported(home: Home):
    home.drop(
        "logger_bad.csv",
        "time_utc,meter,value,unit,comment\n"
        "2025-01-01T00:00:00,FT-100,1.5,m3/h,good\n"
        "2025-13-01T00:00:00,FT-100,2,m3/h,bad month\n"
        "2025-01-01T00:00:00,FT-999,3,m3/h,unknown meter\n"
        "2025-01-01T00:00:00,FT-100,4,mm,wrong dimension\n"
        "2025-01-01T00:00:00,FT-100,5,gal/furlong,unknown unit\n"
        "2025-01-01T00:00:00,FT-100,#VALUE!,m3/h,not a number\n"
        "2025-01-01T00:00:00,FT-100,nan,m3/h,null value: skipped\n"
        "2025-01-01T00:00:00,FT-100,-INF,m3/h,not finite\n"
        "2025-01-01T00:00:00,,6,m3/h,no meter\n"
        ",FT-100,7,m3/h,no time\n"
        "not a time,FT-999,#REF!,mm,time is checked first\n"
        "2025-01-01T00:15:00,RIV_FT100,8,,tag fallback\n",
    )

    result = home.run()["logger_bad.csv"]

    assert home.reasons() == [
        "timestamp '2025-13-01T00:00:00' does not match ISO 8601",
        "unknown meter 'FT-999'",
        "unit 'mm' does not measure flow_rate",
        "unknown unit 'gal/furlong'",
        "value '#VALUE!' is not a number",
        "value '-INF' is not a finite number",
        "meter is empty",
        "timestamp is empty",
        "timestamp 'not a time' does not match ISO 8601",
    ]
    table = home.quarantine()
    assert table.column("source_row").to_pylist() == [3, 4, 5, 6, 7, 9, 10, 11, 12]
    assert table.column("column").to_pylist()[:2] == ["FT-100", "FT-999"]
    assert table.column("raw_value").to_pylist()[-1] == "#REF!"
    assert home.lake_rows() == [
        ("FT-100", "2025-01-01T00:00:00+00:00", 1.5, "m3/h"),
        ("FT-100", "2025-01-01T00:15:00+00:00", 8.0, "m3/h"),
    ]
    assert (result.total, result.imported, result.skipped, result.failed) == (12, 2, 1, 9)


def test_ambiguous_and_skipped_local_times_are_quarantined(tmp_path):
    # Sydney: clocks go back 03:00 -> 02:00 on 2025-04-06, forward 02:00 -> 03:00 on 2025-10-05
    h = make_home(tmp_path, small_site(logger={"timezone": "Australia/Sydney"}))
    h.drop(
        "logger_dst.csv",
        "time_utc,meter,value,unit,comment\n"
        "2025-04-06T01:59:00,FT-100,1,m3/h,daylight time\n"
        "2025-04-06T02:30:00,FT-100,2,m3/h,happens twice\n"
        "2025-04-06T03:00:00,FT-100,3,m3/h,standard time\n"
        "2025-10-05T02:30:00,FT-100,4,m3/h,never happens\n"
        "2025-10-05T02:30:00+11:00,FT-100,5,m3/h,an offset makes it exact\n",
    )

    result = h.run()["logger_dst.csv"]

    assert h.reasons() == [
        "ambiguous or non-existent local time '2025-04-06 02:30:00' in Australia/Sydney",
        "ambiguous or non-existent local time '2025-10-05 02:30:00' in Australia/Sydney",
    ]
    assert h.lake_rows() == [
        ("FT-100", "2025-04-05T14:59:00+00:00", 1.0, "m3/h"),
        ("FT-100", "2025-04-05T17:00:00+00:00", 3.0, "m3/h"),
        ("FT-100", "2025-10-04T15:30:00+00:00", 5.0, "m3/h"),
    ]
    assert (result.imported, result.failed) == (3, 2)
    h.store.dispose()


def test_padded_format_is_strict_and_unpadded_text_still_parses(home: Home):
    home.drop(
        "scada_fmt.csv",
        "Timestamp,RG1\n"
        "1/1/2025 8:05,1\n"
        "01/01/2025 08:10,2\n"
        "29/02/2025 08:00,3\n"
        "01/01/2025 08:10:00,4\n"
        " 01/01/2025 08:20 ,5\n",
    )

    home.run()

    assert home.lake_rows() == [
        ("RG-1", "2025-01-01T00:05:00+00:00", 1.0, "mm"),
        ("RG-1", "2025-01-01T00:10:00+00:00", 2.0, "mm"),
        ("RG-1", "2025-01-01T00:20:00+00:00", 5.0, "mm"),
    ]
    assert home.reasons() == [
        "timestamp '29/02/2025 08:00' does not match %d/%m/%Y %H:%M",
        "timestamp '01/01/2025 08:10:00' does not match %d/%m/%Y %H:%M",
    ]


def test_excel_formula_cells_are_quarantined_never_evaluated(home: Home):
    home.drop(
        "manual_f.xlsx",
        manual_workbook(
            [
                [dt.datetime(2025, 1, 5, 7), "FQ-500", "=1+1", "m3"],
                ["=NOW()", "FQ-500", 5, "m3"],
                [dt.datetime(2025, 1, 6, 7), "FQ-500", 10, "m3"],
                [dt.datetime(2025, 1, 7, 7), "FQ-500", True, "m3"],
                [dt.datetime(2025, 1, 8, 7), "FT-999", 1, "m3"],
                [dt.datetime(2025, 1, 9, 7), "FQ-500", None, "m3"],
                [45667.5, "FQ-500", 1, "m3"],
            ]
        ),
    )

    result = home.run()["manual_f.xlsx"]

    assert home.reasons() == [
        "formula cell not accepted",
        "formula cell not accepted",
        "value 'True' is not a number",
        "unknown meter 'FT-999'",
        "timestamp 45667.5 is not a date or text",
    ]
    table = home.quarantine()
    assert table.column("raw_value").to_pylist()[0] == "=1+1"
    assert table.column("raw_timestamp").to_pylist()[1] == "=NOW()"
    assert home.lake_rows() == [("FQ-500", "2025-01-05T23:00:00+00:00", 10.0, "m3")]
    assert (result.total, result.imported, result.skipped, result.failed) == (7, 1, 1, 5)


def test_raw_values_are_truncated_to_200_characters(home: Home):
    home.drop(
        "logger_long_text.csv",
        "time_utc,meter,value,unit,comment\n"
        + "2025-01-01T00:00:00,FT-100,"
        + "x" * 500
        + ",m3/h,\n"
        + "2025-01-01T00:00:00,FT-100,1,"
        + "y" * 500
        + "\n",
    )

    home.run()

    raw = home.quarantine().column("raw_value").to_pylist()
    assert raw == ["x" * 200, "2025-01-01T00:00:00,FT-100,1," + "y" * 171]
    assert home.reasons() == [
        f"value '{'x' * 59}…' is not a number",
        "row has 4 fields, header has 5",
    ]
