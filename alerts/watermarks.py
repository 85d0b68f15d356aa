"""How far each alert (rule and scope) has been evaluated in its source's time, so that an
evaluation reads only new rows and re-evaluating the same data changes nothing — not even for
alerts that opened and closed long ago."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import cast

from sqlalchemy import DateTime, String, Table, select
from sqlalchemy.orm import Mapped, mapped_column

from siteledger.state.store import Base, StateStore, utcnow


class AlertWatermark(Base):
    __tablename__ = "alert_watermarks"

    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32), primary_key=True)
    observed_at: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def ensure_table(store: StateStore) -> None:
    Base.metadata.create_all(store.engine, tables=[cast(Table, AlertWatermark.__table__)])


def load(store: StateStore, rule_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """rule id -> fingerprint -> last observed time, for ``rule_ids``."""
    ids = sorted(set(rule_ids))
    out: dict[str, dict[str, str]] = {rule_id: {} for rule_id in ids}
    if not ids:
        return out
    with store.session() as s:
        for rule_id, fp, observed in s.execute(
            select(
                AlertWatermark.rule_id, AlertWatermark.fingerprint, AlertWatermark.observed_at
            ).where(AlertWatermark.rule_id.in_(ids))
        ):
            out[rule_id][fp] = observed
    return out


def advance(store: StateStore, marks: Mapping[tuple[str, str], str]) -> None:
    """Move each (rule id, fingerprint) watermark forward to its time (never back)."""
    if not marks:
        return
    now = utcnow()
    with store.session() as s:
        existing = {
            (w.rule_id, w.fingerprint): w
            for w in s.scalars(
                select(AlertWatermark).where(
                    AlertWatermark.rule_id.in_(sorted({rule for rule, _ in marks}))
                )
            )
        }
        for (rule_id, fp), observed in marks.items():
            row = existing.get((rule_id, fp))
            if row is None:
                s.add(
                    AlertWatermark(
                        rule_id=rule_id, fingerprint=fp, observed_at=observed, updated_at=now
                    )
                )
            elif observed > row.observed_at:
                row.observed_at = observed
                row.updated_at = now
