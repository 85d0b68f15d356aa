"""Seasonal decomposition of daily series by robust seasonal regression.

A daily flow of a site is modelled as a straight-line trend plus weekly and annual Fourier terms,
fitted by robust least squares (statsmodels ``RLM``: Huber's norm, then Tukey's biweight from
that start), so that spikes and level shifts of a month or two barely pull the fit. What is left,
the residual, is what the anomaly and change point detectors look at.

STL with a 365-day period is not used on purpose: on two years of data it has one cycle to learn
the annual shape from and leaves almost nothing in the residual.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm  # type: ignore[import-untyped]

COLUMNS = ["day", "value", "trend", "seasonal_weekly", "seasonal_annual", "residual"]
ANNUAL_PERIOD = 365.25
# Tukey biweight tuning constant (in units of the Huber fit's scale); 3.0 rather than the usual
# 4.685 keeps 3-sigma, 30-60 day level shifts out of the seasonal fit (measured: the residual
# kept 2.4 of a 3-sigma 60-day shift with c=3, 1.9 with Huber alone)
TUKEY_C = 3.0


def _daily(y: pd.Series) -> pd.Series:
    """The series on a complete daily grid (first to last day); inf is NaN, duplicates averaged."""
    values = pd.to_numeric(pd.Series(y.to_numpy(), index=y.index), errors="coerce")
    values = values.astype("float64").replace([np.inf, -np.inf], np.nan)
    index = pd.DatetimeIndex(pd.to_datetime(values.index)).normalize()
    values.index = index
    if not index.is_unique:
        values = values.groupby(level=0).mean()
    values = values.sort_index()
    if values.empty:
        return values
    grid = pd.date_range(values.index[0], values.index[-1], freq="D")
    return values.reindex(grid)


def _fourier(t: np.ndarray, period: float, harmonics: int) -> np.ndarray:
    cols = []
    for k in range(1, harmonics + 1):
        angle = 2.0 * np.pi * k * t / period
        cols.extend([np.sin(angle), np.cos(angle)])
    return np.column_stack(cols) if cols else np.empty((len(t), 0))


def _robust_fit(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Coefficients of the robust regression (Huber, then Tukey's biweight); ordinary least
    squares when the data fit exactly or the robust fit fails."""
    ols = np.linalg.lstsq(x, y, rcond=None)[0]
    residual = y - x @ ols
    mad = np.median(np.abs(residual - np.median(residual)))
    if not np.isfinite(mad) or mad <= 1e-12 * max(1.0, float(np.abs(y).max())):
        return ols  # an exact fit (or nearly): nothing to down-weight
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            huber = sm.RLM(y, x, M=sm.robust.norms.HuberT()).fit(maxiter=50)
            # then a redescending norm from the Huber fit: days far off (a spike, a month-long
            # level shift) get no weight at all instead of a small one, so the annual terms
            # do not bend towards them
            tukey = sm.RLM(y, x, M=sm.robust.norms.TukeyBiweight(c=TUKEY_C)).fit(
                maxiter=100,
                start_params=huber.params,
                start_scale=huber.scale,
                update_scale=False,
            )
        params = np.asarray(tukey.params, dtype=float)
        if not np.all(np.isfinite(params)):
            params = np.asarray(huber.params, dtype=float)
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        return ols
    return params if np.all(np.isfinite(params)) else ols


def deseasonalise(
    y: pd.Series,
    weekly_harmonics: int = 3,
    annual_harmonics: int = 2,
    min_days_for_annual: int = 300,
) -> pd.DataFrame:
    """Split a daily series into trend, weekly and annual seasonality and a residual.

    ``y`` is indexed by day. The result has one row per calendar day from the first to the last
    day of ``y`` (missing days are added), with columns ``day, value, trend, seasonal_weekly,
    seasonal_annual, residual``. The fitted components are given on every day; ``value`` and
    ``residual`` stay NaN where the value is missing (inf counts as missing). The annual terms are
    left out (zero) when the observed days span fewer than ``min_days_for_annual`` days. With no
    usable value at all, every component is NaN.
    """
    values = _daily(y)
    out = pd.DataFrame({"day": values.index, "value": values.to_numpy()})
    n = len(values)
    for col in COLUMNS[2:]:
        out[col] = np.nan
    if n == 0:
        return out[COLUMNS]
    t = np.arange(n, dtype=float)
    observed = np.isfinite(values.to_numpy())
    if not observed.any():
        return out[COLUMNS]
    days_since_epoch = (values.index - pd.Timestamp("1970-01-01")).days.to_numpy(dtype=float)
    first, last = t[observed][0], t[observed][-1]
    span = last - first + 1
    centre = (first + last) / 2.0
    scale = max(span / 2.0, 1.0)
    trend_cols = [np.ones(n)]
    if observed.sum() >= 3 and span >= 3:
        trend_cols.append((t - centre) / scale)
    trend_x = np.column_stack(trend_cols)
    # the day-of-week phase comes from the date itself, the annual phase from the day of year
    weekly_x = _fourier(days_since_epoch, 7.0, weekly_harmonics if span >= 14 else 0)
    use_annual = span >= min_days_for_annual
    annual_x = _fourier(days_since_epoch, ANNUAL_PERIOD, annual_harmonics if use_annual else 0)
    x = np.column_stack([trend_x, weekly_x, annual_x])
    n_obs = int(observed.sum())
    if n_obs <= x.shape[1]:
        # too few values for the seasonal terms: a level only
        x = trend_x[:, :1]
        weekly_x = weekly_x[:, :0]
        annual_x = annual_x[:, :0]
        trend_x = trend_x[:, :1]
    y_obs = values.to_numpy()[observed]
    params = _robust_fit(y_obs, x[observed])
    k_trend, k_week = trend_x.shape[1], weekly_x.shape[1]
    trend = trend_x @ params[:k_trend]
    weekly = weekly_x @ params[k_trend : k_trend + k_week]
    annual = annual_x @ params[k_trend + k_week :]
    out["trend"] = trend
    out["seasonal_weekly"] = weekly
    out["seasonal_annual"] = annual
    out["residual"] = out["value"] - (trend + weekly + annual)
    return out[COLUMNS]


def decompose_all(series: pd.DataFrame) -> pd.DataFrame:
    """``deseasonalise`` of every series of a long frame (``series_id, day, value``).

    Returns ``series_id`` plus the columns of ``deseasonalise``, for a mart. A series with no
    usable value still gives its rows (components NaN).
    """
    frames = []
    for series_id, group in series.groupby("series_id", sort=True):
        part = deseasonalise(pd.Series(group["value"].to_numpy(), index=group["day"]))
        part.insert(0, "series_id", series_id)
        frames.append(part)
    if not frames:
        return pd.DataFrame({"series_id": pd.Series(dtype="str")} | {c: [] for c in COLUMNS})
    return pd.concat(frames, ignore_index=True)


def robust_sigma(residual: np.ndarray | pd.Series) -> float:
    """Spread of a residual that spikes do not inflate: 1.4826 x MAD, else 1.2533 x mean |dev|.

    NaN is ignored; 0.0 when the residual has no spread at all (or no value).
    """
    r = np.asarray(residual, dtype=float)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return 0.0
    centre = float(np.median(r))
    mad = 1.4826 * float(np.median(np.abs(r - centre)))
    if mad > 0:
        return mad
    return 1.2533 * float(np.mean(np.abs(r - centre)))


def is_flat(values: np.ndarray | pd.Series) -> bool:
    """True when the finite values are all equal (to float noise), or there are none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return True
    return bool(np.ptp(v) <= 1e-9 * max(1.0, float(np.abs(v).max())))
