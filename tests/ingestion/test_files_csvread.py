"""Reading delimited text: every data row keeps the number of the line it came from, whichever
reader (pyarrow, or line by line) the file needs."""

from __future__ import annotations

import pyarrow as pa
import pytest

from ingestion.files.csvread import line_count, read_columns, read_header
from ingestion.files.errors import FileRejected
from ingestion.files.limits import ImportLimits
from tests.ingestion.hostile.home import small_site

LAYOUT = small_site().layout("logger")
LIMITS = ImportLimits()
TEXT = {0: pa.string(), 2: pa.string()}


def read(text: bytes, wanted: dict[int, pa.DataType] = TEXT):
    header = read_header(text, LAYOUT, LIMITS)
    return header, read_columns(text, LAYOUT, header, wanted, LIMITS)


@pytest.mark.parametrize(
    ("text", "lines", "values"),
    [
        (b"t,m,v\n1,a,10\n2,b,20\n", [2, 3], ["10", "20"]),
        (b"t,m,v\r\n1,a,10\r\n2,b,20\r\n\r\n", [2, 3], ["10", "20"]),
        (b"t,m,v\n1,a,10\n\n\n2,b,20\n", [2, 5], ["10", "20"]),
        (b"\n\nt,m,v\n1,a,10\n", [4], ["10"]),
        (b"t,m,v\r1,a,10\r2,b,20", [2, 3], ["10", "20"]),
        (b't,m,v\n1,"a\nstill a",10\n2,b,20\n', [4], ["20"]),
        (b't,m,v\n"1","a","1,5"\n2,b,20', [2, 3], ["1,5", "20"]),
    ],
    ids=["plain", "crlf", "blank lines", "leading blanks", "lone cr", "quoted newline", "quoted"],
)
def test_rows_keep_their_line_numbers(text: bytes, lines: list[int], values: list[str]):
    _, columns = read(text)

    assert columns.lines.tolist() == lines
    assert columns.columns[2].to_pylist() == values


def test_short_and_long_rows_are_reported_with_their_lines():
    _, columns = read(b"t,m,v\n1,a,10\n2,b\n3,c,30,extra\n4,d,40\n")

    assert columns.lines.tolist() == [2, 5]
    assert [(b.line, b.reason) for b in columns.bad_lines] == [
        (3, "row has 2 fields, header has 3"),
        (4, "row has 4 fields, header has 3"),
    ]
    assert columns.bad_lines[1].text == "3,c,30,extra"


def test_typed_read_refuses_text_so_the_caller_can_read_it_as_text():
    from ingestion.files.csvread import TypedReadFailed

    with pytest.raises(TypedReadFailed):
        read(b"t,m,v\n1,a,10\n2,b,oops\n", {0: pa.string(), 2: pa.float64()})
    _, columns = read(b"t,m,v\n1,a,10\n2,b,\n", {0: pa.string(), 2: pa.float64()})
    assert columns.columns[2].to_pylist() == [10.0, None]


def test_header_is_the_first_non_empty_line_and_must_fit_the_limit():
    header = read_header(b"\r\n  \n t , m ,v\n1,2,3\n", LAYOUT, LIMITS)
    assert (header.names, header.line) == (["t", "m", "v"], 3)
    with pytest.raises(FileRejected, match="header line is longer than 1 MiB"):
        read_header(b"t," + b"x" * (1 << 20) + b"\n1,2\n", LAYOUT, LIMITS)


def test_line_count_only_trusts_lf_and_crlf_line_ends():
    assert line_count(b"a\nb\nc\n\n\n") == 3
    assert line_count(b"a\r\nb\r\nc") == 3
    assert line_count(b"a\rb\nc") is None
    assert line_count(b"\na\nb") is None
