"""Lab and field result files (layouts lab_csv and lab_excel) through the file importer: exact
results in the lab lake table, and every hostile row quarantined with its reason while the good
rows of the same file land (Australia/Perth is UTC+8: 09:00 local is 01:00 UTC)."""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq
import pytest

from ingestion.files import rollback_batch
from ingestion.lake import LAB_RESULTS_SCHEMA, batch_files
from tests.ingestion.hostile.home import Home, make_home
from tests.ingestion.lab_site import EDD_HEADER, lab_site, lab_workbook


@pytest.fixture
def home(tmp_path):
    h = make_home(tmp_path, lab_site())
    yield h
    h.store.dispose()


def _results(result) -> list[tuple]:
    rows = []
    for path in result.lake_files:
        table = pq.read_table(path)
        assert table.schema.equals(LAB_RESULTS_SCHEMA)
        rows += [
            (
                r["source_row"],
                r["sample_point_id"],
                r["sampled_at"].isoformat(),
                r["parameter_id"],
                r["value"],
                r["unit"],
                r["below_detection"],
            )
            for r in table.to_pylist()
        ]
    return sorted(rows)


HOSTILE_EDD = (
    EDD_HEADER
    + "\n".join(
        [
            "SP-DIS,2025-03-12 09:00,TDS,1620,mg/L,,ALS,APHA 2540C,S1",  # 2 good
            "SP-DIS,2025-03-12 09:00,Copper,<0.01,mg/L,,ALS,,S1",  # 3 below detection, kept
            "SP-DIS,2025-03-12 09:00,Zinc,5,µg/L,<,ALS,,S1",  # 4 below detection by qualifier
            "SP-DIS,2025-03-12 09:00,Lead,ND,mg/L,,ALS,,S1",  # 5 detection-limit text
            "SP-DIS,2025-03-12 09:00,Nickel,<LOR,mg/L,,ALS,,S1",  # 6 detection-limit text
            "SP-DIS,2025-03-12 09:00,Iron,abc,mg/L,,ALS,,S1",  # 7 not a number
            "SP-DIS,2025-03-12 09:00,Unobtainium,1,mg/L,,ALS,,S1",  # 8 unknown parameter
            "SP-NOPE,2025-03-12 09:00,TDS,1,mg/L,,ALS,,S1",  # 9 unknown sample point
            "SP-DIS,2025-03-12 09:00,Sulfate,12,NTU,,ALS,,S1",  # 10 not convertible
            "SP-DIS,2025-03-12 09:00,Chloride,12,furlongs,,ALS,,S1",  # 11 unknown unit
            "SP-DIS,2025-03-12 09:00,pH,7.1,pH,,ALS,,S1",  # 12 superseded by line 13
            "SP-DIS,2025-03-12 09:00,pH,7.3,,,ALS,,S1",  # 13 wins; empty unit = pH
            "SP-DIS,2023-12-31 09:00,TDS,900,mg/L,,ALS,,S0",  # 14 before data_start
            "SP-DIS,2099-01-01 09:00,TDS,900,mg/L,,ALS,,S9",  # 15 in the future
            "SP-DIS,12/03/2025,TDS,900,mg/L,,ALS,,S1",  # 16 not ISO 8601
            "SP-DIS,2025-03-12 09:00,Manganese,>5,mg/L,,ALS,,S1",  # 17 '>' not accepted
            "SP-DIS,2025-03-12 09:00,Cadmium,0.1,mg/L,>,ALS,,S1",  # 18 qualifier '>'
            "SP-DIS,2025-03-12 09:00,Turbidity,-3,NTU,,ALS,,S1",  # 19 negative
            "SP-DIS,2025-03-12 09:00,pH,15,pH,,ALS,,S2",  # 20 impossible pH
            "SP-DIS,2025-03-12 09:00,Arsenic,,mg/L,,ALS,,S1",  # 21 empty value: skipped
            "SP-DIS,2025-03-12 09:00,EC,1500,mS/cm,,ALS",  # 22 short row
        ]
    )
    + "\n"
)


def test_hostile_lab_rows_are_quarantined_with_reasons_and_good_rows_land(home: Home):
    home.drop("lab_edd_hostile.csv", HOSTILE_EDD)

    result = home.run()["lab_edd_hostile.csv"]

    assert result.status == "committed"
    # 21 data lines: 4 results, 1 skipped (empty value), 16 quarantined
    assert (result.total, result.imported, result.skipped, result.failed) == (21, 4, 1, 16)
    at = "2025-03-12T01:00:00+00:00"
    assert _results(result) == [
        (2, "SP-DIS", at, "tds", 1620.0, "mg/L", False),
        (3, "SP-DIS", at, "cu", 0.01, "mg/L", True),
        (4, "SP-DIS", at, "zn", 5.0, "ug/L", True),
        (13, "SP-DIS", at, "ph", 7.3, "pH", False),
    ]
    quarantine = home.quarantine().to_pylist()
    reasons = {row["source_row"]: row["reason"] for row in quarantine}
    assert reasons == {
        5: "detection-limit text 'ND' without a limit (write it as '<0.01')",
        6: "detection-limit text '<LOR' without a limit (write it as '<0.01')",
        7: "value 'abc' is not a number",
        8: "unknown parameter 'Unobtainium'",
        9: "unknown sample point 'SP-NOPE'",
        10: "unit 'NTU' cannot be converted to so4's unit 'mg/L'",
        11: "unknown unit 'furlongs'",
        12: f"duplicate sample: SP-DIS {at} ph again on line 13, which wins",
        14: "sampled on 2023-12-31, before the site's data_start 2024-01-01",
        15: "sampled at '2099-01-01 09:00', later than now plus the tolerance",
        16: "timestamp '12/03/2025' does not match ISO 8601",
        17: "value '>5': only '<' (below detection) is accepted",
        18: "qualifier '>' not understood (only '<' is)",
        19: "value -3 NTU is below turbidity's plausible minimum",
        20: "value 15 pH is above ph's plausible maximum",
        22: "row has 7 fields, header has 9",
    }
    # the quarantine keeps what was delivered
    by_row = {row["source_row"]: row for row in quarantine}
    assert (by_row[5]["column"], by_row[5]["raw_value"]) == ("SP-DIS/Lead", "ND")
    assert by_row[15]["raw_timestamp"] == "2099-01-01 09:00"


def test_excel_lab_sheet_lands_and_quarantines_formula_rows(home: Home):
    rows = [
        ("SP-TIN", dt.datetime(2025, 3, 10, 9), "TDS", 1250, "mg/L", "ALS", "A", "X1"),
        ("SP-TIN", dt.datetime(2025, 3, 10, 9), "Copper", "<5", "µg/L", "ALS", "B", "X1"),
        ("SP-TOUT", dt.datetime(2025, 3, 10, 11), "EC", 1.5, "mS/cm", "ALS", "C", "X2"),
        ("SP-TOUT", dt.datetime(2025, 3, 10, 11), "TDS", 350, "mg/L", "ALS", "D", "X2"),
    ]
    # row 6 of the sheet (the last data row) gets '=1+2' as its result
    home.drop("lab_results_march.xlsx", lab_workbook(rows, formula_row=6))

    result = home.run()["lab_results_march.xlsx"]

    assert (result.status, result.imported, result.failed) == ("committed", 3, 1)
    assert _results(result) == [
        (3, "SP-TIN", "2025-03-10T01:00:00+00:00", "tds", 1250.0, "mg/L", False),
        (4, "SP-TIN", "2025-03-10T01:00:00+00:00", "cu", 5.0, "ug/L", True),
        # mS/cm stays as delivered in the lake; dbt converts it to uS/cm
        (5, "SP-TOUT", "2025-03-10T03:00:00+00:00", "ec", 1.5, "mS/cm", False),
    ]
    assert home.reasons() == ["formula cell not accepted"]


def test_a_lab_file_in_the_wrong_encoding_is_quarantined_whole(home: Home):
    text = EDD_HEADER + "SP-DIS,2025-03-12 09:00,Zinc,5,µg/L,,ALS,,S1\n"
    home.drop("lab_edd_latin1.csv", text.encode("latin-1"))

    result = home.run()["lab_edd_latin1.csv"]

    assert result.status == "quarantined"
    assert "UTF-8" in (result.error or "") or "utf-8" in (result.error or "")
    assert home.landing_names() == []


def test_a_lab_file_missing_a_column_is_quarantined_with_the_column_named(home: Home):
    home.drop("lab_edd_short.csv", "sample_point,sampled_at,value\nSP-DIS,2025-03-12,1\n")

    result = home.run()["lab_edd_short.csv"]

    assert result.status == "quarantined"
    assert "missing column 'parameter'" in (result.error or "")


def test_the_same_lab_file_again_is_a_duplicate_and_a_rollback_removes_its_results(home: Home):
    text = EDD_HEADER + "SP-DIS,2025-03-12 09:00,TDS,1620,mg/L,,,,\n"
    home.drop("lab_edd_1.csv", text)
    first = home.run()["lab_edd_1.csv"]
    home.drop("lab_edd_1_again.csv", text)

    again = home.run()["lab_edd_1_again.csv"]

    assert (first.status, again.status) == ("committed", "duplicate")
    assert batch_files(home.settings, "small_site", "lab_edd", first.batch_id) == list(
        first.lake_files
    )
    rollback_batch(home.settings, home.store, first.batch_id)
    assert batch_files(home.settings, "small_site", "lab_edd", first.batch_id) == []
