"""``reports due`` lists every unsubmitted overdue report, however long ago it fell due, and
speaks of long delays in days."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from reports.deadlines import unsubmitted_deadlines
from reports.definitions import load_definitions
from reports.registry import Registry
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.cli.conftest import invoke, report_record

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def old_reports_home(tmp_path: Path) -> Path:
    """A registry with a January 2024 return never submitted, a February 2024 one submitted."""
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    registry = Registry(store)
    monthly = next(d for d in load_definitions() if d.id == "monthly_water_return")
    for key, start, end in (
        ("2024-01", dt.date(2024, 1, 1), dt.date(2024, 1, 31)),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
    ):
        registry.add(
            report_record(
                monthly.id, "demo_mine", key, start, end, monthly.due_date(end), status="draft"
            )
        )
    registry.set_status(
        "monthly_water_return.demo_mine.2024-02.v1-a1b2c3", "rejected", "regulator", "late"
    )
    registry.add(
        report_record(
            monthly.id,
            "demo_mine",
            "2024-02",
            dt.date(2024, 2, 1),
            dt.date(2024, 2, 29),
            monthly.due_date(dt.date(2024, 2, 29)),
            version=2,
        )
    )
    registry.set_status("monthly_water_return.demo_mine.2024-02.v2-a1b2c3", "submitted", "officer")
    store.dispose()
    return settings.home


def _overdue_days(period_end: dt.date) -> int:
    monthly = next(d for d in load_definitions() if d.id == "monthly_water_return")
    due_at = dt.datetime.combine(
        monthly.due_date(period_end) + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC
    )
    return (NOW - due_at).days


def test_a_report_overdue_for_years_is_still_listed(old_reports_home: Path):
    registry = Registry(StateStore(Settings(home=old_reports_home).state_store_url))
    due = unsubmitted_deadlines(load_definitions(), ["demo_mine"], registry, NOW)
    assert [(d.definition_id, d.period_key, d.latest_status) for d in due] == [
        ("monthly_water_return", "2024-01", "draft")
    ]
    [deadline] = due
    assert deadline.overdue and deadline.hours_left < -24 * 365 * 2
    assert f"overdue by {_overdue_days(dt.date(2024, 1, 31)):,} d" in deadline.describe()
    registry.store.dispose()


def test_reports_due_prints_days_and_json(old_reports_home: Path):
    result = invoke(old_reports_home, "reports", "due", "--now", NOW.isoformat())
    assert result.exit_code == 1, result.output
    days = _overdue_days(dt.date(2024, 1, 31))
    assert f"monthly_water_return demo_mine 2024-01: overdue by {days:,} d" in result.output
    assert " h " not in result.output and "demo_mine 2024-02" not in result.output
    listed = invoke(old_reports_home, "reports", "due", "--now", NOW.isoformat(), "--json")
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["report_id"] == "monthly_water_return.demo_mine.2024-01.v1-a1b2c3"
    assert row["overdue"] is True and row["days_overdue"] == days
    assert row["due_date"] == "2024-02-14"


def test_short_spans_stay_in_hours():
    from reports.deadlines import Deadline

    soon = Deadline(
        "monthly_water_return", "demo_mine", "2025-07", dt.date(2025, 8, 14), 42.0, None, None
    )
    late = Deadline(
        "monthly_water_return", "demo_mine", "2025-07", dt.date(2025, 8, 14), -5.2, None, None
    )
    assert "due in 42 h" in soon.describe()
    assert "overdue by 5 h" in late.describe()
    week = Deadline(
        "monthly_water_return", "demo_mine", "2025-07", dt.date(2025, 8, 14), -24 * 7.5, None, None
    )
    assert "overdue by 7 d" in week.describe()


def test_a_bad_now_is_a_clear_error(old_reports_home: Path):
    result = invoke(old_reports_home, "reports", "due", "--now", "yesterday")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "'yesterday'" in result.output
