"""A published warehouse of a whole demo year, built once per test run, and fresh homes on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.dbt.runner import shared_home

DEMO_DAYS = 365  # 2025-07-01 .. 2026-06-30: 12 months, 4 quarters, financial year FY2026


def build_published_demo(home: Path) -> None:
    """Demo year generated, imported, built by dbt and published (~25 s)."""
    from demo import write_demo
    from ingestion.files import import_landing
    from ingestion.site_tables import write_site_tables
    from siteledger.settings import get_settings
    from siteledger.site import load_site
    from siteledger.state import StateStore
    from siteledger.warehouse import Warehouse
    from tests.dbt.runner import run_dbt

    out = write_demo(home, days=DEMO_DAYS, sites=("demo_mine",))
    settings = get_settings(home)
    settings.ensure_dirs()
    site = load_site(out.site_file)
    store = StateStore(settings.state_store_url)
    results = import_landing(settings, site, store)
    assert {r.status for r in results} == {"committed"}
    write_site_tables(settings, site)
    # models only: the dbt tests are the dbt suite's business, and skipping them saves ~8 s
    run_dbt(home, "run")
    Warehouse(settings, store).publish(["marts"], note="tests/reports")
    store.dispose()


@pytest.fixture(scope="session")
def published_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:

    return shared_home(tmp_path_factory, "reports_demo_year", build_published_demo)


def fresh_home(published_home: Path, target: Path) -> Path:
    """A new SITELEDGER_HOME holding a copy of the published warehouse and the site file (its own
    state store: tests never share a registry)."""
    (target / "warehouse").mkdir(parents=True)
    shutil.copy(
        published_home / "warehouse" / "siteledger.duckdb",
        target / "warehouse" / "siteledger.duckdb",
    )
    shutil.copytree(published_home / "sites", target / "sites")
    return target


@pytest.fixture
def home(published_demo: Path, tmp_path: Path) -> Path:
    return fresh_home(published_demo, tmp_path / "home")
