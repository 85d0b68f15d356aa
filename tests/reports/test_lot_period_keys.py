"""A per-lot document's period key is its lot id, up to 64 characters: a PostgreSQL registry
created before (period keys in 16 characters, which PostgreSQL enforces) is widened once, and
its rows are kept."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError

from reports.registry import Registry, ReportRecord
from siteledger.state.store import StateStore
from tests.postgres import scratch_database

pytestmark = pytest.mark.integration

LOT = "SOAP-2026-03-12-LAVENDER-101A-RETAIN"  # 35 characters


def _record(report_id: str, period_key: str) -> ReportRecord:
    return ReportRecord(
        report_id=report_id,
        definition_id="certificate_of_analysis",
        report_type="certificate_of_analysis",
        regulator="Internal",
        site_id="soap",
        period_kind="lot",
        period_key=period_key,
        period_start=dt.date(2026, 3, 12),
        period_end=dt.date(2026, 3, 14),
        due_date=dt.date(2026, 3, 14),
        version=1,
        status="validated",
        content_hash="0" * 64,
        definition_hash="1" * 64,
        warehouse_version="v",
        generated_by="test",
    )


def test_an_older_registry_is_widened_for_lot_ids():
    with scratch_database() as url:
        store = StateStore(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            # the registry as it was: a 16-character period key, with a report in it
            registry = Registry(store)
            registry.add(_record("monthly.soap.2026-03.v1", "2026-03"))
            with store.engine.begin() as con:
                con.execute(text("alter table reports alter column period_key type varchar(16)"))
            with pytest.raises(DataError, match="value too long"):
                registry.add(_record("coa.soap.long.v1", LOT))
            registry = Registry(store)  # opened again: widened
            registry.add(_record("coa.soap.long.v1", LOT))
            assert [r.period_key for r in registry.list()] == ["2026-03", LOT]
            with store.engine.connect() as con:
                length = con.execute(
                    text(
                        "select character_maximum_length from information_schema.columns "
                        "where table_name = 'reports' and column_name = 'period_key'"
                    )
                ).scalar()
            assert length == 64
        finally:
            store.dispose()
