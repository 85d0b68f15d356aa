"""Rolling-origin backtests of :mod:`ml.forecast`: MASE, MAPE, share within ±10 %, coverage.

For each origin (``n_origins`` origins ``step_days`` apart, the last one leaving a whole horizon
of data after it) the model is fitted on the data up to the origin, the horizon after it is
forecast and compared with what happened. MASE scales each origin's absolute errors by the
in-sample mean absolute error of the seasonal-naive forecast on that origin's training window
(Hyndman's MASE), with the seasonal period m = 365 when the window holds at least 365 + 30 days
and m = 7 otherwise; the figure is the mean of the scaled errors over every origin × horizon
point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from ml.forecast import ForecastConfig, daily_series, fit, forecast

RainGenerator = Callable[[pd.Series, date, int], np.ndarray]
"""(rain history up to the origin, first forecast day, horizon) -> (n_paths, horizon) mm/day."""

SEASONAL_YEAR = 365
SEASONAL_WEEK = 7


@dataclass(frozen=True)
class OriginResult:
    origin: date
    status: str
    mae: float
    scale: float
    seasonal_period: int
    n_points: int


@dataclass(frozen=True)
class BacktestResult:
    n_origins: int
    horizon_days: int
    mase: float
    seasonal_period: int
    mape: float
    within_10pct_share: float
    coverage_80: float
    coverage_95: float
    n_points: int
    status: str
    reason: str
    origins: tuple[OriginResult, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["origins"] = [{**asdict(o), "origin": o.origin.isoformat()} for o in self.origins]
        return d


def seasonal_period_for(n_days: int) -> int:
    """m = 365 when the training window holds at least 365 + 30 days, else 7."""
    return SEASONAL_YEAR if n_days >= SEASONAL_YEAR + 30 else SEASONAL_WEEK


def seasonal_naive_mae(train: pd.Series, m: int) -> float:
    """In-sample MAE of the seasonal-naive forecast y_t ≈ y_{t-m} (pairs with both days seen)."""
    v = train.to_numpy(dtype=float)
    if len(v) <= m:
        return float("nan")
    d = np.abs(v[m:] - v[:-m])
    d = d[np.isfinite(d)]
    return float(d.mean()) if len(d) else float("nan")


def error_metrics(
    actual: np.ndarray,
    mean: np.ndarray,
    lo80: np.ndarray,
    hi80: np.ndarray,
    lo95: np.ndarray,
    hi95: np.ndarray,
) -> dict[str, float]:
    """MAPE (%, zero actuals skipped), share within ±10 %, 80/95 % coverage (finite actuals)."""
    ok = np.isfinite(actual)
    a, m = actual[ok], mean[ok]
    err = np.abs(a - m)
    nz = a != 0
    mape = float(np.mean(err[nz] / np.abs(a[nz])) * 100.0) if nz.any() else float("nan")
    within = float(np.mean(err <= 0.1 * np.abs(a))) if len(a) else float("nan")
    cov80 = float(np.mean((a >= lo80[ok]) & (a <= hi80[ok]))) if len(a) else float("nan")
    cov95 = float(np.mean((a >= lo95[ok]) & (a <= hi95[ok]))) if len(a) else float("nan")
    return {"mape": mape, "within_10pct_share": within, "coverage_80": cov80, "coverage_95": cov95}


def bootstrap_rain_generator(
    n_paths: int = 200, seed: int = 0, shift_days: int = 15
) -> RainGenerator:
    """Future rain paths resampled from the same season of earlier years of the history.

    Each path copies the ``horizon`` days starting at the same calendar day of a random earlier
    year, moved by a random shift of up to ±``shift_days`` days (so two years of history still
    give many distinct paths). With less than a year of history, random blocks are used.
    """
    rng = np.random.default_rng(seed)

    def generate(history: pd.Series, first_day: date, horizon: int) -> np.ndarray:
        r = daily_series(history)
        values = r.to_numpy(dtype=float)
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
        values = np.where(np.isfinite(values), values, mean)
        n = len(values)
        if n < horizon + 1:
            return np.full((n_paths, horizon), mean)
        start0 = pd.Timestamp(r.index[0]).date()
        offset = (first_day - start0).days  # index of first_day in the history's day count
        starts = []
        for _ in range(n_paths):
            for _try in range(20):
                years_back = int(rng.integers(1, max(2, offset // 365 + 1)))
                s = offset - 365 * years_back + int(rng.integers(-shift_days, shift_days + 1))
                if 0 <= s <= n - horizon:
                    break
            else:
                s = int(rng.integers(0, n - horizon + 1))
            starts.append(s)
        idx = np.asarray(starts)[:, None] + np.arange(horizon)[None, :]
        return values[idx]

    return generate


def rolling_origin(
    y: pd.Series,
    rain_mm: pd.Series | None,
    config: ForecastConfig,
    n_origins: int = 6,
    step_days: int = 30,
    horizon_days: int | None = None,
    future_rain: Literal["observed", "climatology"] | RainGenerator = "observed",
) -> BacktestResult:
    """Backtest ``config`` on ``y`` at ``n_origins`` origins ``step_days`` apart.

    ``future_rain``: "observed" forecasts with the rain that fell (known-rain skill),
    "climatology" with the history's monthly mean rain, a callable (see
    :data:`RainGenerator`, e.g. :func:`bootstrap_rain_generator`) with stochastic rain paths
    whose spread reaches the intervals. Origins whose fit is not ``ok`` are skipped and counted
    in the status and reason; if none is ``ok`` the status is the first origin's fit status.
    """
    horizon = int(horizon_days if horizon_days is not None else config.horizon_days)
    series = daily_series(y)
    rain = daily_series(rain_mm) if rain_mm is not None else None
    observed = series.dropna()
    if observed.empty:
        return _empty(n_origins, horizon, "too_short", "the series holds no observed day")
    last = observed.index[-1]
    last_origin = last - pd.Timedelta(days=horizon)  # the last training day of the last origin
    origins = [last_origin - pd.Timedelta(days=step_days * k) for k in range(n_origins)][::-1]

    abs_scaled: list[np.ndarray] = []
    parts: list[pd.DataFrame] = []
    results: list[OriginResult] = []
    statuses: list[str] = []
    reasons: list[str] = []
    periods: list[int] = []
    for origin in origins:
        train = series.loc[:origin]
        rain_train = rain.loc[:origin] if rain is not None else None
        model = fit(train, rain_train, config)
        statuses.append(model.status)
        if model.status != "ok":
            reasons.append(f"{origin.date()}: {model.status} ({model.reason})")
            results.append(OriginResult(origin.date(), model.status, np.nan, np.nan, 0, 0))
            continue
        first_day = (origin + pd.Timedelta(days=1)).date()
        fut_days = pd.date_range(origin + pd.Timedelta(days=1), periods=horizon, freq="D")
        paths: np.ndarray | None = None
        if model.spec.get("use_rain") and rain is not None:
            if future_rain == "observed":
                obs = rain.reindex(fut_days).to_numpy(dtype=float)
                paths = np.where(np.isfinite(obs), obs, 0.0)[None, :]
            elif callable(future_rain):
                paths = np.asarray(future_rain(rain.loc[:origin], first_day, horizon), dtype=float)
        fc = forecast(model, train, rain_train, paths, horizon, start=first_day)
        actual = series.reindex(fut_days).to_numpy(dtype=float)
        window = daily_series(train).dropna()
        window = daily_series(train).loc[window.index[0] :]
        if config.training_days is not None:
            window = window.iloc[-config.training_days :]
        m = seasonal_period_for(len(window))
        scale = seasonal_naive_mae(window, m)
        periods.append(m)
        err = np.abs(actual - fc["mean"].to_numpy())
        ok = np.isfinite(err)
        if scale > 0 and np.isfinite(scale):
            abs_scaled.append(err[ok] / scale)
        part = fc.assign(actual=actual)
        parts.append(part)
        results.append(
            OriginResult(
                origin.date(),
                "ok",
                float(err[ok].mean()) if ok.any() else float("nan"),
                scale,
                m,
                int(ok.sum()),
            )
        )
    if not parts:
        return _empty(n_origins, horizon, statuses[0], "; ".join(reasons), tuple(results))
    allp = pd.concat(parts, ignore_index=True)
    metrics = error_metrics(
        allp["actual"].to_numpy(dtype=float),
        allp["mean"].to_numpy(dtype=float),
        allp["lo80"].to_numpy(dtype=float),
        allp["hi80"].to_numpy(dtype=float),
        allp["lo95"].to_numpy(dtype=float),
        allp["hi95"].to_numpy(dtype=float),
    )
    scaled = np.concatenate(abs_scaled) if abs_scaled else np.array([])
    n_ok = len(parts)
    status = "ok" if n_ok == n_origins else "partial"
    reason = (
        "" if status == "ok" else f"{n_origins - n_ok} origin(s) not fitted: " + "; ".join(reasons)
    )
    return BacktestResult(
        n_origins=n_ok,
        horizon_days=horizon,
        mase=float(scaled.mean()) if len(scaled) else float("nan"),
        seasonal_period=min(periods) if periods else 0,
        mape=metrics["mape"],
        within_10pct_share=metrics["within_10pct_share"],
        coverage_80=metrics["coverage_80"],
        coverage_95=metrics["coverage_95"],
        n_points=int(np.isfinite(allp["actual"].to_numpy(dtype=float)).sum()),
        status=status,
        reason=reason,
        origins=tuple(results),
    )


def _empty(
    n_origins: int,
    horizon: int,
    status: str,
    reason: str,
    origins: tuple[OriginResult, ...] = (),
) -> BacktestResult:
    nan = float("nan")
    return BacktestResult(0, horizon, nan, 0, nan, nan, nan, nan, 0, status, reason, origins)


__all__ = [
    "BacktestResult",
    "OriginResult",
    "RainGenerator",
    "bootstrap_rain_generator",
    "error_metrics",
    "rolling_origin",
    "seasonal_naive_mae",
    "seasonal_period_for",
]
