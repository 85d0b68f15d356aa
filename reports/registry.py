"""The report registry and audit trail, in the state store.

Every generated report is a row: id, definition, type, site, period, version, status, validation
errors, the content hash of its figures, the published-warehouse version it was read from, its
artifacts (path and SHA-256 per format), who generated and submitted it and when. Statuses:
``draft`` (a requirement is breached or the period is incomplete) -> ``validated`` ->
``submitted``; ``rejected`` by the regulator or an officer; ``superseded`` when a newer version of
the same period replaces one that was never submitted. A newer version of a period that was
submitted carries the diff of every figure against the submitted one: restatements are visible.
Every delivery attempt (S3, e-mail) is a row of ``report_deliveries``.
"""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from siteledger.state.store import Base, StateStore, utcnow

PERIOD_KEY_LENGTH = 64  # a lot id (siteledger identifiers are at most 64 characters)
STATUSES = ("draft", "validated", "submitted", "rejected", "superseded")
_TRANSITIONS = {
    "draft": {"rejected", "superseded"},
    "validated": {"submitted", "rejected", "superseded"},
    "submitted": {"rejected"},
    "rejected": set(),
    "superseded": set(),
}


class RegistryError(RuntimeError):
    pass


class ReportRecord(Base):
    """One version of one report (definition x site x period)."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("definition_id", "site_id", "period_key", "version"),)

    report_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(64), index=True)
    report_type: Mapped[str] = mapped_column(String(64))
    regulator: Mapped[str] = mapped_column(String(128))
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    period_kind: Mapped[str] = mapped_column(String(16))
    # a period's key (2026-03, FY2026-Q1), or a lot id for a per-lot document
    period_key: Mapped[str] = mapped_column(String(PERIOD_KEY_LENGTH), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(8), default="m3")  # volumes in the artifacts
    status: Mapped[str] = mapped_column(String(16), index=True)
    validation_errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    requirements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    definition_hash: Mapped[str] = mapped_column(String(64))
    warehouse_version: Mapped[str] = mapped_column(String(40))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    artifacts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    diff: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    diff_against: Mapped[str | None] = mapped_column(String(64), nullable=True)
    generated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    generated_by: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    submitted_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status_note: Mapped[str | None] = mapped_column(Text, nullable=True)

    def as_dict(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


class DeliveryAttempt(Base):
    """One attempt to deliver one report over one channel."""

    __tablename__ = "report_deliveries"

    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.report_id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # s3 | email
    target: Mapped[str] = mapped_column(String(512))  # bucket/key or recipients; never secrets
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # succeeded | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def as_dict(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


TABLES = [ReportRecord.__table__, DeliveryAttempt.__table__]


def new_report_id(definition_id: str, site_id: str, period_key: str, version: int) -> str:
    return f"{definition_id}.{site_id}.{period_key}.v{version}-{uuid.uuid4().hex[:6]}"


def flatten(figures: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested figures as ``a.b.c -> number`` for the diff between versions."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flatten(value, name + ".")
        else:
            out[name] = value
    return out


def diff_figures(
    old: dict[str, Any], new: dict[str, Any], tolerance: float = 1e-9
) -> list[dict[str, Any]]:
    """Every figure that changed, old -> new."""
    a, b = flatten(old), flatten(new)
    changes = []
    for key in sorted(set(a) | set(b)):
        before, after = a.get(key), b.get(key)
        if isinstance(before, int | float) and isinstance(after, int | float):
            if abs(before - after) <= tolerance * max(1.0, abs(before)):
                continue
        elif before == after:
            continue
        changes.append({"figure": key, "old": before, "new": after})
    return changes


def _widen_period_key(engine: Engine) -> None:
    """Registries created before per-lot documents hold period keys in 16 characters, which
    PostgreSQL enforces (SQLite does not): widen the column to hold a lot id."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as con:
        length = con.execute(
            text(
                "select character_maximum_length from information_schema.columns "
                "where table_schema = current_schema() and table_name = 'reports' "
                "and column_name = 'period_key'"
            )
        ).scalar()
        if length is not None and length < PERIOD_KEY_LENGTH:
            con.execute(
                text(
                    f"alter table reports alter column period_key type varchar({PERIOD_KEY_LENGTH})"
                )
            )


class Registry:
    def __init__(self, store: StateStore):
        self.store = store
        Base.metadata.create_all(store.engine, tables=cast("list[Table]", TABLES))
        _widen_period_key(store.engine)

    def versions(self, definition_id: str, site_id: str, period_key: str) -> list[ReportRecord]:
        with self.store.session() as s:
            return list(
                s.scalars(
                    select(ReportRecord)
                    .where(ReportRecord.definition_id == definition_id)
                    .where(ReportRecord.site_id == site_id)
                    .where(ReportRecord.period_key == period_key)
                    .order_by(ReportRecord.version)
                )
            )

    def get(self, report_id: str) -> ReportRecord:
        with self.store.session() as s:
            record = s.get(ReportRecord, report_id)
        if record is None:
            raise RegistryError(f"no report {report_id!r}")
        return record

    def find(self, prefix: str) -> ReportRecord:
        """A report by its id or an unambiguous prefix of it."""
        with self.store.session() as s:
            exact = s.get(ReportRecord, prefix)
            if exact is not None:
                return exact
            matches = list(
                s.scalars(select(ReportRecord).where(ReportRecord.report_id.startswith(prefix)))
            )
        if len(matches) != 1:
            raise RegistryError(
                f"no report {prefix!r}"
                if not matches
                else f"{prefix!r} matches {len(matches)} reports"
            )
        return matches[0]

    def list(
        self,
        site_id: str | None = None,
        status: str | None = None,
        definition_id: str | None = None,
        latest_only: bool = False,
    ) -> list[ReportRecord]:
        with self.store.session() as s:
            query = select(ReportRecord).order_by(
                ReportRecord.site_id,
                ReportRecord.definition_id,
                ReportRecord.period_start,
                ReportRecord.version,
            )
            if site_id:
                query = query.where(ReportRecord.site_id == site_id)
            if status:
                query = query.where(ReportRecord.status == status)
            if definition_id:
                query = query.where(ReportRecord.definition_id == definition_id)
            rows = list(s.scalars(query))
        if latest_only:
            latest: dict[tuple[str, str, str], ReportRecord] = {}
            for row in rows:
                latest[(row.definition_id, row.site_id, row.period_key)] = row
            rows = list(latest.values())
        return rows

    def add(self, record: ReportRecord) -> ReportRecord:
        """Insert a new version; an older unsubmitted version of the period is superseded."""
        with self.store.session() as s:
            for old in s.scalars(
                select(ReportRecord)
                .where(ReportRecord.definition_id == record.definition_id)
                .where(ReportRecord.site_id == record.site_id)
                .where(ReportRecord.period_key == record.period_key)
                .where(ReportRecord.status.in_(("draft", "validated")))
            ):
                old.status = "superseded"
                old.status_note = f"superseded by version {record.version}"
            s.add(record)
            try:
                s.flush()
            except IntegrityError as exc:
                raise RegistryError(
                    f"version {record.version} of {record.definition_id} {record.site_id} "
                    f"{record.period_key} was registered meanwhile by another run; run again"
                ) from exc
        return record

    def set_status(
        self, report_id: str, status: str, by: str, note: str | None = None
    ) -> ReportRecord:
        if status not in STATUSES:
            raise RegistryError(f"unknown status {status!r}")
        with self.store.session() as s:
            record = s.get(ReportRecord, report_id)
            if record is None:
                raise RegistryError(f"no report {report_id!r}")
            if status not in _TRANSITIONS[record.status]:
                hint = ""
                if record.status == "draft" and status == "submitted":
                    hint = (
                        " (fix the validation errors and regenerate: "
                        + "; ".join(record.validation_errors)
                        + ")"
                    )
                raise RegistryError(
                    f"report {report_id} is {record.status}; it cannot become {status}{hint}"
                )
            record.status = status
            record.status_note = note
            if status == "submitted":
                record.submitted_at = utcnow()
                record.submitted_by = by
        return record

    def record_attempt(self, attempt: DeliveryAttempt) -> DeliveryAttempt:
        with self.store.session() as s:
            s.add(attempt)
        return attempt

    def attempts(self, report_id: str) -> builtins.list[DeliveryAttempt]:
        with self.store.session() as s:
            return list(
                s.scalars(
                    select(DeliveryAttempt)
                    .where(DeliveryAttempt.report_id == report_id)
                    .order_by(DeliveryAttempt.attempt_id)
                )
            )
