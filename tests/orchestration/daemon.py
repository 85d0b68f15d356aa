"""A real Dagster daemon on a throwaway SITELEDGER_HOME, for end-to-end tests of sensors and
schedules: the daemon evaluates them and launches their runs exactly as in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import yaml

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def write_instance(dagster_home: Path, max_concurrent_runs: int = 4) -> Path:
    """The project's local instance file with a run queue, in ``dagster_home``."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "orchestration" / "dagster.yaml").read_text())
    config.setdefault("concurrency", {}).setdefault("runs", {})
    config["concurrency"]["runs"]["max_concurrent_runs"] = max_concurrent_runs
    path = dagster_home / "dagster.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def write_workspace(folder: Path) -> Path:
    path = folder / "workspace.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {
                        "python_module": {
                            "module_name": "orchestration.definitions",
                            "working_directory": str(ROOT),
                        }
                    }
                ]
            }
        )
    )
    return path


@contextmanager
def running_daemon(
    home: Path, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``dagster-daemon run`` on ``home`` (instance in ``home/dagster``) until the block ends."""
    dagster_home = home / "dagster"
    write_instance(dagster_home)
    workspace = write_workspace(dagster_home)
    env = {
        **os.environ,
        "SITELEDGER_HOME": str(home),
        "DAGSTER_HOME": str(dagster_home),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DAGSTER_DISABLE_TELEMETRY": "1",
        **(extra_env or {}),
    }
    daemon = Path(sys.executable).parent / "dagster-daemon"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(daemon), "run", "-w", str(workspace)],
            env=env,
            cwd=str(home),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            # the daemon and the run processes it launched share its session
            for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
                if process.poll() is not None:
                    break
                os.killpg(process.pid, sig)
                try:
                    process.wait(wait)
                except subprocess.TimeoutExpired:
                    continue


def wait_for(
    what: str, probe: Callable[[], T | None], timeout: float, log: Path, every: float = 2.0
) -> T:
    """Poll ``probe`` until it returns something truthy; fail with the daemon's log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(every)
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no daemon log)"
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")
