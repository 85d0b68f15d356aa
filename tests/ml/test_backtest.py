"""Rolling-origin backtests: metrics computed by hand, origins, refusals, rain scenarios."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

import ml.backtest as bt
from ml.backtest import (
    bootstrap_rain_generator,
    error_metrics,
    rolling_origin,
    seasonal_naive_mae,
    seasonal_period_for,
)
from ml.forecast import FittedModel, ForecastConfig

START = date(2023, 1, 1)


def test_seasonal_naive_mae_by_hand() -> None:
    s = pd.Series([1.0, 2.0, 4.0, 7.0, 11.0])
    assert seasonal_naive_mae(s, 1) == pytest.approx((1 + 2 + 3 + 4) / 4)
    assert seasonal_naive_mae(s, 2) == pytest.approx((3 + 5 + 7) / 3)
    with_gap = pd.Series([1.0, np.nan, 4.0, 7.0, 11.0])
    assert seasonal_naive_mae(with_gap, 1) == pytest.approx((3 + 4) / 2)
    assert math.isnan(seasonal_naive_mae(s, 5))


def test_seasonal_period_rule() -> None:
    assert seasonal_period_for(394) == 7
    assert seasonal_period_for(395) == 365


def test_error_metrics_by_hand() -> None:
    actual = np.array([100.0, 0.0, 50.0, np.nan])
    mean = np.array([110.0, 5.0, 50.0, 1.0])
    lo80, hi80 = mean - 5, mean + 5
    lo95, hi95 = mean - 20, mean + 20
    m = error_metrics(actual, mean, lo80, hi80, lo95, hi95)
    assert m["mape"] == pytest.approx((10 / 100 + 0 / 50) / 2 * 100)  # the zero actual skipped
    assert m["within_10pct_share"] == pytest.approx(2 / 3)  # 10 <= 10, 5 > 0, 0 <= 5
    assert m["coverage_80"] == pytest.approx(2 / 3)
    assert m["coverage_95"] == pytest.approx(1.0)


def _stub_fit(y: pd.Series, rain: pd.Series | None, config: ForecastConfig) -> FittedModel:
    return FittedModel("stub", "ok", "", {}, {}, None, None, int(y.notna().sum()), True)


def _stub_forecast(model, y, rain, paths, horizon, start=None) -> pd.DataFrame:
    """Naive forecast: the last value, with ±1 (80 %) and ±2.5 (95 %) intervals."""
    last = float(y.dropna().iloc[-1])
    days = pd.date_range(pd.Timestamp(start), periods=horizon, freq="D")
    mean = np.full(horizon, last)
    return pd.DataFrame(
        {
            "day": [d.date() for d in days],
            "mean": mean,
            "median": mean,
            "lo80": mean - 1,
            "hi80": mean + 1,
            "lo95": mean - 2.5,
            "hi95": mean + 2.5,
        }
    )


def test_rolling_origin_mase_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    # y_t = t on 40 days: the week-ago naive errs by 7 in sample; the last-value forecast errs
    # by h at lead h; a 3-day horizon: mean error 2, MASE 2/7
    monkeypatch.setattr(bt, "fit", _stub_fit)
    monkeypatch.setattr(bt, "forecast", _stub_forecast)
    days = pd.date_range(START, periods=40, freq="D")
    y = pd.Series(np.arange(40.0), index=days)
    r = rolling_origin(y, None, ForecastConfig(), n_origins=2, step_days=5, horizon_days=3)
    assert r.status == "ok"
    assert r.seasonal_period == 7
    assert r.n_points == 6
    assert r.mase == pytest.approx(2 / 7)
    # the last origin leaves exactly the horizon after it; origins are step_days apart
    assert [o.origin for o in r.origins] == [days[31].date(), days[36].date()]
    assert r.coverage_80 == pytest.approx(1 / 3)  # lead 1 only
    assert r.coverage_95 == pytest.approx(2 / 3)  # leads 1 and 2
    # MAPE: errors h over actuals t+h
    expected = np.mean([h / (o + h) for o in (31, 36) for h in (1, 2, 3)]) * 100
    assert r.mape == pytest.approx(expected)
    assert r.as_dict()["origins"][0]["origin"] == days[31].date().isoformat()


def test_rolling_origin_on_a_real_series() -> None:
    rng = np.random.default_rng(2)
    n = 300
    days = pd.date_range(START, periods=n, freq="D")
    rain = pd.Series(rng.gamma(0.6, 12.0, n) * (rng.random(n) < 0.3), index=days)
    u = np.zeros(n)
    for i in range(1, n):
        u[i] = 0.6 * u[i - 1] + rng.normal()
    y = pd.Series(50 + 5 * np.sin(2 * np.pi * np.arange(n) / 60) + rain.to_numpy() + u, index=days)
    cfg = ForecastConfig(annual_harmonics=1, weekly_harmonics=1, training_days=None)
    for future_rain in ("observed", "climatology", bootstrap_rain_generator(50, seed=1)):
        r = rolling_origin(
            y, rain, cfg, n_origins=3, step_days=20, horizon_days=15, future_rain=future_rain
        )
        assert r.status == "ok"
        assert r.n_origins == 3 and r.n_points == 45
        assert 0 < r.mase < 2
        assert 0 <= r.coverage_80 <= r.coverage_95 <= 1


def test_rolling_origin_reports_refusals() -> None:
    days = pd.date_range(START, periods=150, freq="D")
    y = pd.Series(np.sin(np.arange(150.0)), index=days)
    cfg = ForecastConfig(weekly_harmonics=0)
    # the last origin has 120 days (enough), the one before 110: partial
    r = rolling_origin(y, None, cfg, n_origins=2, step_days=10, horizon_days=30)
    assert r.status == "partial"
    assert r.n_origins == 1 and r.n_points == 30
    assert "1 origin(s) not fitted" in r.reason
    r = rolling_origin(y.iloc[:140], None, cfg, n_origins=2, step_days=10, horizon_days=30)
    assert r.status == "too_short"
    assert r.n_origins == 0
    assert "too_short" in r.reason
    assert math.isnan(r.mase)
    empty = rolling_origin(pd.Series(dtype=float), None, ForecastConfig())
    assert empty.status == "too_short"


def test_bootstrap_rain_generator_draws_from_the_history() -> None:
    days = pd.date_range(START, periods=800, freq="D")
    rain = pd.Series(np.arange(800.0), index=days)  # each day's rain is its own index
    gen = bootstrap_rain_generator(40, seed=3, shift_days=10)
    first = date(2025, 3, 1)
    paths = gen(rain, first, 30)
    assert paths.shape == (40, 30)
    offset = (first - START).days
    starts = paths[:, 0]
    # each path starts one or two years back, within ±10 days, and runs on day by day
    back = offset - starts
    assert np.all(((back >= 355) & (back <= 375)) | ((back >= 720) & (back <= 740)))
    np.testing.assert_allclose(np.diff(paths, axis=1), 1.0)
