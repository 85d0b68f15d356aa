#!/usr/bin/env python3
"""Benchmark: one year of a ~500-meter site at 15-minute resolution, through the whole chain.

Generates the demo mine scaled to about 500 meters (``--bores 115``) and times, in this process:

* full rebuild: ingest (landing CSV/Excel -> raw lake), site tables, ``dbt build`` of every model
  and test (VEE flags included), quality scoring, audits and publish of the warehouse; then,
  outside the rebuild figure, the compliance reports of every complete period;
* nightly: the last day's files arrive; ingest them, ``dbt build`` the one-day window of the
  day-partitioned models and their data tests (as the nightly Dagster run does: models derived from
  the site files are rebuilt when a site file changes; dbt unit tests run in CI and full
  rebuilds), scoring of the window, audited publish. The nightly figure is also
  given without dbt's process start-up (``dbt --version``, ~3.5 s here).

The last day's files are held back from the full rebuild so the nightly run sees real new data.
Figures are printed and written to ``benchmarks/results/pipeline.json``.

``--path dagster`` times the production path instead, in-process against a Dagster instance in
the home: the full rebuild as ``siteledger run`` makes it (``orchestration.runner.run_chain``: the
nightly job's import, the backfill job over every day of the year, the report runs), then the
nightly run as the schedule starts it (``nightly_job`` over the new day's partition); the step
durations come from the runs' events.
Figures go to ``benchmarks/results/pipeline_dagster.json``.

    .venv/bin/python benchmarks/bench_pipeline.py [--days 365] [--bores 115] [--home DIR]
        [--path cli|dagster]

Peak memory is the larger of this process's and its children's (dbt) maximum resident set size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo import write_demo  # noqa: E402
from ingestion.files import import_landing  # noqa: E402
from ingestion.site_tables import write_site_tables  # noqa: E402
from quality.audit import audit_build  # noqa: E402
from quality.scoring import score_build  # noqa: E402
from reports.service import generate  # noqa: E402
from siteledger.dbt import DAILY_ARGS, DBT_EXECUTABLE, NIGHTLY_ARGS, run_dbt  # noqa: E402
from siteledger.settings import Settings  # noqa: E402
from siteledger.site import load_site  # noqa: E402
from siteledger.state import StateStore  # noqa: E402
from siteledger.warehouse import Warehouse  # noqa: E402


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _audited_publish(warehouse: Warehouse) -> None:
    outcome = warehouse.publish_audited(["marts"], audit_build, note="benchmark")
    if outcome.published is None:
        raise SystemExit(f"the build failed its audits: {outcome.failures}")


def dbt_seconds(output: str) -> float | None:
    """dbt's own 'Finished running ... in [H hours, ][M minutes and ]S seconds' (excludes its
    start-up and parse), in seconds."""
    match = re.search(r"Finished running .* in (.*?[\d.]+ seconds)", output)
    if match is None:
        return None
    units = {"hour": 3600.0, "minute": 60.0, "second": 1.0}
    return sum(
        float(value) * units[unit]
        for value, unit in re.findall(r"([\d.]+) (hour|minute|second)s?", match.group(1))
    )


class Clock:
    def __init__(self) -> None:
        self.figures: dict[str, float] = {}

    def time(self, name: str, func, *args, **kwargs):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        result = func(*args, **kwargs)
        self.figures[name] = round(time.perf_counter() - t0, 2)
        print(f"  {name:<22} {self.figures[name]:>7.2f} s", flush=True)
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--bores", type=int, default=115)
    parser.add_argument("--home", type=Path, default=None, help="keep outputs here")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--path", choices=("cli", "dagster"), default="cli")
    parser.add_argument(
        "--instance-yaml",
        type=Path,
        default=None,
        help="with --path dagster: this dagster.yaml instead of orchestration/dagster.yaml "
        "(e.g. orchestration/dagster.postgres.yaml with DAGSTER_PG_URL set)",
    )
    args = parser.parse_args()

    home = (args.home or Path(tempfile.mkdtemp(prefix="siteledger-bench-"))).resolve()
    if args.home and home.exists():
        shutil.rmtree(home)
    settings = Settings(home=home)
    settings.ensure_dirs()
    start = dt.date(2025, 7, 1)
    last_day = start + dt.timedelta(days=args.days - 1)
    clock = Clock()

    print(f"generating {args.days} days, {args.bores} bores ...", flush=True)
    # the 500-meter mine alone: the benchmark measures one site's pipeline
    out = clock.time(
        "generate",
        write_demo,
        home,
        days=args.days,
        start=start,
        n_bores=args.bores,
        sites=("demo_mine",),
    )
    site = load_site(out.site_file)
    held = settings.home / "held_back"
    held.mkdir()
    # the last day and the closing 00:00 row of the day after arrive "tonight"
    for day in (last_day, last_day + dt.timedelta(days=1)):
        for path in settings.landing.glob(f"*_{day:%Y%m%d}.csv"):
            shutil.move(path, held / path.name)
    if args.path == "dagster":
        return bench_dagster(args, settings, clock, start, last_day, held, len(site.meters))
    store = StateStore(settings.state_store_url)
    warehouse = Warehouse(settings, store)

    print("full rebuild:", flush=True)
    full = clock.time("full_ingest", import_landing, settings, site, store)
    clock.time("full_site_tables", write_site_tables, settings, site)
    full_dbt = clock.time("full_dbt_build", run_dbt, settings, "build")
    clock.time("full_quality_scores", score_build, settings, None, None)
    clock.time("full_audit_publish", _audited_publish, warehouse)
    full_total = sum(clock.figures[k] for k in clock.figures if k.startswith("full_"))
    readings = sum(r.imported for r in full)

    print(f"nightly ({last_day}):", flush=True)
    for path in held.iterdir():
        shutil.move(path, settings.landing / path.name)
    nightly = clock.time("nightly_ingest", import_landing, settings, site, store)
    day = last_day.isoformat()
    nightly_args = (*DAILY_ARGS, *NIGHTLY_ARGS)  # the day-partitioned models and what follows
    nightly_dbt = clock.time(
        "nightly_dbt_build", run_dbt, settings, "build", day, day, nightly_args
    )
    clock.time("nightly_quality_scores", score_build, settings, day, day)
    clock.time("nightly_audit_publish", _audited_publish, warehouse)
    reports = clock.time("reports_all_periods", generate, settings, store, generated_by="bench")
    nightly_total = sum(clock.figures[k] for k in clock.figures if k.startswith("nightly_"))
    clock.time(
        "dbt_process_start",
        subprocess.run,
        [DBT_EXECUTABLE, "--version"],
        check=True,
        capture_output=True,
    )

    figures: dict[str, object] = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "days": args.days,
        "meters": len(site.meters),
        "readings_imported_full": readings,
        "readings_imported_nightly": sum(r.imported for r in nightly),
        "reports_generated": len(reports),
        **clock.figures,
        "full_total_s": round(full_total, 2),
        "full_ingest_readings_per_s": round(readings / clock.figures["full_ingest"]),
        "full_dbt_running_s": dbt_seconds(full_dbt),
        "nightly_total_s": round(nightly_total, 2),
        "nightly_dbt_running_s": dbt_seconds(nightly_dbt),
        "nightly_total_excluding_dbt_start_s": round(
            nightly_total - clock.figures["dbt_process_start"], 2
        ),
        "peak_rss_mib": round(peak_rss_mib()),
    }
    print(
        f"full rebuild {full_total:.1f} s ({readings:,} readings), nightly {nightly_total:.1f} s, "
        f"peak RSS {figures['peak_rss_mib']} MiB"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "pipeline.json"
    target.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {target}")
    if not args.home:
        shutil.rmtree(home, ignore_errors=True)
    return 0


def _steps(run) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Seconds per step of a Dagster run, from its step-success events."""
    return {
        event.step_key: round(event.event_specific_data.duration_ms / 1000, 2)
        for event in run.result.get_step_success_events()
    }


def bench_dagster(  # type: ignore[no-untyped-def]
    args, settings: Settings, clock: Clock, start: dt.date, last_day: dt.date, held: Path, meters
) -> int:
    from orchestration.definitions import build_defs
    from orchestration.runner import QUIET, JobRun, instance_for, run_chain

    settings.organisation_file.write_text(f"organisation:\n  data_start: {start.isoformat()}\n")
    if args.instance_yaml:
        settings.dagster_home.mkdir(parents=True, exist_ok=True)
        shutil.copy(args.instance_yaml, settings.dagster_home / "dagster.yaml")
    instance = instance_for(settings)
    figures: dict[str, object] = {}
    day = last_day.isoformat()

    def record(name: str, runs: list) -> None:  # type: ignore[type-arg]
        builds = [r for r in runs if not r.job_name.startswith("compliance_report_")]
        reports = [r for r in runs if r.job_name.startswith("compliance_report_")]
        figures[f"{name}_runs_s"] = {
            f"{r.job_name} {r.window}": round(r.seconds, 2) for r in builds
        }
        figures[f"{name}_build_s"] = round(sum(r.seconds for r in builds), 2)
        figures[f"{name}_report_runs_s"] = round(sum(r.seconds for r in reports), 2)
        steps: dict[str, float] = {}
        for run in builds:
            steps.update(_steps(run))
        figures[f"{name}_steps_s"] = steps
        events = sum(len(r.result.get_asset_materialization_events()) for r in builds)
        figures[f"{name}_materialisations"] = events
        print(f"  runs {figures[f'{name}_runs_s']}; steps {steps}")
        print(f"  {events} materialisations; report runs {figures[f'{name}_report_runs_s']} s")

    # the full rebuild as `siteledger run` makes it: the import, every model over every day
    print("full through Dagster (siteledger run):", flush=True)
    chain = clock.time("full_chain", run_chain, settings, None, None, instance=instance)
    if not chain.success:
        raise SystemExit("full: a run failed")
    record("full", chain.runs)

    # the nightly run as the schedule starts it: the nightly job over the new day's partition
    for path in held.iterdir():
        shutil.move(path, settings.landing / path.name)
    print(f"nightly through Dagster (nightly_job, partition {day}):", flush=True)
    defs = build_defs(settings)
    started = time.perf_counter()
    result = defs.resolve_job_def("nightly_job").execute_in_process(
        instance=instance, partition_key=day, run_config=QUIET, raise_on_error=False
    )
    clock.figures["nightly_job"] = round(time.perf_counter() - started, 2)
    if not result.success:
        raise SystemExit("nightly: the run failed")
    record("nightly", [JobRun("nightly_job", (day, day), result, clock.figures["nightly_job"])])
    clock.time(
        "dbt_process_start",
        subprocess.run,
        [DBT_EXECUTABLE, "--version"],
        check=True,
        capture_output=True,
    )
    figures = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "path": "dagster (orchestration.runner.run_chain, in-process executor)",
        "instance": args.instance_yaml.name if args.instance_yaml else "dagster.yaml (SQLite)",
        "days": args.days,
        "meters": meters,
        **clock.figures,
        **figures,
        "peak_rss_mib": round(peak_rss_mib()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "_postgres" if args.instance_yaml and "postgres" in args.instance_yaml.name else ""
    target = args.out / f"pipeline_dagster{suffix}.json"
    target.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {target}")
    if not args.home:
        shutil.rmtree(settings.home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
