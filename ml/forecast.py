"""Daily forecasts: regression on calendar terms and rain with AR(1) errors (statsmodels SARIMAX).

The model of a daily series ``y_t`` is

    y_t = b0 + b1 * t/s + sum_k (a_k sin + c_k cos)(2 pi k d_t / 365.25)
                        + sum_j (e_j sin + f_j cos)(2 pi j d_t / 7) + g * rain_t + u_t,
    u_t = phi * u_{t-1} + eps_t,   eps_t ~ N(0, sigma2)

where ``d_t`` counts days from 1970-01-01 (so the calendar phase never depends on the training
window), ``t`` counts days from the first training day and ``s`` is the trend scale (365.25). The
constant and the trend are exogenous columns, not SARIMAX's ``trend="ct"``, which forecast with a
bias. :func:`fit` never raises: a series it cannot or should not model gets a non-``ok`` status
and a reason. :func:`forecast` applies the stored parameters to the history (a Kalman filter, no
refit) and, given stochastic future rain paths, returns quantiles of the mixture over the paths
of the model's Gaussian forecast, which is how rain uncertainty reaches the intervals.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, cast, get_args

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar  # type: ignore[import-untyped]
from scipy.signal import lfilter  # type: ignore[import-untyped]
from scipy.special import ndtr, ndtri  # type: ignore[import-untyped]
from statsmodels.tsa.statespace.sarimax import SARIMAX  # type: ignore[import-untyped]

ForecastStatus = Literal["ok", "too_short", "constant", "gappy", "not_converged", "failed"]
FORECAST_STATUSES: tuple[str, ...] = get_args(ForecastStatus)

MODEL_TYPE = "sarimax_ar1_fourier"
EPOCH = date(1970, 1, 1)
YEAR_DAYS = 365.25
TREND_SCALE = 365.25
RAIN_COLUMN = "rain"
RAIN_DECAY_GRID = (0.0, 0.8, 0.9, 0.93, 0.95, 0.97)
FORECAST_COLUMNS = ("day", "mean", "median", "lo80", "hi80", "lo95", "hi95")
_Z80 = float(ndtri(0.9))
_Z95 = float(ndtri(0.975))


@dataclass(frozen=True)
class ForecastConfig:
    """How a series is modelled and which series are refused."""

    horizon_days: int = 90
    min_history_days: int = 120
    """Fewer observed days than this in the training window: status ``too_short``."""
    max_gap_share: float = 0.2
    """Share of missing days in the training window above which the status is ``gappy``."""
    annual_harmonics: int = 2
    weekly_harmonics: int = 3
    use_rain: bool = True
    maxiter: int = 500
    training_days: int | None = 730
    """The most recent N days (ending at the last observed day) are used to fit; None: all."""
    trend: bool = True
    """A linear time trend (scaled to per-year) among the regressors."""
    min_days_for_annual: int = 365
    """A training window shorter than this gets neither annual terms nor a trend."""
    rain_decay: float | None = 0.0
    """0: the rain term is the day's rain. In (0, 1): it is rain stored with this daily decay,
    F_t = decay * F_(t-1) + rain_t (a store's memory of rain). None: the decay of
    :data:`RAIN_DECAY_GRID` with the highest likelihood."""
    outlier_z: float | None = None
    """Days whose robust z-score (median/MAD over the window) exceeds this are treated as
    missing when fitting and filtering (e.g. shutdown days in a demand series). None: keep all."""


@dataclass(frozen=True)
class FittedModel:
    """A fitted forecast model as the model registry stores it (JSON via :meth:`as_dict`)."""

    model_type: str
    status: ForecastStatus
    reason: str
    params: dict[str, float]
    spec: dict[str, Any]
    train_start: date | None
    train_end: date | None
    n_obs: int
    converged: bool
    metrics: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["train_start"] = self.train_start.isoformat() if self.train_start else None
        d["train_end"] = self.train_end.isoformat() if self.train_end else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FittedModel:
        status = str(d["status"])
        if status not in FORECAST_STATUSES:
            raise ValueError(f"unknown forecast status {status!r}")

        def _day(v: Any) -> date | None:
            if v is None or isinstance(v, date):
                return v
            return date.fromisoformat(str(v))

        return cls(
            model_type=str(d["model_type"]),
            status=cast(ForecastStatus, status),
            reason=str(d.get("reason", "")),
            params={str(k): float(v) for k, v in d.get("params", {}).items()},
            spec=dict(d.get("spec", {})),
            train_start=_day(d.get("train_start")),
            train_end=_day(d.get("train_end")),
            n_obs=int(d.get("n_obs", 0)),
            converged=bool(d.get("converged", False)),
            metrics={str(k): float(v) for k, v in d.get("metrics", {}).items()},
        )


STORE_VOLUME_CONFIG = ForecastConfig(horizon_days=90, rain_decay=0.93)
"""Store volumes: rain enters as stored rain with a 0.93 daily decay (chosen by backtest on the
demo sites, docs/forecasts.md)."""
DEMAND_CONFIG = ForecastConfig(horizon_days=30)
"""Site water demand: same-day rain, 30-day horizon."""


# ---------------------------------------------------------------------------------------------
# Series preparation and the design matrix


def daily_series(s: pd.Series | None) -> pd.Series:
    """``s`` as floats on a gap-free daily DatetimeIndex (NaN for missing, inf and absent days).

    The index may hold timestamps or dates; several values on one day are averaged.
    """
    if s is None or len(s) == 0:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], name="day"))
    values = np.array(pd.to_numeric(pd.Series(s.to_numpy()), errors="coerce"), dtype=float)
    values[~np.isfinite(values)] = np.nan
    idx = pd.DatetimeIndex(pd.to_datetime(pd.Index(s.index))).normalize()
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    out = pd.Series(values, index=idx).groupby(level=0).mean().sort_index()
    full = pd.date_range(out.index[0], out.index[-1], freq="D", name="day")
    return out.reindex(full)


def _day_numbers(days: pd.DatetimeIndex) -> np.ndarray:
    epoch = np.datetime64(EPOCH.isoformat(), "D")
    return cast(np.ndarray, (days.values.astype("datetime64[D]") - epoch).astype(float))


def _design(days: pd.DatetimeIndex, spec: dict[str, Any], rain: np.ndarray | None) -> pd.DataFrame:
    """Exogenous columns on ``days``: const, trend, Fourier terms and (when used) rain."""
    dn = _day_numbers(days)
    origin = float(spec["time_origin_day_number"])
    cols: dict[str, np.ndarray] = {"const": np.ones(len(days))}
    if spec.get("trend", True):
        cols["trend"] = (dn - origin) / float(spec["trend_scale"])
    for k in range(1, int(spec["annual_harmonics"]) + 1):
        w = 2.0 * math.pi * k * dn / YEAR_DAYS
        cols[f"annual_sin{k}"] = np.sin(w)
        cols[f"annual_cos{k}"] = np.cos(w)
    for k in range(1, int(spec["weekly_harmonics"]) + 1):
        w = 2.0 * math.pi * k * dn / 7.0
        cols[f"weekly_sin{k}"] = np.sin(w)
        cols[f"weekly_cos{k}"] = np.cos(w)
    if spec["use_rain"]:
        if rain is None:
            raise ValueError("the model uses rain but no rain was given")
        cols[RAIN_COLUMN] = np.asarray(rain, dtype=float)
    return pd.DataFrame(cols, index=days)


def rain_climatology(rain_mm: pd.Series | None) -> dict[int, float]:
    """Mean daily rain (mm) per calendar month of the history; month 0 is the overall mean."""
    r = daily_series(rain_mm).dropna()
    overall = float(r.mean()) if len(r) else 0.0
    clim = {0: overall}
    if len(r):
        by_month = r.groupby(pd.DatetimeIndex(r.index).month).mean()
        clim.update({int(m): float(v) for m, v in by_month.items()})
    return clim


def _climatology_on(
    days: pd.DatetimeIndex, clim: dict[str, float] | dict[int, float]
) -> np.ndarray:
    c = {int(k): float(v) for k, v in clim.items()}
    return np.array([c.get(int(m), c.get(0, 0.0)) for m in days.month], dtype=float)


def _rain_on(
    days: pd.DatetimeIndex, rain_mm: pd.Series | None, clim: dict[int, float]
) -> np.ndarray:
    """Observed rain on ``days``; missing days take the month's climatological mean."""
    r = daily_series(rain_mm).reindex(days).to_numpy(dtype=float)
    fill = _climatology_on(days, clim)
    return np.where(np.isfinite(r), r, fill)


def _window(y: pd.Series, training_days: int | None) -> pd.Series:
    """The training window: up to ``training_days`` days ending at the last observed day."""
    observed = y.dropna()
    if observed.empty:
        return y.iloc[0:0]
    y = y.loc[: observed.index[-1]]
    if training_days is not None and len(y) > training_days:
        y = y.iloc[-training_days:]
    # start at the first observed day of the window
    first = y.dropna().index[0]
    return y.loc[first:]


def _refusal(
    status: ForecastStatus,
    reason: str,
    config: ForecastConfig,
    window: pd.Series,
    converged: bool = False,
) -> FittedModel:
    has = len(window) > 0
    return FittedModel(
        model_type=MODEL_TYPE,
        status=status,
        reason=reason,
        params={},
        spec=_spec(config, window.index[0].date() if has else None, False),
        train_start=window.index[0].date() if has else None,
        train_end=window.index[-1].date() if has else None,
        n_obs=int(window.notna().sum()),
        converged=converged,
    )


def _spec(config: ForecastConfig, origin: date | None, use_rain: bool) -> dict[str, Any]:
    return {
        "annual_harmonics": config.annual_harmonics,
        "weekly_harmonics": config.weekly_harmonics,
        "use_rain": use_rain,
        "trend": config.trend,
        "trend_scale": TREND_SCALE,
        "time_origin": origin.isoformat() if origin else None,
        "time_origin_day_number": (origin - EPOCH).days if origin else 0,
        "year_days": YEAR_DAYS,
        "ar_order": 1,
        "rain_decay": config.rain_decay if config.rain_decay is not None else 0.0,
        "outlier_z": config.outlier_z,
        "training_days": config.training_days,
        "maxiter": config.maxiter,
    }


# ---------------------------------------------------------------------------------------------
# Fit


def fit(y: pd.Series, rain_mm: pd.Series | None, config: ForecastConfig) -> FittedModel:
    """Fit the model to the daily series ``y``; never raises (failures are statuses).

    ``y`` is indexed by days (timestamps or dates); missing days may be NaN or absent, and NaN
    or inf values count as missing. ``rain_mm`` is daily rain (mm) on the same days; missing
    rain days take the month's mean. Without rain (or with ``config.use_rain`` False) the model
    has no rain term.
    """
    try:
        return _fit(y, rain_mm, config)
    except Exception as exc:  # the promise: fit never raises
        return FittedModel(
            model_type=MODEL_TYPE,
            status="failed",
            reason=f"the fit raised {type(exc).__name__}: {exc}",
            params={},
            spec={},
            train_start=None,
            train_end=None,
            n_obs=0,
            converged=False,
        )


def _fit(y: pd.Series, rain_mm: pd.Series | None, config: ForecastConfig) -> FittedModel:
    series = daily_series(y)
    window = _window(series, config.training_days)
    n_days = len(window)
    n_obs = int(window.notna().sum())
    if n_obs < config.min_history_days:
        return _refusal(
            "too_short",
            f"{n_obs} observed days in the training window; at least "
            f"{config.min_history_days} are needed",
            config,
            window,
        )
    gap_share = 1.0 - n_obs / n_days
    if gap_share > config.max_gap_share:
        return _refusal(
            "gappy",
            f"{gap_share:.0%} of the {n_days} days in the training window are missing "
            f"(more than {config.max_gap_share:.0%})",
            config,
            window,
        )
    values = window.dropna().to_numpy()
    spread = float(values.max() - values.min())
    if spread <= 1e-9 * max(1.0, float(np.abs(values).max())):
        return _refusal(
            "constant",
            f"the series is constant ({values[0]:g}) over the training window; "
            "no forecast model is fitted",
            config,
            window,
        )

    n_outliers = 0
    if config.outlier_z is not None:
        window, n_outliers = _drop_outliers(window, config.outlier_z)
        n_obs = int(window.notna().sum())
    rain_obs = daily_series(rain_mm) if rain_mm is not None else None
    use_rain = bool(config.use_rain and rain_obs is not None and rain_obs.notna().any())
    origin = window.index[0].date()
    spec = _spec(config, origin, use_rain)
    clim = rain_climatology(rain_obs) if use_rain else {0: 0.0}
    days = pd.DatetimeIndex(window.index)
    rain = _rain_on(days, rain_obs, clim) if use_rain else None
    if use_rain and rain is not None and float(np.ptp(rain)) == 0.0:
        use_rain = False  # rain that never varies cannot be told from the constant
        spec["use_rain"] = False
        rain = None
    if n_days < config.min_days_for_annual:
        # less than a year cannot tell an annual cycle from a trend: extrapolating either over
        # the horizon is a guess (backtests on 130-400 days of the demo gave MASE 6-13 with both)
        spec["annual_harmonics"] = 0
        spec["trend"] = False
    spec["n_outliers"] = n_outliers
    spec["rain_climatology"] = {str(k): v for k, v in clim.items()}
    decays = RAIN_DECAY_GRID if config.rain_decay is None and use_rain else (spec["rain_decay"],)
    best: tuple[_Estimate, pd.DataFrame, float] | None = None
    for decay in decays:
        exog = _design(days, spec, _rain_feature(rain, None, float(decay))[0])
        est = _profile_mle(window.to_numpy(dtype=float), exog.to_numpy(), config.maxiter)
        if best is None or (est.converged and est.llf > best[0].llf) or not best[0].converged:
            best = (est, exog, float(decay))
    assert best is not None
    est, exog, spec["rain_decay"] = best
    exog_names = list(exog.columns)
    names = [*exog_names, "ar.L1", "sigma2"]
    raw = np.concatenate([est.beta, [est.phi, est.sigma2]])
    if not np.all(np.isfinite(raw)):
        return _refusal("failed", "the fit gave non-finite parameters", config, window)
    params = dict(zip(names, raw.tolist(), strict=True))
    common: dict[str, Any] = {
        "model_type": MODEL_TYPE,
        "params": params,
        "spec": spec,
        "train_start": origin,
        "train_end": window.index[-1].date(),
        "n_obs": n_obs,
    }
    if not est.converged:
        return FittedModel(
            status="not_converged",
            reason=(
                f"the likelihood optimiser did not converge in maxiter={config.maxiter} "
                f"({est.iterations} evaluations)"
            ),
            converged=False,
            **common,
        )
    k = len(raw)
    return FittedModel(
        status="ok",
        reason="",
        converged=True,
        metrics={"llf": est.llf, "aic": -2.0 * est.llf + 2.0 * k},
        **common,
    )


@dataclass(frozen=True)
class _Estimate:
    beta: np.ndarray
    phi: float
    sigma2: float
    llf: float
    converged: bool
    iterations: int


PHI_BOUNDS = (-0.98, 0.998)


def _profile_mle(y: np.ndarray, x: np.ndarray, maxiter: int) -> _Estimate:
    """Exact Gaussian MLE of y = X b + u, u AR(1) (stationary start), with missing days.

    For a given phi, b and the variance have closed forms: with observed days t_0 < t_1 < ...
    and gaps d_i = t_i - t_(i-1), u_(t_i) given u_(t_(i-1)) is N(phi^d_i u, v (1 - phi^(2 d_i)))
    where v = sigma2 / (1 - phi^2) is the stationary variance, so the quasi-differenced rows
    (y_i - phi^d_i y_(i-1)) / sqrt(1 - phi^(2 d_i)) are i.i.d. N(., v) and least squares on them
    is GLS. The profile log-likelihood in phi is maximised by bounded Brent search. This is the
    likelihood SARIMAX(1,0,0) with exog evaluates by Kalman filter, at a fraction of the cost
    of its numerical-gradient optimiser over every regression coefficient.
    """
    obs = np.isfinite(y)
    t = np.flatnonzero(obs).astype(float)
    yo, xo = y[obs], x[obs]
    gaps = np.diff(t)
    n = len(yo)

    def transformed(phi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = np.power(phi, gaps)
        w = np.maximum(1.0 - a * a, 1e-12)
        root = np.sqrt(w)
        ys = np.concatenate([yo[:1], (yo[1:] - a * yo[:-1]) / root])
        xs = np.vstack([xo[:1], (xo[1:] - a[:, None] * xo[:-1]) / root[:, None]])
        return ys, xs, w

    def profile(phi: float) -> tuple[float, np.ndarray, float]:
        ys, xs, w = transformed(phi)
        beta, *_ = np.linalg.lstsq(xs, ys, rcond=None)
        e = ys - xs @ beta
        v = float(e @ e) / n
        llf = -0.5 * n * (math.log(2.0 * math.pi * max(v, 1e-300)) + 1.0) - 0.5 * float(
            np.log(w).sum()
        )
        return llf, beta, v

    res = minimize_scalar(
        lambda p: -profile(float(p))[0],
        bounds=PHI_BOUNDS,
        method="bounded",
        options={"maxiter": maxiter, "xatol": 1e-7},
    )
    phi = float(res.x)
    llf, beta, v = profile(phi)
    return _Estimate(
        beta=np.asarray(beta, dtype=float),
        phi=phi,
        sigma2=v * (1.0 - phi * phi),
        llf=llf,
        converged=bool(res.success),
        iterations=int(getattr(res, "nfev", 0)),
    )


def _rain_feature(
    hist: np.ndarray | None, future: np.ndarray | None, decay: float
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The rain column on the history and the future: daily rain, or stored rain
    F_t = decay * F_(t-1) + rain_t when ``decay`` > 0 (the future continues the history)."""
    if hist is None or decay <= 0:
        return hist, future
    stored = np.asarray(lfilter([1.0], [1.0, -decay], hist), dtype=float)
    if future is None:
        return stored, None
    fut, _ = lfilter([1.0], [1.0, -decay], future, zi=[decay * stored[-1]])
    return stored, np.asarray(fut, dtype=float)


def _drop_outliers(window: pd.Series, z: float) -> tuple[pd.Series, int]:
    """``window`` with days whose robust z-score exceeds ``z`` set missing, and their count."""
    v = window.to_numpy(dtype=float)
    med = float(np.nanmedian(v))
    mad = 1.4826 * float(np.nanmedian(np.abs(v - med)))
    if not mad > 0:
        return window, 0
    bad = np.abs(v - med) > z * mad
    return window.mask(bad), int(bad.sum())


# ---------------------------------------------------------------------------------------------
# Forecast


def forecast(
    model: FittedModel,
    y: pd.Series,
    rain_mm: pd.Series | None,
    future_rain_paths: np.ndarray | None,
    horizon_days: int,
    start: date | None = None,
) -> pd.DataFrame:
    """Forecast ``horizon_days`` days from the stored parameters (no refit).

    The history is ``y`` up to the day before ``start`` (default: its last observed day); the
    model's parameters are applied to the most recent ``training_days`` of it by a Kalman
    filter. ``future_rain_paths`` (n_paths × horizon, mm/day) are stochastic rain scenarios from
    the first forecast day on: the intervals are then quantiles of the mixture over the paths of
    the Gaussian forecast given each path. Without paths, a model that uses rain takes the
    history's monthly mean rain for the future (its intervals then ignore rain uncertainty).

    Returns one row per forecast day: day, mean, median, lo80, hi80, lo95, hi95. Raises
    ValueError for a model whose status is not ``ok``.
    """
    if model.status != "ok":
        raise ValueError(
            f"cannot forecast from a model with status {model.status!r}: {model.reason}"
        )
    if model.model_type != MODEL_TYPE:
        raise ValueError(f"unknown model type {model.model_type!r}")
    if horizon_days < 1:
        raise ValueError("horizon_days must be at least 1")
    spec = model.spec
    series = daily_series(y)
    if start is not None:
        series = series.loc[: pd.Timestamp(start) - pd.Timedelta(days=1)]
    training_days = spec.get("training_days")
    window = _window(series, int(training_days) if training_days is not None else None)
    if spec.get("outlier_z") is not None:
        window, _ = _drop_outliers(window, float(spec["outlier_z"]))
    if window.notna().sum() < 2:
        raise ValueError("the history holds fewer than two observed days")
    last = window.index[-1].date()
    first_day = start if start is not None else last + timedelta(days=1)
    lead = (first_day - last).days - 1  # days between the history and the first forecast day
    steps = lead + horizon_days
    hist_days = pd.DatetimeIndex(window.index)
    fut_days = pd.date_range(pd.Timestamp(last) + pd.Timedelta(days=1), periods=steps, freq="D")

    use_rain = bool(spec.get("use_rain", False))
    clim = {int(k): float(v) for k, v in spec.get("rain_climatology", {"0": 0.0}).items()}
    hist_rain = _rain_on(hist_days, rain_mm, clim) if use_rain else None
    base_future_rain = _climatology_on(fut_days, clim) if use_rain else None

    decay = float(spec.get("rain_decay", 0.0))
    hist_feat, fut_feat = _rain_feature(hist_rain, base_future_rain, decay)
    hist_exog = _design(hist_days, spec, hist_feat)
    fut_exog = _design(fut_days, spec, fut_feat)
    # by name, not by the stored order: an artefact read back from JSON may have its keys sorted
    names = [*hist_exog.columns, "ar.L1", "sigma2"]
    if set(names) != set(model.params):
        raise ValueError("the stored parameters do not match the model's exogenous columns")
    raw = np.array([model.params[n] for n in names])
    sm = SARIMAX(
        window.to_numpy(dtype=float),
        exog=hist_exog.to_numpy(),
        order=(1, 0, 0),
        trend="n",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.filter(raw)
        fc = res.get_forecast(steps=steps, exog=fut_exog.to_numpy())
    mean = np.asarray(fc.predicted_mean, dtype=float)
    sd = np.sqrt(np.maximum(np.asarray(fc.var_pred_mean, dtype=float), 0.0))
    mean, sd, fut_days = mean[lead:], sd[lead:], fut_days[lead:]

    if use_rain and future_rain_paths is not None:
        paths = np.atleast_2d(np.asarray(future_rain_paths, dtype=float))
        if paths.shape[1] < horizon_days:
            raise ValueError(
                f"future_rain_paths cover {paths.shape[1]} days; the horizon is {horizon_days}"
            )
        paths = np.where(np.isfinite(paths[:, :horizon_days]), paths[:, :horizon_days], 0.0)
        assert base_future_rain is not None
        # the mean is linear in the rain column: shift it by coefficient × (path − climatology)
        delta = paths - base_future_rain[lead:]
        if decay > 0:  # stored rain: a wetter day lifts the following days too
            delta = lfilter([1.0], [1.0, -decay], delta, axis=1)
        means = mean[None, :] + model.params[RAIN_COLUMN] * delta
        out = _mixture_quantiles(means, sd)
        out["mean"] = means.mean(axis=0)
    else:
        out = {
            "median": mean,
            "lo80": mean - _Z80 * sd,
            "hi80": mean + _Z80 * sd,
            "lo95": mean - _Z95 * sd,
            "hi95": mean + _Z95 * sd,
            "mean": mean,
        }
    frame = pd.DataFrame({"day": [d.date() for d in fut_days], **out})
    return frame[list(FORECAST_COLUMNS)].reset_index(drop=True)


_QUANTILES = {"lo95": 0.025, "lo80": 0.1, "median": 0.5, "hi80": 0.9, "hi95": 0.975}


def _mixture_quantiles(means: np.ndarray, sd: np.ndarray) -> dict[str, np.ndarray]:
    """Quantiles per day of an equal-weight mixture of N(means[i, h], sd[h]²) (bisection)."""
    out: dict[str, np.ndarray] = {}
    safe_sd = np.where(sd > 0, sd, 1e-12)
    lo_all = means.min(axis=0) - 8.0 * safe_sd
    hi_all = means.max(axis=0) + 8.0 * safe_sd
    for name, q in _QUANTILES.items():
        lo, hi = lo_all.copy(), hi_all.copy()
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            cdf = ndtr((mid[None, :] - means) / safe_sd[None, :]).mean(axis=0)
            below = cdf < q
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        out[name] = 0.5 * (lo + hi)
    return out
