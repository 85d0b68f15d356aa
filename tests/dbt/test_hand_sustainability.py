"""The sustainability marts on the hand site: ratios of sums, to the unit (one ``dbt build``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dbt import hand_expected as expected
from tests.dbt.hand_lake import D1, D2, D3
from tests.dbt.homes import HAND_SITE
from tests.dbt.runner import query


def _rows(home: Path, table: str, condition: str = "true") -> list[dict]:
    return query(home, f"select * from {table} where site_id = '{HAND_SITE}' and ({condition})")


def test_water_intensity_is_inputs_over_ore_and_its_window_a_ratio_of_sums(two_sites: Path):
    rows = {
        r["day"]: r
        for r in _rows(
            two_sites,
            "marts.fct_sustainability_metrics_daily",
            "metric = 'water_intensity_m3_per_t'",
        )
    }
    # D1 6 000 / 960 = 6.25; D2 6 920 / 960 = 7.2083; D3 5 760 / 960 = 6.0 m3/t
    for day in (D1, D2, D3):
        assert rows[day]["value"] == pytest.approx(expected.INPUTS_M3[day] / expected.ORE_T)
        assert rows[day]["denominator"] == pytest.approx(expected.ORE_T)
    # the 30-day value on D3: (6 000 + 6 920 + 5 760) / (3 x 960) = 18 680 / 2 880 = 6.4861
    assert rows[D3]["value_30d"] == pytest.approx(18_680 / 2_880)
    assert rows[D3]["n_days_30d"] == 3
    assert rows[D3]["unit"] == "m3/t"
    assert rows[D3]["lower_is_better"] is True


def test_the_month_is_the_ratio_of_its_sums_and_the_index_waits_for_its_components(
    two_sites: Path,
):
    [month] = _rows(
        two_sites,
        "marts.fct_sustainability_period",
        "metric = 'water_intensity_m3_per_t' and period_kind = 'month'",
    )
    assert month["period_key"] == "2025-07"
    assert month["n_days"] == 3
    assert month["value"] == pytest.approx(18_680 / 2_880)
    # water intensity is not among the default components: it has no weight and no score, and
    # with no other metric scored the index has nothing to rest on yet
    assert month["weight"] is None and month["score"] is None
    index = _rows(two_sites, "marts.fct_sustainability_index_daily", f"day = '{D3}'")
    assert [r["n_components"] for r in index] == [4]
