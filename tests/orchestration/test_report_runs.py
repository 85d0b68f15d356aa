"""Report runs over ranges: every complete period of the published data, one run per kind."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import DagsterInstance

from orchestration.definitions import build_defs
from orchestration.partitions import build_partitions
from orchestration.runner import report_ranges
from reports.registry import Registry
from siteledger.settings import get_settings
from siteledger.state import StateStore
from tests.dbt.runner import shared_home
from tests.reports.conftest import build_published_demo, fresh_home

pytestmark = pytest.mark.integration


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    published = shared_home(tmp_path_factory, "reports_demo_year", build_published_demo)
    home = fresh_home(published, tmp_path / "home")
    (home / "organisation.yaml").write_text("organisation:\n  data_start: 2025-07-01\n")
    return home


def test_complete_periods_become_one_range_per_kind(home: Path):
    ranges = report_ranges(get_settings(home), build_partitions(get_settings(home)))
    # the demo year 2025-07-01 .. 2026-06-30: 12 months, 4 quarters, one financial year
    assert ranges == {
        "monthly": [("2025-07-01", "2026-06-01")],
        "quarterly": [("2025-07-01", "2026-04-01")],
        "annual": [("2025-07-01", "2025-07-01")],
        # the power station's weekly energy summaries: every ISO week complete in the year
        "weekly": [("2025-07-07", "2026-06-22")],
    }


def test_a_range_of_months_renders_in_one_run(home: Path):
    settings = get_settings(home)
    job = build_defs(settings).resolve_job_def("compliance_report_monthly_job")
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": "2025-07-01",
                "dagster/asset_partition_range_end": "2025-09-01",
            },
        )
        assert result.success
        materialized = instance.get_materialized_partitions(
            result.get_asset_materialization_events()[0].asset_key
        )
    assert materialized == {"2025-07-01", "2025-08-01", "2025-09-01"}
    meta = result.get_asset_materialization_events()[-1].materialization.metadata
    assert meta["periods"].value == ["2025-07", "2025-08", "2025-09"]
    # the monthly water return, the monthly sustainability report and the power station's
    # monthly energy cost report of each month
    assert meta["created"].value == 9
    rows = {(r["period"], r["version"], r["action"]) for r in meta["reports"].value}
    assert rows == {("2025-07", 1, "created"), ("2025-08", 1, "created"), ("2025-09", 1, "created")}
    registry = Registry(StateStore(settings.state_store_url))
    assert sorted((r.definition_id, r.period_key) for r in registry.list()) == [
        (definition, month)
        for definition in (
            "monthly_energy_cost_report",
            "monthly_sustainability_report",
            "monthly_water_return",
        )
        for month in ("2025-07", "2025-08", "2025-09")
    ]
