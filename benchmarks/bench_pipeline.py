#!/usr/bin/env python3
"""Benchmark: one year of a ~500-meter site at 15-minute resolution, through the pipeline.

Generates the demo mine scaled to about 500 meters (``--bores 115``), then times each stage in
this process and prints the figures; they are also written to ``benchmarks/results/``.

    .venv/bin/python benchmarks/bench_pipeline.py [--days 365] [--bores 115] [--home DIR]

Stages: ``generate`` (not part of the target), ``ingest`` (landing CSV/Excel -> raw lake).
Peak memory is the process's maximum resident set size (the whole run, generation included, so it
is an upper bound for each stage).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingestion.demo import write_demo  # noqa: E402
from ingestion.files import import_landing  # noqa: E402
from siteledger.settings import Settings  # noqa: E402
from siteledger.site import load_site  # noqa: E402
from siteledger.state import StateStore  # noqa: E402


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--bores", type=int, default=115)
    parser.add_argument("--home", type=Path, default=None, help="keep outputs here")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="siteledger-bench-"))
    if home.exists() and args.home:
        shutil.rmtree(home)
    settings = Settings(home=home.resolve())
    settings.ensure_dirs()
    figures: dict[str, object] = {
        "machine": f"{platform.machine()} {platform.python_version()}",
        "cores": __import__("os").cpu_count(),
        "days": args.days,
        "bores": args.bores,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }

    t0 = time.perf_counter()
    out = write_demo(settings.home, days=args.days, seed=7, n_bores=args.bores)
    figures["generate_s"] = round(time.perf_counter() - t0, 2)
    site = load_site(out.site_file)
    figures["meters"] = len(site.meters)
    figures["readings_generated"] = out.n_readings
    figures["drop_files"] = len(out.drop_files)
    figures["drop_bytes"] = sum(Path(p).stat().st_size for p in out.drop_files)
    print(
        f"generated {out.n_readings:,} readings for {len(site.meters)} meters "
        f"in {figures['generate_s']} s"
    )

    store = StateStore(settings.state_store_url)
    t0 = time.perf_counter()
    results = import_landing(settings, site, store)
    ingest_s = time.perf_counter() - t0
    imported = sum(r.imported for r in results)
    figures["ingest_s"] = round(ingest_s, 2)
    figures["readings_imported"] = imported
    figures["ingest_readings_per_s"] = round(imported / ingest_s)
    figures["rows_quarantined"] = sum(r.failed for r in results)
    figures["peak_rss_mib"] = round(peak_rss_mib())
    print(
        f"ingest: {imported:,} readings in {ingest_s:.1f} s = "
        f"{imported / ingest_s / 1e6:.2f} M readings/s; peak RSS {figures['peak_rss_mib']} MiB"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "pipeline.json"
    target.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {target}")
    if not args.home:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
