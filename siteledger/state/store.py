"""The operational state store: import jobs, published versions and the audits before them;
alerts, reports and deliveries join it later.

Not DuckDB: it takes small concurrent writes from several processes (a run, an operator's CLI).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_batch_id() -> str:
    """Sortable, unique batch id: UTC time then random suffix."""
    return utcnow().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:12]


class Base(DeclarativeBase):
    pass


class ImportJob(Base):
    """One attempt to import one input (a file or a spool segment) into the raw lake."""

    __tablename__ = "import_jobs"

    batch_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    source_file: Mapped[str] = mapped_column(String(512))
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    # running -> committed | quarantined | failed | duplicate; committed -> rolled_back
    status: Mapped[str] = mapped_column(String(16), index=True)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported_rows: Mapped[int] = mapped_column(Integer, default=0)
    skipped_rows: Mapped[int] = mapped_column(Integer, default=0)
    failed_rows: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rolled_back_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )

    def as_dict(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


class WarehouseVersion(Base):
    """One published version of the warehouse that BI tools read."""

    __tablename__ = "warehouse_versions"

    version_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # current -> superseded (a newer publish) | rolled_back (restored away from)
    status: Mapped[str] = mapped_column(String(16), index=True)
    path: Mapped[str] = mapped_column(String(1024))
    tables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # name -> row count
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def as_dict(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


class PublishAudit(Base):
    """One audit of the build warehouse before publishing: passed (and published) or rejected.

    A rejected build is not published; the previous version keeps serving and ``failures`` says
    why (one entry per failed audit: name, detail, offending rows).
    """

    __tablename__ = "publish_audits"

    audit_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # passed (the build was published as version_id) | rejected (nothing was published)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    version_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    serving_version_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    audited_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def as_dict(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


class RebuildDay(Base):
    """A site-local day whose lake readings changed outside an import (a rolled-back batch):
    the next build must rewrite it in every day-partitioned model, even where no reading is
    left, so it widens that build's window until a build covering it succeeds."""

    __tablename__ = "rebuild_days"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, site-local
    batch_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def as_dict(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the CLI, the UI) work while a run writes; busy_timeout waits out a writer.
    cursor.execute("PRAGMA journal_mode=WAL")
    # in WAL mode NORMAL is still crash-safe (a commit may be lost on power failure, never torn)
    # and saves an fsync per transaction: ~5 ms per import job here
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class StateStore:
    """Thin access layer over the state store database."""

    def __init__(self, url: str):
        self.url = url
        self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # -- import jobs ---------------------------------------------------------------------------
    def add_job(self, job: ImportJob) -> ImportJob:
        with self.session() as s:
            s.add(job)
        return job

    def update_job(self, batch_id: str, **fields: Any) -> ImportJob:
        with self.session() as s:
            job = s.get(ImportJob, batch_id)
            if job is None:
                raise KeyError(f"no import job {batch_id!r}")
            for key, value in fields.items():
                setattr(job, key, value)
        return job

    def get_job(self, batch_id: str) -> ImportJob | None:
        with self.session() as s:
            return s.get(ImportJob, batch_id)

    def committed_job_for_content(self, site_id: str, sha256: str) -> ImportJob | None:
        """The committed import of the same bytes for a site, if there is one."""
        with self.session() as s:
            return s.scalars(
                select(ImportJob)
                .where(ImportJob.site_id == site_id)
                .where(ImportJob.content_sha256 == sha256)
                .where(ImportJob.status == "committed")
                .limit(1)
            ).first()

    def jobs(self, site_id: str | None = None, status: str | None = None) -> list[ImportJob]:
        with self.session() as s:
            query = select(ImportJob).order_by(ImportJob.started_at, ImportJob.batch_id)
            if site_id:
                query = query.where(ImportJob.site_id == site_id)
            if status:
                query = query.where(ImportJob.status == status)
            return list(s.scalars(query))

    # -- days to rebuild ----------------------------------------------------------------------
    def add_rebuild_days(
        self, site_id: str, days: list[str], batch_id: str | None, reason: str
    ) -> None:
        """Record days the next build must rewrite (again: the newest record counts)."""
        now = utcnow()
        with self.session() as s:
            for day in sorted(set(days)):
                row = s.get(RebuildDay, (site_id, day))
                if row is None:
                    row = RebuildDay(site_id=site_id, day=day)
                    s.add(row)
                row.batch_id, row.reason, row.recorded_at = batch_id, reason, now

    def rebuild_days(self, site_id: str | None = None) -> list[RebuildDay]:
        """Days waiting for a build, by site and day."""
        with self.session() as s:
            query = select(RebuildDay).order_by(RebuildDay.site_id, RebuildDay.day)
            if site_id:
                query = query.where(RebuildDay.site_id == site_id)
            return list(s.scalars(query))

    def clear_rebuild_days(
        self,
        first: str | None,
        last: str | None,
        recorded_before: dt.datetime,
        site_id: str | None = None,
    ) -> int:
        """Forget the days a build that started at ``recorded_before`` rewrote (``first`` ..
        ``last`` inclusive, None: no bound); a day recorded again since stays. Returns how many."""
        with self.session() as s:
            query = select(RebuildDay).where(RebuildDay.recorded_at < recorded_before)
            if first is not None:
                query = query.where(RebuildDay.day >= first)
            if last is not None:
                query = query.where(RebuildDay.day <= last)
            if site_id:
                query = query.where(RebuildDay.site_id == site_id)
            rows = list(s.scalars(query))
            for row in rows:
                s.delete(row)
            return len(rows)

    # -- warehouse versions ------------------------------------------------------------------
    def warehouse_versions(self) -> list[WarehouseVersion]:
        """Published versions, oldest first."""
        with self.session() as s:
            query = select(WarehouseVersion).order_by(
                WarehouseVersion.published_at, WarehouseVersion.version_id
            )
            return list(s.scalars(query))

    # -- publish audits ----------------------------------------------------------------------
    def add_publish_audit(self, audit: PublishAudit) -> PublishAudit:
        with self.session() as s:
            s.add(audit)
        return audit

    def publish_audits(self, limit: int | None = None) -> list[PublishAudit]:
        """Audits before publishing, newest first."""
        with self.session() as s:
            query = select(PublishAudit).order_by(
                PublishAudit.audited_at.desc(), PublishAudit.audit_id.desc()
            )
            if limit:
                query = query.limit(limit)
            return list(s.scalars(query))

    def dispose(self) -> None:
        self.engine.dispose()
