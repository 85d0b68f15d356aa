"""Stochastic daily rain: a wet/dry Markov chain with gamma amounts, per calendar month.

This is the classic Richardson-type generator (GoldSim's precipitation element works the same
way). For each calendar month ``m``:

- ``p_wet_after_dry[m]`` = P(day t wet | day t-1 dry), ``p_wet_after_wet[m]`` = P(wet | wet),
  counted over the transitions whose second day falls in month ``m``;
- a wet day's rain is ``wet_threshold_mm + X`` with ``X ~ Gamma(gamma_shape[m],
  gamma_scale_mm[m])``: the gamma describes the excess over the threshold, so every drawn wet day
  is a wet day again by the same definition and a model refitted on its own samples recovers its
  parameters. A day is wet when its rain is strictly above the threshold.

Months with too few observations borrow from their neighbours (m-1, m, m+1) and, failing that,
from the whole year; the model's ``status`` is then ``pooled`` and ``reason`` names the months.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy import special  # type: ignore[import-untyped]  # no stubs pinned

MIN_DAYS = 60  # fewer observed days than this: the model is too short to trust
MIN_WET_DAYS = 10  # wet days a month needs for its own gamma fit
MIN_TRANSITIONS = 15  # transitions out of each state a month needs for its own probabilities
DEFAULT_SHAPE = 0.8
DEFAULT_SCALE_MM = 5.0
STATUSES = ("ok", "pooled", "too_short", "no_wet_days")


@dataclass(frozen=True)
class RainModel:
    """Daily rain generator parameters per calendar month (index 0 = January).

    ``status``: ``ok``; ``pooled`` (some months borrowed from neighbours or the whole year;
    ``reason`` says which); ``too_short`` (fewer than :data:`MIN_DAYS` observed days: the
    parameters are whole-record averages, use with care); ``no_wet_days`` (the record has no wet
    day: the model never rains).
    """

    p_wet_after_dry: tuple[float, ...]
    p_wet_after_wet: tuple[float, ...]
    gamma_shape: tuple[float, ...]
    gamma_scale_mm: tuple[float, ...]
    wet_threshold_mm: float = 0.2
    n_days: int = 0
    status: str = "ok"
    reason: str = ""

    def __post_init__(self) -> None:
        for name in ("p_wet_after_dry", "p_wet_after_wet", "gamma_shape", "gamma_scale_mm"):
            values = getattr(self, name)
            if len(values) != 12:
                raise ValueError(f"{name} needs 12 monthly values, got {len(values)}")
            if not all(np.isfinite(values)):
                raise ValueError(f"{name} has a value that is not finite")
        for name in ("p_wet_after_dry", "p_wet_after_wet"):
            if not all(0.0 <= v <= 1.0 for v in getattr(self, name)):
                raise ValueError(f"{name} must be probabilities in [0, 1]")
        if not all(v > 0 for v in (*self.gamma_shape, *self.gamma_scale_mm)):
            raise ValueError("gamma shape and scale must be positive")

    def wet_fraction(self) -> np.ndarray:
        """Stationary share of wet days per month: p01 / (1 - p11 + p01)."""
        p01 = np.array(self.p_wet_after_dry)
        p11 = np.array(self.p_wet_after_wet)
        denom = 1.0 - p11 + p01
        return np.divide(p01, denom, out=np.zeros(12), where=denom > 0)

    def mean_wet_day_mm(self) -> np.ndarray:
        """Mean rain on a wet day per month (mm)."""
        return self.wet_threshold_mm + np.array(self.gamma_shape) * np.array(self.gamma_scale_mm)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RainModel:
        return cls(
            p_wet_after_dry=tuple(float(v) for v in data["p_wet_after_dry"]),
            p_wet_after_wet=tuple(float(v) for v in data["p_wet_after_wet"]),
            gamma_shape=tuple(float(v) for v in data["gamma_shape"]),
            gamma_scale_mm=tuple(float(v) for v in data["gamma_scale_mm"]),
            wet_threshold_mm=float(data.get("wet_threshold_mm", 0.2)),
            n_days=int(data.get("n_days", 0)),
            status=str(data.get("status", "ok")),
            reason=str(data.get("reason", "")),
        )


def fit_gamma(x: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood gamma (shape, scale) of positive values (Minka's Newton iteration)."""
    x = np.asarray(x, dtype="float64")
    x = x[np.isfinite(x) & (x > 0)]
    if x.size < 2:
        return DEFAULT_SHAPE, float(x.mean() / DEFAULT_SHAPE) if x.size else DEFAULT_SCALE_MM
    mean = float(x.mean())
    s = np.log(mean) - float(np.log(x).mean())
    if s <= 1e-9:  # all values equal: a very peaked gamma
        return 1e3, mean / 1e3
    k = (3.0 - s + np.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
    for _ in range(50):
        step = (np.log(k) - special.digamma(k) - s) / (1.0 / k - special.polygamma(1, k))
        k_new = k - step
        if k_new <= 0:
            k_new = k / 2
        if abs(k_new - k) < 1e-10 * k:
            k = k_new
            break
        k = k_new
    return float(k), float(mean / k)


def _daily_series(rain_mm: pd.Series) -> pd.Series:
    """Rain on a complete daily calendar: gaps, NaN, inf and negative values become NaN."""
    if rain_mm.empty:
        return pd.Series(dtype="float64")
    index = pd.DatetimeIndex(pd.to_datetime(rain_mm.index)).normalize()
    values = pd.to_numeric(pd.Series(np.asarray(rain_mm, dtype="float64"), index=index))
    values = values[~values.index.isna()]
    values = values.where(np.isfinite(values) & (values >= 0))
    values = values.groupby(level=0).sum(min_count=1)  # a day given twice: its total
    full = pd.date_range(values.index.min(), values.index.max(), freq="D")
    return values.reindex(full)


def _never_rains(threshold: float, n_days: int, status: str, reason: str) -> RainModel:
    return RainModel(
        (0.0,) * 12,
        (0.0,) * 12,
        (DEFAULT_SHAPE,) * 12,
        (DEFAULT_SCALE_MM,) * 12,
        threshold,
        n_days,
        status,
        reason,
    )


def fit_rain_model(rain_mm: pd.Series, wet_threshold_mm: float = 0.2) -> RainModel:
    """Fit the monthly wet/dry chain and gamma amounts to daily rain (mm) indexed by day.

    NaN (and inf or negative values, treated as missing) break the chain: a transition counts
    only when both days are observed. Never raises on bad data; the status says what happened.
    """
    if not np.isfinite(wet_threshold_mm) or wet_threshold_mm < 0:
        raise ValueError(f"wet_threshold_mm must be a non-negative number, got {wet_threshold_mm}")
    daily = _daily_series(rain_mm)
    observed = daily.notna().to_numpy()
    n_days = int(observed.sum())
    if n_days == 0:
        return _never_rains(wet_threshold_mm, 0, "too_short", "no observed day")
    values = daily.to_numpy()
    months = daily.index.month.to_numpy() - 1
    wet = np.where(observed, values > wet_threshold_mm, False)

    prev_ok = np.r_[False, observed[:-1]] & observed
    prev_wet = np.r_[False, wet[:-1]]
    # counts per month: transitions out of dry / wet, and how many of them went wet
    from_dry = np.bincount(months[prev_ok & ~prev_wet], minlength=12).astype(float)
    dry_to_wet = np.bincount(months[prev_ok & ~prev_wet & wet], minlength=12).astype(float)
    from_wet = np.bincount(months[prev_ok & prev_wet], minlength=12).astype(float)
    wet_to_wet = np.bincount(months[prev_ok & prev_wet & wet], minlength=12).astype(float)
    excess = np.where(wet, values - wet_threshold_mm, np.nan)

    n_wet = int(wet.sum())
    if n_wet == 0:
        reason = f"no day above {wet_threshold_mm} mm in {n_days} observed days: it never rains"
        status = "no_wet_days" if n_days >= MIN_DAYS else "too_short"
        return _never_rains(wet_threshold_mm, n_days, status, reason)

    all_shape, all_scale = fit_gamma(excess[wet])
    all_p01 = dry_to_wet.sum() / from_dry.sum() if from_dry.sum() else n_wet / n_days
    all_p11 = wet_to_wet.sum() / from_wet.sum() if from_wet.sum() else n_wet / n_days
    p01, p11, shape, scale = [], [], [], []
    pooled: list[str] = []
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    for m in range(12):
        near = [(m - 1) % 12, m, (m + 1) % 12]
        borrowed = False
        # transition probabilities: own month, then neighbours, then the whole record
        if from_dry[m] >= MIN_TRANSITIONS and from_wet[m] >= MIN_TRANSITIONS:
            a, b = dry_to_wet[m] / from_dry[m], wet_to_wet[m] / from_wet[m]
        elif from_dry[near].sum() >= MIN_TRANSITIONS and from_wet[near].sum() >= MIN_TRANSITIONS:
            a = dry_to_wet[near].sum() / from_dry[near].sum()
            b = wet_to_wet[near].sum() / from_wet[near].sum()
            borrowed = True
        else:
            a, b, borrowed = all_p01, all_p11, True
        p01.append(float(a))
        p11.append(float(b))
        in_month = wet & (months == m)
        in_near = wet & np.isin(months, near)
        if in_month.sum() >= MIN_WET_DAYS:
            k, theta = fit_gamma(excess[in_month])
        elif in_near.sum() >= MIN_WET_DAYS:
            k, theta = fit_gamma(excess[in_near])
            borrowed = True
        else:
            k, theta = all_shape, all_scale
            borrowed = True
        shape.append(k)
        scale.append(theta)
        if borrowed:
            pooled.append(names[m])

    if n_days < MIN_DAYS:
        status = "too_short"
        reason = f"{n_days} observed days (fewer than {MIN_DAYS}); months borrow from the year"
    elif pooled:
        status = "pooled"
        reason = f"too few observations in {', '.join(pooled)}: borrowed from neighbours or year"
    else:
        status, reason = "ok", ""
    return RainModel(
        tuple(p01),
        tuple(p11),
        tuple(shape),
        tuple(scale),
        wet_threshold_mm,
        n_days,
        status,
        reason,
    )


def sample_rain(
    model: RainModel,
    start: date,
    days: int,
    n_paths: int,
    rng: np.random.Generator,
    wet_today: bool | None = None,
) -> np.ndarray:
    """Daily rain (mm) for ``days`` days from ``start`` (inclusive) on ``n_paths`` paths.

    ``wet_today`` is the state of the day before ``start``; ``None`` draws it from the chain's
    stationary wet share of that day's month. Returns an array of shape ``(n_paths, days)``.
    """
    if days < 0 or n_paths < 0:
        raise ValueError("days and n_paths must be non-negative")
    out = np.zeros((n_paths, days))
    if days == 0 or n_paths == 0:
        return out
    p01 = np.array(model.p_wet_after_dry)
    p11 = np.array(model.p_wet_after_wet)
    shape = np.array(model.gamma_shape)
    scale = np.array(model.gamma_scale_mm)
    before = start - timedelta(days=1)
    if wet_today is None:
        wet = rng.random(n_paths) < model.wet_fraction()[before.month - 1]
    else:
        wet = np.full(n_paths, bool(wet_today))
    month = pd.date_range(start, periods=days, freq="D").month.to_numpy() - 1
    for d in range(days):
        m = month[d]
        u = rng.random(n_paths)
        wet = u < np.where(wet, p11[m], p01[m])
        n_wet = int(wet.sum())
        if n_wet:
            out[wet, d] = model.wet_threshold_mm + rng.gamma(shape[m], scale[m], n_wet)
    return out
