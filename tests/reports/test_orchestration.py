"""Report assets materialise from the published warehouse; the deadline check fails when due."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from dagster import AssetKey, RunRequest, SkipReason, materialize

from orchestration.definitions import defs
from orchestration.partitions import build_partitions
from orchestration.reports.assets import DEADLINE_CHECK, build_report_assets, report_deadlines
from orchestration.reports.jobs import last_complete
from orchestration.resources import SiteledgerHome
from reports.deadlines import unsubmitted_deadlines
from reports.definitions import load_definitions
from reports.registry import Registry
from siteledger.settings import get_settings
from siteledger.state import StateStore


def test_report_jobs_schedules_and_sensor_resolve(tmp_path: Path):
    for name in (
        "compliance_report_monthly_job",
        "compliance_report_quarterly_job",
        "compliance_report_annual_job",
        "report_deadline_job",
    ):
        assert defs.resolve_job_def(name) is not None
    crons = {
        name: defs.resolve_schedule_def(name).cron_schedule
        for name in (
            "compliance_report_monthly_schedule",
            "compliance_report_quarterly_schedule",
            "compliance_report_annual_schedule",
        )
    }
    assert crons == {
        "compliance_report_monthly_schedule": "0 4 1 * *",
        "compliance_report_quarterly_schedule": "0 4 1 1,4,7,10 *",
        "compliance_report_annual_schedule": "0 4 1 7 *",
    }
    assert defs.resolve_sensor_def("report_deadline_sensor") is not None
    graph = defs.resolve_asset_graph()
    node = graph.get(AssetKey(["reports", "compliance_report_annual"]))
    assert AssetKey(["warehouse", "published"]) in node.parent_keys
    assert graph.get(AssetKey(["marts", "fct_report_water_by_quality_monthly"])).group_name == (
        "reporting"
    )
    # the schedules ask for the period that has just ended
    at = dt.datetime(2026, 7, 1, 4, tzinfo=dt.UTC)
    periods = build_partitions(get_settings(tmp_path)).reports  # no organisation file: FY July
    assert last_complete(periods["monthly"], at) == "2026-06-01"
    assert last_complete(periods["quarterly"], at) == "2026-04-01"
    assert last_complete(periods["annual"], at) == "2025-07-01"


@pytest.mark.integration
def test_monthly_and_quarterly_assets_generate_register_and_describe(home: Path):
    resources = {"siteledger": SiteledgerHome(home=str(home))}
    compliance_report_monthly, compliance_report_quarterly, _ = build_report_assets(
        build_partitions(get_settings(home))
    )
    result = materialize(
        [compliance_report_monthly], partition_key="2025-08-01", resources=resources
    )
    assert result.success
    (mat,) = result.asset_materializations_for_node("reports__compliance_report_monthly")
    meta = mat.metadata
    assert meta["pdf_path"].value.endswith("monthly_water_return_demo_mine_2025-08_v1.pdf")
    assert Path(meta["pdf_path"].value).exists()
    assert "monthly_water_return/demo_mine: validated" in meta["status"].value
    assert "| Total inputs (withdrawal) |" in meta["summary"].value
    result = materialize(
        [compliance_report_quarterly], partition_key="2025-07-01", resources=resources
    )
    assert result.success
    registry = Registry(StateStore(get_settings(home).state_store_url))
    keys = {(r.definition_id, r.period_key) for r in registry.list()}
    assert keys == {
        ("monthly_water_return", "2025-08"),
        ("monthly_sustainability_report", "2025-08"),
        ("monthly_energy_cost_report", "2025-08"),
        ("quarterly_discharge_report", "FY2026-Q1"),
    }


def test_deadlines_list_unsubmitted_reports_due_within_48_hours(tmp_path: Path):
    registry = Registry(StateStore(f"sqlite:///{tmp_path / 'state.db'}"))
    definitions = load_definitions()
    # 2025-08-13 00:00 UTC: the July return is due at the end of 14 August (48 h later)
    now = dt.datetime(2025, 8, 13, 0, 0, tzinfo=dt.UTC)
    due = unsubmitted_deadlines(definitions, ["demo_mine"], registry, now)
    # ... and so is the internal sustainability report of July, on the same day
    assert [(d.definition_id, d.period_key, d.latest_status) for d in due] == [
        ("monthly_sustainability_report", "2025-07", None),
        ("monthly_water_return", "2025-07", None),
    ]
    assert [d.hours_left for d in due] == [pytest.approx(48.0), pytest.approx(48.0)]
    assert (
        unsubmitted_deadlines(definitions, ["demo_mine"], registry, now - dt.timedelta(hours=1))
        == []
    )


@pytest.mark.integration
def test_the_deadline_check_fails_while_a_due_report_is_unsubmitted(home: Path, monkeypatch):
    import orchestration.reports.assets as assets

    # 2025-08-13 06:00 UTC: the July return is due at the end of 14 August, in 42 h
    monkeypatch.setattr(assets, "_now", lambda: dt.datetime(2025, 8, 13, 6, 0, tzinfo=dt.UTC))
    resources = {"siteledger": SiteledgerHome(home=str(home))}
    result = materialize([report_deadlines], resources=resources, raise_on_error=False)
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == DEADLINE_CHECK and check.passed is False
    assert "monthly_water_return demo_mine 2025-07: due in 42 h" in check.metadata["due"].value

    from reports.service import generate

    settings = get_settings(home)
    store = StateStore(settings.state_store_url)
    outcomes = generate(
        settings,
        store,
        definition_ids=["monthly_water_return", "monthly_sustainability_report"],
        period_keys=["2025-07"],
        generated_by="tests",
        workers=1,
    )
    assert len(outcomes) == 2
    Registry(store).set_status(outcomes[0].record.report_id, "submitted", "officer")
    result = materialize([report_deadlines], resources=resources, raise_on_error=False)
    (check,) = result.get_asset_check_evaluations()
    assert check.passed is False  # one of the two is still unsubmitted
    Registry(store).set_status(outcomes[1].record.report_id, "submitted", "officer")
    result = materialize([report_deadlines], resources=resources)
    (check,) = result.get_asset_check_evaluations()
    assert check.passed is True


def test_the_deadline_sensor_requests_the_check_run_once_a_day(tmp_path: Path, monkeypatch):
    from dagster import build_sensor_context

    import orchestration.reports.sensors as jobs

    home = SiteledgerHome(home=str(tmp_path))
    sensor = defs.resolve_sensor_def("report_deadline_sensor")
    monkeypatch.setattr(jobs, "_now", lambda: dt.datetime(2025, 8, 1, tzinfo=dt.UTC))
    # no warehouse and no registry: no site has anything due
    result = sensor(build_sensor_context(resources={"siteledger": home}))
    assert isinstance(result, SkipReason)

    monkeypatch.setattr(jobs, "due_reports", lambda _home, now: [_FakeDue()])
    request = sensor(build_sensor_context(resources={"siteledger": home}))
    assert isinstance(request, RunRequest)
    assert request.run_key.startswith("2025-08-01-")
    assert request.tags["siteledger/reports_due"] == "1"


class _FakeDue:
    def describe(self) -> str:
        return "monthly_water_return demo_mine 2025-07: due in 40 h (due 2025-08-14), validated"
