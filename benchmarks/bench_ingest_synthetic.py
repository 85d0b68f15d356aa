"""Ingest speed: one year of a 500-meter site at 15-minute resolution (~17.5 M readings).

Writes the year three ways - one wide CSV (35 040 rows x 500 meter columns), one long CSV (one
reading per row) and 365 daily wide CSVs - imports each into a fresh temporary
SITELEDGER_HOME in a child process, and prints readings/s, wall time and the child's peak RSS;
the figures go to ``benchmarks/results/ingest_synthetic.json``.

    python benchmarks/bench_ingest_synthetic.py [--meters 500] [--days 365]
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
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

RESULTS = Path(__file__).parent / "results" / "ingest_synthetic.json"
START = dt.datetime(2025, 1, 1)
STEP_MINUTES = 15
SITE_TIMEZONE = "Australia/Perth"


def site_config(meters: int) -> dict[str, Any]:
    """A site with ``meters`` flow meters and a wide and a long CSV layout."""
    return {
        "site": {"id": "bench", "name": "Benchmark site", "timezone": SITE_TIMEZONE},
        "nodes": [{"id": "plant", "kind": "task"}],
        "meters": [
            {"id": f"FT-{i:04d}", "measurand": "flow_rate", "unit": "m3/h", "tag": f"T{i:04d}"}
            for i in range(meters)
        ],
        "file_layouts": [
            {
                "id": "wide",
                "format": "csv_wide",
                "pattern": "wide_*.csv",
                "timestamp_column": "Timestamp",
                "timestamp_format": "%d/%m/%Y %H:%M",
                "unit_in_header": r"^(?P<name>.+?) \[(?P<unit>[^\]]+)\]$",
            },
            {
                "id": "long",
                "format": "csv_long",
                "pattern": "long_*.csv",
                "timestamp_column": "timestamp",
                "unit_column": "unit",
            },
        ],
    }


def _stamps(days: int, fmt: str) -> pa.Array:
    steps = days * 24 * 60 // STEP_MINUTES
    moments = [START + dt.timedelta(minutes=STEP_MINUTES * i) for i in range(steps)]
    return pa.array([m.strftime(fmt) for m in moments], pa.string())


def _values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    # flows of 0-500 m3/h with 3 decimals, as SCADA historians export them
    return np.round(rng.random(shape) * 500.0, 3)


def _wide_table(meters: int, stamps: pa.Array, rng: np.random.Generator) -> pa.Table:
    values = _values(rng, (meters, len(stamps)))
    columns = {"Timestamp": stamps}
    columns.update({f"T{i:04d} [m3/h]": values[i] for i in range(meters)})
    return pa.table(columns)


def write_wide(landing: Path, meters: int, days: int, rng: np.random.Generator) -> int:
    table = _wide_table(meters, _stamps(days, "%d/%m/%Y %H:%M"), rng)
    pv.write_csv(table, landing / "wide_2025.csv", pv.WriteOptions(quoting_style="needed"))
    return table.num_rows * meters


def write_daily(landing: Path, meters: int, days: int, rng: np.random.Generator) -> int:
    stamps = _stamps(days, "%d/%m/%Y %H:%M")
    per_day = len(stamps) // days
    for day in range(days):
        table = _wide_table(meters, stamps[day * per_day : (day + 1) * per_day], rng)
        name = f"wide_{START + dt.timedelta(days=day):%Y%m%d}.csv"
        pv.write_csv(table, landing / name, pv.WriteOptions(quoting_style="needed"))
    return len(stamps) * meters


def write_long(landing: Path, meters: int, days: int, rng: np.random.Generator) -> int:
    stamps = _stamps(days, "%Y-%m-%dT%H:%M:%S")
    n = len(stamps) * meters
    ts_codes = pa.array(np.repeat(np.arange(len(stamps), dtype=np.int32), meters))
    meter_codes = pa.array(np.tile(np.arange(meters, dtype=np.int32), len(stamps)))
    meter_ids = pa.array([f"FT-{i:04d}" for i in range(meters)])
    table = pa.table(
        {
            "timestamp": pa.DictionaryArray.from_arrays(ts_codes, stamps).cast(pa.string()),
            "meter": pa.DictionaryArray.from_arrays(meter_codes, meter_ids).cast(pa.string()),
            "value": _values(rng, (n,)),
            "unit": pc.cast(pa.repeat(pa.scalar("m3/h"), n), pa.string()),
        }
    )
    pv.write_csv(table, landing / "long_2025.csv", pv.WriteOptions(quoting_style="needed"))
    return n


def ingest(site_file: Path, home: Path) -> dict[str, Any]:
    """Import the landing folder of ``home``; runs in the child process."""
    from ingestion.files import import_landing
    from siteledger.settings import Settings
    from siteledger.site.models import SiteConfig
    from siteledger.state.store import StateStore

    site = SiteConfig.model_validate(json.loads(site_file.read_text()))
    settings = Settings(home=home)
    store = StateStore(settings.state_store_url)
    started = time.perf_counter()
    results = import_landing(settings, site, store)
    wall = time.perf_counter() - started
    imported = sum(r.imported for r in results)
    statuses = sorted({r.status for r in results})
    return {
        "readings": imported,
        "files": len(results),
        "statuses": statuses,
        "wall_s": round(wall, 2),
        "readings_per_s": round(imported / wall),
        "lake_files": sum(len(r.lake_files) for r in results),
        # ru_maxrss is in KiB on Linux
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def run_child(site_file: Path, home: Path) -> dict[str, Any]:
    env = {**os.environ, "SITELEDGER_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(site_file), str(home)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--child", nargs=2, metavar=("SITE_JSON", "HOME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(ingest(Path(args.child[0]), Path(args.child[1]))))
        return
    rng = np.random.default_rng(20250101)
    figures: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "pyarrow": pa.__version__,
        },
        "meters": args.meters,
        "days": args.days,
        "interval_minutes": STEP_MINUTES,
    }
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        root = Path(tmp)
        site_file = root / "site.json"
        site_file.write_text(json.dumps(site_config(args.meters)))
        for kind, writer in (("wide", write_wide), ("long", write_long), ("daily", write_daily)):
            home = root / kind
            landing = home / "landing"
            landing.mkdir(parents=True)
            cells = writer(landing, args.meters, args.days, rng)
            size_mb = round(sum(p.stat().st_size for p in landing.iterdir()) / 1e6, 1)
            # other work on the machine slows the import: keep the load next to the figures
            load = round(os.getloadavg()[0], 2)
            result = run_child(site_file, home)
            result.update({"cells": cells, "file_mb": size_mb, "load_average_before": load})
            figures[kind] = result
            print(
                f"{kind:>5}: {result['readings']:,} readings from {result['files']} file(s), "
                f"{size_mb} MB, in {result['wall_s']} s = {result['readings_per_s']:,} "
                f"readings/s, peak RSS {result['peak_rss_mib']} MiB"
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
