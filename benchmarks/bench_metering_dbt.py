#!/usr/bin/env python3
"""Benchmark of the metering dbt models alone: synthetic lake files written straight to the
lake (no importer), a full build of ``+path:models/marts/metering``, then a nightly one-day
window run after the next day's readings arrive.

The utility: ``--meters`` hourly register meters (one per customer, Asia/Jakarta, one
household tariff of three blocks), a purchase per customer every ten days, ``--days`` days of
readings. dbt runs with the production target (``SITELEDGER_DBT_TARGET=production``, 2 threads,
``--memory-limit``). Per-model times come from dbt's ``run_results.json``; peak memory is the
maximum resident set of the dbt process (``/usr/bin/time``).

    python benchmarks/bench_metering_dbt.py --meters 2000 --days 90 [--home DIR] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingestion.site_tables import write_site_tables  # noqa: E402
from siteledger.settings import get_settings  # noqa: E402
from siteledger.site import load_site  # noqa: E402
from tests.dbt import metering_lake as lw  # noqa: E402

SITE = "bench_water"
JAKARTA = dt.timezone(dt.timedelta(hours=7))
FIRST_DAY = dt.date(2025, 1, 1)
LOADED_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FULL_SELECT = ("--select", "+path:models/marts/metering", "--indirect-selection", "cautious")
NIGHTLY_SELECT = (
    "--select",
    "tag:partitioned_by_day+,+path:models/marts/metering",
    "--indirect-selection",
    "cautious",
)
SITE_YAML = f"""site:
  id: {SITE}
  name: Metering benchmark
  timezone: Asia/Jakarta
  data_start: 2025-01-01
nodes:
  - {{id: reservoir, kind: source, type: river}}
  - {{id: town, kind: destination}}
flows:
  - id: supply
    from: reservoir
    to: town
    waf_input_source: surface_water
    waf_output_destination: third_party_water
    quality: 1
    water_state: raw
meters:
  - {{id: BULK-N, measurand: totaliser, unit: m3, interval: 1d, flow: supply, manual: true}}
"""


def _local(day: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=JAKARTA)


def write_day(lake: Path, meters: int, day: dt.date, registers: np.ndarray, seed: int) -> None:
    """One site-local day of hourly readings (read_at 01:00 .. 24:00 local) of every meter."""
    rng = np.random.default_rng(seed)
    hours = 24
    use = rng.gamma(0.6, 0.012, size=(hours, meters))  # m3 per hour, ~0.17 m3/day
    cumulative = registers[None, :] + np.cumsum(use, axis=0)
    registers[:] = cumulative[-1]
    start = int(_local(day).timestamp() * 1_000_000)
    read_at = (start + (np.arange(1, hours + 1) * 3_600_000_000)[:, None]).repeat(meters, axis=1)
    # the reading of 24:00 closes the day's last hour; it belongs to the next day's folder, as
    # the importer files it: here the first reading of a day's folder is 01:00, the last 24:00
    # is written to the next day's folder (00:00 local)
    ids = np.array([f"M{m:06d}" for m in range(meters)], dtype=object)
    n = hours * meters
    table = pa.table(
        {
            "meter_id": pa.array(np.tile(ids, hours), pa.string()),
            "read_at": pa.array(read_at.ravel(), lw.TS),
            "register_m3": pa.array(cumulative.ravel(), pa.float64()),
            "interval_m3": pa.nulls(n, pa.float64()),
            "reverse_m3": pa.array(np.zeros(n), pa.float64()),
            "battery_pct": pa.array(np.full(n, 80.0), pa.float64()),
            "signal_dbm": pa.array(rng.uniform(-100, -70, n), pa.float64()),
            "import_batch_id": pa.array(np.full(n, f"r{day:%Y%m%d}", dtype=object), pa.string()),
            "source_file": pa.array(np.full(n, "readings.csv", dtype=object), pa.string()),
            "source_row": pa.array(np.arange(1, n + 1), pa.int64()),
            "loaded_at": pa.array(np.full(n, int(LOADED_AT.timestamp() * 1e6)), lw.TS),
        },
        schema=lw.KIND_SCHEMAS["readings"],
    )
    # rows of hour 24 (local midnight of the next day) go to the next day's folder
    last = table.slice((hours - 1) * meters)
    body = table.slice(0, (hours - 1) * meters)
    base = lake / "metering" / "readings" / f"site={SITE}" / "source=bench"
    for folder_day, part in ((day, body), (day + dt.timedelta(days=1), last)):
        folder = base / f"day={folder_day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, folder / f"r{day:%Y%m%d}.parquet")


def write_lake(home: Path, meters: int, days: int) -> np.ndarray:
    settings = get_settings(home)
    site_file = home / "site.yaml"
    site_file.write_text(SITE_YAML)
    write_site_tables(settings, load_site(site_file))
    lake = settings.lake

    def write(kind: str, rows: list[dict[str, Any]]) -> None:
        lw.write_kind(lake, kind, SITE, rows, batch="b1", loaded_at=LOADED_AT, timezone=JAKARTA)

    created = _local(FIRST_DAY - dt.timedelta(days=1), 10)
    ids = [f"{m:06d}" for m in range(meters)]
    write(
        "customers",
        [
            {
                "customer_id": f"C{i}",
                "action": "create",
                "name": f"Customer {i}",
                "segment": "house",
                "household_size": 4,
                "district_id": "north",
                "effective_at": created,
            }
            for i in ids
        ],
    )
    write(
        "meters",
        [
            {
                "meter_id": f"M{i}",
                "action": "create",
                "customer_id": f"C{i}",
                "communication": "nb_iot",
                "reading_interval_minutes": 60,
                "effective_at": created,
            }
            for i in ids
        ],
    )
    purchases = []
    for n, i in enumerate(ids):
        for day in range(n % 10, days + 1, 10):
            purchases.append(
                {
                    "purchase_id": f"P{i}-{day}",
                    "customer_id": f"C{i}",
                    "meter_id": f"M{i}",
                    "paid_at": _local(FIRST_DAY + dt.timedelta(days=day), 12),
                    "amount": 20000.0,
                    "discount": 0.0,
                    "final_amount": 20000.0,
                    "payment_method": "virtual_account",
                    "provider": "bca",
                }
            )
    write("purchases", purchases)
    lw.write_settings(lake, SITE)
    lw.write_site_table(
        lake,
        "metering_tariffs",
        SITE,
        [
            {
                "tariff_id": "house",
                "name": "Household",
                "effective_from": dt.date(2024, 1, 1),
                "effective_to": None,
                "fixed_charge_per_month": 7500.0,
            }
        ],
    )
    lw.write_site_table(
        lake,
        "metering_tariff_blocks",
        SITE,
        [
            {
                "tariff_id": "house",
                "effective_from": dt.date(2024, 1, 1),
                "block_no": no,
                "from_m3": lo,
                "to_m3": hi,
                "rate": rate,
            }
            for no, (lo, hi, rate) in enumerate(
                ((0.0, 10.0, 3550.0), (10.0, 20.0, 4700.0), (20.0, None, 5500.0)), start=1
            )
        ],
    )
    lw.write_site_table(
        lake,
        "metering_districts",
        SITE,
        [{"district_id": "north", "name": "North zone", "bulk_meter_id": "BULK-N"}],
    )
    registers = np.full(meters, 100.0)
    # the first reading (00:00 of the first day) opens the register
    for d in range(days):
        write_day(lake, meters, FIRST_DAY + dt.timedelta(days=d), registers, seed=d)
    return registers


def run_dbt(home: Path, memory_limit: str, *args: str, env: dict[str, str] | None = None) -> dict:
    project = os.environ.get("BENCH_DBT_PROJECT", str(ROOT / "dbt_project"))
    target = home / "dbt_target"
    command = [
        "/usr/bin/time",
        "-f",
        "MAXRSS_KB=%M",
        str(Path(sys.executable).with_name("dbt")),
        *args,
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target-path",
        str(target),
        "--log-path",
        str(home / "dbt_logs"),
    ]
    full_env = {
        **os.environ,
        "SITELEDGER_HOME": str(home),
        "SITELEDGER_BUILD_DB": str(home / "warehouse" / "build.duckdb"),
        "SITELEDGER_DBT_TARGET": "production",
        "SITELEDGER_DBT_THREADS": "2",
        "SITELEDGER_DUCKDB_MEMORY_LIMIT": memory_limit,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        **(env or {}),
    }
    (home / "warehouse").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = subprocess.run(command, env=full_env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-6000:] + result.stderr[-3000:])
        raise SystemExit(f"dbt {' '.join(args)} failed")
    rss = int(re.findall(r"MAXRSS_KB=(\d+)", result.stderr)[-1]) * 1024
    results = json.loads((target / "run_results.json").read_text())
    models = {
        r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in results["results"]
    }
    return {"seconds": round(seconds, 1), "peak_rss_gb": round(rss / 1e9, 2), "models": models}


def build_args(select: tuple[str, ...]) -> tuple[str, ...]:
    return (
        "build",
        "--exclude-resource-type",
        "test",
        "--exclude-resource-type",
        "unit_test",
        *select,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meters", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--memory-limit", default="5GB")
    parser.add_argument("--keep", action="store_true", help="reuse the lake in --home")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument(
        "--project", type=Path, help="dbt project of another checkout (before/after)"
    )
    options = parser.parse_args()
    if options.project:
        os.environ["BENCH_DBT_PROJECT"] = str(options.project)
    home = options.home or Path(tempfile.mkdtemp(prefix="bench_metering_dbt_"))
    lake_ready = options.keep and (home / "lake" / "metering").exists()
    started = time.perf_counter()
    if not lake_ready:
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        registers = write_lake(home, options.meters, options.days)
        np.save(home / "registers.npy", registers)
    shutil.rmtree(home / "warehouse", ignore_errors=True)
    next_day = FIRST_DAY + dt.timedelta(days=options.days)
    # remove a nightly day left by an earlier run (its folder and the 24:00 reading after it)
    base = home / "lake" / "metering" / "readings" / f"site={SITE}" / "source=bench"
    for extra in (next_day, next_day + dt.timedelta(days=1)):
        for path in (base / f"day={extra.isoformat()}").glob(f"r{next_day:%Y%m%d}.parquet"):
            path.unlink()
    registers = np.load(home / "registers.npy")
    print(f"lake ready in {time.perf_counter() - started:.1f} s: {home}")
    full = run_dbt(home, options.memory_limit, *build_args(FULL_SELECT))
    print(f"full build: {full['seconds']} s, peak RSS {full['peak_rss_gb']} GB")
    for name, seconds in sorted(full["models"].items(), key=lambda kv: -kv[1])[: options.top]:
        print(f"  {seconds:7.2f}  {name}")
    write_day(home / "lake", options.meters, next_day, registers.copy(), seed=options.days)
    day = next_day.isoformat()
    nightly = run_dbt(
        home,
        options.memory_limit,
        *build_args(NIGHTLY_SELECT),
        env={"SITELEDGER_START_DAY": day, "SITELEDGER_END_DAY": day},
    )
    print(f"nightly {day}: {nightly['seconds']} s, peak RSS {nightly['peak_rss_gb']} GB")
    for name, seconds in sorted(nightly["models"].items(), key=lambda kv: -kv[1])[: options.top]:
        print(f"  {seconds:7.2f}  {name}")
    out = home / "bench_metering_dbt.json"
    out.write_text(json.dumps({"full": full, "nightly": nightly}, indent=2))


if __name__ == "__main__":
    main()
