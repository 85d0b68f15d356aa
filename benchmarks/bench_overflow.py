#!/usr/bin/env python3
"""Benchmark: overflow/shortage Monte Carlo, 20 000 paths x 90 days, on the five demo stores.

Fits the rain model and the store models on one year of the demo mine (the first 365 days of
the 730-day run the calibration uses), then times, best of ``--repeat``:

* rain: drawing the 20 000 x 90 daily rain paths (shared by every store);
* per store: :func:`ml.overflow.simulate_store` plus the exceedance probabilities;
* all five: :func:`ml.overflow.overflow_risk` (rain, five stores, probabilities) and
  :func:`ml.overflow.overflow_risk_detail` (the same plus daily p05/p50/p95 for charts);
* scenarios: :func:`ml.scenarios.project_all` with the base case and three scenarios
  (2 000 paths each, the projection's default).

The target: at most 1 s per store for 20 000 x 90. Figures are printed and written to
``benchmarks/results/overflow.json``.

    .venv/bin/python benchmarks/bench_overflow.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from calibrate_overflow import DAYS, SEED, START, fit_demo  # noqa: E402

from demo.simulate import simulate  # noqa: E402
from demo.site import build_demo_site  # noqa: E402
from ml.overflow import (  # noqa: E402
    exceedance_probabilities,
    overflow_risk,
    overflow_risk_detail,
    simulate_store,
)
from ml.scenarios import Scenario, project_all  # noqa: E402
from ml.weather import sample_rain  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "overflow.json"


def best_of(repeat: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    site = build_demo_site()
    sim = simulate(site, START, DAYS, seed=SEED)
    fit_days = 365
    t = time.perf_counter()
    rain_model, models = fit_demo(sim, fit_days)
    fit_s = time.perf_counter() - t
    as_of = sim.dates[fit_days - 1]
    start = sim.dates[fit_days]
    volumes = {s: float(sim.storage[fit_days * 96, i]) for i, s in enumerate(sim.store_ids)}
    n, days = args.paths, args.days

    rain_s = best_of(
        args.repeat,
        lambda: sample_rain(rain_model, start, days, n, np.random.default_rng(0)),
    )
    rain = sample_rain(rain_model, start, days, n, np.random.default_rng(0))
    per_store = {}
    for m in models:

        def one(m: Any = m) -> None:
            paths = simulate_store(
                m, volumes[m.node_id], start, days, rain, np.random.default_rng(1)
            )
            exceedance_probabilities(paths, m.capacity_m3, (1, 30, days))

        per_store[m.node_id] = round(best_of(args.repeat, one), 3)
    all_s = best_of(
        args.repeat,
        lambda: overflow_risk(models, volumes, rain_model, as_of, n, days, seed=0),
    )
    detail_s = best_of(
        args.repeat,
        lambda: overflow_risk_detail(models, volumes, rain_model, as_of, n, days, seed=0),
    )
    scenarios = [
        Scenario(id="wet", name="Rain +20 %", rain_factor=1.2),
        Scenario(id="evap", name="Evaporation -10 %", evaporation_factor=0.9),
        Scenario(id="pit", name="Pit pump +500 m3/d", pump_m3_per_day={"pit_sump": -500.0}),
    ]
    scen_s = best_of(
        args.repeat,
        lambda: project_all(scenarios, models, volumes, rain_model, as_of, days),
    )
    summary = overflow_risk(models, volumes, rain_model, as_of, n, days, seed=0)
    result = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, numpy {np.__version__}",
        "load_average_1min": round(os.getloadavg()[0], 2),
        "paths": n,
        "days": days,
        "stores": len(models),
        "fit_s": round(fit_s, 3),
        "rain_paths_s": round(rain_s, 3),
        "per_store_s": per_store,
        "per_store_max_s": max(per_store.values()),
        "all_stores_overflow_risk_s": round(all_s, 3),
        "all_stores_with_daily_quantiles_s": round(detail_s, 3),
        "scenarios_base_plus_3_x_2000_paths_s": round(scen_s, 3),
        "target_per_store_s": 1.0,
        "as_of": as_of.isoformat(),
        "result": summary.drop(columns=["as_of"]).to_dict(orient="records"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "result"}, indent=2))
    print(summary.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
