"""Overflow and shortage probability of stores by Monte Carlo through a daily water balance.

Each store is stepped one day at a time on many paths of stochastic rain
(:func:`ml.weather.sample_rain`)::

    v[t+1] = clip(v[t] + a * rain[t] - evaporation[month] - s * v[t] + other(v[t] / capacity),
                  0, capacity)

- ``a`` (m3 per mm of site rain) is the least-squares slope through the origin of the store's
  recorded ``rainfall_m3`` (direct rain plus catchment runoff) on the site's daily rain;
- ``evaporation[month]`` is the store's mean daily evaporation in that calendar month;
- ``s`` is the seepage fraction per day (recorded seepage over opening storage);
- ``other`` is everything else: transfers, pumping, plant demand, discharges, bores and the
  balance's own closure error. The site's pumps react to the fill, so ``other`` is not a
  constant: the record is cut into fill bins (by quantiles of the opening fill, at least
  :data:`MIN_BIN_DAYS` days each) and each simulated day draws a recorded day's ``other`` from
  the bin of the path's current fill (a bootstrap conditioned on fill). A store that is nearly
  full then drains as the real one did when nearly full, and one that is low is topped up.

Spill: the volume never exceeds the capacity. A path whose balance would carry it above the
capacity stays at the capacity and the surplus is spilled, so "P(>100 %)" is the probability
that the store reaches its capacity (and spills) within the horizon. Below zero the store is
empty (the demand it cannot meet is a shortage, not a negative volume).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ml.weather import RainModel, sample_rain

MIN_HISTORY_DAYS = 30  # fewer complete days than this: no model
MIN_BIN_DAYS = 20
MAX_BINS = 8
BALANCE_COLUMNS = (
    "opening_storage_m3",
    "closing_storage_m3",
    "inflow_m3",
    "outflow_m3",
    "rainfall_m3",
    "evaporation_m3",
    "seepage_m3",
)


@dataclass(frozen=True)
class OtherNet:
    """The store's controlled net flow (m3/day): its recorded days, with their opening fill bin.

    ``fill_edges`` are the interior bin edges (fractions of capacity, ascending); bin ``i`` holds
    the days whose opening fill lies in ``[edges[i-1], edges[i])``, the outer bins are open.
    ``values`` are the recorded days' ``other`` in time order, less ``rain_response`` x the
    day's rain inflow (m3); ``bins`` their fill bin; ``follows[j]`` says that day ``j + 1`` is
    the calendar day after day ``j``. ``rain_response`` is the share of a day's rain the
    controls take away the same day (0 for a store whose pumps react only to the next day's
    fill, -1 for one held at a set point within the day).

    With ``continuation``, a path that drew recorded day ``j`` yesterday takes day ``j + 1``
    today when that day's recorded fill is in the path's current bin (an analogue: the path is
    where the record was, so it goes on as the record did, pump cycles and all); otherwise it
    draws a day at random from its bin.
    """

    fill_edges: tuple[float, ...] = ()
    values: tuple[float, ...] = (0.0,)
    bins: tuple[int, ...] = (0,)
    follows: tuple[bool, ...] = (False,)
    rain_response: float = 0.0
    continuation: bool = True

    def mean_by_bin(self) -> list[float]:
        v, b = np.array(self.values), np.array(self.bins)
        return [float(v[b == i].mean()) for i in range(len(self.fill_edges) + 1)]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OtherNet:
        return cls(
            tuple(float(v) for v in data.get("fill_edges", ())),
            tuple(float(v) for v in data.get("values", (0.0,))),
            tuple(int(v) for v in data.get("bins", (0,))),
            tuple(bool(v) for v in data.get("follows", (False,))),
            float(data.get("rain_response", 0.0)),
            bool(data.get("continuation", True)),
        )


@dataclass(frozen=True)
class StoreModel:
    """A store's daily balance, fitted from its own history (see the module docstring).

    ``status``: ``ok``; ``too_short`` (fewer than :data:`MIN_HISTORY_DAYS` complete days);
    ``no_capacity`` (no positive finite capacity: fill and overflow mean nothing). A model
    whose status is not ``ok`` is not simulated; its probabilities are NaN.
    """

    node_id: str
    capacity_m3: float
    rain_m3_per_mm: float = 0.0
    evaporation_m3_by_month: tuple[float, ...] = (0.0,) * 12
    seepage_fraction_per_day: float = 0.0
    other_net: OtherNet = field(default_factory=OtherNet)
    n_days: int = 0
    status: str = "ok"
    reason: str = ""

    @property
    def usable(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoreModel:
        other = data.get("other_net") or {}
        return cls(
            node_id=str(data["node_id"]),
            capacity_m3=float(data["capacity_m3"]),
            rain_m3_per_mm=float(data.get("rain_m3_per_mm", 0.0)),
            evaporation_m3_by_month=tuple(float(v) for v in data["evaporation_m3_by_month"]),
            seepage_fraction_per_day=float(data.get("seepage_fraction_per_day", 0.0)),
            other_net=OtherNet.from_dict(other),
            n_days=int(data.get("n_days", 0)),
            status=str(data.get("status", "ok")),
            reason=str(data.get("reason", "")),
        )


def _valid_capacity(capacity_m3: float | None) -> bool:
    return capacity_m3 is not None and bool(np.isfinite(capacity_m3)) and capacity_m3 > 0


def _monthly_fill(values: np.ndarray, months: np.ndarray) -> tuple[float, ...]:
    """Mean per calendar month; a month without data takes the mean of the nearest months."""
    sums = np.bincount(months, weights=np.nan_to_num(values), minlength=12)
    counts = np.bincount(months, weights=np.isfinite(values).astype(float), minlength=12)
    means = np.divide(sums, counts, out=np.full(12, np.nan), where=counts > 0)
    if np.isnan(means).all():
        return (0.0,) * 12
    filled = means.copy()
    for m in np.flatnonzero(np.isnan(means)):
        for gap in range(1, 7):
            near = means[[(m - gap) % 12, (m + gap) % 12]]
            if np.isfinite(near).any():
                filled[m] = float(np.nanmean(near))
                break
    return tuple(float(v) for v in filled)


def fit_store_model(
    history: pd.DataFrame,
    rain_mm: pd.Series,
    capacity_m3: float | None,
    node_id: str,
    *,
    continuation: bool = True,
) -> StoreModel:
    """Fit a store's balance from its daily history (the ``fct_node_balance_daily`` columns:
    day, opening/closing storage, inflow, outflow, rainfall, evaporation, seepage; NaN allowed)
    and the site's daily rain (mm, indexed by day). Never raises on bad data: see ``status``.
    """
    if not _valid_capacity(capacity_m3):
        return StoreModel(
            node_id, float("nan"), status="no_capacity", reason="the store has no capacity"
        )
    cap = float(capacity_m3)  # type: ignore[arg-type]
    missing = [c for c in ("day", *BALANCE_COLUMNS) if c not in history.columns]
    if missing:
        return StoreModel(node_id, cap, status="too_short", reason=f"history lacks {missing}")
    h = history.copy()
    h["day"] = pd.to_datetime(h["day"]).dt.normalize()
    h = h.dropna(subset=["day"]).drop_duplicates("day", keep="last").sort_values("day")
    for c in BALANCE_COLUMNS:
        h[c] = pd.to_numeric(h[c], errors="coerce").astype("float64")
        h.loc[~np.isfinite(h[c]), c] = np.nan
    rain = pd.Series(np.asarray(rain_mm, dtype="float64"), index=pd.to_datetime(rain_mm.index))
    rain = rain.where(np.isfinite(rain) & (rain >= 0))
    rain = rain.groupby(rain.index.normalize()).sum(min_count=1)
    r = rain.reindex(pd.DatetimeIndex(h["day"])).to_numpy()
    months = h["day"].dt.month.to_numpy() - 1

    rainfall = h["rainfall_m3"].to_numpy()
    both = np.isfinite(rainfall) & np.isfinite(r)
    denom = float(np.sum(r[both] ** 2))
    a = float(np.sum(r[both] * rainfall[both]) / denom) if denom > 0 else 0.0
    a = max(a, 0.0)

    evap = h["evaporation_m3"].to_numpy()
    evap_by_month = _monthly_fill(evap, months)
    opening = h["opening_storage_m3"].to_numpy()
    seep = h["seepage_m3"].to_numpy()
    ok_seep = np.isfinite(seep) & np.isfinite(opening) & (opening > 0)
    s = float(seep[ok_seep].sum() / opening[ok_seep].sum()) if ok_seep.any() else 0.0
    s = min(max(s, 0.0), 1.0)

    # the day's other net flow: from the change in storage when both ends are known (it then
    # carries the balance's closure error too), else from the recorded inflow and outflow
    rain_part = np.where(np.isfinite(rainfall), rainfall, a * r)
    evap_part = np.where(np.isfinite(evap), evap, np.array(evap_by_month)[months])
    seep_part = np.where(np.isfinite(seep), seep, s * opening)
    delta = h["closing_storage_m3"].to_numpy() - opening
    flows = h["inflow_m3"].to_numpy() - h["outflow_m3"].to_numpy()
    change = np.where(np.isfinite(delta), delta, flows)
    other = change - rain_part + evap_part + seep_part
    good = np.isfinite(other) & np.isfinite(opening)
    n = int(good.sum())
    if n < MIN_HISTORY_DAYS:
        return StoreModel(
            node_id,
            cap,
            a,
            evap_by_month,
            s,
            n_days=n,
            status="too_short",
            reason=f"{n} complete days of history; at least {MIN_HISTORY_DAYS} are needed",
        )
    days = h["day"].to_numpy()[good]
    follows = np.r_[np.diff(days) == np.timedelta64(1, "D"), False]
    fill = opening[good] / cap
    rain_in = rain_part[good]
    other = other[good]
    n_bins = max(1, min(MAX_BINS, n // MIN_BIN_DAYS))
    edges = np.unique(np.quantile(fill, np.arange(1, n_bins) / n_bins))
    which = np.searchsorted(edges, fill, side="right")
    # quantile ties can leave an empty bin: drop its edge until every bin has days
    while edges.size and np.bincount(which, minlength=edges.size + 1).min() == 0:
        empty = int(np.argmin(np.bincount(which, minlength=edges.size + 1)))
        edges = np.delete(edges, min(empty, edges.size - 1))
        which = np.searchsorted(edges, fill, side="right")
    # the same-day response to rain: slope of other (less its bin mean) on the rain inflow
    bin_mean = np.bincount(which, weights=other) / np.bincount(which)
    centred = other - bin_mean[which]
    rc = rain_in - rain_in.mean()
    var = float(np.sum(rc**2))
    beta = float(np.sum(rc * centred) / var) if var > 0 else 0.0
    beta = min(max(beta, -1.0), 0.0)
    rest = other - beta * rain_in
    return StoreModel(
        node_id,
        cap,
        a,
        evap_by_month,
        s,
        OtherNet(
            tuple(float(e) for e in edges),
            tuple(float(v) for v in rest),
            tuple(int(b) for b in which),
            tuple(bool(f) for f in follows),
            beta,
            continuation,
        ),
        n_days=n,
    )


def simulate_store(
    model: StoreModel,
    start_volume_m3: float,
    start: date,
    days: int,
    rain_paths: np.ndarray,
    rng: np.random.Generator,
    *,
    extra_net_m3_per_day: float = 0.0,
) -> np.ndarray:
    """Volumes (m3) of ``rain_paths.shape[0]`` paths at the start of ``start`` (column 0) and at
    the end of each of the ``days`` days, clipped to ``[0, capacity]`` (a path at the capacity
    is spilling). ``extra_net_m3_per_day`` adds a constant net flow (a pump rate change)."""
    rain_paths = np.asarray(rain_paths, dtype="float64")
    if rain_paths.ndim != 2 or rain_paths.shape[1] < days:
        raise ValueError(f"rain_paths must be (n_paths, >= {days}), got {rain_paths.shape}")
    if not model.usable:
        raise ValueError(f"store {model.node_id!r} has no usable model: {model.reason}")
    if not np.isfinite(start_volume_m3):
        raise ValueError(f"start volume of {model.node_id!r} is not finite")
    n = rain_paths.shape[0]
    cap = model.capacity_m3
    v = np.full(n, min(max(float(start_volume_m3), 0.0), cap))
    on = model.other_net
    edges = np.array(on.fill_edges) * cap
    values = np.asarray(on.values, dtype="float64")
    day_bin = np.asarray(on.bins, dtype=np.int64)
    follows = np.asarray(on.follows, dtype=bool)
    order = np.argsort(day_bin, kind="stable")  # record days grouped by bin
    counts = np.bincount(day_bin, minlength=edges.size + 1)
    offsets = np.r_[0, np.cumsum(counts)[:-1]]
    nxt = np.minimum(np.arange(values.size) + 1, values.size - 1)
    evap = np.array(model.evaporation_m3_by_month)
    month = pd.date_range(start, periods=max(days, 1), freq="D").month.to_numpy() - 1
    keep = 1.0 - model.seepage_fraction_per_day
    a = model.rain_m3_per_mm * (1.0 + on.rain_response)
    # day-major arrays: each day's step reads and writes contiguous memory
    rain_t = np.ascontiguousarray(rain_paths[:, :days].T)
    out_t = np.empty((days + 1, n))
    out_t[0] = v
    base = extra_net_m3_per_day - evap[month]
    pick = np.zeros(n, dtype=np.int64)
    draw = np.empty(n)
    for d in range(days):
        b = np.searchsorted(edges, v, side="right") if edges.size else np.zeros(n, np.int64)
        rng.random(out=draw)
        drawn = order[offsets[b] + (draw * counts[b]).astype(np.int64)]
        if on.continuation and d > 0:
            after = nxt[pick]
            pick = np.where(follows[pick] & (day_bin[after] == b), after, drawn)
        else:
            pick = drawn
        v *= keep
        v += values[pick]
        v += a * rain_t[d] + base[d]
        np.clip(v, 0.0, cap, out=v)
        out_t[d + 1] = v
    return out_t.T


def _pct_key(kind: str, pct: float) -> str:
    return f"p_{kind}_{pct:g}".replace(".", "_")


def exceedance_probabilities(
    paths: np.ndarray,
    capacity_m3: float,
    horizons_days: Sequence[int] = (1, 30),
    high_pcts: Sequence[float] = (80.0, 100.0),
    low_pcts: Sequence[float] = (20.0,),
) -> list[dict[str, float]]:
    """Per horizon ``h``: P(the volume reaches ``high%`` of capacity on any of days 1..h) — the
    path maximum, not the end point — and P(it falls to ``low%`` or below on any of them).

    Keys: ``horizon_days``, ``p_above_<pct>``, ``p_below_<pct>``. Column 0 of ``paths`` (the
    known start) is not counted.
    """
    paths = np.asarray(paths, dtype="float64")
    out: list[dict[str, float]] = []
    days = paths.shape[1] - 1
    hs = [int(h) for h in horizons_days]
    if any(h < 1 or h > days for h in hs):
        raise ValueError(f"horizons must be within 1..{days} days, got {hs}")
    run_max = np.maximum.accumulate(paths[:, 1:], axis=1)
    run_min = np.minimum.accumulate(paths[:, 1:], axis=1)
    for h in hs:
        row: dict[str, float] = {"horizon_days": h}
        for pct in high_pcts:
            # a tiny tolerance: a path clipped to the capacity counts as at 100 %
            level = capacity_m3 * pct / 100 * (1 - 1e-12)
            row[_pct_key("above", pct)] = float(np.mean(run_max[:, h - 1] >= level))
        for pct in low_pcts:
            row[_pct_key("below", pct)] = float(
                np.mean(run_min[:, h - 1] <= capacity_m3 * pct / 100)
            )
        out.append(row)
    return out


def daily_quantiles(
    paths: np.ndarray, as_of: date, capacity_m3: float, qs: Sequence[float] = (5, 50, 95)
) -> pd.DataFrame:
    """Per day: volume quantiles ``p05_m3``.. and the same as fill % (``p05_fill_pct``..) at
    the end of ``day``; step 0 is ``as_of``, the known start (column 0 of ``paths``)."""
    values = np.percentile(paths, qs, axis=0)
    frame = pd.DataFrame(
        {
            "day": [as_of + timedelta(days=d) for d in range(paths.shape[1])],
            "step": range(len(values[0])),
        }
    )
    for q, v in zip(qs, values, strict=True):
        frame[f"p{q:02g}_m3"] = v
        frame[f"p{q:02g}_fill_pct"] = v / capacity_m3 * 100
    return frame


def overflow_risk_detail(
    store_models: Sequence[StoreModel],
    start_volumes: Mapping[str, float],
    rain_model: RainModel,
    as_of: date,
    n_paths: int = 20_000,
    horizon_days: int = 90,
    seed: int = 0,
    *,
    horizons_days: Sequence[int] = (1, 30),
    wet_today: bool | None = None,
    quantiles: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`overflow_risk` and the daily volume quantiles for charts (node_id, day, step,
    p05/p50/p95 in m3 and fill %; empty without ``quantiles``)."""
    if horizon_days < 1 or n_paths < 1:
        raise ValueError("horizon_days and n_paths must be at least 1")
    start = as_of + timedelta(days=1)
    rng = np.random.default_rng(seed)
    rain = sample_rain(rain_model, start, horizon_days, n_paths, rng, wet_today)
    store_rngs = [
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(store_models))
    ]
    horizons = sorted({h for h in (*horizons_days, horizon_days) if 1 <= h <= horizon_days})
    rows: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    for model, store_rng in zip(store_models, store_rngs, strict=True):
        status, reason = model.status, model.reason
        v0 = start_volumes.get(model.node_id)
        if status == "ok" and (v0 is None or not np.isfinite(v0)):
            status, reason = "no_start_volume", "no finite start volume"
        if status == "ok" and rain_model.status == "no_wet_days":
            reason = "rain model never rains: " + rain_model.reason
        if status != "ok":
            for h in horizons:
                rows.append(
                    {
                        "node_id": model.node_id,
                        "as_of": as_of,
                        "horizon_days": h,
                        "p_above_80": np.nan,
                        "p_above_100": np.nan,
                        "p_below_20": np.nan,
                        "n_paths": 0,
                        "status": status,
                        "reason": reason,
                    }
                )
            continue
        paths = simulate_store(model, float(v0), start, horizon_days, rain, store_rng)  # type: ignore[arg-type]
        for row in exceedance_probabilities(paths, model.capacity_m3, horizons):
            rows.append(
                {
                    "node_id": model.node_id,
                    "as_of": as_of,
                    **row,
                    "n_paths": n_paths,
                    "status": "ok",
                    "reason": reason,
                }
            )
        if quantiles:
            q = daily_quantiles(paths, as_of, model.capacity_m3)
            q.insert(0, "node_id", model.node_id)
            frames.append(q)
    summary = pd.DataFrame(
        rows,
        columns=[
            "node_id",
            "as_of",
            "horizon_days",
            "p_above_80",
            "p_above_100",
            "p_below_20",
            "n_paths",
            "status",
            "reason",
        ],
    )
    daily = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return summary, daily


def overflow_risk(
    store_models: Sequence[StoreModel],
    start_volumes: Mapping[str, float],
    rain_model: RainModel,
    as_of: date,
    n_paths: int = 20_000,
    horizon_days: int = 90,
    seed: int = 0,
    **kwargs: Any,
) -> pd.DataFrame:
    """P(>80 %), P(>100 %, i.e. spill) and P(<20 %) of each store within 1 and 30 days and the
    horizon, from ``start_volumes`` (m3 at the end of ``as_of``), all stores on the same rain
    paths. One row per store and horizon; a store without a usable model gets NaN and its
    status. Keyword arguments go to :func:`overflow_risk_detail`."""
    kwargs.setdefault("quantiles", False)
    summary, _ = overflow_risk_detail(
        store_models, start_volumes, rain_model, as_of, n_paths, horizon_days, seed, **kwargs
    )
    return summary


def with_evaporation_factor(model: StoreModel, factor: float) -> StoreModel:
    """The same store with its evaporation scaled."""
    return replace(
        model, evaporation_m3_by_month=tuple(e * factor for e in model.evaporation_m3_by_month)
    )
