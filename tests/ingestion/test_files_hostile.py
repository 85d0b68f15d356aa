"""A landing folder full of hostile files: each gets a clear error and a quarantine (whole file
or rows), the run never crashes, nothing outside the landing folder is read or copied, and a
good file in the same run is imported in full."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import ingestion.files.jobs as jobs
from ingestion.files import ImportLimits, ImportResult, import_file
from tests.ingestion.hostile import corpus
from tests.ingestion.hostile.home import Home, make_home

PASSWD_MARK = b"root:"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> tuple[Home, dict[str, ImportResult]]:
    """One import run over the whole corpus plus one good file, shared by the tests below."""
    home = make_home(tmp_path_factory.mktemp("hostile"))
    landing = home.settings.landing
    for make in (
        corpus.empty_csv,
        corpus.empty_xlsx,
        corpus.binary_garbage,
        corpus.high_bytes_garbage,
        corpus.nul_in_text,
        corpus.utf16_text,
        corpus.latin1_text,
        corpus.one_long_line,
        corpus.header_only,
        corpus.ten_thousand_columns,
        corpus.unbalanced_quotes,
        corpus.formula_injection_csv,
        corpus.xlsx_with_formulas,
        corpus.zip_bomb_xlsx,
        corpus.csv_named_xlsx,
        corpus.truncated_xlsx,
        corpus.traversal_names,
        corpus.symlink_to_passwd,
        corpus.fifo,
    ):
        make(landing)
    home.drop("logger_good.csv", corpus.GOOD_LOGGER)
    home.drop("logger_vanish.csv", corpus.GOOD_LOGGER.replace("FT-100", "RIV_FT100"))

    read = jobs.read_landed_file

    def vanish_first(path, landing, limits):
        if path.name == "logger_vanish.csv":
            path.unlink()  # gone between the listing and the read
        return read(path, landing, limits)

    patch = pytest.MonkeyPatch()
    patch.setattr(jobs, "read_landed_file", vanish_first)
    try:
        results = home.run()
    finally:
        patch.undo()
    yield home, results
    home.store.dispose()


WHOLE_FILE_REJECTIONS = {
    "scada_empty.csv": "empty file (0 bytes)",
    "manual_empty.xlsx": "empty file (0 bytes)",
    "logger_garbage.csv": "binary file: NUL byte at offset",
    "logger_noise.csv": "not valid UTF-8: byte 0x",
    "logger_nul.csv": "binary file: NUL byte at offset 100",
    "logger_utf16.csv": "file is UTF-16 (byte order mark) but the layout expects utf-8",
    "logger_latin1.csv": "not valid UTF-8: byte 0xe9 at offset 73",
    "scada_oneline.csv": "header line is longer than 1 MiB",
    "scada_header_only.csv": "header only: no data rows",
    "manual_bomb.xlsx": "zip bomb: the workbook inflates to 201",
    "manual_really_csv.xlsx": "not an .xlsx workbook: no zip signature",
    "manual_truncated.xlsx": "corrupt .xlsx workbook",
    "scada_passwd.csv": "symbolic link; links in the landing folder are never followed",
    "logger_fifo.csv": "not a regular file",
}


@pytest.mark.parametrize("name", sorted(WHOLE_FILE_REJECTIONS))
def test_whole_file_rejection_is_quarantined_with_its_reason(hostile_run, name):
    home, results = hostile_run
    result = results[name]

    assert result.status == "quarantined"
    assert WHOLE_FILE_REJECTIONS[name] in result.error
    job = home.store.get_job(result.batch_id)
    assert (job.status, job.error) == ("quarantined", result.error)
    assert home.reasons(result.batch_id) == [result.error]
    folder = home.settings.quarantine / "files" / result.batch_id
    reason = json.loads((folder / "reason.json").read_text())
    assert reason["reason"] == result.error
    assert name not in home.landing_names()


def test_rejected_regular_files_are_kept_byte_for_byte(hostile_run):
    home, results = hostile_run
    kept = home.settings.quarantine / "files" / results["logger_nul.csv"].batch_id
    assert (kept / "logger_nul.csv").read_bytes().endswith(b"\x00tail\n")
    bomb = home.settings.quarantine / "files" / results["manual_bomb.xlsx"].batch_id
    assert (bomb / "manual_bomb.xlsx").stat().st_size < 2_000_000


def test_symlink_target_is_never_read_or_copied(hostile_run):
    home, results = hostile_run
    folder = home.settings.quarantine / "files" / results["scada_passwd.csv"].batch_id
    assert sorted(p.name for p in folder.iterdir()) == ["reason.json"]
    assert json.loads((folder / "reason.json").read_text())["kept_copy"] is None
    for path in home.settings.home.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.suffix != ".db":
            assert PASSWD_MARK not in path.read_bytes(), path
    assert Path("/etc/passwd").read_bytes().startswith(PASSWD_MARK)


def test_good_file_in_the_same_run_is_fully_imported(hostile_run):
    home, results = hostile_run
    good = results["logger_good.csv"]

    assert (good.status, good.total, good.imported, good.failed) == ("committed", 24, 24, 0)
    lake = [r for r in home.lake().to_pylist() if r["batch_id"] == good.batch_id]
    assert (lake[0]["meter_id"], lake[0]["ts"].isoformat(), lake[0]["unit"]) == (
        "FT-100",
        "2025-01-01T00:00:00+00:00",
        "m3/h",
    )
    assert [r["value"] for r in lake] == [h + 0.5 for h in range(24)]
    assert [r["source_row"] for r in lake] == list(range(2, 26))


def test_ten_thousand_columns_keep_the_known_meter_and_quarantine_the_rest(hostile_run):
    home, results = hostile_run
    wide = results["scada_wide10k.csv"]

    assert (wide.status, wide.imported, wide.failed, wide.skipped) == (
        "committed",
        2,
        200,
        2 * 9_898,
    )
    assert wide.total == 2 * 9_999
    reasons = set(home.reasons(wide.batch_id))
    assert reasons == {f"unknown meter 'JUNK_{i}'" for i in range(0, 9_998, 100)}


def test_unbalanced_quote_costs_only_its_own_line(hostile_run):
    home, results = hostile_run
    quotes = results["logger_quotes.csv"]

    assert (quotes.imported, quotes.failed) == (3, 1)
    table = home.quarantine(quotes.batch_id)
    assert table.column("source_row").to_pylist() == [3]
    assert table.column("reason").to_pylist() == ["row has 2 fields, header has 5"]
    lake = home.lake(source="logger").to_pylist()
    assert sorted(r["source_row"] for r in lake if r["batch_id"] == quotes.batch_id) == [2, 4, 5]


def test_formula_injection_text_is_quarantined_as_data_and_numbers_still_count(hostile_run):
    home, results = hostile_run
    formulas = results["logger_formulas.csv"]

    assert (formulas.imported, formulas.failed) == (1, 4)
    assert home.reasons(formulas.batch_id) == [
        'value \'=HYPERLINK("http://x","y")\' is not a number',
        "value '+1+1' is not a number",
        "value '@SUM(A1)' is not a number",
        "unknown meter \"=cmd|' /C calc'!A0\"",
    ]
    lake = [r for r in home.lake().to_pylist() if r["batch_id"] == formulas.batch_id]
    assert [(r["value"], r["source_row"]) for r in lake] == [(-3.2, 5)]


def test_xlsx_formula_cell_is_quarantined_and_the_plain_row_imported(hostile_run):
    home, results = hostile_run
    book = results["manual_formulas.xlsx"]

    assert (book.status, book.imported, book.failed) == ("committed", 1, 1)
    assert home.reasons(book.batch_id) == ["formula cell not accepted"]
    assert home.quarantine(book.batch_id).column("raw_value").to_pylist() == [
        '=D4+WEBSERVICE("http://x")'
    ]


SAFE_NAMES = [
    "logger_..%2F..%2Fetc%2Fpasswd.csv",
    "evil.csv",  # a backslash separates folders on Windows: only the base name is kept
    "logger_new_line.csv",
    "logger_ünïcödé_水.csv",
    "logger___.csv",  # two bytes that are not UTF-8
    "logger_" + "x" * 169 + ".csv",  # cut to 180 bytes, extension kept
]


def test_hostile_names_are_imported_under_safe_archive_names(hostile_run):
    home, results = hostile_run

    for position, name in enumerate(SAFE_NAMES):
        result = results[name]
        assert (result.status, result.imported) == ("committed", 1), name
        (row,) = [r for r in home.lake().to_pylist() if r["batch_id"] == result.batch_id]
        assert (row["value"], row["source_file"]) == (float(position), name)
        archived = home.settings.archive / f"{result.batch_id}__{name}"
        assert archived.is_file() and not archived.is_symlink()
    for entry in home.settings.archive.iterdir():
        assert entry.parent == home.settings.archive and len(entry.name.encode()) <= 255
    assert not (home.settings.home.parent / "evil.csv").exists()


def test_vanished_file_fails_with_a_clear_error(hostile_run):
    home, results = hostile_run
    gone = results["logger_vanish.csv"]

    assert gone.status == "failed"
    assert gone.error == "file vanished from the landing folder before it could be read"
    assert home.reasons(gone.batch_id) == [gone.error]


def test_landing_is_empty_after_the_run(hostile_run):
    home, _ = hostile_run
    assert home.landing_names() == []


def test_a_parser_error_fails_one_file_and_the_next_still_imports(tmp_path, monkeypatch):
    home = make_home(tmp_path)
    home.drop("logger_a.csv", corpus.GOOD_LOGGER)
    home.drop("logger_b.csv", corpus.GOOD_LOGGER.replace(",m3/h,", ",L/s,"))
    parse = jobs.parse

    def explode_on_a(data, ctx):
        if b"m3/h" in data:
            raise RuntimeError("parser bug")
        return parse(data, ctx)

    monkeypatch.setattr(jobs, "parse", explode_on_a)
    results = home.run()

    broken = results["logger_a.csv"]
    assert (broken.status, broken.error) == ("failed", "RuntimeError: parser bug")
    assert home.store.get_job(broken.batch_id).status == "failed"
    assert home.landing_names() == ["logger_a.csv"]  # kept for a retry
    assert results["logger_b.csv"].imported == 24
    assert set(home.lake().column("batch_id").to_pylist()) == {results["logger_b.csv"].batch_id}
    home.store.dispose()


def test_file_over_the_size_limit_is_moved_to_quarantine_unread(tmp_path):
    home = make_home(tmp_path)
    home.drop("logger_big.csv", corpus.GOOD_LOGGER)

    result = home.run(limits=ImportLimits(max_file_bytes=100))["logger_big.csv"]

    assert result.status == "quarantined"
    assert result.error == f"file is {len(corpus.GOOD_LOGGER)} bytes; the limit is 100 bytes"
    kept = home.settings.quarantine / "files" / result.batch_id / "logger_big.csv"
    assert kept.read_text() == corpus.GOOD_LOGGER
    assert home.landing_names() == []
    home.store.dispose()


def test_workbook_with_more_cells_than_the_limit_is_refused(tmp_path):
    home = make_home(tmp_path)
    corpus.xlsx_with_formulas(home.settings.landing)

    result = home.run(limits=ImportLimits(max_xlsx_cells=10))["manual_formulas.xlsx"]

    assert (result.status, result.error) == (
        "quarantined",
        "workbook sheet has more than 10 cells",
    )
    home.store.dispose()


def test_path_outside_landing_is_refused_and_left_alone(tmp_path):
    home = make_home(tmp_path)
    outside = tmp_path / "logger_outside.csv"
    outside.write_text(corpus.GOOD_LOGGER)
    sneaky = home.settings.landing / ".." / "logger_outside.csv"
    outside_of_home = home.settings.home.parent / "logger_outside.csv"
    assert outside_of_home == outside

    for path in (outside, sneaky):
        result = import_file(home.settings, home.site, home.store, path)
        assert (result.status, result.error) == (
            "quarantined",
            "path is outside the landing folder",
        )
        assert outside.read_text() == corpus.GOOD_LOGGER
        folder = home.settings.quarantine / "files" / result.batch_id
        assert sorted(p.name for p in folder.iterdir()) == ["reason.json"]
    assert home.lake().num_rows == 0
    home.store.dispose()


def test_symlinked_landing_subfolder_escape_is_refused(tmp_path):
    home = make_home(tmp_path)
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "logger_s.csv").write_text(corpus.GOOD_LOGGER)
    os.symlink(secret, home.settings.landing / "link")

    result = import_file(
        home.settings, home.site, home.store, home.settings.landing / "link" / "logger_s.csv"
    )

    assert (result.status, result.error) == ("quarantined", "path is outside the landing folder")
    assert (secret / "logger_s.csv").exists()
    home.store.dispose()
