#!/usr/bin/env python3
"""Score the published anomalies of a demo run with ``--faults`` against its injected manifest.

Where ``benchmarks/bench_anomalies.py`` injects anomalies into simulated series and calls the
detectors directly, this reads what the platform published after the whole chain ran
(``siteledger demo run --faults``: files, lake, dbt, VEE, the metric mart, the analytics asset):
``fct_anomalies`` and ``fct_change_points`` of the warehouse, scored against
``demo/ground_truth/anomalies.json`` with the same rules (``score`` of bench_anomalies). The
seed's trailing 12-month ±3 sigma is run beside it on the same published series.

The demo's planned monthly plant shutdowns are real departures from the pattern that the manifest
does not list: flags on those days (days the true plant feed is below half its median) are
reported apart, and a second precision counts them as false.

    .venv/bin/python benchmarks/score_demo_anomalies.py --home DIR   # a home that ran it
    .venv/bin/python benchmarks/score_demo_anomalies.py --days 365   # generate and run one

Figures are printed and written to ``benchmarks/results/anomalies_demo_pipeline.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_anomalies import score  # noqa: E402

from ml.anomalies import AnomalyConfig, detect  # noqa: E402
from ml.series import read_metrics  # noqa: E402

SITE = "demo_mine"
RESULT = ROOT / "benchmarks" / "results" / "anomalies_demo_pipeline.json"


def shutdown_days(home: Path) -> set[pd.Timestamp]:
    flows = pd.read_parquet(home / "demo" / "ground_truth" / "flows_daily.parquet")
    plant = flows[flows["flow_id"] == "pwd_to_plant"].set_index("day")["volume_m3"]
    low = plant[plant < 0.5 * plant.median()]
    return {pd.Timestamp(d) for d in low.index}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a home where 'demo run --faults' ran")
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    home = args.home
    run_seconds = None
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="siteledger-anomalies-"))
        t0 = time.perf_counter()
        subprocess.run(
            [
                *(sys.executable, "-m", "cli.main", "--home", str(home)),
                *("demo", "run", "--days", str(args.days), "--faults"),
            ],
            cwd=ROOT,
            check=True,
        )
        run_seconds = round(time.perf_counter() - t0, 1)
    manifest = json.loads((home / "demo" / "ground_truth" / "anomalies.json").read_text())
    scored = sorted({e["series_id"] for e in manifest})
    with duckdb.connect(str(home / "warehouse" / "siteledger.duckdb"), read_only=True) as con:
        anomalies = con.execute("select * from fct_anomalies").df()
        cps = con.execute("select * from fct_change_points").df()
        status = con.execute(
            "select series_id, status, reason from fct_analytics_status "
            "where analysis = 'anomalies'"
        ).df()
    with duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True) as con:
        series = read_metrics(con, scopes=["flow"], metrics=["volume_m3"])
    series = series[series["series_id"].isin(scored)][["series_id", "day", "value"]]
    legacy = detect(series, config=AnomalyConfig(methods=("rolling_3sigma",)))
    known = shutdown_days(home)

    def scoped(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[frame["series_id"].isin(scored)].copy()
        out["day"] = pd.to_datetime(out["day"])
        return out

    result = {
        "home": str(home),
        "demo_run_seconds": run_seconds,
        "events": len(manifest),
        "events_by_kind": pd.Series([e["kind"] for e in manifest]).value_counts().to_dict(),
        "scored_series": scored,
        "series_status": {
            s: st
            for s, st in zip(status["series_id"], status["status"], strict=True)
            if s in scored
        },
        "published (default methods with change points)": score(
            manifest, scoped(anomalies), scoped(cps), known
        ),
        "published anomalies without change points": score(
            manifest, scoped(anomalies), None, known
        ),
        "rolling_3sigma (seed option) on the same published series": score(
            manifest, scoped(legacy), None, known
        ),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
