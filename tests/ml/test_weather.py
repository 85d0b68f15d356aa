"""The daily rain generator: fitting recovers known parameters, sampling follows the model."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import special

from ml.weather import RainModel, fit_gamma, fit_rain_model, sample_rain

KNOWN = RainModel(
    p_wet_after_dry=tuple(np.round(np.linspace(0.10, 0.40, 12), 3)),
    p_wet_after_wet=tuple(np.round(np.linspace(0.40, 0.70, 12), 3)),
    gamma_shape=tuple(np.round(np.linspace(0.6, 1.2, 12), 3)),
    gamma_scale_mm=tuple(np.round(np.linspace(3.0, 12.0, 12), 3)),
)


def _series(values: np.ndarray, start: str = "1900-01-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D"))


@pytest.fixture(scope="module")
def long_record() -> pd.Series:
    """100 years drawn from KNOWN."""
    rain = sample_rain(KNOWN, date(1900, 1, 1), 36_525, 1, np.random.default_rng(11))[0]
    return _series(rain)


def test_fit_recovers_known_chain_and_gamma(long_record):
    """Tolerance: 5 standard errors of each estimate (binomial for the transition
    probabilities, the gamma MLE's Fisher information for the shape, the sample mean's for the
    mean excess), computed from the counts the record actually holds; 48 estimates at 5 sigma
    fail by chance with probability ~3e-5, and the seed is fixed."""
    fit = fit_rain_model(long_record)
    assert fit.status == "ok", fit.reason
    assert fit.n_days == 36_525
    values = long_record.to_numpy()
    month = long_record.index.month.to_numpy() - 1
    wet = values > KNOWN.wet_threshold_mm
    prev_wet = np.r_[False, wet[:-1]]
    for m in range(12):
        here = month == m
        n_dry = int((here & ~prev_wet).sum())
        n_wet_prev = int((here & prev_wet).sum())
        p01, p11 = KNOWN.p_wet_after_dry[m], KNOWN.p_wet_after_wet[m]
        assert abs(fit.p_wet_after_dry[m] - p01) < 5 * np.sqrt(p01 * (1 - p01) / n_dry)
        assert abs(fit.p_wet_after_wet[m] - p11) < 5 * np.sqrt(p11 * (1 - p11) / n_wet_prev)
        k, theta = KNOWN.gamma_shape[m], KNOWN.gamma_scale_mm[m]
        n = int((here & wet).sum())
        se_k = np.sqrt(k / (n * (k * special.polygamma(1, k) - 1)))
        assert abs(fit.gamma_shape[m] - k) < 5 * se_k
        se_mean = theta * np.sqrt(k / n)
        assert abs(fit.gamma_shape[m] * fit.gamma_scale_mm[m] - k * theta) < 5 * se_mean


def test_sample_rain_wet_frequency_and_amounts_match_the_model():
    """20 000 paths x one year: per month, the share of wet days is the chain's stationary share
    (within 0.01: the chain lags a day or two behind each month's change of parameters, which
    moves a share by ~2/30 of the neighbouring months' difference) and the mean wet-day amount is
    threshold + shape x scale (within 5 standard errors)."""
    rain = sample_rain(KNOWN, date(2025, 1, 1), 365, 20_000, np.random.default_rng(3))
    assert rain.shape == (20_000, 365)
    assert (rain >= 0).all()
    month = pd.date_range("2025-01-01", periods=365).month.to_numpy() - 1
    share = KNOWN.wet_fraction()
    mean_wet = KNOWN.mean_wet_day_mm()
    for m in range(12):
        block = rain[:, month == m]
        wet = block > 0
        assert abs(wet.mean() - share[m]) < 0.01, m
        assert (block[wet] > KNOWN.wet_threshold_mm).all()
        k, theta = KNOWN.gamma_shape[m], KNOWN.gamma_scale_mm[m]
        se = theta * np.sqrt(k / wet.sum())
        assert abs(block[wet].mean() - mean_wet[m]) < 5 * se, m


def test_wet_today_sets_the_first_day():
    rng = np.random.default_rng(5)
    after_wet = sample_rain(KNOWN, date(2025, 3, 1), 1, 100_000, rng, wet_today=True)
    after_dry = sample_rain(KNOWN, date(2025, 3, 1), 1, 100_000, rng, wet_today=False)
    assert abs((after_wet > 0).mean() - KNOWN.p_wet_after_wet[2]) < 0.006
    assert abs((after_dry > 0).mean() - KNOWN.p_wet_after_dry[2]) < 0.006


def test_round_trip_through_a_dict():
    assert RainModel.from_dict(KNOWN.as_dict()) == KNOWN


def test_missing_values_break_the_chain_not_the_fit(long_record):
    values = long_record.to_numpy().copy()
    values[::7] = np.nan
    values[3::11] = np.inf
    values[5::13] = -1.0  # impossible: treated as missing
    fit = fit_rain_model(_series(values))
    assert fit.status == "ok"
    assert fit.n_days == int(np.isfinite(values).sum() - (values < 0).sum())
    assert abs(fit.p_wet_after_dry[6] - KNOWN.p_wet_after_dry[6]) < 0.03


def test_a_short_record_borrows_and_says_so():
    rng = np.random.default_rng(1)
    # one year: dry months have too few wet days for their own fit
    year = sample_rain(KNOWN, date(2024, 1, 1), 366, 1, rng)[0]
    fit = fit_rain_model(_series(year, "2024-01-01"))
    assert fit.status == "pooled"
    assert "borrowed" in fit.reason
    few = fit_rain_model(_series(year[:40], "2024-01-01"))
    assert few.status == "too_short"
    assert "40 observed days" in few.reason
    assert all(np.isfinite(few.gamma_shape))


def test_all_dry_and_empty_records():
    dry = fit_rain_model(_series(np.zeros(400)))
    assert dry.status == "no_wet_days"
    assert dry.wet_fraction().max() == 0
    assert not sample_rain(dry, date(2025, 1, 1), 30, 50, np.random.default_rng(0)).any()
    empty = fit_rain_model(pd.Series(dtype="float64"))
    assert empty.status == "too_short"
    nan_only = fit_rain_model(_series(np.full(100, np.nan)))
    assert nan_only.status == "too_short"
    assert nan_only.n_days == 0


def test_invalid_parameters_are_refused():
    with pytest.raises(ValueError, match="12 monthly"):
        RainModel((0.1,) * 11, (0.5,) * 12, (1.0,) * 12, (1.0,) * 12)
    with pytest.raises(ValueError, match="probabilities"):
        RainModel((1.5,) * 12, (0.5,) * 12, (1.0,) * 12, (1.0,) * 12)
    with pytest.raises(ValueError, match="threshold"):
        fit_rain_model(pd.Series([1.0]), wet_threshold_mm=float("nan"))


def test_gamma_fit_matches_scipy_mle():
    from scipy import stats

    x = np.random.default_rng(2).gamma(0.7, 6.0, 3000)
    k, theta = fit_gamma(x)
    k_ref, _, theta_ref = stats.gamma.fit(x, floc=0)
    assert k == pytest.approx(k_ref, rel=1e-3)
    assert theta == pytest.approx(theta_ref, rel=1e-3)
