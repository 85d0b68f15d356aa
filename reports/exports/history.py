"""Every export run, in the state store (table ``export_runs``).

A run is one row: the export, when it started and finished and how long it took, its status
(``running`` -> ``succeeded``, ``partial``: some destinations failed, or ``failed``), the rows
read, each file (format, name, bytes, SHA-256), each destination with its own status, tries and
error, the warehouse version read and the run's error text (secrets scrubbed).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from sqlalchemy import JSON, DateTime, Float, Integer, String, Table, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from siteledger.state.store import Base, StateStore, utcnow

RUN_STATUSES = ("running", "succeeded", "partial", "failed")


class ExportRun(Base):
    """One run of one export."""

    __tablename__ = "export_runs"

    run_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    export_name: Mapped[str] = mapped_column(String(64), index=True)
    trigger: Mapped[str] = mapped_column(String(16), default="manual")  # manual | schedule
    status: Mapped[str] = mapped_column(String(16), index=True)
    as_of: Mapped[str] = mapped_column(String(10))
    source_mart: Mapped[str] = mapped_column(String(128))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    warehouse_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    destinations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    bytes_total: Mapped[int] = mapped_column(Integer, default=0)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    def as_dict(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


class ExportHistory:
    """The export runs of a state store."""

    def __init__(self, store: StateStore):
        self.store = store
        Base.metadata.create_all(store.engine, tables=[cast(Table, ExportRun.__table__)])

    def start(self, export_name: str, as_of: dt.date, source_mart: str, trigger: str) -> str:
        run_id = utcnow().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:12]
        with self.store.session() as s:
            s.add(
                ExportRun(
                    run_id=run_id,
                    export_name=export_name,
                    trigger=trigger,
                    status="running",
                    as_of=as_of.isoformat(),
                    source_mart=source_mart,
                )
            )
        return run_id

    def finish(self, run_id: str, **fields: Any) -> ExportRun:
        with self.store.session() as s:
            run = s.get(ExportRun, run_id)
            if run is None:
                raise KeyError(f"no export run {run_id!r}")
            for key, value in fields.items():
                setattr(run, key, value)
            run.finished_at = utcnow()
            started = run.started_at
            if started.tzinfo is None:  # SQLite hands back naive UTC
                started = started.replace(tzinfo=dt.UTC)
            run.duration_s = (run.finished_at - started).total_seconds()
        return run

    def get(self, run_id: str) -> ExportRun | None:
        with self.store.session() as s:
            return s.get(ExportRun, run_id)

    def runs(self, export_name: str | None = None, limit: int | None = None) -> list[ExportRun]:
        """Runs, newest first."""
        with self.store.session() as s:
            query = select(ExportRun).order_by(ExportRun.started_at.desc(), ExportRun.run_id.desc())
            if export_name:
                query = query.where(ExportRun.export_name == export_name)
            if limit:
                query = query.limit(limit)
            return list(s.scalars(query))
