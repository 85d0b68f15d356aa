"""The state store on a real PostgreSQL server (production's backend): every table the packages
declare is created, and concurrent writers from several threads neither lose nor duplicate rows."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import inspect

from ingestion.devices.health import DeviceHealth, ensure_table
from reports.registry import Registry, RegistryError, ReportRecord
from siteledger.state.store import ImportJob, PublishAudit, StateStore, new_batch_id, utcnow
from tests.postgres import scratch_database

pytestmark = pytest.mark.integration


@pytest.fixture
def store():
    with scratch_database() as url:
        state = StateStore(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            yield state
        finally:
            state.dispose()


def _report(version: int, status: str = "validated") -> ReportRecord:
    return ReportRecord(
        report_id=f"monthly_water_return.demo_mine.2025-07.v{version}-{new_batch_id()[-6:]}",
        definition_id="monthly_water_return",
        report_type="monthly water return",
        regulator="WA DWER",
        site_id="demo_mine",
        period_kind="monthly",
        period_key="2025-07",
        period_start=dt.date(2025, 7, 1),
        period_end=dt.date(2025, 7, 31),
        due_date=dt.date(2025, 8, 14),
        version=version,
        status=status,
        content_hash="0" * 64,
        definition_hash="1" * 64,
        warehouse_version="20251101T000000-abc",
        generated_by="test",
    )


def test_every_package_table_is_created_on_postgresql(store):
    Registry(store)
    ensure_table(store)
    tables = set(inspect(store.engine).get_table_names())
    assert {
        ImportJob.__tablename__,
        PublishAudit.__tablename__,
        "warehouse_versions",
        "reports",
        "report_deliveries",
        DeviceHealth.__tablename__,
    } <= tables


def test_concurrent_import_jobs_from_eight_threads_are_all_kept(store):
    def write(worker: int) -> None:
        for i in range(25):
            job = store.add_job(
                ImportJob(
                    batch_id=f"{worker:02d}-{i:03d}-{new_batch_id()[-12:]}",
                    site_id="demo_mine",
                    source="files",
                    source_file=f"scada_{worker}_{i}.csv",
                    content_sha256=f"{worker:032d}{i:032d}",
                    status="running",
                )
            )
            # while other threads insert, read the running jobs (as the CLI does) and commit
            assert job.batch_id in {j.batch_id for j in store.jobs(status="running")}
            store.update_job(job.batch_id, status="committed", finished_at=utcnow())

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    jobs = store.jobs(site_id="demo_mine")
    assert len(jobs) == 200
    assert len({job.batch_id for job in jobs}) == 200
    assert sum(job.status == "committed" for job in jobs) == 200


def test_two_runs_registering_the_same_report_version_one_wins_one_is_told(store):
    registry = Registry(store)
    registry.add(_report(1))
    results: list[str] = []
    barrier = threading.Barrier(2)

    def register() -> None:
        barrier.wait()
        try:
            registry.add(_report(2))
            results.append("added")
        except RegistryError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("added") == 1
    assert any("registered meanwhile by another run" in r for r in results)
    versions = registry.versions("monthly_water_return", "demo_mine", "2025-07")
    assert [(v.version, v.status) for v in versions] == [(1, "superseded"), (2, "validated")]
    submitted = registry.set_status(versions[1].report_id, "submitted", by="officer")
    assert submitted.submitted_by == "officer" and submitted.submitted_at is not None
