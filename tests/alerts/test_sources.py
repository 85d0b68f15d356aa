"""The live sources the engine assembles itself: one row per report joins its deadline and its
latest version, so a report that is both overdue and in breach raises both alerts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alerts.engine import Engine
from alerts.rules import load_rules
from alerts.sources import report_rows
from alerts.state import AlertStore
from reports.registry import Registry, ReportRecord
from siteledger.settings import Settings
from siteledger.state import StateStore
from siteledger.state.store import utcnow

NOW = dt.datetime(2025, 8, 20, 6, tzinfo=dt.UTC)  # July's monthly return was due on 14 August


def _report(version: int, breached: bool, status: str = "draft") -> ReportRecord:
    return ReportRecord(
        report_id=f"monthly_water_return.demo_mine.2025-07.v{version}-abc12{version}",
        definition_id="monthly_water_return",
        report_type="monthly_water_return",
        regulator="WA DWER",
        site_id="demo_mine",
        period_kind="monthly",
        period_key="2025-07",
        period_start=dt.date(2025, 7, 1),
        period_end=dt.date(2025, 7, 31),
        due_date=dt.date(2025, 8, 14),
        version=version,
        status=status,
        requirements=[
            {"id": "closure-within-5pct", "passed": True},
            {"id": "discharge-limit", "passed": not breached},
        ],
        content_hash=str(version) * 64,
        definition_hash="1" * 64,
        warehouse_version="wv1",
        generated_at=utcnow(),
        generated_by="tests",
    )


def test_a_report_row_joins_its_deadline_and_its_latest_version(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    (settings.sites_dir / "demo_mine.yaml").write_text("site: {id: demo_mine}\n")
    store = StateStore(settings.state_store_url)
    registry = Registry(store)
    registry.add(_report(1, breached=False))
    registry.add(_report(2, breached=True))  # the latest version breaches

    frame = report_rows(settings, store, NOW)
    (row,) = frame.to_dict("records")
    assert (row["definition_id"], row["period_key"], row["report_id"]) == (
        "monthly_water_return",
        "2025-07",
        "monthly_water_return.demo_mine.2025-07.v2-abc122",
    )
    assert row["hours_to_deadline"] < 0 and row["is_submitted"] == 0.0
    assert row["n_requirements_breached"] == 1.0

    engine = Engine(settings, store, load_rules(settings.home, []), env={})
    result = engine.evaluate(NOW)
    assert "reports_due" not in str(result.errors)
    raised = {e.rule_id for e in AlertStore(store).events(state="open")}
    assert {"report_overdue", "report_requirement_breached"} <= raised
    store.dispose()
