"""Alert rule assessment speed: 10 000 scopes x 365 daily rows (3.65 M rows), one rule of each
condition kind, assessed in one call as the alert engine does for one source.

Figures are printed and written to ``benchmarks/results/alert_rules.json``.

    python benchmarks/bench_alert_rules.py [--scopes 10000] [--days 365]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from alerts.rules import Rule

RULES = {
    "above a column (with default)": {
        "metric": "fill_pct",
        "condition": {"above": {"column": "store_high_pct", "default": 80}},
    },
    "outside a band": {"metric": "fill_pct", "condition": {"outside": [20, 80]}},
    "outside ± a column, where": {
        "metric": "fill_pct",
        "metrics": ["fill_pct", "is_closed"],
        "condition": {
            "outside": [
                {"column": "store_high_pct", "negate": True},
                {"column": "store_high_pct"},
            ]
        },
        "where": "is_closed",
    },
    "rate of change (relative, window 7)": {
        "metric": "fill_pct",
        "condition": {"rate_of_change": {"window": 7, "above": 50, "relative": True}},
    },
    "expression, where": {
        "metric": "fill_pct",
        "metrics": ["fill_pct", "store_high_pct", "is_closed"],
        "condition": {"expression": "fill_pct > store_high_pct and fill_pct < 99"},
        "where": "is_closed",
    },
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scopes", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    rows = args.scopes * args.days
    frame = pd.DataFrame(
        {
            "site_id": np.repeat([f"site_{i % 50}" for i in range(args.scopes)], args.days),
            "node_id": np.repeat([f"node_{i}" for i in range(args.scopes)], args.days),
            "day": np.tile(pd.date_range("2025-01-01", periods=args.days).to_numpy(), args.scopes),
            "fill_pct": rng.uniform(0, 100, rows),
            "store_high_pct": np.repeat(rng.choice([80.0, 85.0, np.nan], args.scopes), args.days),
            "is_closed": rng.random(rows) > 0.1,
        }
    )
    base = {
        "id": "bench",
        "summary": "x",
        "category": "operational",
        "source": "fct_store_levels_daily",
        "time": "day",
        "labels": ["site_id", "node_id"],
    }
    results = {}
    for name, spec in RULES.items():
        rule = Rule.model_validate({**base, **spec})
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            assessed = rule.assess(frame)
            best = min(best, time.perf_counter() - started)
        results[name] = {"seconds": round(best, 3), "rows_out": len(assessed)}
        print(f"{name:40s} {best:6.2f} s  {len(assessed):>9,} observations")
    out = Path(__file__).parent / "results" / "alert_rules.json"
    out.write_text(
        json.dumps(
            {
                "scopes": args.scopes,
                "days": args.days,
                "rows": rows,
                "machine": platform.machine(),
                "python": platform.python_version(),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
