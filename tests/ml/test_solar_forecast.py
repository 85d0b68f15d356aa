"""The solar forecast: clear-sky energy from pvlib times the season's clear-sky index."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml.solar import (
    PvArraySpec,
    SolarForecastConfig,
    backtest,
    clearsky_daily_kwh,
    clearsky_index,
    forecast,
)

PERTH = PvArraySpec(
    latitude=-31.95,
    longitude=116.05,
    altitude_m=250,
    timezone="Australia/Perth",
    kwp=100.0,
    tilt_deg=20.0,
    azimuth_deg=0.0,
    inverter_kw=90.0,
)


def _year() -> pd.Series:
    return clearsky_daily_kwh(PERTH, date(2025, 1, 1), 365)


def test_clear_sky_energy_is_the_pvlib_chain_summed_over_the_local_day():
    # the same chain at 1-minute steps: the 15-minute midpoints differ from it by well under 1 %
    fine = clearsky_daily_kwh(PERTH, date(2025, 6, 21), 1, step_minutes=1).iloc[0]
    coarse = clearsky_daily_kwh(PERTH, date(2025, 6, 21), 1).iloc[0]
    assert coarse == pytest.approx(fine, rel=0.005)
    year = _year()
    # a 100 kWp north-facing array at 32 degrees south under a clear sky: about 6.3 kWh/kWp on
    # a January day and 3.9 in late June (the inverter clips at 90 kW on summer middays)
    assert year.loc["2025-01-01"] == pytest.approx(629.0, rel=0.01)
    assert year.loc["2025-06-30"] == pytest.approx(385.8, rel=0.01)
    assert year.idxmin().month in (6, 7)
    assert (year > 0).all()


def test_constant_index_gives_that_share_of_clear_sky_with_no_spread():
    sky = _year()
    measured = 0.8 * sky.iloc[:200]
    fc, status = forecast(PERTH, measured, SolarForecastConfig(horizon_days=10))
    assert status == "ok"
    expected = 0.8 * sky.iloc[200:210].to_numpy()
    np.testing.assert_allclose(fc["mean"].to_numpy(), expected, rtol=1e-9)
    np.testing.assert_allclose(fc["lo95"].to_numpy(), expected, rtol=1e-9)
    np.testing.assert_allclose(fc["hi95"].to_numpy(), expected, rtol=1e-9)
    assert list(fc["day"]) == [d.date() for d in sky.index[200:210]]


def test_the_season_of_the_forecast_day_picks_the_sample():
    sky = clearsky_daily_kwh(PERTH, date(2024, 1, 1), 731)
    # sunny summers (index 0.9), cloudy winters (0.5): a July forecast sees only winter days
    winter = sky.index.month.isin([5, 6, 7, 8, 9])
    index = pd.Series(np.where(winter, 0.5, 0.9), index=sky.index)
    measured = (sky * index)[:"2025-06-30"]
    fc, status = forecast(PERTH, measured, SolarForecastConfig(horizon_days=5))
    assert status == "ok"
    july = sky.loc["2025-07-01":"2025-07-05"].to_numpy()
    np.testing.assert_allclose(fc["mean"].to_numpy(), 0.5 * july, rtol=1e-9)


def test_backtest_on_a_random_sky_is_calibrated():
    sky = clearsky_daily_kwh(PERTH, date(2024, 1, 1), 731)
    rng = np.random.default_rng(7)
    measured = sky * rng.beta(6.0, 2.0, len(sky))
    result = backtest(PERTH, measured, origins=6)
    assert result is not None and result.origins == 6
    assert result.total_abs_pct_error < 6.0
    assert 0.70 <= result.coverage80 <= 0.90
    assert 0.88 <= result.coverage95 <= 1.0


def test_short_or_dark_history_gives_a_status_not_a_forecast():
    sky = _year()
    fc, status = forecast(PERTH, sky.iloc[:10])
    assert fc.empty and status.startswith("too_short")
    # days without sun to compare (a dead meter reading zero is kept; a missing day is not)
    measured = pd.Series([np.nan, 5.0, 0.0], index=sky.index[:3])
    assert list(clearsky_index(measured, sky.iloc[:3], PERTH.kwp).index) == list(sky.index[1:3])
