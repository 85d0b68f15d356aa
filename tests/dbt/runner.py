"""Run the dbt project against a throw-away SITELEDGER_HOME and read what it built."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pytest

from siteledger.dbt import dbt_target_dir
from siteledger.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


class DbtFailed(AssertionError):
    """A dbt invocation exited non-zero; the message holds the tail of its output."""


def build_db(home: Path) -> Path:
    """The DuckDB file dbt builds into for ``home``."""
    return home / "warehouse" / "build.duckdb"


def run_dbt(
    home: Path,
    *args: str,
    dbt_vars: Mapping[str, Any] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> None:
    """Run ``dbt <args>`` on ``home``; raises :class:`DbtFailed` with dbt's output on failure.

    Target and log folders live in ``home`` so that parallel test workers never share dbt's
    partial-parse state or compiled SQL. A separate process, because dbt-duckdb keeps the
    database open in the process that ran it, which would lock out every other reader.

    ``run`` builds models and seeds (the emission-factor table) without their tests: a bare
    ``dbt run`` loads no seed, and the production chain always runs ``dbt build``.
    """
    if args and args[0] == "run":
        args = (
            "build",
            "--exclude-resource-type",
            "test",
            "--exclude-resource-type",
            "unit_test",
            *args[1:],
        )
    build_db(home).parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SITELEDGER_HOME": str(home),
        "SITELEDGER_BUILD_DB": str(build_db(home)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        **(extra_env or {}),
    }
    command = [
        str(DBT),
        *args,
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(dbt_target_dir(Settings(home=home))),
        "--log-path",
        str(home / "dbt_logs"),
    ]
    if dbt_vars:
        command += ["--vars", json.dumps(dict(dbt_vars))]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DbtFailed(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}{result.stderr}")


def query(home: Path, sql: str) -> list[dict[str, Any]]:
    """Rows of ``sql`` on the build warehouse of ``home``, as dicts."""
    with duckdb.connect(str(build_db(home)), read_only=True) as con:
        cursor = con.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def shared_home(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """A SITELEDGER_HOME that ``build`` fills once per test run, whichever worker asks first.

    Under pytest-xdist every worker runs a module's fixtures for the tests it was given, so a
    module split across two workers would build twice (a dbt build costs 10-20 s). Workers share
    the parent of their base temp folder; the first one to take the lock builds, the other waits
    and reuses the result. Readers open the warehouse read-only, which DuckDB allows from
    several processes.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        home = tmp_path_factory.mktemp(name)
        build(home)
        return home
    root = tmp_path_factory.getbasetemp().parent / "shared"
    root.mkdir(exist_ok=True)
    home = root / name
    done = root / f"{name}.done"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            home.mkdir()
            build(home)
            done.touch()
    return home
