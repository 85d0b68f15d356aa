"""One file's way from the landing folder to the lake, the archive or the quarantine.

Each file is one import job in the state store. The job is ``running`` while its output is
written and becomes ``committed`` (or ``quarantined``, ``duplicate``) only after every lake and
quarantine file is in place; only then does the file leave the landing folder. A process that
dies in between leaves a ``running`` job that the next run cleans up
(:func:`ingestion.files.recovery.recover_interrupted`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ingestion.files.errors import FileRejected, FileVanished
from ingestion.files.excel import parse_excel
from ingestion.files.home_assistant import HomeAssistantParsed, parse_history, parse_statistics
from ingestion.files.lab import LabContext, LabParsed, parse_lab
from ingestion.files.landing import LandedFile, is_inside, read_landed_file
from ingestion.files.limits import ImportLimits
from ingestion.files.long import parse_long_csv
from ingestion.files.names import sanitise_name
from ingestion.files.parsed import ParseContext, Parsed
from ingestion.files.quarantine import (
    QuarantineRows,
    files_dir,
    write_bytes_atomic,
    write_json_atomic,
    write_rows,
)
from ingestion.files.records import RecordContext, RecordsParsed, parse_records
from ingestion.files.recovery import HOST, remove_batch_output
from ingestion.files.text import utf8_text
from ingestion.files.wide import parse_wide
from ingestion.plausible import plausible_range
from siteledger.settings import Settings
from siteledger.site.materials import RecordLayout
from siteledger.site.metering import MeteringLayout
from siteledger.site.models import FileLayout, SiteConfig
from siteledger.site.water_quality import LabLayout
from siteledger.state.store import ImportJob, StateStore, new_batch_id, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ImportResult:
    """The outcome of importing one file.

    ``status`` is ``committed``, ``duplicate`` (these bytes were already committed for the
    site), ``quarantined`` (the whole file was rejected), ``failed`` (an error stopped the
    import; the file stays in landing) or ``unmatched`` (no layout of the site matches the
    name; the file stays in landing). ``total == imported + skipped + failed``.
    """

    batch_id: str | None
    file_name: str
    layout_id: str | None
    status: str
    total: int = 0
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    lake_files: tuple[Path, ...] = ()
    error: str | None = None


def match_layout(site: SiteConfig, name: str) -> FileLayout | None:
    """The first layout whose pattern matches the file name (case-sensitive glob): the readings
    layouts first, then the lab result layouts (``water_quality.lab_layouts``), then the
    materials record layouts (``materials.layouts``), then the metering record layouts
    (``metering.layouts``)."""
    layouts = [
        *site.file_layouts,
        *site.water_quality.lab_layouts,
        *site.materials.layouts,
        *site.metering.layouts,
    ]
    return next((lay for lay in layouts if fnmatch.fnmatchcase(name, lay.pattern)), None)


@dataclass
class ImportRun:
    """What the files of one import run share: where, which site, and parse contexts."""

    settings: Settings
    site: SiteConfig
    store: StateStore
    limits: ImportLimits
    contexts: dict[str, ParseContext | LabContext | RecordContext] = field(default_factory=dict)

    def context(self, layout: FileLayout) -> ParseContext | LabContext | RecordContext:
        if layout.id not in self.contexts:
            if isinstance(layout, RecordLayout | MeteringLayout):
                self.contexts[layout.id] = RecordContext.build(
                    self.settings, self.store, self.site, layout, self.limits
                )
            elif isinstance(layout, LabLayout):
                self.contexts[layout.id] = LabContext.build(self.site, layout, self.limits)
            else:
                plausible = plausible_range(self.settings, self.site)
                self.contexts[layout.id] = ParseContext.build(
                    self.site, layout, self.limits, plausible
                )
        return self.contexts[layout.id]


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _printable_name(name: str) -> str:
    """The name as it arrived, with undecodable bytes as escapes, for the audit trail."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def parse(
    data: bytes, ctx: ParseContext | LabContext | RecordContext
) -> Parsed | LabParsed | RecordsParsed:
    """Readings (or lab results, or materials or metering records) and quarantined rows of a
    file's bytes, by its layout's format."""
    if isinstance(ctx, RecordContext):
        return parse_records(data, ctx)
    if isinstance(ctx, LabContext):
        return parse_lab(data, ctx)
    if ctx.layout.format == "excel_long":
        return parse_excel(data, ctx)
    if ctx.layout.format == "home_assistant_statistics":
        return parse_statistics(data, ctx)
    if ctx.layout.format == "home_assistant_history":
        return parse_history(data, ctx)
    text = utf8_text(data, ctx.layout.encoding, ctx.limits)
    if ctx.layout.format == "csv_wide":
        return parse_wide(text, ctx)
    return parse_long_csv(text, ctx)


class FileImport:
    """The import job of one file, in two steps so that a run can write one file while it
    parses the next: :meth:`prepare` (read, check, parse) and :meth:`complete` (write, commit,
    archive)."""

    def __init__(self, run: ImportRun, path: Path, layout: FileLayout | None = None):
        self.run = run
        self.settings = run.settings
        self.store = run.store
        self.path = path
        self.name = sanitise_name(path.name)
        self.layout = layout or match_layout(run.site, path.name)
        self.batch_id = new_batch_id()
        self.details: dict[str, Any] = {}
        self.landed: LandedFile | None = None
        self.parsed: Parsed | LabParsed | RecordsParsed | None = None

    @property
    def site_id(self) -> str:
        return self.run.site.site.id

    @property
    def source(self) -> str:
        return self.layout.id if self.layout else "unknown"

    @property
    def sha256(self) -> str | None:
        return self.landed.sha256 if self.landed else None

    def prepare(self, before_parse: Callable[[LandedFile], None]) -> ImportResult | None:
        """Read and parse the file; returns its result when it is done already (unmatched,
        rejected, a duplicate, failed), or None when :meth:`complete` is to write it.

        ``before_parse`` is called with the bytes read, before the duplicate check.
        """
        if self.layout is None and is_inside(self.path, self.settings.landing):
            return ImportResult(
                None,
                self.name,
                None,
                "unmatched",
                error=f"no file layout of site {self.site_id!r} matches the name",
            )
        try:
            landed = read_landed_file(self.path, self.settings.landing, self.run.limits)
        except FileVanished:
            self._start(sha256="", size=0)
            return self._guard(self._vanished)
        except FileRejected as exc:
            reason = exc.reason
            self._start(sha256="", size=self._size_on_disk())
            return self._guard(lambda: self._quarantine_file(reason, None))
        self.landed = landed
        self._start(landed.sha256, landed.size)
        before_parse(landed)
        return self._guard(self._parse)

    def complete(self) -> ImportResult:
        """Write the parsed readings and quarantined rows, commit, and archive the file."""
        return self._guard(self._commit)

    def _start(self, sha256: str, size: int) -> None:
        details = self._details(
            layout=self.layout.id if self.layout else None,
            original_name=_printable_name(self.path.name),
            pid=os.getpid(),
            host=HOST,
        )
        self.store.add_job(
            ImportJob(
                batch_id=self.batch_id,
                site_id=self.site_id,
                source=self.source,
                source_file=self.name,
                content_sha256=sha256,
                size_bytes=size,
                status="running",
                details=details,
                started_at=utcnow(),
            )
        )

    def _guard(self, step: Callable[[], T]) -> T | ImportResult:
        """Run a step of a recorded job; an error removes its output and fails the job."""
        try:
            return step()
        except Exception as exc:
            log.exception("import of %s (batch %s) failed", self.name, self.batch_id)
            remove_batch_output(self.settings, self.site_id, self.source, self.batch_id)
            message = describe(exc)
            self._finish("failed", error=message)
            return self._result("failed", error=message)

    def _finish(self, status: str, **fields: Any) -> ImportJob:
        return self.store.update_job(self.batch_id, status=status, finished_at=utcnow(), **fields)

    def _result(
        self, status: str, lake_files: tuple[Path, ...] = (), error: str | None = None
    ) -> ImportResult:
        layout_id = self.layout.id if self.layout else None
        counts = (0, 0, 0, 0)
        if self.parsed is not None and status == "committed":
            parsed = self.parsed
            counts = (parsed.total, parsed.imported, parsed.skipped, parsed.failed)
        return ImportResult(
            self.batch_id, self.name, layout_id, status, *counts, lake_files=lake_files, error=error
        )

    def _size_on_disk(self) -> int:
        try:
            return os.lstat(self.path).st_size
        except OSError:
            return 0

    def _details(self, **extra: Any) -> dict[str, Any]:
        """The job's details so far with ``extra`` added (kept here, not re-read)."""
        self.details = {**self.details, **extra}
        return self.details

    def _relative(self, path: Path) -> str:
        return str(path.relative_to(self.settings.home))

    def _parse(self) -> ImportResult | None:
        landed = self.landed
        assert landed is not None and self.layout is not None  # set by prepare()
        earlier = self.store.committed_job_for_content(self.site_id, landed.sha256)
        if earlier is not None:
            details = self._details(duplicate_of=earlier.batch_id, archived_to=self._archived())
            self._finish("duplicate", details=details)
            self._tidy(self._archive)
            return self._result("duplicate")
        try:
            self.parsed = parse(landed.data, self.run.context(self.layout))
        except FileRejected as exc:
            return self._quarantine_file(exc.reason, landed)
        landed.release()
        return None

    def _commit(self) -> ImportResult:
        parsed = self.parsed
        assert parsed is not None  # set by prepare()
        loaded_at = utcnow()
        where = (self.settings, self.site_id, self.source, self.batch_id, self.name)
        files = parsed.write(*where, loaded_at)
        rows_path = write_rows(*where, parsed.quarantine, loaded_at)
        # what a Home Assistant file adds: skipped states by reason, unmatched statistics, resets
        extra = parsed.details() if isinstance(parsed, HomeAssistantParsed) else {}
        self._finish(
            "committed",
            total_rows=parsed.total,
            imported_rows=parsed.imported,
            skipped_rows=parsed.skipped,
            failed_rows=parsed.failed,
            details=self._details(
                lake_files=[self._relative(p) for p in files],
                quarantine_rows=self._relative(rows_path) if rows_path else None,
                archived_to=self._archived(),
                **extra,
            ),
        )
        self._tidy(self._archive)
        log.info(
            "%s: %d rows, %d skipped, %d quarantined (batch %s)",
            self.name,
            parsed.imported,
            parsed.skipped,
            parsed.failed,
            self.batch_id,
        )
        return self._result("committed", lake_files=tuple(files))

    def _tidy(self, step: Callable[[], None]) -> None:
        """Run a step that follows the job's final status: a file system error is logged and
        noted on the job, but never undoes a commit or a quarantine."""
        try:
            step()
        except OSError as exc:
            log.warning("%s (batch %s): %s", self.name, self.batch_id, describe(exc))
            self.store.update_job(self.batch_id, details=self._details(tidy_error=describe(exc)))

    def _archived(self) -> str:
        """Where the file goes in the archive, relative to home (recorded with the final
        status, so that archiving costs no extra state store write)."""
        return self._relative(self.settings.archive / f"{self.batch_id}__{self.name}")

    def _archive(self) -> None:
        """Move the imported file to the archive.

        A file replaced or removed in landing since it was read is left alone (a new file of
        the same name is a new drop); the job then says the batch has no archive copy.
        """
        assert self.landed is not None  # only archived after it was read
        target = self.settings.home / self._archived()
        if self.landed.still_there() and _move_regular(self.path, target):
            return
        log.warning(
            "%s changed in landing before it was archived (batch %s)", self.name, self.batch_id
        )
        self.store.update_job(self.batch_id, details=self._details(archived_to=None))

    def _vanished(self) -> ImportResult:
        reason = "file vanished from the landing folder before it could be read"
        rows = QuarantineRows()
        rows.add(None, reason)
        write_rows(
            self.settings, self.site_id, self.source, self.batch_id, self.name, rows, utcnow()
        )
        self._finish("failed", error=reason)
        return self._result("failed", error=reason)

    def _quarantine_file(self, reason: str, landed: LandedFile | None) -> ImportResult:
        """Reject the whole file: keep a copy and ``reason.json``, and one quarantine row.

        The copy is the bytes already read when there are some; otherwise a regular file
        inside landing is moved over, but only once the job says ``quarantined`` (so recovery
        of an interrupted job never deletes the only copy). A symbolic link or other special
        file is removed without being followed, and a path outside landing is left alone.
        """
        folder = files_dir(self.settings, self.batch_id)
        if landed is not None:
            write_bytes_atomic(landed.data, folder / self.name)
        now = utcnow()
        rows = QuarantineRows()
        rows.add(None, reason)
        write_rows(self.settings, self.site_id, self.source, self.batch_id, self.name, rows, now)
        self._finish(
            "quarantined",
            error=reason,
            details=self._details(quarantined_to=self._relative(folder)),
        )
        self._tidy(lambda: self._set_aside(reason, landed, now))
        log.warning("%s quarantined (batch %s): %s", self.name, self.batch_id, reason)
        return self._result("quarantined", error=reason)

    def _set_aside(self, reason: str, landed: LandedFile | None, now: dt.datetime) -> None:
        """Take a rejected file out of landing and write its ``reason.json``."""
        folder = files_dir(self.settings, self.batch_id)
        copied = self._take_out_of_landing(landed, folder / self.name)
        write_json_atomic(
            {
                "batch_id": self.batch_id,
                "site_id": self.site_id,
                "layout": self.layout.id if self.layout else None,
                "file": self.name,
                "original_name": _printable_name(self.path.name),
                "reason": reason,
                "kept_copy": self.name if copied else None,
                "quarantined_at": now.isoformat(),
            },
            folder / "reason.json",
        )

    def _take_out_of_landing(self, landed: LandedFile | None, kept: Path) -> bool:
        """Remove a rejected file from landing; returns whether ``kept`` holds a copy."""
        if not is_inside(self.path, self.settings.landing):
            return False
        if landed is not None:
            if landed.still_there():
                _unlink_quietly(self.path)
            return True
        if _is_regular(self.path):
            kept.parent.mkdir(parents=True, exist_ok=True)
            return _move_regular(self.path, kept)
        # a link, FIFO or socket: removing the entry neither follows nor opens it
        _unlink_quietly(self.path)
        return False


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _move_regular(source: Path, target: Path) -> bool:
    """Rename ``source`` to ``target``; if what arrived is not a regular file, drop it."""
    try:
        os.replace(source, target)
    except FileNotFoundError:
        return False
    if not _is_regular(target):
        _unlink_quietly(target)
        return False
    return True
