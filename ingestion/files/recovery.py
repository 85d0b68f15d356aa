"""Undoing batches: cleaning up after an import that died, and rolling back a committed one."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
from collections.abc import Iterable

from ingestion.files.quarantine import batch_row_files, files_dir
from ingestion.lake import batch_files, remove_files
from siteledger.settings import Settings
from siteledger.state.store import ImportJob, StateStore, utcnow

log = logging.getLogger(__name__)

PROCESS_STARTED_AT = utcnow()
HOST = socket.gethostname()


def remove_batch_output(settings: Settings, site_id: str, source: str, batch_id: str) -> None:
    """Delete every lake and quarantine file a batch wrote, finished or temporary."""
    remove_files(batch_files(settings, site_id, source, batch_id))
    remove_files(batch_row_files(settings, site_id, source, batch_id))
    shutil.rmtree(files_dir(settings, batch_id), ignore_errors=True)


def _as_utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _owner_alive(job: ImportJob) -> bool:
    """Whether the process that started ``job`` still runs (on this host, other than us)."""
    details = job.details or {}
    pid = details.get("pid")
    if details.get("host") != HOST or not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True


def _stale(jobs: Iterable[ImportJob]) -> list[ImportJob]:
    return [
        job
        for job in jobs
        if _as_utc(job.started_at) < PROCESS_STARTED_AT and not _owner_alive(job)
    ]


def recover_interrupted(settings: Settings, store: StateStore) -> list[str]:
    """Clean up after imports whose process died: ``running`` jobs started before this process
    whose owner is gone lose their lake and quarantine files and become ``failed``.

    Returns the batch ids recovered.
    """
    recovered = []
    for job in _stale(store.jobs(status="running")):
        remove_batch_output(settings, job.site_id, job.source, job.batch_id)
        store.update_job(
            job.batch_id,
            status="failed",
            finished_at=utcnow(),
            error="interrupted: the importing process ended before the batch was committed; "
            "its partial output was removed",
        )
        log.warning("recovered interrupted import batch %s", job.batch_id)
        recovered.append(job.batch_id)
    return recovered


def rollback_batch(settings: Settings, store: StateStore, batch_id: str) -> ImportJob:
    """Undo a committed batch: its lake files and quarantine rows are removed and the job
    becomes ``rolled_back`` (the same bytes can then be imported again).

    The job changes status first, so readers that filter on committed batches stop seeing the
    batch before any file goes; calling it again finishes an interrupted rollback. The days the
    batch held are recorded as days to rebuild (before any file goes): the next build rewrites
    them in every day-partitioned model, emptying a day that has no reading left.
    """
    job = store.get_job(batch_id)
    if job is None:
        raise KeyError(f"no import job {batch_id!r}")
    if job.status not in ("committed", "rolled_back"):
        raise ValueError(
            f"batch {batch_id} is {job.status}; only committed batches can be rolled back"
        )
    if job.status == "committed":
        job = store.update_job(batch_id, status="rolled_back", rolled_back_at=utcnow())
    files = batch_files(settings, job.site_id, job.source, batch_id)
    # materials records sit in no day folder: their models are rebuilt whole, not by day
    days = sorted(
        {path.parent.name.removeprefix("day=") for path in files if path.parent.name[:4] == "day="}
    )
    if days:
        store.add_rebuild_days(job.site_id, days, batch_id, f"batch {batch_id} rolled back")
    remove_files(files)
    remove_files(batch_row_files(settings, job.site_id, job.source, batch_id))
    return job


def days_to_rebuild(settings: Settings) -> list[str]:
    """Site-local days (of any site) that a rolled-back batch emptied or changed and no build
    has rewritten since: a build's window must cover them."""
    store = StateStore(settings.state_store_url)
    try:
        return sorted({row.day for row in store.rebuild_days()})
    finally:
        store.dispose()


def mark_days_rebuilt(
    settings: Settings, first: str | None, last: str | None, started_at: dt.datetime
) -> int:
    """A build that started at ``started_at`` rewrote ``first`` .. ``last`` (None: every day):
    those days no longer wait. Returns how many days were waiting."""
    store = StateStore(settings.state_store_url)
    try:
        return store.clear_rebuild_days(first, last, started_at)
    finally:
        store.dispose()
