"""The marts reproduce a hand-computed balance to the cubic metre (one full ``dbt build``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dbt import hand_expected as expected
from tests.dbt.hand_lake import D1, D2, D3, D4
from tests.dbt.homes import HAND_SITE
from tests.dbt.runner import query

TOLERANCE_M3 = 0.5


@pytest.fixture(scope="module")
def home(two_sites: Path) -> Path:
    return two_sites


def _select(home: Path, table: str, condition: str = "true") -> list[dict]:
    """Rows of the hand site in ``table`` that meet ``condition``."""
    return query(home, f"select * from {table} where site_id = '{HAND_SITE}' and ({condition})")


def _by_key(rows: list[dict], *keys: str) -> dict:
    return {tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: row for row in rows}


def test_every_flow_day_matches_the_hand_volume(home: Path) -> None:
    rows = _by_key(_select(home, "intermediate.int_flow_volumes_daily"), "flow_id", "day")
    for (flow_id, day), volume in expected.FLOW_M3.items():
        got = rows[(flow_id, day)]["volume_m3"]
        assert got == pytest.approx(volume, abs=TOLERANCE_M3), (flow_id, day)


def test_flows_record_how_they_were_measured(home: Path) -> None:
    rows = _by_key(_select(home, "intermediate.int_flow_volumes_daily"), "flow_id", "day")
    assert rows[("bores_to_dam", D1)]["n_rollovers"] == 1
    assert rows[("dam_to_creek", D2)]["n_resets"] == 1
    assert rows[("dam_to_plant", D1)]["meter_ids"] == "FT-400A,FT-400B"
    assert rows[("dam_to_plant", D3)]["meter_ids"] == "FT-400A"
    assert rows[("river_to_dam", D1)]["n_readings"] == 96
    assert rows[("rain_on_dam", D2)]["method"] == "estimated"
    assert rows[("rain_on_dam", D2)]["volume_source"] == "rule:rainfall_runoff"


def test_a_redelivered_reading_is_kept_once_latest_copy_winning(home: Path) -> None:
    [row] = _select(
        home,
        "intermediate.int_readings_deduplicated",
        "meter_id = 'FT-100' and ts_utc = timestamptz '2025-07-01 04:00:00+00'",
    )
    assert row["n_copies"] == 2
    assert row["has_conflicting_copies"]
    assert row["value_canonical"] == 100.0
    assert row["batch_id"] == "b2"


def test_store_storage_comes_from_midnight_levels(home: Path) -> None:
    rows = _by_key(_select(home, "marts.fct_node_balance_daily", "node_id = 'dam'"), "day")
    for day in expected.DAYS:
        assert rows[day]["opening_storage_m3"] == pytest.approx(expected.OPENING_M3[day], abs=0.5)
        assert rows[day]["closing_storage_m3"] == pytest.approx(expected.CLOSING_M3[day], abs=0.5)
    [storage] = _select(home, "intermediate.int_store_storage_daily", "day = date '2025-07-03'")
    assert storage["opening_level_source"] == "LT-300:interpolated"


def test_node_balances_match_the_hand_balance(home: Path) -> None:
    rows = _by_key(_select(home, "marts.fct_node_balance_daily"), "node_id", "day")
    for day in expected.DAYS:
        dam, plant = rows[("dam", day)], rows[("plant", day)]
        assert dam["inflow_m3"] == pytest.approx(expected.DAM_INFLOW_M3[day], abs=TOLERANCE_M3)
        assert dam["outflow_m3"] == pytest.approx(expected.DAM_OUTFLOW_M3[day], abs=TOLERANCE_M3)
        assert dam["balance_error_m3"] == pytest.approx(expected.DAM_ERROR_M3[day], abs=0.5)
        assert dam["rainfall_m3"] == pytest.approx(expected.FLOW_M3[("rain_on_dam", day)])
        assert dam["evaporation_m3"] == pytest.approx(expected.FLOW_M3[("dam_evaporation", day)])
        assert dam["seepage_m3"] == pytest.approx(expected.SEEPAGE_M3[day])
        assert plant["storage_change_m3"] == 0
        assert plant["balance_error_m3"] == pytest.approx(expected.PLANT_ERROR_M3[day], abs=0.5)
        assert dam["is_complete"] and plant["is_complete"]


def test_site_balance_matches_the_hand_balance(home: Path) -> None:
    rows = _by_key(_select(home, "marts.fct_site_balance_daily"), "day")
    for day in expected.DAYS:
        row = rows[day]
        assert row["inputs_m3"] == pytest.approx(expected.INPUTS_M3[day], abs=TOLERANCE_M3)
        assert row["input_surface_water_m3"] == pytest.approx(
            expected.INPUT_SURFACE_M3[day], abs=TOLERANCE_M3
        )
        assert row["input_groundwater_m3"] == pytest.approx(
            expected.INPUT_GROUNDWATER_M3[day], abs=TOLERANCE_M3
        )
        assert row["outputs_m3"] == pytest.approx(expected.OUTPUTS_M3[day], abs=TOLERANCE_M3)
        assert row["output_entrainment_m3"] == expected.FLOW_M3[("plant_to_tailings", day)]
        assert row["storage_change_m3"] == pytest.approx(
            expected.CLOSING_M3[day] - expected.OPENING_M3[day], abs=TOLERANCE_M3
        )
        assert row["closure_error_m3"] == pytest.approx(expected.CLOSURE_M3[day], abs=0.5)
        assert row["closure_error_pct"] == pytest.approx(
            100 * expected.CLOSURE_M3[day] / expected.INPUTS_M3[day], abs=0.01
        )
        assert row["closure_status"] == expected.CLOSURE_STATUS[day]
        assert row["input_estimated_pct"] == pytest.approx(expected.INPUT_ESTIMATED_PCT[day])
        assert row["output_estimated_pct"] == pytest.approx(expected.OUTPUT_ESTIMATED_PCT[day])
        assert row["ore_feed_t"] == expected.ORE_T
        assert row["water_intensity_m3_per_t"] == pytest.approx(
            expected.INPUTS_M3[day] / expected.ORE_T
        )
        assert row["reuse_ratio"] == 0.0
        assert row["is_complete"]


def test_the_day_holding_only_closing_readings_is_incomplete(home: Path) -> None:
    [row] = _select(home, "marts.fct_site_balance_daily", f"day = '{D4}'")
    assert not row["is_complete"]
    assert row["closure_status"] == "undetermined"


def test_monthly_balance_adds_up_the_days(home: Path) -> None:
    [month] = _select(home, "marts.fct_site_balance_monthly")
    assert month["inputs_m3"] == pytest.approx(sum(expected.INPUTS_M3.values()), abs=0.5)
    assert month["opening_storage_m3"] == expected.OPENING_M3[D1]
    assert month["n_days"] == 4
    assert month["n_days_incomplete"] == 1
    [dam] = _select(home, "marts.fct_node_balance_monthly", "node_id = 'dam'")
    assert dam["inflow_m3"] == pytest.approx(sum(expected.DAM_INFLOW_M3.values()), abs=0.5)


def test_sankey_links_carry_volume_category_and_method(home: Path) -> None:
    links = _by_key(
        _select(home, "marts.fct_flow_sankey", "period_grain = 'month'"),
        "flow_id",
    )
    river = links["river_to_dam"]
    assert (river["source_node_id"], river["target_node_id"]) == ("river", "dam")
    assert river["volume_m3"] == pytest.approx(2_400 + 2_880 + 2_160)
    assert river["waf_category"] == "surface_water"
    assert links["dam_seepage"]["method"] == "estimated"
    assert links["dam_to_plant"]["direction"] == "internal"


def test_every_listed_waf_category_has_a_row(home: Path) -> None:
    rows = _select(
        home,
        "marts.fct_site_water_by_category",
        f"period_grain = 'day' and period_start = '{D2}'",
    )
    categories = {(r["direction"], r["waf_category"]): r["volume_m3"] for r in rows}
    assert categories[("input", "sea_water")] == 0
    assert categories[("input", "surface_water")] == pytest.approx(3_080)
    assert categories[("output", "evaporation")] == pytest.approx(84)
    assert len(categories) == 5 + 7
