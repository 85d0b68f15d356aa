#!/usr/bin/env python3
"""Benchmark: quality scoring of one year of the ~500-meter demo site.

Needs a home whose build warehouse holds the year (``bench_pipeline.py --home DIR`` leaves one;
this script runs it first when ``--home`` has none). Times, in this process:

* full: scores of every closed day of the year (meter, node and site), the Great Expectations
  suites (one batch per site and month), writing ``fct_quality_scores_daily`` and building the
  offline Data Docs;
* audit: the blocking publish audits on the whole build warehouse;
* nightly: scoring one day's window (as the nightly run does after its one-day dbt build).

The VEE flags and counts themselves are dbt models: their cost is inside ``bench_pipeline.py``'s
``dbt build``. Figures are printed and written to ``benchmarks/results/quality.json``.

    .venv/bin/python benchmarks/bench_quality.py --home DIR
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from quality.audit import audit_build  # noqa: E402
from quality.scoring import score_build  # noqa: E402
from siteledger.settings import Settings  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="home with a built year")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    settings = Settings(home=args.home.resolve())
    build_db = settings.build_db
    if not build_db.exists():
        print(f"no build warehouse in {args.home}: running bench_pipeline.py first ...")
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "bench_pipeline.py"), "--home", args.home],
            check=True,
            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
        )
    with duckdb.connect(str(build_db), read_only=True) as con:
        meters, readings, last_day = con.execute(
            "select count(distinct meter_id), count(*), max(reading_day) "
            "from intermediate.int_readings_deduplicated"
        ).fetchone()
        flags = con.execute("select count(*) from intermediate.int_reading_flags").fetchone()[0]

    t0 = time.perf_counter()
    full = score_build(settings)
    full_s = time.perf_counter() - t0
    rss_full = peak_rss_mib()
    print(
        f"full year: {full.n_rows:,} score rows, {full.n_days} days in {full_s:.2f} s "
        f"({full.by_status}); peak RSS {rss_full:.0f} MiB"
    )

    t0 = time.perf_counter()
    checks = audit_build(build_db)
    audit_s = time.perf_counter() - t0
    print(f"audits: {audit_s:.2f} s ({', '.join(f'{c.name}={c.passed}' for c in checks)})")

    day = (last_day - dt.timedelta(days=1)).isoformat()
    t0 = time.perf_counter()
    nightly = score_build(settings, day, day)
    nightly_s = time.perf_counter() - t0
    print(f"nightly window {day}: {nightly.n_rows:,} rows in {nightly_s:.2f} s")

    figures = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "meters": meters,
        "readings": readings,
        "flags": flags,
        "score_rows_full": full.n_rows,
        "days_scored_full": full.n_days,
        "full_scoring_s": round(full_s, 2),
        "full_scoring_peak_rss_mib": round(rss_full),
        "audit_s": round(audit_s, 2),
        "audits_passed": all(c.passed for c in checks),
        "nightly_scoring_s": round(nightly_s, 2),
        "peak_rss_mib": round(peak_rss_mib()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
