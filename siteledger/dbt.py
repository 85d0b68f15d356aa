"""Running the project's dbt build from plain Python (the CLI; Dagster has its own resource)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from siteledger.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


class DbtError(RuntimeError):
    def __init__(self, message: str, output: str):
        super().__init__(message)
        self.output = output


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment dbt needs: absolute paths of the runtime folder and the build database."""
    return {
        "SITELEDGER_HOME": str(settings.home),
        "SITELEDGER_BUILD_DB": str(settings.warehouse_dir / "build.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def run_dbt(
    settings: Settings, command: str = "build", dbt_vars: dict[str, str] | None = None
) -> str:
    """Run one dbt command against ``settings``; returns its output, raises :class:`DbtError`."""
    settings.ensure_dirs()
    args = [
        DBT_EXECUTABLE,
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    done = subprocess.run(
        args,
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **dbt_env(settings)},
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise DbtError(f"dbt {command} failed (exit {done.returncode})", output)
    return output
