#!/usr/bin/env python3
"""Benchmark: forecast accuracy on the demo sites and the time to fit and backtest them.

(a) Accuracy: two simulated years (from 2024-07-01) of both demo sites, for each seed given: each
    store's closing volume (90-day horizon, ``STORE_VOLUME_CONFIG``) and the site water demand
    (daily inflow to the task nodes, 30-day horizon, ``DEMAND_CONFIG``), backtested at 6 rolling
    origins 30 days apart. Future rain two ways: ``scenarios`` (200 paths bootstrapped from the
    same season of earlier years — what an operational forecast knows) and ``observed`` (the rain
    that fell — the model's skill when rain is known). Also the default configuration with
    same-day rain, for comparison.
(b) Speed: the ~500-meter demo site (115 bores): fitting every forecast (5 stores + demand) and
    backtesting each at 6 origins, in a process pool of ``--workers`` (default 2).

Figures are printed as a markdown table and written to ``benchmarks/results/forecasts.json``.

    .venv/bin/python benchmarks/bench_forecasts.py [--seeds 7 11] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402

from demo.simulate import DemoSimulation, simulate  # noqa: E402
from demo.site import build_demo_site, build_highveld_site  # noqa: E402
from ml.backtest import bootstrap_rain_generator, rolling_origin  # noqa: E402
from ml.forecast import (  # noqa: E402
    DEMAND_CONFIG,
    STORE_VOLUME_CONFIG,
    ForecastConfig,
    fit,
)

START = date(2024, 7, 1)
DAYS = 730
N_ORIGINS = 6
STEP_DAYS = 30


def site_series(sim: DemoSimulation) -> tuple[dict[str, pd.Series], pd.Series]:
    """Each store's closing volume and the site demand, and daily rain (mm)."""
    days = pd.to_datetime(pd.Index(sim.dates))
    rain = pd.Series(
        np.asarray(sim.drivers.rain_mm, dtype=float).reshape(sim.days, -1).sum(axis=1),
        index=days,
    )
    out: dict[str, pd.Series] = {}
    sd = sim.storage_daily
    for node in sim.store_ids:
        g = sd[sd["node_id"] == node]
        out[node] = pd.Series(g["closing_m3"].to_numpy(dtype=float), index=days)
    tasks = {n.id for n in sim.site.nodes if n.kind == "task"}
    into_tasks = [f.id for f in sim.site.flows if f.to_node in tasks]
    fd = sim.flows_daily
    demand = fd[fd["flow_id"].isin(into_tasks)].groupby("day")["volume_m3"].sum()
    out["site_demand"] = pd.Series(demand.to_numpy(dtype=float), index=days)
    return out, rain


def config_for(name: str) -> ForecastConfig:
    return DEMAND_CONFIG if name == "site_demand" else STORE_VOLUME_CONFIG


def one_backtest(
    site: str, seed: int, name: str, y: pd.Series, rain: pd.Series, variant: str
) -> dict[str, Any]:
    cfg = config_for(name)
    future_rain: Any = "observed"
    if variant == "scenarios":
        future_rain = bootstrap_rain_generator(200, seed=seed)
    elif variant == "same_day_rain":
        cfg = ForecastConfig(horizon_days=cfg.horizon_days)
        future_rain = bootstrap_rain_generator(200, seed=seed)
    t0 = time.perf_counter()
    r = rolling_origin(
        y, rain, cfg, n_origins=N_ORIGINS, step_days=STEP_DAYS, future_rain=future_rain
    )
    d = r.as_dict()
    d.pop("origins")
    return {
        "site": site,
        "seed": seed,
        "series": name,
        "variant": variant,
        "seconds": round(time.perf_counter() - t0, 2),
        **d,
    }


def accuracy(seeds: list[int], workers: int) -> list[dict[str, Any]]:
    jobs = []
    for seed in seeds:
        for site_name, builder in (("demo", build_demo_site), ("highveld", build_highveld_site)):
            series, rain = site_series(simulate(builder(), START, DAYS, seed=seed))
            for name, y in series.items():
                for variant in ("scenarios", "observed", "same_day_rain"):
                    jobs.append((site_name, seed, name, y, rain, variant))
    return list(Parallel(n_jobs=workers)(delayed(one_backtest)(*j) for j in jobs))


def fit_and_backtest(name: str, y: pd.Series, rain: pd.Series) -> dict[str, float]:
    cfg = config_for(name)
    t0 = time.perf_counter()
    model = fit(y, rain, cfg)
    t1 = time.perf_counter()
    rolling_origin(
        y,
        rain,
        cfg,
        n_origins=N_ORIGINS,
        step_days=STEP_DAYS,
        future_rain=bootstrap_rain_generator(200, seed=0),
    )
    t2 = time.perf_counter()
    return {"fit_s": t1 - t0, "backtest_s": t2 - t1, "ok": float(model.status == "ok")}


def speed(workers: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    sim = simulate(build_demo_site(115), START, DAYS, seed=7)
    t_sim = time.perf_counter() - t0
    series, rain = site_series(sim)
    t1 = time.perf_counter()
    per = Parallel(n_jobs=workers)(
        delayed(fit_and_backtest)(name, y, rain) for name, y in series.items()
    )
    wall = time.perf_counter() - t1
    return {
        "site_meters": len(sim.site.meters),
        "forecasts": len(series),
        "fits": len(series) * (1 + N_ORIGINS),
        "workers": workers,
        "simulate_s": round(t_sim, 2),
        "wall_s": round(wall, 2),
        "sum_fit_s": round(sum(p["fit_s"] for p in per), 3),
        "sum_backtest_s": round(sum(p["backtest_s"] for p in per), 2),
        "all_ok": all(p["ok"] == 1.0 for p in per),
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| site | seed | series | rain | MASE | MAPE % | within ±10 % | cov 80 | cov 95 | m "
        "| status |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"| {r['site']} | {r['seed']} | {r['series']} | {r['variant']} | {r['mase']:.3f} | "
            f"{r['mape']:.1f} | {r['within_10pct_share']:.2f} | {r['coverage_80']:.2f} | "
            f"{r['coverage_95']:.2f} | {r['seasonal_period']} | {r['status']} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = accuracy(args.seeds, args.workers)
    t_acc = time.perf_counter() - t0
    print(table(rows))
    print(f"\naccuracy runs: {len(rows)} backtests in {t_acc:.1f} s")
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "start": START.isoformat(),
        "days": DAYS,
        "n_origins": N_ORIGINS,
        "step_days": STEP_DAYS,
        "accuracy": rows,
    }
    if not args.skip_speed:
        sp = speed(args.workers)
        result["speed"] = sp
        print(
            f"\nspeed, {sp['site_meters']}-meter site: {sp['forecasts']} forecasts, {sp['fits']} "
            f"fits, fit + backtest wall {sp['wall_s']} s on {sp['workers']} workers (sum of fits "
            f"{sp['sum_fit_s']} s, of backtests {sp['sum_backtest_s']} s; simulation "
            f"{sp['simulate_s']} s)"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "forecasts.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
