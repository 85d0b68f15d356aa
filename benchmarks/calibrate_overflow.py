#!/usr/bin/env python3
"""Calibration of the overflow/shortage probabilities against many runs of the demo physics.

1. Simulate 730 days of the demo mine (from 2024-07-01, seed 7).
2. Fit the rain model and each store's balance model on the first 365 days (the store models
   see only what the ``fct_node_balance_daily`` mart would hold: built here from the
   simulation's daily flows and the site's estimation rules by :func:`node_balance`).
3. For origins spread over the second year, predict P(>80 %), P(>100 %) and P(<20 %) within 1
   and 30 days from the true storage at the origin, and compare with the frequency of the same
   events over ``--demo-paths`` (10 000) runs of the demo physics from the same state, each with
   fresh weather (``demo.physics.simulate_paths``).

Scores: the Brier score against the demo frequency (the "true" probability, so 0 is perfect)
and against a 0/1 outcome (one demo path per origin, as a real season would give), with the
score of the demo frequency itself and of a constant climatological forecast for reference; a
reliability table (bins of the predicted probability: count, mean prediction, mean demo
frequency, mean 0/1 outcome).

Also, always: the realised check - predictions from every ``--realised-every`` day of the
second year against what the one 730-day run itself then did (Brier, observed frequency, and a
reliability table; the climatological reference there uses the observed frequency in
hindsight, so it is a bar to clear, not a forecast one could have made).

Results go to ``benchmarks/results/overflow_calibration.json``. ``--physics none`` runs only the
realised check; ``--physics standin`` replaces ``demo.physics`` by :func:`standin_paths`, a
small hourly re-implementation of the demo's pump controls in this file, for development only.

    .venv/bin/python benchmarks/calibrate_overflow.py [--origins 26] [--demo-paths 10000]
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.drivers import HIGHVELD_CLIMATE, PERTH_CLIMATE, STEPS_PER_DAY  # noqa: E402
from demo.simulate import (  # noqa: E402
    PLANT_STANDING_M3_PER_H,
    RIVER_LICENCE_M3_PER_DAY,
    THIRD_PARTY_M3_PER_H,
    DemoSimulation,
    simulate,
)
from demo.site import (  # noqa: E402
    BOREFIELD_CAPACITY_M3_PER_H,
    HIGHVELD_SITE_ID,
    PIT,
    PUMP_MAX_M3_PER_H,
    PWD,
    RET,
    RWD,
    TSF,
    build_demo_site,
)
from ml.overflow import StoreModel, exceedance_probabilities, fit_store_model, simulate_store  # noqa: E402
from ml.weather import RainModel, fit_rain_model, sample_rain  # noqa: E402
from siteledger.site.models import SiteConfig  # noqa: E402

START = date(2024, 7, 1)
DAYS = 730
SEED = 7
HORIZONS = (1, 30)
EVENTS = (
    ("p_above_80", 80.0, "above"),
    ("p_above_100", 100.0, "above"),
    ("p_below_20", 20.0, "below"),
)
BINS = (0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
OUT = ROOT / "benchmarks" / "results" / "overflow_calibration.json"


# --- adapter: the demo simulation as the platform's daily node balance -------------------------


def daily_rain(sim: DemoSimulation) -> pd.Series:
    """Site rain (mm) per local day: the gauge's 15-minute tips summed."""
    per_day = sim.drivers.rain_mm.reshape(sim.days, STEPS_PER_DAY).sum(axis=1)
    return pd.Series(per_day, index=pd.DatetimeIndex(pd.to_datetime(sim.dates)), name="rain_mm")


def node_balance(sim: DemoSimulation) -> pd.DataFrame:
    """``fct_node_balance_daily``'s columns for every store, from the simulation's daily flows:
    inflow/outflow = flows into/out of the store; rainfall/evaporation/seepage = the flows the
    site estimates by the rainfall_runoff, pan_evaporation and seepage rules."""
    site = sim.site
    role = {}
    for rule in site.estimations:
        role[rule.flow] = {
            "rainfall_runoff": "rainfall",
            "pan_evaporation": "evaporation",
            "seepage": "seepage",
        }.get(rule.method)
    per_day = sim.flows.reshape(sim.days, STEPS_PER_DAY, -1).sum(axis=1)
    at_midnight = sim.storage[::STEPS_PER_DAY]
    frames = []
    for i, store in enumerate(sim.store_ids):
        cols: dict[str, np.ndarray] = {
            k: np.zeros(sim.days)
            for k in ("inflow", "outflow", "rainfall", "evaporation", "seepage")
        }
        for j, flow_id in enumerate(sim.flow_ids):
            flow = site.flow(flow_id)
            if flow.to_node == store:
                cols["inflow"] += per_day[:, j]
                if role.get(flow_id) == "rainfall":
                    cols["rainfall"] += per_day[:, j]
            if flow.from_node == store:
                cols["outflow"] += per_day[:, j]
                if role.get(flow_id) in ("evaporation", "seepage"):
                    cols[str(role[flow_id])] += per_day[:, j]
        frames.append(
            pd.DataFrame(
                {
                    "day": pd.to_datetime(sim.dates),
                    "node_id": store,
                    "opening_storage_m3": at_midnight[:-1, i],
                    "closing_storage_m3": at_midnight[1:, i],
                    **{f"{k}_m3": v for k, v in cols.items()},
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def fit_demo(
    sim: DemoSimulation, fit_days: int, continuation: bool = True
) -> tuple[RainModel, list[StoreModel]]:
    """Rain model and store models fitted on the first ``fit_days`` days of ``sim``."""
    rain = daily_rain(sim).iloc[:fit_days]
    balance = node_balance(sim)
    last = pd.Timestamp(sim.dates[fit_days - 1])
    models = []
    for store in sim.store_ids:
        history = balance[(balance["node_id"] == store) & (balance["day"] <= last)]
        cap = sim.site.node(store).capacity_m3
        models.append(fit_store_model(history, rain, cap, store, continuation=continuation))
    return fit_rain_model(rain), models


# --- stand-in physics (development only) -----------------------------------------------------


def standin_paths(
    site: SiteConfig,
    sim: DemoSimulation,
    origin_day: int,
    days: int,
    n_paths: int,
    seed: int,
) -> np.ndarray:
    """Hourly, path-vectorised approximation of the demo's controls from the state at
    ``origin_day``; fresh rain and pan evaporation per path from the demo's climate. Pump
    states start from the fill (no memory of the run); plant throughput at its mean, bores
    always available. (n_paths, days+1, n_stores) volumes at local midnights."""
    rng = np.random.default_rng(seed)
    climate = HIGHVELD_CLIMATE if site.site.id == HIGHVELD_SITE_ID else PERTH_CLIMATE
    ids = sim.store_ids
    cap = {s: float(site.node(s).capacity_m3 or 1.0) for s in ids}
    area = {s: float(site.node(s).surface_area_m2 or 0.0) for s in ids}
    catchment = sum(
        r.params["area_m2"] * r.params.get("runoff_coefficient", 1.0)
        for r in site.estimations
        if r.method == "rainfall_runoff" and "area_m2" in r.params
    )
    seep_pct = next(
        r.params["rate_pct_per_month"] for r in site.estimations if r.method == "seepage"
    )
    state = sim.storage[origin_day * STEPS_PER_DAY]
    v = {s: np.full(n_paths, float(state[ids.index(s)])) for s in ids}
    for s in (RWD, PWD, RET, TSF, PIT):
        v.setdefault(s, np.zeros(n_paths))
        cap.setdefault(s, 1.0)
        area.setdefault(s, 0.0)
    duty = {f: q for f, q in PUMP_MAX_M3_PER_H.items()}  # m3 per hour
    ore_t_h = 30_000.0 / 24
    feed = ore_t_h * 0.6 + PLANT_STANDING_M3_PER_H
    to_tsf = feed + ore_t_h * 0.033 - ore_t_h * 0.03 * 0.09
    entrain = to_tsf * 0.6 * 0.8
    dust = ore_t_h * 0.025
    n_bores = 6
    bore_start = np.linspace(0.47, 0.63, n_bores)
    bore_q = BOREFIELD_CAPACITY_M3_PER_H / n_bores
    out = np.empty((n_paths, days + 1, len(ids)))
    out[:, 0] = np.stack([v[s] for s in ids], axis=1)
    bores = np.zeros((n_paths, n_bores), dtype=bool)
    fill = v[PIT] / cap[PIT]
    pit_on = fill > 0.45
    r2p_on = v[RET] / cap[RET] > 0.60
    tsf1 = v[TSF] / cap[TSF] > 0.41
    tsf2 = v[TSF] / cap[TSF] > 0.44
    river_on = v[RWD] / cap[RWD] < 0.40
    disch_on = v[RWD] / cap[RWD] > 0.72
    origin = sim.dates[origin_day]
    for d in range(days):
        day = origin + timedelta(days=d)
        m = day.month
        wet = rng.random(n_paths) < climate.rain_days[m - 1] / 30.4
        mean_mm = climate.rain_mm[m - 1] / climate.rain_days[m - 1]
        rain = np.where(wet, np.round(rng.gamma(0.8, mean_mm / 0.8, n_paths) / 0.2) * 0.2, 0.0)
        doy = day.timetuple().tm_yday
        pan = (6.0 + 4.0 * np.cos(2 * np.pi * (doy - 15) / 365.25)) * rng.lognormal(
            0, 0.15, n_paths
        )
        pan = np.maximum(np.where(rain > 1.0, pan * 0.6, pan), 0.2)
        rain_h, pan_h = rain / 24 / 1000, pan / 24 / 1000 * 0.7
        seep_h = v[TSF] * seep_pct / 100 / calendar.monthrange(day.year, m)[1] / 24
        river_left = np.full(n_paths, RIVER_LICENCE_M3_PER_DAY * climate.river_availability[m - 1])
        wet_season = m in climate.wet_season_months
        for _ in range(24):
            e = {s: rain_h * area[s] - pan_h * area[s] for s in (RWD, PWD, RET, TSF, PIT)}
            e[RWD] = e[RWD] + rain_h * catchment - dust
            e[PWD] = e[PWD] + THIRD_PARTY_M3_PER_H - feed
            e[TSF] = e[TSF] + to_tsf - entrain
            e[PIT] = e[PIT] + 100.0
            f_pit = v[PIT] / cap[PIT]
            pit_on = (f_pit > 0.45) | (pit_on & (f_pit >= 0.20))
            pit = np.where(pit_on, np.minimum(duty["pit_to_rwd"], v[PIT] + e[PIT]), 0.0)
            f_ret = v[RET] / cap[RET]
            r2p_on = ((f_ret > 0.60) | (r2p_on & (f_ret >= 0.25))) & (v[PWD] < 0.80 * cap[PWD])
            r2p = np.where(r2p_on, duty["retwd_to_pwd"], 0.0)
            f_tsf = v[TSF] / cap[TSF]
            tsf1 = (f_tsf > 0.41) | (tsf1 & (f_tsf >= 0.39))
            tsf2 = (f_tsf > 0.44) | (tsf2 & (f_tsf >= 0.42))
            ret = duty["tsf_to_retwd"] / 2 * (tsf1.astype(float) + tsf2)
            ret = np.minimum(ret, np.maximum(0.90 * cap[RET] - v[RET] - e[RET] + r2p, 0.0))
            trf = np.clip((0.60 * cap[PWD] - v[PWD]) / 6 - e[PWD] - r2p, 0.0, duty["rwd_to_pwd"])
            f_rwd = v[RWD] / cap[RWD]
            bores = (f_rwd[:, None] < bore_start) | (bores & (f_rwd[:, None] <= bore_start + 0.1))
            river_on = (f_rwd < 0.40) | (river_on & (f_rwd <= 0.50))
            river = np.where(river_on, np.minimum(duty["river_to_rwd"], river_left), 0.0)
            river_left = river_left - river
            disch_on = wet_season & ((f_rwd > 0.72) | (disch_on & (f_rwd >= 0.68)))
            disch = np.where(disch_on, duty["rwd_to_discharge"], 0.0)
            v[RWD] = v[RWD] + e[RWD] + bores.sum(axis=1) * bore_q + river + pit - trf - disch
            v[PWD] = v[PWD] + e[PWD] + trf + r2p
            v[RET] = v[RET] + e[RET] + ret - r2p
            v[TSF] = v[TSF] + e[TSF] - ret - seep_h
            v[PIT] = v[PIT] + e[PIT] - pit
        out[:, d + 1] = np.stack([v[s] for s in ids], axis=1)
    return out


# --- calibration -----------------------------------------------------------------------------

PathsFn = Callable[[SiteConfig, DemoSimulation, int, int, int, int], np.ndarray]


def demo_physics() -> PathsFn:
    from demo.physics import simulate_paths  # the demo's many-path physics

    return simulate_paths  # type: ignore[no-any-return]


def event_frequencies(paths: np.ndarray, cap: float) -> dict[tuple[str, int], np.ndarray]:
    """Per (event, horizon): the 0/1 outcome of each path (the path maximum/minimum)."""
    run_max = np.maximum.accumulate(paths[:, 1:], axis=1)
    run_min = np.minimum.accumulate(paths[:, 1:], axis=1)
    out = {}
    for key, pct, kind in EVENTS:
        for h in HORIZONS:
            if kind == "above":
                out[(key, h)] = run_max[:, h - 1] >= cap * pct / 100 * (1 - 1e-12)
            else:
                out[(key, h)] = run_min[:, h - 1] <= cap * pct / 100
    return out


def reliability(pred: np.ndarray, freq: np.ndarray, outcome: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    which = np.clip(np.digitize(pred, BINS[1:-1], right=False), 0, len(BINS) - 2)
    for i in range(len(BINS) - 1):
        sel = which == i
        if not sel.any():
            continue
        rows.append(
            {
                "bin": f"[{BINS[i]:.2f}, {BINS[i + 1]:.2f})",
                "count": int(sel.sum()),
                "mean_predicted": round(float(pred[sel].mean()), 4),
                "mean_demo_frequency": round(float(freq[sel].mean()), 4),
                "mean_outcome": round(float(outcome[sel].mean()), 4),
            }
        )
    return rows


def predict(
    models: list[StoreModel],
    rain_model: RainModel,
    sim: DemoSimulation,
    origin: int,
    n_paths: int,
    seed: int,
) -> dict[tuple[str, str, int], float]:
    """The model's probabilities from the true state at the start of day ``origin``; whether
    the day before was wet is known (the gauge has read it)."""
    day = sim.dates[origin]
    state = sim.storage[origin * STEPS_PER_DAY]
    rain = daily_rain(sim).to_numpy()
    horizon = max(HORIZONS)
    rng = np.random.default_rng(seed)
    wet_before = bool(rain[origin - 1] > rain_model.wet_threshold_mm)
    rain_paths = sample_rain(rain_model, day, horizon, n_paths, rng, wet_before)
    out = {}
    for i, model in enumerate(models):
        paths = simulate_store(model, float(state[i]), day, horizon, rain_paths, rng)
        for row in exceedance_probabilities(paths, model.capacity_m3, HORIZONS):
            for key, _, _ in EVENTS:
                out[(model.node_id, key, int(row["horizon_days"]))] = row[key]
    return out


def realised_check(
    sim: DemoSimulation,
    models: list[StoreModel],
    rain_model: RainModel,
    fit_days: int,
    every: int,
    n_paths: int,
) -> dict[str, Any]:
    """Predictions from every ``every``-th day of the second year against what the one demo
    run then did (one realised path per origin; overlapping windows, so neighbouring origins
    are not independent)."""
    midnights = sim.storage[::STEPS_PER_DAY]
    horizon = max(HORIZONS)
    rows = []
    for origin in range(fit_days, sim.days - horizon + 1, every):
        pred = predict(models, rain_model, sim, origin, n_paths, origin)
        for i, model in enumerate(models):
            seen = event_frequencies(
                midnights[None, origin : origin + horizon + 1, i], model.capacity_m3
            )
            for key, _, _ in EVENTS:
                for h in HORIZONS:
                    rows.append(
                        {
                            "node_id": model.node_id,
                            "event": key,
                            "horizon_days": h,
                            "predicted": pred[(model.node_id, key, h)],
                            "outcome": float(seen[(key, h)][0]),
                        }
                    )
    table = pd.DataFrame(rows)
    out: dict[str, Any] = {"origins": len(rows) // max(len(models) * 6, 1), "every_days": every}
    groups = {"overall": np.ones(len(table), dtype=bool)}
    for key, _, _ in EVENTS:
        for h in HORIZONS:
            groups[f"{key}@{h}d"] = (
                (table["event"] == key) & (table["horizon_days"] == h)
            ).to_numpy()
    for name, sel in groups.items():
        p, o = table["predicted"].to_numpy()[sel], table["outcome"].to_numpy()[sel]
        out[name] = {
            "n": int(sel.sum()),
            "mean_predicted": round(float(p.mean()), 4),
            "observed_frequency": round(float(o.mean()), 4),
            "brier": round(float(np.mean((p - o) ** 2)), 5),
            "brier_climatology": round(float(np.mean((o.mean() - o) ** 2)), 5),
        }
    pred = table["predicted"].to_numpy()
    outcome = table["outcome"].to_numpy()
    out["reliability"] = [
        {k: v for k, v in r.items() if k != "mean_demo_frequency"}
        for r in reliability(pred, outcome, outcome)
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--origins", type=int, default=26, help="origins in the second year")
    parser.add_argument("--demo-paths", type=int, default=10_000)
    parser.add_argument("--model-paths", type=int, default=20_000)
    parser.add_argument("--physics", choices=("demo", "standin", "none"), default="demo")
    parser.add_argument(
        "--realised-every", type=int, default=2, help="days between realised-check origins"
    )
    parser.add_argument("--no-continuation", action="store_true", help="plain fill-bin draws")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    site = build_demo_site()
    sim = simulate(site, START, DAYS, seed=SEED)
    fit_days = 365
    rain_model, models = fit_demo(sim, fit_days, continuation=not args.no_continuation)
    horizon = max(HORIZONS)
    t = time.perf_counter()
    realised = realised_check(sim, models, rain_model, fit_days, args.realised_every, 5_000)
    result: dict[str, Any] = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "demo_run": {"start": START.isoformat(), "days": DAYS, "seed": SEED, "fit_days": fit_days},
        "other_net": "fill bins" if args.no_continuation else "fill bins + continuation",
        "rain_model": rain_model.as_dict(),
        "realised": realised,
        "realised_s": round(time.perf_counter() - t, 1),
    }
    if args.physics != "none":
        physics: PathsFn = demo_physics() if args.physics == "demo" else standin_paths
        origins = np.linspace(fit_days, DAYS - horizon, args.origins).astype(int)
        rows: list[dict[str, Any]] = []
        t_model = t_physics = 0.0
        for k, origin in enumerate(origins):
            state = sim.storage[origin * STEPS_PER_DAY]
            t = time.perf_counter()
            demo = physics(site, sim, int(origin), horizon, args.demo_paths, 1000 + k)
            t_physics += time.perf_counter() - t
            t = time.perf_counter()
            pred = predict(models, rain_model, sim, int(origin), args.model_paths, k)
            t_model += time.perf_counter() - t
            for i, model in enumerate(models):
                freq = event_frequencies(demo[:, :, i], model.capacity_m3)
                for key, _, _ in EVENTS:
                    for h in HORIZONS:
                        hits = freq[(key, h)]
                        rows.append(
                            {
                                "origin": sim.dates[origin].isoformat(),
                                "node_id": model.node_id,
                                "event": key,
                                "horizon_days": h,
                                "predicted": pred[(model.node_id, key, h)],
                                "demo_frequency": float(hits.mean()),
                                "outcome": float(hits[0]),
                                "start_fill_pct": float(state[i] / model.capacity_m3 * 100),
                            }
                        )
        result.update(
            {
                "physics": "demo.physics.simulate_paths"
                if args.physics == "demo"
                else "standin_paths (development stand-in, not the demo physics)",
                "origins": len(origins),
                "demo_paths": args.demo_paths,
                "model_paths": args.model_paths,
                "model_s": round(t_model, 2),
                "physics_s": round(t_physics, 2),
                **summarise(pd.DataFrame(rows)),
            }
        )
    result["total_s"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    shown = {k: v for k, v in result.items() if k not in ("rain_model", "rows")}
    print(json.dumps(shown, indent=2))
    return 0


def summarise(table: pd.DataFrame) -> dict[str, Any]:
    """Brier scores overall, per event and horizon, per store; the reliability table."""
    pred = table["predicted"].to_numpy()
    freq = table["demo_frequency"].to_numpy()
    outcome = table["outcome"].to_numpy()

    def scores(sel: np.ndarray) -> dict[str, float]:
        p, f, o = pred[sel], freq[sel], outcome[sel]
        clim = np.full_like(f, f.mean())
        return {
            "n": int(sel.sum()),
            "brier_vs_frequency": round(float(np.mean((p - f) ** 2)), 5),
            "brier_vs_outcome": round(float(np.mean((p - o) ** 2)), 5),
            "brier_frequency_vs_outcome": round(float(np.mean((f - o) ** 2)), 5),
            "brier_climatology_vs_outcome": round(float(np.mean((clim - o) ** 2)), 5),
            "mean_abs_error": round(float(np.mean(np.abs(p - f))), 4),
            "max_abs_error": round(float(np.max(np.abs(p - f))), 4),
        }

    all_rows = np.ones(len(table), dtype=bool)
    by_event = {
        f"{e}@{h}d": scores(((table["event"] == e) & (table["horizon_days"] == h)).to_numpy())
        for e, _, _ in EVENTS
        for h in HORIZONS
    }
    by_store = {s: scores((table["node_id"] == s).to_numpy()) for s in table["node_id"].unique()}
    return {
        "overall": scores(all_rows),
        "by_event": by_event,
        "by_store": by_store,
        "reliability": reliability(pred, freq, outcome),
        "rows": table.to_dict(orient="records"),
    }


if __name__ == "__main__":
    raise SystemExit(main())
