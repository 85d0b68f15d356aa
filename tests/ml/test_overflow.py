"""Overflow/shortage Monte Carlo: closed-form cases, path maximum, bad input, the demo stores."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ml.overflow import (
    OtherNet,
    StoreModel,
    exceedance_probabilities,
    fit_store_model,
    overflow_risk,
    overflow_risk_detail,
    simulate_store,
)
from ml.weather import RainModel, fit_rain_model, sample_rain

RAIN = RainModel(
    p_wet_after_dry=(0.2,) * 12,
    p_wet_after_wet=(0.6,) * 12,
    gamma_shape=(0.8,) * 12,
    gamma_scale_mm=(12.0,) * 12,
)


def _still_store(capacity: float, rain_m3_per_mm: float, values=(0.0,)) -> StoreModel:
    """A store with no controls, evaporation or seepage: only rain (and ``values``) move it."""
    n = len(values)
    other = OtherNet((), tuple(values), (0,) * n, (False,) * n, 0.0, False)
    return StoreModel("still", capacity, rain_m3_per_mm, (0.0,) * 12, 0.0, other, n_days=n)


def test_one_day_exceedance_is_the_rain_mixture_exactly():
    """v1 = v0 + a x rain, so P(v1 >= b) = P(wet) x P(threshold + G >= (b - v0) / a) with
    P(wet) = p11 after a wet day; 200 000 paths, tolerance 5 binomial standard errors."""
    cap, a, v0 = 100_000.0, 1_000.0, 50_000.0
    model = _still_store(cap, a)
    n = 200_000
    rng = np.random.default_rng(1)
    rain = sample_rain(RAIN, date(2025, 1, 10), 1, n, rng, wet_today=True)
    paths = simulate_store(model, v0, date(2025, 1, 10), 1, rain, rng)
    (row,) = exceedance_probabilities(paths, cap, (1,), (80.0, 100.0), (20.0,))
    for pct, key in ((80.0, "p_above_80"), (100.0, "p_above_100")):
        need_mm = (cap * pct / 100 - v0) / a
        exact = 0.6 * stats.gamma.sf(need_mm - RAIN.wet_threshold_mm, 0.8, scale=12.0)
        assert abs(row[key] - exact) < 5 * np.sqrt(exact * (1 - exact) / n), (key, exact)
        assert exact > 0.005  # the case tests something
    assert row["p_below_20"] == 0.0
    # a spilling path stays at the capacity
    assert paths.max() == cap


def test_path_maximum_follows_the_reflection_principle_and_differs_from_the_end_point():
    """A driftless Gaussian walk (daily net flow ~ N(0, sigma), no rain, never near empty or
    full): P(S_n >= b) = 1 - Phi(b / (sigma sqrt n)) at the end point, while P(max_k S_k >= b) is
    about twice that — for a discrete walk 2 P(S_n >= b + 0.5826 sigma) (reflection with
    Siegmund's overshoot correction, accurate to ~1e-3 at n = 90). 150 000 paths."""
    sigma, n_days, n = 1_000.0, 90, 150_000
    pool = np.random.default_rng(0).standard_normal(100_000)
    pool = (pool - pool.mean()) / pool.std() * sigma
    cap, v0 = 1e9, 5e8
    model = _still_store(cap, 0.0, tuple(pool))
    paths = simulate_store(
        model, v0, date(2025, 1, 1), n_days, np.zeros((n, n_days)), np.random.default_rng(2)
    )
    b = 1.5 * sigma * np.sqrt(n_days)
    end = float(np.mean(paths[:, -1] - v0 >= b))
    # the same through exceedance_probabilities: a level of (v0 + b) / cap as a percentage
    (row,) = exceedance_probabilities(paths, cap, (n_days,), ((v0 + b) / cap * 100,), ())
    path_max = next(v for k, v in row.items() if k.startswith("p_above"))
    se = np.sqrt(0.12 * 0.88 / n)
    assert abs(end - stats.norm.sf(1.5)) < 5 * se
    reflected = 2 * stats.norm.sf((b + 0.5826 * sigma) / (sigma * np.sqrt(n_days)))
    assert abs(path_max - reflected) < 5 * se + 2e-3
    assert path_max > 1.6 * end


def test_exceedance_counts_days_after_the_start_only():
    paths = np.array([[90.0, 50.0, 50.0], [10.0, 85.0, 15.0], [50.0, 50.0, 100.0]])
    one, two = exceedance_probabilities(paths, 100.0, (1, 2))
    assert one == {"horizon_days": 1, "p_above_80": 1 / 3, "p_above_100": 0.0, "p_below_20": 0.0}
    assert two["p_above_80"] == 2 / 3
    assert two["p_above_100"] == 1 / 3
    assert two["p_below_20"] == 1 / 3
    with pytest.raises(ValueError, match="horizons"):
        exceedance_probabilities(paths, 100.0, (3,))


def _history(days: int, cap: float = 10_000.0, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A store held near half full by a pump, with rain, evaporation and seepage."""
    rng = np.random.default_rng(seed)
    day = pd.date_range("2024-01-01", periods=days, freq="D")
    rain_mm = np.where(rng.random(days) < 0.3, rng.gamma(0.8, 8.0, days), 0.0)
    v = np.empty(days + 1)
    v[0] = cap / 2
    rows = []
    for d in range(days):
        rainfall = 50.0 * rain_mm[d]
        evap = 30.0
        seep = 0.001 * v[d]
        pump = (v[d] - cap / 2) * 0.3 + rng.normal(0, 20)
        inflow, outflow = rainfall + 40.0, evap + seep + max(pump, 0.0)
        v[d + 1] = v[d] + inflow - outflow
        rows.append((day[d], v[d], v[d + 1], inflow, outflow, rainfall, evap, seep))
    cols = ["day", "opening_storage_m3", "closing_storage_m3", "inflow_m3", "outflow_m3"]
    frame = pd.DataFrame(rows, columns=[*cols, "rainfall_m3", "evaporation_m3", "seepage_m3"])
    return frame, pd.Series(rain_mm, index=day)


def test_fit_recovers_the_store_parts():
    history, rain = _history(400)
    model = fit_store_model(history, rain, 10_000.0, "dam")
    assert model.status == "ok"
    assert model.rain_m3_per_mm == pytest.approx(50.0)
    assert model.evaporation_m3_by_month == pytest.approx((30.0,) * 12)
    assert model.seepage_fraction_per_day == pytest.approx(0.001)
    means = model.other_net.mean_by_bin()
    assert means[0] > means[-1]  # the pump takes more out when the store is fuller
    assert StoreModel.from_dict(model.as_dict()) == model


def test_bad_input_gives_a_status_not_a_crash():
    history, rain = _history(200)
    short = fit_store_model(history.head(20), rain, 10_000.0, "short")
    assert short.status == "too_short"
    assert "20 complete days" in short.reason
    for cap in (None, 0.0, float("nan"), float("inf"), -5.0):
        assert fit_store_model(history, rain, cap, "dam").status == "no_capacity"
    broken = history.copy()
    broken.loc[::3, "closing_storage_m3"] = np.nan
    broken.loc[1::5, "rainfall_m3"] = np.inf
    broken.loc[2::7, "opening_storage_m3"] = np.nan
    model = fit_store_model(broken, rain, 10_000.0, "dam")
    assert model.status == "ok"
    assert np.isfinite(model.other_net.values).all()
    assert fit_store_model(history.drop(columns="seepage_m3"), rain, 1e4, "x").status == (
        "too_short"
    )
    with pytest.raises(ValueError, match="no usable model"):
        simulate_store(short, 1.0, date(2025, 1, 1), 3, np.zeros((2, 3)), np.random.default_rng())

    dry_rain = fit_rain_model(pd.Series(0.0, index=rain.index))
    assert dry_rain.status == "no_wet_days"
    good = fit_store_model(history, rain, 10_000.0, "dam")
    uncapped = fit_store_model(history, rain, None, "tank")
    frame = overflow_risk(
        [good, short, uncapped],
        {"dam": 5_000.0, "short": 1.0},
        dry_rain,
        date(2025, 6, 30),
        n_paths=500,
        horizon_days=30,
    )
    by_node = frame.groupby("node_id")["status"].first().to_dict()
    assert by_node == {"dam": "ok", "short": "too_short", "tank": "no_capacity"}
    assert frame.loc[frame["status"] != "ok", "p_above_80"].isna().all()
    ok = frame[frame["status"] == "ok"]
    assert ok[["p_above_80", "p_above_100", "p_below_20"]].notna().all().all()
    assert "never rains" in ok["reason"].iloc[0]
    no_start = overflow_risk([good], {"dam": float("nan")}, RAIN, date(2025, 1, 1), 100, 5)
    assert set(no_start["status"]) == {"no_start_volume"}


def test_overflow_risk_on_the_five_demo_stores():
    from demo.simulate import simulate
    from demo.site import build_demo_site

    site = build_demo_site()
    sim = simulate(site, date(2024, 7, 1), 200, seed=7)
    days = pd.DatetimeIndex(pd.to_datetime(sim.dates))
    rain = pd.Series(sim.drivers.rain_mm.reshape(sim.days, -1).sum(axis=1), index=days)
    storage = sim.storage_daily
    models = []
    for store in sim.store_ids:
        s = storage[storage["node_id"] == store]
        history = pd.DataFrame(
            {
                "day": days,
                "opening_storage_m3": s["opening_m3"].to_numpy(),
                "closing_storage_m3": s["closing_m3"].to_numpy(),
                "inflow_m3": np.nan,  # not needed when both storages are known
                "outflow_m3": np.nan,
                "rainfall_m3": rain.to_numpy() * 0.0,
                "evaporation_m3": 0.0,
                "seepage_m3": 0.0,
            }
        )
        models.append(fit_store_model(history, rain, site.node(store).capacity_m3, store))
    assert [m.status for m in models] == ["ok"] * 5
    start = {store: float(sim.storage[-1, i]) for i, store in enumerate(sim.store_ids)}
    as_of = sim.dates[-1]
    summary, daily = overflow_risk_detail(
        models, start, fit_rain_model(rain), as_of, n_paths=2_000, horizon_days=60
    )
    assert list(summary["horizon_days"].unique()) == [1, 30, 60]
    assert len(summary) == 15
    probs = summary[["p_above_80", "p_above_100", "p_below_20"]].to_numpy()
    assert ((probs >= 0) & (probs <= 1)).all()
    # within a longer horizon an event is at least as likely
    for _, g in summary.groupby("node_id"):
        assert g["p_above_80"].is_monotonic_increasing
        assert g["p_below_20"].is_monotonic_increasing
    assert set(daily.columns) >= {"node_id", "day", "p05_m3", "p50_m3", "p95_fill_pct"}
    assert daily["day"].iloc[0] == as_of  # step 0: the known volume at the end of as_of
    assert daily["day"].iloc[60] == as_of + timedelta(days=60)
    assert len(daily) == 5 * 61
