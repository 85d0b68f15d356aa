"""The demo's recorded water quality exceedances and its pit sump overflow (``--faults``) are
found by the marts, and nothing else is: 120 days of ``demo_mine`` from 1 July 2025 hold the
injected months 0-3 of demo/lab.py and the overflow 80 % of the way through."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from siteledger.settings import get_settings
from siteledger.site import load_site
from tests.dbt.runner import query, run_dbt, shared_home

pytestmark = [pytest.mark.slow]
DAYS = 120


def _build(home: Path) -> None:
    from demo import write_demo
    from ingestion.files import import_landing
    from ingestion.site_tables import write_site_tables
    from siteledger.state import StateStore

    out = write_demo(home, days=DAYS, faults=True, sites=("demo_mine",))
    settings = get_settings(home)
    site = load_site(out.site_file)
    store = StateStore(settings.state_store_url)
    results = import_landing(settings, site, store)
    lab = [r for r in results if r.layout_id in ("lab_edd", "field_results")]
    # every lab row is a result: 4 months x 6 discharge parameters + the second sulfate sample,
    # 4 months x 3 pit parameters
    assert sorted((r.layout_id, r.status, r.imported, r.failed) for r in lab) == [
        ("field_results", "committed", 12, 0),
        ("lab_edd", "committed", 25, 0),
    ]
    write_site_tables(settings, site)
    run_dbt(home, "build")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "demo_water_quality", _build)


def _truth(home: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(home / "demo" / "ground_truth" / name, dtype=str)


def test_every_recorded_exceedance_is_found_and_nothing_else(home: Path):
    truth = _truth(home, "lab_exceedances.csv")
    expected = sorted(zip(truth["limit_id"], truth["period_start"], strict=True))
    found = query(
        home,
        "select limit_id, cast(period_start as varchar) as start from "
        "marts.fct_discharge_exceedances where is_exceeded order by limit_id, period_start",
    )
    assert expected == [
        ("L-CU", "2025-08-15"),
        ("L-SO4-MEAN", "2025-10-01"),
        ("L-TURB", "2025-09-15"),
    ]
    assert [(r["limit_id"], r["start"]) for r in found] == expected


def test_a_detection_limit_above_the_limit_is_indeterminate_not_an_exceedance(home: Path):
    rows = query(
        home,
        "select limit_id, cast(period_start as varchar) as start, status, value "
        "from marts.fct_discharge_exceedances where status = 'indeterminate'",
    )
    # September copper '<50 ug/L' against 20 ug/L: somewhere in 0-0.050 mg/L
    assert rows == [
        {"limit_id": "L-CU", "start": "2025-09-15", "status": "indeterminate", "value": 0.05}
    ]
    below = query(
        home,
        "select cast(sample_day as varchar) as day, value, unit from "
        "marts.fct_water_quality_results where is_below_detection order by sample_day",
    )
    # July '<' 2 ug/L = 0.002 mg/L, September '<50' ug/L = 0.05 mg/L
    assert [(r["day"], r["value"], r["unit"]) for r in below] == [
        ("2025-07-15", pytest.approx(0.002), "mg/L"),
        ("2025-09-15", pytest.approx(0.05), "mg/L"),
    ]


def test_the_overflow_and_the_discharges_are_the_only_detected_incidents(home: Path):
    overflows = _truth(home, "incidents.csv")
    assert len(overflows) == 1
    exceeded = _truth(home, "lab_exceedances.csv")
    expected = sorted(
        [
            ("overflow", row.node_id, row.started_day, row.ended_day)
            for row in overflows.itertuples()
        ]
        + [
            ("discharge", "SP-DIS", row.period_start, row.period_end)
            for row in exceeded.itertuples()
        ]
    )
    found = query(
        home,
        "select incident_type, coalesce(sample_point_id, node_id) as place, "
        "cast(started_day as varchar) as start, cast(ended_day as varchar) as ended "
        "from marts.fct_environmental_incidents where source = 'detected'",
    )
    assert sorted((r["incident_type"], r["place"], r["start"], r["ended"]) for r in found) == (
        expected
    )


def test_no_flow_is_measured_outside_its_declared_category(home: Path):
    rows = query(
        home,
        "select flow_id, count(*) as days, count(*) filter (where is_mismatch) as mismatches, "
        "max(tds_mg_l) as tds from marts.fct_flow_quality_check group by flow_id "
        "order by flow_id",
    )
    # the discharge carries the online analysers (every day) and the lab samples; the pit
    # dewatering line its monthly field samples; both category 2 and far below 5 000 mg/L
    assert [(r["flow_id"], r["mismatches"]) for r in rows] == [
        ("pit_to_rwd", 0),
        ("rwd_to_discharge", 0),
    ]
    # every day of the period, and the day after it (its 00:00 closing readings)
    assert rows[1]["days"] == DAYS + 1
    assert 0 < rows[0]["tds"] < 5000
