"""Small homes for the command-line tests: a state store with a few rows each, no demo build."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from reports.registry import Registry, ReportRecord
from siteledger.settings import Settings
from siteledger.state import StateStore
from siteledger.state.store import ImportJob, new_batch_id
from tests.ingestion.hostile.home import make_home

SCADA = "Timestamp,RIV_FT100 [m3/h],RG1\n01/01/2025 08:00,10,1\n01/01/2025 08:15,11,\n"


def invoke(home: Path, *args: str, columns: int = 80) -> Result:
    """``siteledger --home HOME ARGS`` as on a terminal ``columns`` wide."""
    return CliRunner(env={"COLUMNS": str(columns)}).invoke(
        cli, ["--home", str(home), *args], catch_exceptions=False
    )


@pytest.fixture
def jobs_home(tmp_path: Path) -> tuple[Path, str, str]:
    """A home with one committed import of a small SCADA file and one large quarantined job:
    (home, committed batch id, large batch id)."""
    home = make_home(tmp_path)
    home.drop("scada_with_a_rather_long_name_from_the_plant_historian_export.csv", SCADA)
    [result] = home.run().values()
    assert result.status == "committed"
    big = home.store.add_job(
        ImportJob(
            batch_id=new_batch_id(),
            site_id=home.site.site.id,
            source="scada",
            source_file="landing/plant_historian/monthly_export_of_every_tag_2025_07.csv",
            content_sha256="0" * 64,
            status="quarantined",
            total_rows=1_234_567,
            imported_rows=1_230_000,
            skipped_rows=4_000,
            failed_rows=567,
            error="567 rows quarantined",
            finished_at=dt.datetime(2025, 8, 1, 6, 30, tzinfo=dt.UTC),
        )
    )
    home.store.dispose()
    return home.settings.home, result.batch_id, big.batch_id


def report_record(
    definition_id: str,
    site_id: str,
    period_key: str,
    period_start: dt.date,
    period_end: dt.date,
    due_date: dt.date,
    status: str = "validated",
    version: int = 1,
) -> ReportRecord:
    return ReportRecord(
        report_id=f"{definition_id}.{site_id}.{period_key}.v{version}-a1b2c3",
        definition_id=definition_id,
        report_type=definition_id,
        regulator="WA DWER",
        site_id=site_id,
        period_kind="monthly" if len(period_key) == 7 else "quarterly",
        period_key=period_key,
        period_start=period_start,
        period_end=period_end,
        due_date=due_date,
        version=version,
        unit="m3",
        status=status,
        validation_errors=[] if status != "draft" else ["closure-within-5pct: 7.2 % > 5 %"],
        requirements=[],
        content_hash="c" * 64,
        definition_hash="d" * 64,
        warehouse_version="20250801T060000-000000000000",
        figures={},
        summary={},
        artifacts={},
        generated_at=dt.datetime(2025, 8, 2, 7, 0, tzinfo=dt.UTC),
        generated_by="officer@mine",
    )


@pytest.fixture
def reports_home(tmp_path: Path) -> Path:
    """A registry with two reports of demo_mine (no published warehouse)."""
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    registry = Registry(store)
    registry.add(
        report_record(
            "quarterly_discharge_report",
            "demo_mine",
            "FY2026-Q1",
            dt.date(2025, 7, 1),
            dt.date(2025, 9, 30),
            dt.date(2025, 10, 28),
            status="draft",
        )
    )
    registry.add(
        report_record(
            "monthly_water_return",
            "demo_mine",
            "2025-07",
            dt.date(2025, 7, 1),
            dt.date(2025, 7, 31),
            dt.date(2025, 8, 14),
        )
    )
    store.dispose()
    return settings.home
