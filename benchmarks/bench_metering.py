#!/usr/bin/env python3
"""Benchmark: a prepaid water utility of 20 000 meters, hourly, one year (175 M readings):
generation, ingest, the full dbt build of the metering models, a nightly day, peak memory.

The utility is the demo's ``demo_waterco`` (:mod:`demo.metering`) scaled by ``--meters``
(customers; some businesses have a second meter, so the meter count is ~2 % higher). Times, in
this process:

* generate: the simulation and every landing file (monthly head-end readings CSVs, the bulk
  meters, CRM, payment, event and maintenance files), in a child process; the last day's
  readings are then moved out of the last monthly file into a file of their own, held back;
* full: ingest of every file but the held-back day (``import_landing``), the site tables, and
  ``dbt build`` of the metering marts and every model they read (``+path:models/marts/metering``);
* nightly: the held-back day arrives; ingest it and build the one-day window of the
  day-partitioned models and what follows them, as the nightly run does.

dbt runs on the production target (2 threads, DuckDB's ``memory_limit`` from ``--memory-limit``,
default 5GB), as a utility of this size would configure it; the default local target leaves
DuckDB its own cap of 80 % of the machine's memory.
Peak memory is sampled every 0.2 s as the resident set of this process and all its children
(dbt, the generator) together, per stage. Without the metering importer
(``ingestion.metering_lake``) or marts only the generation is measured and the file says so.
Figures are printed and written to ``var/benchmarks/metering.json`` (``--out``).

    .venv/bin/python benchmarks/bench_metering.py [--meters 20000] [--days 365] [--home DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo import metering as wc  # noqa: E402
from siteledger.settings import Settings  # noqa: E402

METERING_MARTS = ROOT / "dbt_project" / "models" / "marts" / "metering"
# cautious: no test whose other parents lie outside the selection (the water models' tests)
FULL_SELECT = ("--select", "+path:models/marts/metering", "--indirect-selection", "cautious")
# the nightly window: what the nightly job rebuilds after the import (orchestration: everything
# downstream of raw/metering), with the day-partitioned and incremental models over the window
NIGHTLY_SELECT = ("--select", "source:metering_lake+", "--indirect-selection", "cautious")
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- memory: the resident set of this process and every descendant ------------------------------
def _tree_rss_bytes(root: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm", encoding="ascii") as f:
                pages = int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = pages * PAGE
    total, todo = 0, [root]
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += rss.get(pid, 0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


class Sampler:
    """Samples the process tree's resident set while a stage runs; keeps each stage's peak."""

    def __init__(self) -> None:
        self.peaks: dict[str, float] = {}
        self._stage: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            stage = self._stage
            if stage is not None:
                mib = _tree_rss_bytes(os.getpid()) / 2**20
                self.peaks[stage] = max(self.peaks.get(stage, 0.0), mib)

    def stage(self, name: str | None) -> None:
        self._stage = name

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class Clock:
    def __init__(self, sampler: Sampler) -> None:
        self.figures: dict[str, float] = {}
        self.sampler = sampler

    def time(self, name: str, func, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.sampler.stage(name)
        t0 = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            self.figures[name] = round(time.perf_counter() - t0, 2)
            self.sampler.stage(None)
            peak = self.sampler.peaks.get(name, 0.0)
            print(f"  {name:<22} {self.figures[name]:>8.2f} s   peak {peak:>7.0f} MiB", flush=True)


def slowest_nodes(target: Path, top: int = 12) -> dict[str, float]:
    """The ``top`` slowest models and tests of the last dbt command (its run_results.json), s."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    timed = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:top]
    return {r["unique_id"].split(".", 2)[-1]: round(r["execution_time"], 2) for r in timed}


# -- generation (in a child process, so its memory is not the ingest's) ---------------------------
def generate(home: Path, customers: int, start: dt.date, days: int) -> dict[str, Any]:
    """The utility's site file and landing files under ``home``; what was written."""
    settings = Settings(home=home)
    settings.ensure_dirs()
    out = wc.write_site(settings.landing, None, customers, start, days, seed=7)
    site_file = settings.sites_dir / f"{wc.METERING_SITE_ID}.yaml"
    site_file.write_text(wc.site_text(start, days), encoding="utf-8")
    return {
        "meters": out.n_meters,
        "readings_written": out.n_readings,
        "records_written": out.n_records,
        "landing_mib": round(sum(p.stat().st_size for p in out.files) / 2**20),
    }


def _generate_in_child(home: Path, customers: int, start: dt.date, days: int) -> dict[str, Any]:
    code = (
        "import json, sys, datetime as dt; from pathlib import Path;"
        "sys.path.insert(0, sys.argv[1]);"
        "from benchmarks.bench_metering import generate;"
        "print(json.dumps(generate(Path(sys.argv[2]), int(sys.argv[3]),"
        " dt.date.fromisoformat(sys.argv[4]), int(sys.argv[5]))))"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(ROOT),
            str(home),
            str(customers),
            start.isoformat(),
            str(days),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def hold_back_last_day(landing: Path, held: Path, last_day: dt.date) -> int:
    """Move the last local day's readings out of the last monthly readings file into a file of
    their own in ``held``; the number of rows moved."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    path = landing / last_day.strftime(f"{wc.PREFIX}hes_readings_%Y-%m.csv")
    header = wc.READINGS_HEADERS["read_at"]
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in wc.READINGS_HEADERS.values()}
        ),
    )
    # the hours of the last day end at 01:00 .. 24:00 (= 00:00 of the next day)
    first = f"{last_day.isoformat()} 01:00"
    after = f"{(last_day + dt.timedelta(days=1)).isoformat()} 00:00"
    stamps = table[header]
    late = pc.and_(pc.greater_equal(stamps, first), pc.less_equal(stamps, after))

    def write(part: pa.Table, target: Path) -> None:
        out = io.BytesIO()
        pacsv.write_csv(part, out, pacsv.WriteOptions(quoting_style="none"))
        target.write_bytes(out.getvalue().replace(b'"', b""))  # the header as the head-end's

    write(table.filter(pc.invert(late)), path)
    name = last_day.strftime(f"{wc.PREFIX}hes_readings_%Y-%m-%d_nightly.csv")
    write(table.filter(late), held / name)
    return int(pc.sum(late).as_py() or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--meters", type=int, default=20000, help="customers (~meters)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--home", type=Path, default=None, help="keep outputs here")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "benchmarks")
    parser.add_argument("--label", default="current")
    parser.add_argument(
        "--memory-limit",
        default="5GB",
        help="DuckDB's memory cap for dbt (SITELEDGER_DUCKDB_MEMORY_LIMIT), on the production "
        "target with 2 threads; at 4GB two customer-day models running side by side ran out",
    )
    args = parser.parse_args()

    home = (args.home or Path(tempfile.mkdtemp(prefix="siteledger-metering-bench-"))).resolve()
    if args.home and home.exists():
        shutil.rmtree(home)
    settings = Settings(home=home, duckdb_memory_limit=args.memory_limit)
    # the production target: the build database and memory cap from the settings (dbt_env)
    os.environ.setdefault("SITELEDGER_DBT_TARGET", "production")
    os.environ.setdefault("SITELEDGER_DBT_THREADS", "2")
    settings.ensure_dirs()
    start = dt.date(2025, 7, 1)
    last_day = start + dt.timedelta(days=args.days - 1)
    sampler = Sampler()
    clock = Clock(sampler)
    chain = importlib.util.find_spec("ingestion.metering_lake") is not None
    marts = METERING_MARTS.is_dir()

    print(f"{args.meters} customers, {args.days} days (home {home}):", flush=True)
    written = clock.time("generate", _generate_in_child, home, args.meters, start, args.days)
    held = home / "held_back"
    held.mkdir()
    moved = hold_back_last_day(settings.landing, held, last_day) if args.days > 1 else 0
    figures: dict[str, Any] = {
        "label": args.label,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "customers": args.meters,
        "dbt_target": f"{os.environ['SITELEDGER_DBT_TARGET']}, "
        f"{os.environ['SITELEDGER_DBT_THREADS']} threads, memory_limit {args.memory_limit}",
        "days": args.days,
        **written,
        "readings_held_back_nightly": moved,
    }
    if chain:
        from ingestion.files import import_landing
        from ingestion.site_tables import write_site_tables
        from siteledger.dbt import NIGHTLY_ARGS, dbt_target_dir, run_dbt
        from siteledger.site import load_site
        from siteledger.state import StateStore

        site = load_site(settings.sites_dir / f"{wc.METERING_SITE_ID}.yaml")
        store = StateStore(settings.state_store_url)
        try:
            print("full:", flush=True)
            full = clock.time("full_ingest", import_landing, settings, site, store)
            clock.time("full_site_tables", write_site_tables, settings, site)
            if marts:
                clock.time("full_dbt_build", run_dbt, settings, "build", None, None, FULL_SELECT)
                figures["slowest_nodes_full"] = slowest_nodes(dbt_target_dir(settings))
            print(f"nightly ({last_day}):", flush=True)
            for path in held.iterdir():
                shutil.move(path, settings.landing / path.name)
            nightly = clock.time("nightly_ingest", import_landing, settings, site, store)
            if marts:
                day = last_day.isoformat()
                clock.time(
                    "nightly_dbt_build",
                    run_dbt,
                    settings,
                    "build",
                    day,
                    day,
                    (*NIGHTLY_SELECT, *NIGHTLY_ARGS),
                )
                figures["slowest_nodes_nightly"] = slowest_nodes(dbt_target_dir(settings))
        finally:
            store.dispose()
        imported = sum(r.imported for r in full)
        figures.update(
            {
                "readings_and_records_imported_full": imported,
                "rows_failed_full": sum(r.failed for r in full),
                "files_not_committed_full": [
                    r.file_name for r in full if r.status not in ("committed", "unmatched")
                ],
                "imported_nightly": sum(r.imported for r in nightly),
                "full_ingest_rows_per_s": round(imported / max(clock.figures["full_ingest"], 1e-9)),
                "dbt": "metering marts and their ancestors"
                if marts
                else "not run (no dbt_project/models/marts/metering)",
            }
        )
    else:
        figures["chain"] = "not run: no metering importer (ingestion.metering_lake) yet"
    sampler.close()
    figures.update(clock.figures)
    figures["full_total_s"] = round(
        sum(v for k, v in clock.figures.items() if k.startswith("full_")), 2
    )
    figures["nightly_total_s"] = round(
        sum(v for k, v in clock.figures.items() if k.startswith("nightly_")), 2
    )
    figures["peak_rss_mib"] = {k: round(v) for k, v in sampler.peaks.items()}
    figures["peak_rss_mib_max"] = round(max(sampler.peaks.values(), default=0.0))
    print(
        f"generate {clock.figures['generate']:.1f} s ({written['readings_written']:,} readings, "
        f"{written['landing_mib']} MiB), full {figures['full_total_s']:.1f} s, nightly "
        f"{figures['nightly_total_s']:.1f} s, peak RSS {figures['peak_rss_mib_max']} MiB"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "metering.json"
    runs = json.loads(target.read_text()) if target.exists() else {}
    runs[f"{args.label}_{args.meters}x{args.days}"] = figures
    target.write_text(json.dumps(runs, indent=2) + "\n")
    print(f"figures written to {target}")
    if not args.home:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
