"""Forecast model: known answers, rain scenarios, refusals, the registry round trip."""

from __future__ import annotations

import json
import math
import warnings
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.statespace.sarimax import SARIMAX

from ml.forecast import (
    FORECAST_COLUMNS,
    FittedModel,
    ForecastConfig,
    _design,
    daily_series,
    fit,
    forecast,
)

START = date(2023, 1, 1)
FAST = ForecastConfig(weekly_harmonics=0, annual_harmonics=1, training_days=None)


def ar1(n: int, phi: float, sd: float, rng: np.random.Generator) -> np.ndarray:
    u = np.zeros(n)
    u[0] = rng.normal(0.0, sd / math.sqrt(1 - phi * phi))
    for i in range(1, n):
        u[i] = phi * u[i - 1] + rng.normal(0.0, sd)
    return u


def truth(days: pd.DatetimeIndex) -> np.ndarray:
    """Level 100, 3 per year of trend, an annual sinusoid of amplitude 10 (epoch phase)."""
    dn = (days - pd.Timestamp("1970-01-01")).days.to_numpy(dtype=float)
    t = (days - days[0]).days.to_numpy(dtype=float)
    return 100.0 + 3.0 * t / 365.25 + 10.0 * np.sin(2 * np.pi * dn / 365.25)


def seasonal_series(seed: int, n: int = 500, phi: float = 0.5, sd: float = 1.0):
    rng = np.random.default_rng(seed)
    days = pd.date_range(START, periods=n + 60, freq="D")
    u = ar1(n + 60, phi, sd, rng)
    y = truth(days) + u
    return days, y, u


def test_forecast_of_seasonal_trend_series_matches_the_truth_and_covers() -> None:
    hits95 = hits80 = total = 0
    for seed in range(12):
        days, y, u = seasonal_series(seed)
        hist = pd.Series(y[:500], index=days[:500])
        model = fit(hist, None, FAST)
        assert model.status == "ok", model.reason
        assert model.params["ar.L1"] == pytest.approx(0.5, abs=0.16)
        fc = forecast(model, hist, None, None, 60)
        assert list(fc.columns) == list(FORECAST_COLUMNS)
        assert fc["day"].iloc[0] == days[500].date()
        # the conditional mean: deterministic part + phi^h times the last disturbance
        h = np.arange(1, 61)
        expected = truth(days)[500:] + 0.5**h * u[499]
        assert np.max(np.abs(fc["mean"].to_numpy() - expected)) < 1.0
        actual = y[500:]
        hits95 += int(((actual >= fc["lo95"]) & (actual <= fc["hi95"])).sum())
        hits80 += int(((actual >= fc["lo80"]) & (actual <= fc["hi80"])).sum())
        total += 60
    assert 0.90 <= hits95 / total <= 0.99
    assert 0.72 <= hits80 / total <= 0.88


def test_rain_coefficient_is_recovered_and_stored_rain_too() -> None:
    rng = np.random.default_rng(3)
    n = 400
    days = pd.date_range(START, periods=n, freq="D")
    rain = rng.gamma(0.6, 12.0, n) * (rng.random(n) < 0.3)
    noise = ar1(n, 0.6, 1.0, rng)
    y = pd.Series(50.0 + 2.0 * rain + noise, index=days)
    model = fit(y, pd.Series(rain, index=days), FAST)
    assert model.status == "ok"
    assert model.spec["use_rain"] is True
    assert model.params["rain"] == pytest.approx(2.0, abs=0.05)
    # rain stored with decay 0.9: the fit with that decay finds the coefficient, and choosing
    # the decay by likelihood (rain_decay=None) picks 0.9
    stored = np.zeros(n)
    for i in range(n):
        stored[i] = (0.9 * stored[i - 1] if i else 0.0) + rain[i]
    y2 = pd.Series(50.0 + 0.5 * stored + noise, index=days)
    m2 = fit(
        y2, pd.Series(rain, index=days), ForecastConfig(**{**FAST.__dict__, "rain_decay": 0.9})
    )
    assert m2.params["rain"] == pytest.approx(0.5, abs=0.03)
    auto = fit(
        y2, pd.Series(rain, index=days), ForecastConfig(**{**FAST.__dict__, "rain_decay": None})
    )
    assert auto.spec["rain_decay"] == 0.9


def test_rain_paths_give_the_mixture() -> None:
    rng = np.random.default_rng(5)
    n = 300
    days = pd.date_range(START, periods=n, freq="D")
    rain = pd.Series(rng.gamma(0.6, 12.0, n) * (rng.random(n) < 0.3), index=days)
    y = pd.Series(20.0 + 1.5 * rain.to_numpy() + ar1(n, 0.3, 1.0, rng), index=days)
    model = fit(y, rain, FAST)
    assert model.status == "ok"
    h = 20
    no_paths = forecast(model, y, rain, None, h)
    # one path equal to the climatology the model assumes without paths: the same forecast
    clim = no_paths["mean"].to_numpy()
    month_mean = model.spec["rain_climatology"]
    fut = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=h, freq="D")
    base = np.array([month_mean.get(str(m), month_mean["0"]) for m in fut.month])
    same = forecast(model, y, rain, base[None, :], h)
    np.testing.assert_allclose(same["mean"], clim, rtol=1e-9)
    np.testing.assert_allclose(same["hi95"], no_paths["hi95"], rtol=1e-6)
    # dry and wet paths: the mean is the average of each path's mean; intervals widen
    paths = np.vstack([np.zeros(h), np.full(h, 20.0)])
    mixed = forecast(model, y, rain, paths, h)
    dry = forecast(model, y, rain, paths[:1], h)
    wet = forecast(model, y, rain, paths[1:], h)
    np.testing.assert_allclose(mixed["mean"], (dry["mean"] + wet["mean"]) / 2, rtol=1e-9)
    np.testing.assert_allclose(wet["mean"] - dry["mean"], 1.5 * 20.0, rtol=0.05)
    assert np.all(mixed["hi95"] - mixed["lo95"] > no_paths["hi95"] - no_paths["lo95"])
    # the mixture's 95 % bounds hold 2.5 % of the mass on each side
    from scipy.stats import norm

    sd = (no_paths["hi95"] - no_paths["mean"]).to_numpy() / norm.ppf(0.975)
    cdf_hi = 0.5 * (
        norm.cdf((mixed["hi95"] - dry["mean"]) / sd) + norm.cdf((mixed["hi95"] - wet["mean"]) / sd)
    )
    np.testing.assert_allclose(cdf_hi, 0.975, atol=1e-6)
    with pytest.raises(ValueError, match="cover"):
        forecast(model, y, rain, np.zeros((2, 5)), h)


def test_the_estimate_is_the_sarimax_likelihood_maximum() -> None:
    days, y, _ = seasonal_series(1, n=300)
    hist = pd.Series(y[:300], index=days[:300])
    hist.iloc[[10, 11, 50, 120]] = np.nan
    model = fit(hist, None, FAST)
    exog = _design(pd.DatetimeIndex(hist.index), model.spec, None)
    sm = SARIMAX(hist.to_numpy(), exog=exog.to_numpy(), order=(1, 0, 0))
    ours = sm.loglike(np.array(list(model.params.values())))
    assert ours == pytest.approx(model.metrics["llf"], abs=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = sm.fit(disp=False, maxiter=200).llf
    assert ours >= theirs - 1e-4


def test_too_short() -> None:
    days = pd.date_range(START, periods=100, freq="D")
    m = fit(pd.Series(np.arange(100.0), index=days), None, ForecastConfig())
    assert m.status == "too_short"
    assert "100 observed days" in m.reason
    assert fit(pd.Series(dtype=float), None, ForecastConfig()).status == "too_short"
    all_nan = pd.Series(np.full(200, np.nan), index=pd.date_range(START, periods=200))
    assert fit(all_nan, None, ForecastConfig()).status == "too_short"


def test_constant() -> None:
    days = pd.date_range(START, periods=200, freq="D")
    m = fit(pd.Series(7.5, index=days), None, ForecastConfig())
    assert m.status == "constant"
    assert "constant" in m.reason
    with pytest.raises(ValueError, match="constant"):
        forecast(m, pd.Series(7.5, index=days), None, None, 10)


def test_gappy_counts_absent_nan_and_inf_days() -> None:
    days, y, _ = seasonal_series(2, n=300)
    s = pd.Series(y[:300], index=days[:300])
    rng = np.random.default_rng(0)
    drop = rng.choice(np.arange(1, 299), size=90, replace=False)  # 30 % missing
    gappy = s.copy()
    gappy.iloc[drop[:30]] = np.nan
    gappy.iloc[drop[30:60]] = np.inf
    gappy = gappy.drop(gappy.index[drop[60:]])  # absent days
    m = fit(gappy, None, FAST)
    assert m.status == "gappy"
    assert "30%" in m.reason
    # 10 % missing (NaN and inf): fitted, the inf days counted as missing
    light = s.copy()
    light.iloc[drop[:15]] = np.nan
    light.iloc[drop[15:30]] = -np.inf
    ok = fit(light, None, FAST)
    assert ok.status == "ok"
    assert ok.n_obs == 270
    assert np.isfinite(forecast(ok, light, None, None, 5)["mean"]).all()


def test_not_converged_is_refused_by_forecast() -> None:
    days, y, _ = seasonal_series(4, n=300)
    s = pd.Series(y[:300], index=days[:300])
    m = fit(s, None, ForecastConfig(**{**FAST.__dict__, "maxiter": 1}))
    assert m.status == "not_converged"
    assert not m.converged
    assert "maxiter=1" in m.reason
    with pytest.raises(ValueError, match="not_converged"):
        forecast(m, s, None, None, 10)


def test_fit_never_raises() -> None:
    s = pd.Series(np.arange(200.0), index=[f"day {i}" for i in range(200)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = fit(s, None, ForecastConfig())
    assert m.status == "failed"
    assert m.reason


def test_round_trip_through_json_gives_the_same_forecast() -> None:
    rng = np.random.default_rng(9)
    n = 250
    days = pd.date_range(START, periods=n, freq="D")
    rain = pd.Series(rng.gamma(0.6, 12.0, n) * (rng.random(n) < 0.3), index=days)
    y = pd.Series(30.0 + 0.8 * rain.to_numpy() + ar1(n, 0.7, 1.0, rng), index=days)
    cfg = ForecastConfig(annual_harmonics=1, weekly_harmonics=1, rain_decay=0.9)
    model = fit(y, rain, cfg)
    assert model.status == "ok"
    restored = FittedModel.from_dict(json.loads(json.dumps(model.as_dict(), sort_keys=True)))
    assert restored == model
    paths = rng.gamma(0.6, 12.0, (30, 15))
    a = forecast(model, y, rain, paths, 15)
    b = forecast(restored, y, rain, paths, 15)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="status"):
        FittedModel.from_dict({**model.as_dict(), "status": "great"})


def test_start_after_the_history_and_date_index() -> None:
    days, y, _ = seasonal_series(6, n=200)
    s = pd.Series(y[:200], index=[d.date() for d in days[:200]])  # an index of dates
    model = fit(s, None, FAST)
    assert model.train_end == days[199].date()
    later = days[199].date() + timedelta(days=11)
    fc = forecast(model, s, None, None, 5, start=later)
    assert fc["day"].tolist() == [later + timedelta(days=i) for i in range(5)]
    full = forecast(model, s, None, None, 15)
    np.testing.assert_allclose(fc["mean"], full["mean"].iloc[10:], rtol=1e-9)
    # a start inside the history forecasts from the day before it, ignoring later days
    inside = forecast(model, s, None, None, 5, start=days[150].date())
    assert inside["day"].iloc[0] == days[150].date()


def test_daily_series_fills_absent_days() -> None:
    s = pd.Series([1.0, 2.0, 4.0], index=pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05"]))
    d = daily_series(s)
    assert len(d) == 5
    assert d.isna().sum() == 2
