#!/usr/bin/env python3
"""Benchmark: one year of a 200-meter energy site at 15 minutes - generation, ingest, dbt.

The site is the demo power station scaled up (``demo.energy.scaled_station``): 10 gensets with
power and fuel meters, PV arrays with power and plane-of-array meters, loads on kWh registers
(one through a Home Assistant history.csv), a grid tie register, the tank gauge, the weather
and the diesel delivery log. Times, in this process:

* generate: the physics, every meter's readings and the landing files (daily logger CSVs, the
  monthly Home Assistant exports, the daily delivery log);
* full: ingest of every file but the last day's, the site tables, and (``--dbt``) ``dbt build``
  of every model and test (the energy marts among them);
* nightly: the last day's files arrive; ingest them and (``--dbt``) build the one-day window of
  the day-partitioned models and what follows them, as the nightly run does.

``--dbt`` needs the energy marts (``dbt_project/models/marts/energy``); without them the dbt
figures are left out and the file says so. Figures are printed and written to
``benchmarks/results/energy.json``.

    .venv/bin/python benchmarks/bench_energy.py [--meters 200] [--days 365] [--dbt] [--home DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo import energy  # noqa: E402
from ingestion.files import import_landing  # noqa: E402
from ingestion.site_tables import write_site_tables  # noqa: E402
from siteledger.dbt import DAILY_ARGS, NIGHTLY_ARGS, run_dbt  # noqa: E402
from siteledger.settings import Settings  # noqa: E402
from siteledger.site import dump_site, load_site  # noqa: E402
from siteledger.site.models import SiteConfig  # noqa: E402
from siteledger.state import StateStore  # noqa: E402

SITE_ID = "energy_bench"
ENERGY_MARTS = ROOT / "dbt_project" / "models" / "marts" / "energy"


def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # KiB on Linux


class Clock:
    def __init__(self) -> None:
        self.figures: dict[str, float] = {}

    def time(self, name: str, func, *args, **kwargs):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        result = func(*args, **kwargs)
        self.figures[name] = round(time.perf_counter() - t0, 2)
        print(f"  {name:<22} {self.figures[name]:>7.2f} s", flush=True)
        return result


def bench_site(design: energy.StationDesign, start: dt.date) -> SiteConfig:
    """The scaled station as a site of its own, its meters arriving as files."""
    return SiteConfig.model_validate(
        {
            "site": {
                "id": SITE_ID,
                "name": "Energy benchmark site",
                "timezone": energy.TIMEZONE,
                "data_start": start.isoformat(),
            },
            "nodes": [{"id": "station", "name": "Power station", "kind": "task"}],
            "meters": energy.station_meter_dicts(design),
            "file_layouts": energy.station_layouts(),
            "energy": energy.energy_section(design),
        }
    )


def generate(design: energy.StationDesign, start: dt.date, days: int, landing: Path) -> int:
    """Simulate the station and write its landing files; the number of readings written."""
    ps = energy.simulate_energy(start, days, 7, design=design)
    readings = energy.station_readings(ps)
    _, n_logger = energy.write_logger_files(ps, readings, landing)
    _, n_ha = energy.write_ha_files(ps, readings, landing)
    deliveries = energy.delivery_readings(ps)
    deliveries["time_utc"] = deliveries.pop("ts_utc").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    log = deliveries.rename(columns={"meter_id": "meter"})[["meter", "time_utc", "value", "unit"]]
    log.to_csv(landing / "power_station_deliveries.csv", index=False, lineterminator="\n")
    return n_logger + n_ha + len(deliveries)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--meters", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--dbt", action="store_true", help="also build the energy marts")
    parser.add_argument("--home", type=Path, default=None, help="keep outputs here")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    if args.dbt and not ENERGY_MARTS.is_dir():
        raise SystemExit(f"--dbt: no energy marts at {ENERGY_MARTS}")

    home = (args.home or Path(tempfile.mkdtemp(prefix="siteledger-energy-bench-"))).resolve()
    if args.home and home.exists():
        shutil.rmtree(home)
    settings = Settings(home=home)
    settings.ensure_dirs()
    start = dt.date(2025, 7, 1)
    last_day = start + dt.timedelta(days=args.days - 1)
    design = energy.scaled_station(args.meters)
    site = bench_site(design, start)
    site_file = settings.sites_dir / f"{SITE_ID}.yaml"
    site_file.write_text(dump_site(site), encoding="utf-8")
    site = load_site(site_file)
    clock = Clock()

    print(f"{len(site.meters)} meters, {args.days} days:", flush=True)
    written = clock.time("generate", generate, design, start, args.days, settings.landing)
    held = settings.home / "held_back"
    held.mkdir()
    for day in (last_day, last_day + dt.timedelta(days=1)):
        for path in settings.landing.glob(f"*_{day:%Y%m%d}.csv"):
            shutil.move(path, held / path.name)
    store = StateStore(settings.state_store_url)

    print("full:", flush=True)
    full = clock.time("full_ingest", import_landing, settings, site, store)
    clock.time("full_site_tables", write_site_tables, settings, site)
    if args.dbt:
        clock.time("full_dbt_build", run_dbt, settings, "build")
    imported = sum(r.imported for r in full)
    failed = sum(r.failed for r in full)
    skipped = sum(r.skipped for r in full)
    not_committed = [r.file_name for r in full if r.status != "committed"]

    print(f"nightly ({last_day}):", flush=True)
    for path in held.iterdir():
        shutil.move(path, settings.landing / path.name)
    nightly = clock.time("nightly_ingest", import_landing, settings, site, store)
    if args.dbt:
        day = last_day.isoformat()
        nightly_args = (*DAILY_ARGS, *NIGHTLY_ARGS)
        clock.time("nightly_dbt_build", run_dbt, settings, "build", day, day, nightly_args)
    full_total = sum(v for k, v in clock.figures.items() if k.startswith("full_"))
    nightly_total = sum(v for k, v in clock.figures.items() if k.startswith("nightly_"))
    figures: dict[str, object] = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "days": args.days,
        "meters": len(site.meters),
        "gensets": len(design.gensets),
        "pv_arrays": len(design.arrays),
        "loads": len(design.loads),
        "readings_written": written,
        "readings_imported_full": imported,
        "rows_failed_full": failed,
        "rows_skipped_full": skipped,
        "files_not_committed_full": not_committed,
        "readings_imported_nightly": sum(r.imported for r in nightly),
        "dbt": "every model and test" if args.dbt else "not run (--dbt not given)",
        **clock.figures,
        "full_total_s": round(full_total, 2),
        "full_ingest_readings_per_s": round(imported / clock.figures["full_ingest"]),
        "nightly_total_s": round(nightly_total, 2),
        "peak_rss_mib": round(peak_rss_mib()),
    }
    print(
        f"generate {clock.figures['generate']:.1f} s ({written:,} readings), full "
        f"{full_total:.1f} s, nightly {nightly_total:.1f} s, peak RSS {figures['peak_rss_mib']} MiB"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "energy.json"
    target.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {target}")
    if not args.home:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
