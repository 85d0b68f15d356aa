"""Running the project's dbt build from plain Python (the CLI; Dagster has its own resource)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from siteledger.settings import Settings, get_settings

# The dbt project sits beside the packages, in a checkout and (as package data) in site-packages
# alike. It is only read: what dbt writes goes under the runtime home (dbt_target_dir).
DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


def dbt_target_dir(settings: Settings) -> Path:
    """Where dbt writes its manifest, compiled SQL and partial-parse state for this home."""
    return settings.home / "dbt" / "target"


def dbt_log_dir(settings: Settings) -> Path:
    return settings.home / "dbt" / "logs"


def manifest_path(settings: Settings | None = None) -> Path:
    """The manifest ``dbt parse`` and ``dbt build`` write for a home: every model, column, test
    and constraint of the project as dbt understood them."""
    return dbt_target_dir(settings or get_settings()) / "manifest.json"


class DbtError(RuntimeError):
    def __init__(self, message: str, output: str):
        super().__init__(message)
        self.output = output


def dbt_env(
    settings: Settings, start_day: str | None = None, end_day: str | None = None
) -> dict[str, str]:
    """Environment dbt needs: absolute paths of the runtime folder, the build database and the
    folders dbt writes to, and the partition window (site-local days; empty = no bound).

    The window travels in the environment rather than ``--vars``: dbt re-parses the whole project
    whenever ``--vars`` change (~6 s here, every night), but only the files that read an
    environment variable when that variable changes.
    """
    return {
        "SITELEDGER_HOME": str(settings.home),
        "SITELEDGER_BUILD_DB": str(settings.build_db),
        "SITELEDGER_LOOKBACK_DAYS": str(settings.lookback_days),
        "SITELEDGER_LOOKAHEAD_DAYS": str(settings.lookahead_days),
        "SITELEDGER_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "SITELEDGER_START_DAY": start_day or "",
        "SITELEDGER_END_DAY": end_day or "",
        "DBT_TARGET_PATH": str(dbt_target_dir(settings)),
        "DBT_LOG_PATH": str(dbt_log_dir(settings)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        # the postgres target's sessions in UTC, as the DuckDB profile's: an instant written
        # into a flag's detail reads the same on both
        "PGTZ": "UTC",
    }


# models rewritten per partition window (site-local days), with everything downstream of them
PARTITIONED_TAG = "partitioned_by_day"
PARTITIONED_SELECT = f"tag:{PARTITIONED_TAG}"
DAILY_ARGS = ("--select", f"{PARTITIONED_SELECT}+")

# dbt unit tests check SQL logic on fixed inputs, not data: CI and full rebuilds run them, the
# nightly window does not (they are ~3 s of a ~12 s one-day build).
NIGHTLY_ARGS = ("--exclude-resource-type", "unit_test")


def run_dbt(
    settings: Settings,
    command: str = "build",
    start_day: str | None = None,
    end_day: str | None = None,
    extra_args: tuple[str, ...] = (),
) -> str:
    """Run one dbt command against ``settings`` over a window of site-local days (None: no
    bound); returns its output, raises :class:`DbtError`."""
    settings.ensure_dirs()
    args = [
        DBT_EXECUTABLE,
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    args += extra_args
    done = subprocess.run(
        args,
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **dbt_env(settings, start_day, end_day)},
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise DbtError(f"dbt {command} failed (exit {done.returncode})", output)
    return output
