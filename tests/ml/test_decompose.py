"""Seasonal regression: components recovered, gaps kept, spikes do not bend the fit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.decompose import COLUMNS, decompose_all, deseasonalise, robust_sigma

START = pd.Timestamp("2024-07-01")


def seasonal(days: int = 730, noise_sd: float = 100.0, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range(START, periods=days, freq="D")
    t = np.arange(days)
    weekend = np.asarray(index.day_of_week >= 5)
    y = (
        10_000
        + 1.5 * t
        + 2_000 * np.sin(2 * np.pi * t / 365.25)
        - 600 * weekend
        + rng.normal(0, noise_sd, days)
    )
    return pd.Series(y, index=index)


def test_components_add_up_and_residual_is_the_noise() -> None:
    y = seasonal()
    parts = deseasonalise(y)
    assert list(parts.columns) == COLUMNS
    fitted = parts.trend + parts.seasonal_weekly + parts.seasonal_annual
    assert np.allclose(fitted + parts.residual, parts.value)
    # the weekly step is approximated by three harmonics: a little of it stays in the residual
    assert 90 < parts.residual.std() < 160
    assert parts.seasonal_annual.max() - parts.seasonal_annual.min() > 3_500
    weekend = pd.DatetimeIndex(parts.day).day_of_week >= 5
    assert parts.seasonal_weekly[weekend].mean() < parts.seasonal_weekly[~weekend].mean() - 400


def test_missing_days_are_added_and_kept_nan() -> None:
    y = seasonal().drop(seasonal().index[100:110])
    y.iloc[200] = np.nan
    y.iloc[300] = np.inf
    parts = deseasonalise(y)
    assert len(parts) == 730
    assert parts.value.isna().sum() == 12
    assert parts.residual.isna().sum() == 12
    assert parts.trend.notna().all()


def test_a_spike_does_not_bend_the_fit() -> None:
    y = seasonal(noise_sd=50.0)
    y.iloc[400] += 20_000
    parts = deseasonalise(y)
    assert abs(parts.residual.iloc[400] - 20_000) < 300
    assert robust_sigma(parts.residual) < 120


def test_short_series_has_no_annual_term() -> None:
    parts = deseasonalise(seasonal(days=120))
    assert (parts.seasonal_annual == 0).all()
    assert parts.residual.notna().all()


def test_degenerate_series_do_not_raise() -> None:
    index = pd.date_range(START, periods=5, freq="D")
    assert deseasonalise(pd.Series(np.nan, index=index)).trend.isna().all()
    assert deseasonalise(pd.Series([], dtype=float)).empty
    constant = deseasonalise(pd.Series(3.0, index=index))
    assert np.allclose(constant.residual, 0.0)


def test_decompose_all_is_long() -> None:
    frames = [
        pd.DataFrame({"series_id": sid, "day": y.index, "value": y.to_numpy()})
        for sid, y in (("a", seasonal(seed=1)), ("b", seasonal(days=90, seed=2)))
    ]
    out = decompose_all(pd.concat(frames, ignore_index=True))
    assert list(out.columns) == ["series_id", *COLUMNS]
    assert out.groupby("series_id").size().to_dict() == {"a": 730, "b": 90}
