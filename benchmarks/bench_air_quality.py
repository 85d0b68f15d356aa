#!/usr/bin/env python3
"""Benchmark: the air quality analytics (ml.air) on a demo-size year.

The demo mine is simulated for ``--days`` days (seed 7, from 2025-07-01); its daily inputs are
the 24-hour means of the PM10, wind speed and humidity meters' readings and the day's
dust-suppression water, as the marts give them on fault-free data. Timed: the dust-suppression
regression, the rolling-origin backtests of the 24 h and 48 h forecasts (one refit per origin
day) and the operational forecast. Reported beside the seconds: the recovered effect against the
injected constant (demo.air.DUST_SUPPRESSION_K_PER_100M3) and the forecasts' verification
scores. Figures are printed and written to ``benchmarks/results/air_quality.json``.

    .venv/bin/python benchmarks/bench_air_quality.py [--days 365]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demo.air import (
    DUST_FLOW,
    DUST_SUPPRESSION_K_PER_100M3,
    HUMIDITY_METER,
    PM10_METER,
    WIND_SPEED_METER,
)
from demo.drivers import STEPS_PER_DAY
from demo.simulate import simulate
from demo.site import build_demo_site
from ml.air import HORIZONS, backtest, dust_effect, forecast

RESULTS = Path(__file__).parent / "results" / "air_quality.json"
TRIGGER = 150.0


def demo_days(days: int) -> pd.DataFrame:
    sim = simulate(build_demo_site(), days=days)
    steps = days * STEPS_PER_DAY

    def daily_mean(meter: str) -> np.ndarray:
        return sim.grid_readings[meter][:steps].reshape(days, STEPS_PER_DAY).mean(axis=1)

    water = sim.flows[:, sim.flow_ids.index(DUST_FLOW)].reshape(days, STEPS_PER_DAY).sum(axis=1)
    return pd.DataFrame(
        {
            "pm10": daily_mean(PM10_METER),
            "wind": daily_mean(WIND_SPEED_METER),
            "humidity": daily_mean(HUMIDITY_METER),
            "dust_m3": water,
        },
        index=pd.date_range(sim.start, periods=days, freq="D"),
    )


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    days = demo_days(args.days)

    clock = time.perf_counter()
    effect = dust_effect(days)
    regression_s = time.perf_counter() - clock
    clock = time.perf_counter()
    skill = [backtest(days, TRIGGER, h)[0] for h in HORIZONS]
    backtest_s = time.perf_counter() - clock
    clock = time.perf_counter()
    forecasts = forecast(days, TRIGGER)
    forecast_s = time.perf_counter() - clock

    injected = -DUST_SUPPRESSION_K_PER_100M3
    coef = float(effect["coef_log_per_100m3"])  # type: ignore[arg-type]
    out = {
        "machine": {"python": platform.python_version(), "processor": platform.processor()},
        "days": args.days,
        "seconds": {
            "regression": round(regression_s, 3),
            "backtests": round(backtest_s, 3),
            "forecast": round(forecast_s, 3),
            "total": round(regression_s + backtest_s + forecast_s, 3),
        },
        "dust_effect": {
            "injected_coef_log_per_100m3": injected,
            "recovered_coef_log_per_100m3": round(coef, 5),
            "relative_error_pct": round(100 * abs(coef - injected) / abs(injected), 2),
            **{
                k: _clean(effect[k])
                for k in (
                    "coef_log_lo",
                    "coef_log_hi",
                    "p_value",
                    "effect_ug_m3_per_100m3",
                    "effect_lo_ug_m3",
                    "effect_hi_ug_m3",
                    "naive_correlation",
                    "ar1_rho",
                    "n_days",
                    "recommendation",
                )
            },
        },
        "forecast_skill": [{k: _clean(v) for k, v in row.items()} for row in skill],
        "forecast": [{k: _clean(v) for k, v in row.items()} for row in forecasts],
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
