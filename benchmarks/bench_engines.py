#!/usr/bin/env python3
"""The same dbt models built on DuckDB and on PostgreSQL, side by side, from one demo lake.

The demo organisation (every site, ``--days`` days from 2025-07-01, ``--customers`` prepaid
customers) is written and imported once. Then, in one run:

- DuckDB: ``dbt build`` of the ``postgres_built`` selection (dbt_project/selectors.yml), models
  and seeds without tests, then of the whole project for reference;
- PostgreSQL (a fresh database on ``--pg``): the lake copied in by ``siteledger.lake_load``
  (timed on its own), then the same ``dbt build`` of the ``postgres_built`` selection.

Figures go to ``benchmarks/results/engines.json`` (merged by lake size) and are printed.

    python benchmarks/bench_engines.py --days 90 [--customers 300] [--home DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo import write_demo  # noqa: E402
from ingestion.files import import_landing  # noqa: E402
from ingestion.site_tables import write_site_tables  # noqa: E402
from siteledger.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR  # noqa: E402
from siteledger.lake_load import conninfo_from_env, load_lake, target_env  # noqa: E402
from siteledger.settings import get_settings  # noqa: E402
from siteledger.site import load_site  # noqa: E402
from siteledger.state import StateStore  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "engines.json"
BUILD = ("build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def _dbt(home: Path, target_dir: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [
            DBT_EXECUTABLE,
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target_dir),
            "--log-path",
            str(target_dir.parent / "logs"),
        ],
        env={
            **os.environ,
            "SITELEDGER_HOME": str(home),
            "SITELEDGER_BUILD_DB": str(home / "warehouse" / "build.duckdb"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "PGTZ": "UTC",
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed:\n{done.stdout[-4000:]}{done.stderr}")
    return time.perf_counter() - started


def _models_built(target_dir: Path) -> int:
    results = json.loads((target_dir / "run_results.json").read_text())
    return sum(1 for r in results["results"] if r["unique_id"].startswith("model."))


def _write_lake(home: Path, days: int, customers: int) -> dict[str, Any]:
    started = time.perf_counter()
    out = write_demo(home, days=days, customers=customers)
    settings = get_settings(home)
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    rows = 0
    for site_file in out.site_files:
        site = load_site(site_file)
        rows += sum(r.imported for r in import_landing(settings, site, store))
        write_site_tables(settings, site)
    store.dispose()
    return {"lake_rows": rows, "write_and_import_s": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--home", type=Path, help="keep the lake here (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the home and the database")
    parser.add_argument(
        "--pg",
        default=os.environ.get("SITELEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"),
        help="an existing database to create the benchmark database from",
    )
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="bench_engines_"))
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"days": args.days, "customers": args.customers, "sites": 5}
    figures.update(_write_lake(home, args.days, args.customers))

    duck_target = home / "dbt_duckdb" / "target"
    # parsing is timed on neither engine (a first run in a new target folder parses the project)
    _dbt(home, duck_target, {}, "parse")
    figures["duckdb_selection_s"] = round(
        _dbt(home, duck_target, {}, *BUILD, "--selector", "postgres_built"), 1
    )
    figures["models_in_selection"] = _models_built(duck_target)
    figures["duckdb_full_project_s"] = round(_dbt(home, duck_target, {}, *BUILD), 1)
    figures["models_in_project"] = _models_built(duck_target)

    database = f"siteledger_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(args.pg, autocommit=True)
    admin.execute(f'create database "{database}"')
    try:
        env = target_env(psycopg.conninfo.make_conninfo(args.pg, dbname=database))
        pg_target = home / "dbt_postgres" / "target"
        _dbt(home, pg_target, env, "parse")
        started = time.perf_counter()
        report = load_lake(
            conninfo_from_env(env), pg_target / "manifest.json", get_settings(home).lake
        )
        figures["postgres_lake_copy_s"] = round(time.perf_counter() - started, 1)
        figures["postgres_lake_rows"] = report.total_rows
        figures["postgres_selection_s"] = round(
            _dbt(home, pg_target, env, *BUILD, "--selector", "postgres_built"), 1
        )
    finally:
        if not args.keep:
            admin.execute(f'drop database "{database}" with (force)')
        admin.close()
    figures["postgres_over_duckdb"] = round(
        figures["postgres_selection_s"] / figures["duckdb_selection_s"], 2
    )
    figures["postgres_with_copy_over_duckdb"] = round(
        (figures["postgres_selection_s"] + figures["postgres_lake_copy_s"])
        / figures["duckdb_selection_s"],
        2,
    )
    figures["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing[f"{args.days}_days_{args.customers}_customers"] = figures
    RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    print(json.dumps(figures, indent=2))
    if not args.keep and not args.home:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
