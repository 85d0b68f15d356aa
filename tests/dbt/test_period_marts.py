"""Period, organisation and comparison marts on the two-site build (hand site + demo mine)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.dbt import hand_expected as expected
from tests.dbt.homes import HAND_SITE
from tests.dbt.runner import query


@pytest.fixture(scope="module")
def home(two_sites: Path) -> Path:
    return two_sites


def test_hand_site_periods_are_its_days_summed_under_the_july_financial_year(home: Path) -> None:
    rows = {
        r["period_kind"]: r
        for r in query(
            home, f"select * from marts.fct_site_balance_period where site_id = '{HAND_SITE}'"
        )
    }
    assert set(rows) == {"month", "quarter", "year"}
    keys = {k: (r["period_key"], r["period_start"], r["period_end"]) for k, r in rows.items()}
    assert keys == {
        "month": ("2025-07", dt.date(2025, 7, 1), dt.date(2025, 7, 31)),
        "quarter": ("FY2026-Q1", dt.date(2025, 7, 1), dt.date(2025, 9, 30)),
        "year": ("FY2026", dt.date(2025, 7, 1), dt.date(2026, 6, 30)),
    }
    for row in rows.values():
        # three hand days of inputs (6 000 + 6 920 + 5 760 m3); the fourth day has none
        assert row["inputs_m3"] == pytest.approx(sum(expected.INPUTS_M3.values()), abs=0.5)
        assert row["input_groundwater_m3"] == pytest.approx(
            sum(expected.INPUT_GROUNDWATER_M3.values()), abs=0.5
        )
        assert row["ore_feed_t"] == pytest.approx(3 * expected.ORE_T)
        assert row["water_intensity_m3_per_t"] == pytest.approx(18_680 / 2_880)
        assert row["n_days"] == 4 and not row["is_complete"]
        assert row["financial_year"] == "FY2026" and row["financial_year_start_month"] == 7
        # the last day's closing storage is unknown (no reading after it): so is the period's
        # change in storage, and its closure is undetermined, never closed over three days
        assert row["storage_change_m3"] is None and row["closure_error_m3"] is None
        assert row["closure_status"] == "undetermined"


def test_node_periods_rejudge_the_balance_on_the_sums(home: Path) -> None:
    [plant] = query(
        home,
        "select * from marts.fct_node_balance_period "
        f"where site_id = '{HAND_SITE}' and node_id = 'plant' and period_kind = 'year'",
    )
    # plant errors 20 + 120 + 20 m3 over D1-D3 (and 0 on D4: nothing fed, nothing out)
    assert plant["balance_error_m3"] == pytest.approx(sum(expected.PLANT_ERROR_M3.values()))
    assert plant["balance_error_pct"] == pytest.approx(
        100 * 160 / sum(v for (f, _), v in expected.FLOW_M3.items() if f == "dam_to_plant")
    )
    assert plant["balance_status"] == "within_threshold"  # 1.1 % against the node's 10 %


def test_organisation_and_region_rollups_equal_their_sites(home: Path) -> None:
    sites = query(
        home,
        "select p.*, s.organisation, s.region from marts.fct_site_balance_period p "
        "join marts.dim_sites s using (site_id) where p.period_kind in ('month', 'year')",
    )
    assert {r["site_id"] for r in sites} == {HAND_SITE, "demo_mine", "demo_highveld"}
    annual = query(home, "select * from marts.fct_organisation_balance_annual")
    monthly = query(home, "select * from marts.fct_organisation_balance_monthly")
    # FY2026 (July 2025): the hand site's organisation with its one region, and the demo's
    # organisation of two mines in two regions
    assert len(annual) == 5 and len(monthly) == 5
    for rollup, kind, key in ((annual, "year", "period_start"), (monthly, "month", "month_start")):
        for row in rollup:
            members = [
                s
                for s in sites
                if s["period_kind"] == kind
                and s["organisation"] == row["organisation"]
                and (row["scope"] == "organisation" or s["region"] == row["scope_id"])
                and s["period_start"] == row[key]
            ]
            assert len(members) == row["n_sites"]
            assert row["n_sites"] == (
                2
                if row["scope"] == "organisation" and row["organisation"] == "example_resources"
                else 1
            )
            assert 1000 * row["inputs_ml"] == pytest.approx(
                sum(m["inputs_m3"] for m in members), abs=1.0
            )
            assert 1000 * row["outputs_ml"] == pytest.approx(
                sum(m["outputs_m3"] for m in members), abs=1.0
            )
    [hand_org] = [r for r in annual if r["organisation"] == "Test Org" and r["scope"] == "region"]
    assert (hand_org["scope_id"], hand_org["inputs_ml"]) == ("WA", pytest.approx(18.68))


def test_site_comparison_ranks_and_ratios(home: Path) -> None:
    rows = {r["site_id"]: r for r in query(home, "select * from marts.fct_site_comparison_annual")}
    hand = rows[HAND_SITE]
    assert hand["financial_year"] == "FY2026"
    assert hand["withdrawal_ml"] == pytest.approx(18.68)  # all from river, bores and rain
    assert hand["withdrawal_m3_per_t"] == pytest.approx(18_680 / 2_880)
    assert hand["recycled_share_pct"] == pytest.approx(0.0)  # only raw water feeds the plant
    assert hand["closure_error_abs_pct_rank_in_organisation"] is None  # no closure, no rank
    assert hand["water_intensity_m3_per_t_rank_in_organisation"] == 1
