"""Importing the landing folder (or one file of it) into the raw lake.

Files are imported in name order, one job each (:mod:`ingestion.files.jobs`). While one file's
readings are written to the lake, the next file is read and parsed: on two cores that overlap
took a year of daily 500-meter files from ~600 k to ~900 k readings/s. Imports into one home
take turns (a file lock), so two runs that both listed a file never both import it.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ingestion.files.jobs import FileImport, ImportResult, ImportRun, describe, match_layout
from ingestion.files.landing import LandedFile
from ingestion.files.limits import MIB, ImportLimits
from ingestion.files.recovery import recover_interrupted
from ingestion.lake import import_lock
from siteledger.settings import Settings
from siteledger.site.materials import RecordLayout
from siteledger.site.metering import METERING_KINDS, MeteringLayout
from siteledger.site.models import FileLayout, SiteConfig
from siteledger.state.store import StateStore

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]
# A file this big is not parsed while another is being written: two 1 GiB files in memory at
# once would pass the 4 GiB the importer is sized for.
BIG_FILE_BYTES = 64 * MIB


def import_landing(
    settings: Settings,
    site: SiteConfig,
    store: StateStore,
    progress: ProgressCallback | None = None,
    *,
    limits: ImportLimits | None = None,
) -> list[ImportResult]:
    """Import every file in the landing folder, in name order; one bad file never stops the rest.

    Files that match no layout of ``site`` are reported as ``unmatched`` and left in place.
    ``progress(done, total, name)`` is called after each file.
    """
    settings.ensure_dirs()
    run = ImportRun(settings, site, store, limits or ImportLimits.from_env())
    with import_lock(settings):
        recover_interrupted(settings, store)
        paths = _in_kind_order(site, _landing_entries(settings.landing))
        return _Pipeline(run, paths, progress).import_all()


def import_file(
    settings: Settings,
    site: SiteConfig,
    store: StateStore,
    path: str | os.PathLike[str],
    layout: FileLayout | None = None,
    *,
    limits: ImportLimits | None = None,
) -> ImportResult:
    """Import one file of the landing folder (``layout`` defaults to the one its name matches).

    A path outside the landing folder, or a symbolic link, is rejected and left untouched.
    """
    settings.ensure_dirs()
    run = ImportRun(settings, site, store, limits or ImportLimits.from_env())
    with import_lock(settings):
        recover_interrupted(settings, store)
        job = FileImport(run, Path(path), layout)
        done = _guarded(job, lambda: job.prepare(lambda landed: None))
        return done if done is not None else _complete(job)


def _landing_entries(landing: Path) -> list[Path]:
    with os.scandir(landing) as entries:
        names = sorted(e.name for e in entries if not e.is_dir(follow_symlinks=False))
    return [landing / name for name in names]


def _in_kind_order(site: SiteConfig, paths: list[Path]) -> list[Path]:
    """Name order, but metering record files after the rest and in the order their checks need:
    customers, meters, vouchers, purchases, readings, events, maintenance (a meter's customer,
    a purchase's voucher and a reading's meter are then committed when the file is checked)."""

    def rank(path: Path) -> int:
        layout = match_layout(site, path.name)
        return METERING_KINDS.index(layout.kind) if isinstance(layout, MeteringLayout) else -1

    return sorted(paths, key=rank)


def _size(path: Path) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def _guarded(job: FileImport, step: Callable[[], ImportResult | None]) -> ImportResult | None:
    """Run a step; an error the job could not record itself becomes a ``failed`` result."""
    try:
        return step()
    except Exception as exc:
        log.exception("import of %s failed", job.name)
        layout_id = job.layout.id if job.layout else None
        return ImportResult(None, job.name, layout_id, "failed", error=describe(exc))


def _complete(job: FileImport) -> ImportResult:
    result = _guarded(job, job.complete)
    assert result is not None  # complete() always ends with a result
    return result


class _Pipeline:
    """Imports files in order, writing one file while the next is read and parsed.

    At most one file is being written. A big file waits for that write to finish before it is
    read, a file with the same bytes before its duplicate check (which must see the commit),
    and a materials or metering record file before it is parsed (its keys are checked against
    committed batches).
    """

    def __init__(self, run: ImportRun, paths: list[Path], progress: ProgressCallback | None):
        self.run = run
        self.paths = paths
        self.progress = progress
        self.results: list[ImportResult] = []
        self.writing: tuple[FileImport, Future[ImportResult]] | None = None

    def import_all(self) -> list[ImportResult]:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lake-writer") as writer:
            for path in self.paths:
                if _size(path) >= BIG_FILE_BYTES:
                    self._wait()
                job = FileImport(self.run, path)
                if isinstance(job.layout, RecordLayout | MeteringLayout):
                    # a record file's duplicate keys are checked against committed batches:
                    # the file written before it must have committed first
                    self._wait()
                done = _guarded(job, functools.partial(job.prepare, self._settle))
                self._wait()
                if done is not None:
                    self._collect(done)
                else:
                    self.writing = (job, writer.submit(_complete, job))
            self._wait()
        return self.results

    def _settle(self, landed: LandedFile) -> None:
        if self.writing is not None and self.writing[0].sha256 == landed.sha256:
            self._wait()

    def _wait(self) -> None:
        if self.writing is not None:
            _, future = self.writing
            self.writing = None
            self._collect(future.result())

    def _collect(self, result: ImportResult) -> None:
        self.results.append(result)
        if self.progress is not None:
            self.progress(len(self.results), len(self.paths), result.file_name)
