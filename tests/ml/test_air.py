"""The air quality analytics (ml.air): the dust-suppression regression recovers the demo's
injected effect, the forecast uses nothing it could not have known, and the verification scores
count as the definitions say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from demo.air import (
    DUST_FLOW,
    DUST_SUPPRESSION_K_PER_100M3,
    HUMIDITY_METER,
    PM10_METER,
    WIND_SPEED_METER,
)
from demo.drivers import STEPS_PER_DAY
from demo.simulate import simulate
from demo.site import build_demo_site
from ml.air import AIR_QUALITY_TABLES, _scores, backtest, dust_effect, forecast
from orchestration.keys import AIR_QUALITY as AIR_QUALITY_KEYS

DAYS = 365


@pytest.fixture(scope="module")
def demo_days() -> pd.DataFrame:
    """A year of the demo mine by day, as its meters report it: the 24-hour means of the PM10,
    wind and humidity readings, and the dust-suppression water the balance carries."""
    sim = simulate(build_demo_site(), days=DAYS)
    steps = DAYS * STEPS_PER_DAY

    def daily_mean(meter: str) -> np.ndarray:
        return sim.grid_readings[meter][:steps].reshape(DAYS, STEPS_PER_DAY).mean(axis=1)

    water = sim.flows[:, sim.flow_ids.index(DUST_FLOW)].reshape(DAYS, STEPS_PER_DAY).sum(axis=1)
    return pd.DataFrame(
        {
            "pm10": daily_mean(PM10_METER),
            "wind": daily_mean(WIND_SPEED_METER),
            "humidity": daily_mean(HUMIDITY_METER),
            "dust_m3": water,
        },
        index=pd.date_range(sim.start, periods=DAYS, freq="D"),
    )


def test_the_regression_recovers_the_injected_dust_suppression_effect(demo_days):
    effect = dust_effect(demo_days)
    assert effect["status"] == "ok" and effect["n_days"] == DAYS
    injected = -DUST_SUPPRESSION_K_PER_100M3  # ln PM10 per 100 m3
    coef = effect["coef_log_per_100m3"]
    assert coef < 0, "the sign of the effect"
    assert abs(coef - injected) <= 0.2 * abs(injected), f"{coef} not within 20 % of {injected}"
    # the interval holds the truth and excludes no effect
    assert effect["coef_log_lo"] <= injected <= effect["coef_log_hi"] < 0
    assert effect["confidence"] == "high"
    # the same effect in ug/m3 at the mean PM10: (exp(b) - 1) x mean
    mean = demo_days["pm10"].mean()
    assert effect["effect_ug_m3_per_100m3"] == pytest.approx((np.exp(coef) - 1) * mean)
    assert str(effect["recommendation"]).startswith("Each extra 100 m3/day")


def test_the_pm10_forecast_beats_persistence_on_the_demo(demo_days):
    for horizon in (1, 2):
        summary, scored = backtest(demo_days, 150.0, horizon)
        assert summary["status"] == "ok"
        # one forecast a day after 90 training days
        assert summary["n_forecasts"] == len(scored) >= DAYS - 90 - horizon - 2
        assert summary["skill"] == pytest.approx(
            1 - summary["mae_ug_m3"] / summary["mae_persistence_ug_m3"]
        )
        assert summary["skill"] > 0, f"{horizon}-day forecast no better than persistence"


def test_a_backtest_forecast_never_sees_the_days_after_its_origin(demo_days):
    _, before = backtest(demo_days, 150.0, 1)
    changed = demo_days.copy()
    cut = changed.index[250]
    changed.loc[changed.index > cut, "pm10"] *= 3.0
    changed.loc[changed.index > cut, "wind"] += 5.0
    _, after = backtest(changed, 150.0, 1)
    # origins whose target day is on or before the cut used only unchanged days
    keep = before["origin"] < cut
    assert keep.sum() > 100
    pd.testing.assert_frame_equal(
        before[keep].reset_index(drop=True), after[after["origin"] < cut].reset_index(drop=True)
    )


def test_the_operational_forecast_starts_from_the_last_day(demo_days):
    rows = forecast(demo_days, 150.0)
    assert [r["horizon_days"] for r in rows] == [1, 2]
    last = demo_days.index[-1].date()
    assert all(r["as_of"] == last for r in rows)
    assert [(r["day"] - last).days for r in rows] == [1, 2]
    for r in rows:
        assert r["pm10_lo80_ug_m3"] < r["pm10_forecast_ug_m3"] < r["pm10_hi80_ug_m3"]
        assert r["persistence_ug_m3"] == pytest.approx(demo_days["pm10"].iloc[-1])


def test_verification_scores_count_hits_misses_and_false_alarms():
    # trigger 150: events are 160, 200 and 155; warnings on 160, 100 and 155
    observed = np.array([160.0, 100.0, 200.0, 90.0, 155.0])
    warned = np.array([True, True, False, False, True])
    n_events, hits, misses, false_alarms, pod, far, csi = _scores(observed, warned, 150.0)
    # hits: 160 and 155 (2); miss: 200 (1); false alarm: 100 (1)
    assert (n_events, hits, misses, false_alarms) == (3, 2, 1, 1)
    assert pod == pytest.approx(2 / 3)  # 2 / (2 + 1)
    assert far == pytest.approx(1 / 3)  # 1 / (2 + 1)
    assert csi == pytest.approx(0.5)  # 2 / (2 + 1 + 1)


def test_too_few_days_give_a_status_not_an_estimate(demo_days):
    effect = dust_effect(demo_days.iloc[:30])
    assert effect["status"] == "too_short" and effect["n_days"] == 30
    summary, scored = backtest(demo_days.iloc[:60], 150.0, 1)
    assert summary["status"] == "too_short" and scored.empty
    assert forecast(demo_days.iloc[:60], 150.0) == []


def test_docs_describe_every_air_quality_table_and_column():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "air-quality.md").read_text()
    for table, columns in AIR_QUALITY_TABLES.items():
        section = doc.split(f"### `{table}`", 1)
        assert len(section) == 2, f"docs/air-quality.md has no section for {table}"
        body = section[1].split("\n### ", 1)[0]
        for column, meaning in columns.items():
            assert f"| `{column}` | {meaning} |" in body, f"{table}.{column}"
    assert {key.path[-1] for key in AIR_QUALITY_KEYS} == set(AIR_QUALITY_TABLES)
