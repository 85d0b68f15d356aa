"""Import jobs over time: idempotence on the bytes, rollback and re-import, recovery after a
crash, archiving, files no layout matches."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ingestion.files.importer as importer
import ingestion.files.recovery as recovery
from ingestion.files import import_file, recover_interrupted, rollback_batch
from ingestion.lake import committed_batch_ids, read_readings, readings_file, temporary_path
from siteledger.state.store import ImportJob, utcnow
from tests.ingestion.hostile.home import Home, make_home

SCADA = "Timestamp,RIV_FT100 [m3/h],RG1\n01/01/2025 08:00,10,1\n01/01/2025 08:15,11,\n"
LOGGER = (
    "time_utc,meter,value,unit,comment\n"
    "2025-01-01T00:00:00,FT-100,1,m3/h,\n"
    "2025-01-01T00:00:00,FT-999,2,m3/h,unknown\n"
)


@pytest.fixture
def home(tmp_path):
    h = make_home(tmp_path)
    yield h
    h.store.dispose()


def test_same_bytes_again_is_a_duplicate_and_adds_nothing(home: Home):
    home.drop("scada_1.csv", SCADA)
    first = home.run()["scada_1.csv"]
    home.drop("scada_1.csv", SCADA)

    again = home.run()["scada_1.csv"]

    assert (first.status, again.status) == ("committed", "duplicate")
    assert (again.total, again.imported, again.lake_files) == (0, 0, ())
    assert home.lake().num_rows == 3
    job = home.store.get_job(again.batch_id)
    assert job.status == "duplicate"
    assert job.details["duplicate_of"] == first.batch_id
    assert job.content_sha256 == home.store.get_job(first.batch_id).content_sha256
    assert home.archive_names() == sorted(
        [f"{first.batch_id}__scada_1.csv", f"{again.batch_id}__scada_1.csv"]
    )
    assert home.landing_names() == []


def test_same_bytes_twice_in_one_run_import_once(home: Home):
    # the second file is parsed while the first is written: it must still see that commit
    home.drop("scada_1.csv", SCADA)
    home.drop("scada_1_copy.csv", SCADA)
    home.drop("scada_2.csv", SCADA.replace("10,1", "20,2"))

    results = home.run()

    assert [r.status for r in results.values()] == ["committed", "duplicate", "committed"]
    assert home.lake().num_rows == 6


def test_same_rows_in_other_bytes_are_a_new_batch_and_raw_keeps_both(home: Home):
    home.drop("scada_1.csv", SCADA)
    home.drop("scada_1_resent.csv", SCADA.replace("\n", "\r\n"))

    results = home.run()

    assert [r.status for r in results.values()] == ["committed", "committed"]
    table = home.lake()
    assert table.num_rows == 6
    assert sorted(set(table.column("source_file").to_pylist())) == [
        "scada_1.csv",
        "scada_1_resent.csv",
    ]
    assert table.filter(pa.compute.equal(table["source_file"], "scada_1_resent.csv")).column(
        "value"
    ).to_pylist() == [10.0, 11.0, 1.0]


def test_rollback_removes_exactly_that_batch_and_allows_a_reimport(home: Home):
    home.drop("scada_1.csv", SCADA)
    home.drop("logger_1.csv", LOGGER)
    results = home.run()
    logger, scada = results["logger_1.csv"], results["scada_1.csv"]
    assert home.reasons() == ["unknown meter 'FT-999'"]

    job = rollback_batch(home.settings, home.store, logger.batch_id)

    assert job.status == "rolled_back" and job.rolled_back_at is not None
    assert all(not p.exists() for p in logger.lake_files)
    assert all(p.exists() for p in scada.lake_files)
    assert home.reasons() == []
    assert set(home.lake().column("batch_id").to_pylist()) == {scada.batch_id}
    # even a reader that ignores the state store no longer sees the batch
    assert logger.batch_id not in read_readings(home.settings).column("batch_id").to_pylist()

    archived = home.settings.archive / f"{logger.batch_id}__logger_1.csv"
    home.drop("logger_1.csv", archived.read_bytes())
    again = home.run()["logger_1.csv"]

    assert again.status == "committed" and again.batch_id != logger.batch_id
    assert home.lake_rows(source="logger") == [("FT-100", "2025-01-01T00:00:00+00:00", 1.0, "m3/h")]
    assert home.reasons() == ["unknown meter 'FT-999'"]
    assert committed_batch_ids(home.store, "small_site") == {scada.batch_id, again.batch_id}


def test_rollback_refuses_what_is_not_committed(home: Home):
    home.drop("scada_1.csv", SCADA)
    home.run()
    home.drop("scada_1.csv", SCADA)
    duplicate = home.run()["scada_1.csv"]

    with pytest.raises(ValueError, match="is duplicate; only committed batches"):
        rollback_batch(home.settings, home.store, duplicate.batch_id)
    with pytest.raises(KeyError):
        rollback_batch(home.settings, home.store, "no-such-batch")


def test_counts_add_up_and_match_the_job_record(home: Home):
    home.drop("logger_1.csv", LOGGER)

    result = home.run()["logger_1.csv"]

    job = home.store.get_job(result.batch_id)
    assert (job.total_rows, job.imported_rows, job.skipped_rows, job.failed_rows) == (2, 1, 0, 1)
    assert job.total_rows == job.imported_rows + job.skipped_rows + job.failed_rows
    assert job.details["lake_files"] == [
        str(p.relative_to(home.settings.home)) for p in result.lake_files
    ]
    assert job.details["archived_to"] == f"archive/{result.batch_id}__logger_1.csv"


def test_unmatched_file_stays_in_landing_and_is_reported(home: Home):
    home.drop("notes.txt", "hello")

    result = home.run()["notes.txt"]

    assert (result.status, result.batch_id) == ("unmatched", None)
    assert "no file layout of site 'small_site' matches" in result.error
    assert home.landing_names() == ["notes.txt"]
    assert home.store.jobs() == []


def test_import_file_with_an_explicit_layout_and_progress(home: Home):
    path = home.drop("export.csv", SCADA)

    result = import_file(
        home.settings, home.site, home.store, path, layout=home.site.layout("scada")
    )

    assert (result.status, result.layout_id, result.imported) == ("committed", "scada", 3)
    seen = []
    home.drop("scada_2.csv", SCADA.replace("10", "12"))
    home.drop("zz.txt", "unmatched")
    importer.import_landing(
        home.settings, home.site, home.store, progress=lambda *a: seen.append(a)
    )
    assert seen == [(1, 2, "scada_2.csv"), (2, 2, "zz.txt")]


def test_concurrent_runs_never_import_a_file_twice(home: Home):
    for i in range(6):
        home.drop(f"scada_{i}.csv", SCADA.replace("10,1", f"10,{i}"))
    outcomes: list[list[str]] = []

    def run() -> None:
        results = importer.import_landing(home.settings, home.site, home.store)
        outcomes.append(sorted(r.status for r in results))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [[], [], ["committed"] * 6]
    assert home.lake().num_rows == 6 * 3
    assert len(home.archive_names()) == 6


class Crash(BaseException):
    """Stands for the process dying (not an Exception: nothing may catch it)."""


def test_crash_before_commit_leaves_nothing_committed_and_is_recovered(home: Home, monkeypatch):
    home.drop("scada_1.csv", SCADA)
    update_job = home.store.update_job

    def die_on_commit(batch_id, **fields):
        if fields.get("status") == "committed":
            raise Crash
        return update_job(batch_id, **fields)

    monkeypatch.setattr(home.store, "update_job", die_on_commit)
    with pytest.raises(Crash):
        home.run()
    monkeypatch.setattr(home.store, "update_job", update_job)

    (job,) = home.store.jobs()
    assert job.status == "running"
    left = sorted(home.settings.readings_lake.rglob("*.parquet"))
    assert [p.name for p in left] == [f"{job.batch_id}.parquet"]
    assert home.lake().num_rows == 0  # readers that filter on committed batches see nothing
    assert home.landing_names() == ["scada_1.csv"]

    # the next run, in a later process, cleans up and imports the file afresh
    monkeypatch.setattr(recovery, "PROCESS_STARTED_AT", utcnow())
    results = home.run()

    assert home.store.get_job(job.batch_id).status == "failed"
    assert "interrupted" in home.store.get_job(job.batch_id).error
    assert not left[0].exists()
    assert results["scada_1.csv"].status == "committed"
    assert home.lake().num_rows == 3


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def running_job(home: Home, batch_id: str, pid: int) -> ImportJob:
    return home.store.add_job(
        ImportJob(
            batch_id=batch_id,
            site_id="small_site",
            source="scada",
            source_file="scada_x.csv",
            content_sha256="0" * 64,
            status="running",
            details={"pid": pid, "host": recovery.HOST},
            started_at=utcnow() - dt.timedelta(hours=1),
        )
    )


def test_recovery_removes_partial_files_of_dead_imports_only(home: Home):
    running_job(home, "B-dead", dead_pid())
    running_job(home, "B-alive", os.getppid())
    table = pa.table({"x": [1]})
    dead_files = [
        readings_file(home.settings, "small_site", "scada", "2025-01-01", "B-dead"),
        temporary_path(readings_file(home.settings, "small_site", "scada", "2025-01-02", "B-dead")),
        home.settings.quarantine / "rows/site=small_site/source=scada/B-dead.parquet",
        home.settings.quarantine / "files/B-dead/scada_x.csv",
    ]
    alive_file = readings_file(home.settings, "small_site", "scada", "2025-01-01", "B-alive")
    for path in [*dead_files, alive_file]:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)

    recovered = recover_interrupted(home.settings, home.store)

    assert recovered == ["B-dead"]
    assert [p.exists() for p in dead_files] == [False, False, False, False]
    assert alive_file.exists()
    assert home.store.get_job("B-dead").status == "failed"
    assert home.store.get_job("B-alive").status == "running"
