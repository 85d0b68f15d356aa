"""A site without a water model (no nodes: a workshop whose site file has only a ``materials:``
section) is in ``dim_sites`` but in no water mart: it files no water report and has none due,
while the mines beside it file theirs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from reports.data import site_ids, water_site_ids
from reports.deadlines import due_in_home, unsubmitted_deadlines
from reports.definitions import load_definitions
from reports.registry import Registry
from reports.service import generate
from siteledger.settings import get_settings
from siteledger.state import StateStore

WORKSHOP = "demo_soapworks"


def _add_workshop(home: Path) -> None:
    """The published demo with a second site of the organisation that has no nodes."""
    with duckdb.connect(str(home / "warehouse" / "siteledger.duckdb")) as con:
        con.execute(
            "insert into dim_sites select * replace "
            "(? as site_id, 'Demo Soapworks' as site_name, '' as regulators) "
            "from dim_sites where site_id = 'demo_mine'",
            [WORKSHOP],
        )


@pytest.mark.integration
@pytest.mark.slow
def test_a_site_without_nodes_files_no_water_report_beside_a_mine_that_does(home: Path):
    _add_workshop(home)
    db = home / "warehouse" / "siteledger.duckdb"
    assert site_ids(db) == ["demo_mine", WORKSHOP]
    assert water_site_ids(db) == ["demo_mine"]
    store = StateStore(get_settings(home).state_store_url)
    try:
        # the chain asks for every period complete at some site; the workshop has none
        outcomes = generate(
            get_settings(home),
            store,
            definition_ids=["monthly_sustainability_report", "monthly_water_return"],
            period_keys=["2025-07"],
            generated_by="tests",
            workers=1,
        )
        assert sorted((o.definition_id, o.site_id) for o in outcomes) == [
            ("monthly_sustainability_report", "demo_mine"),
            ("monthly_water_return", "demo_mine"),
        ]
        # the mine's next monthly report falls due on 14 August 2025 (14 days after July)
        due = due_in_home(
            get_settings(home).reports_dir,
            db,
            home / "organisation.yaml",
            Registry(store),
            dt.datetime(2025, 8, 14, 12, tzinfo=dt.UTC),
        )
        assert {d.site_id for d in due} == {"demo_mine"}
        assert "monthly_sustainability_report" in {d.definition_id for d in due}
    finally:
        store.dispose()


def test_water_reports_fall_due_only_at_the_sites_with_a_water_model(tmp_path: Path):
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        definitions = [d for d in load_definitions() if d.id == "monthly_sustainability_report"]
        # July 2025's internal report is due on 14 August: 12 h left at 12:00 that day
        now = dt.datetime(2025, 8, 14, 12, tzinfo=dt.UTC)
        sites = ["demo_mine", WORKSHOP]
        every = unsubmitted_deadlines(definitions, sites, Registry(store), now)
        assert [(d.site_id, d.period_key, d.hours_left) for d in every] == [
            ("demo_mine", "2025-07", 12.0),
            (WORKSHOP, "2025-07", 12.0),
        ]
        water = unsubmitted_deadlines(
            definitions, sites, Registry(store), now, water_sites=["demo_mine"]
        )
        assert [(d.site_id, d.period_key) for d in water] == [("demo_mine", "2025-07")]
    finally:
        store.dispose()
