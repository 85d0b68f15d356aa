#!/usr/bin/env python3
"""The project's two entry points on a fresh machine (only Python 3.11+ needed).

    python3 dev.py demo    set up .venv with the pinned dependencies, then run the main job on
                           the embedded demo site (DuckDB, SQLite, local files); says where
                           the results are
    python3 dev.py test    set up .venv the same way, run the gates below, then the whole test
                           suite (pytest); any failed gate fails the command before pytest

Gates of ``python3 dev.py test``, in this order; all of them run, each prints ok or FAILED with
what to do, and any failure stops the command before pytest. CPU seconds measured here (cold
cache / warm; wall time is longer when the machine is busy):
    ruff check .               lint ([tool.ruff])                                    0.1 s
    ruff format --check .      formatting; ``.venv/bin/ruff format .`` fixes it      0.1 s
    lint-imports               dependencies point one way ([tool.importlinter])      0.4 s
    mypy                       types of the packages ([tool.mypy])            36 s / 1 s
    sqlfluff lint dbt_project  SQL style (.sqlfluff, dbt templater)                 30 s
The test suite includes tests/packaging: the wheel is built, installed outside the checkout and
runs the demo (about a minute).

Further arguments go to the command: ``python3 dev.py demo --days 30``,
``python3 dev.py test -k lake``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".siteledger-install"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_venv() -> None:
    """Create .venv and install the pinned dependencies, once per change of the pins."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run on older Pythons to say so
        sys.exit(f"siteledger needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = _fingerprint()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating virtualenv {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    print("installing pinned dependencies (first run takes about two minutes) ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "install", "-q", "-c", "constraints.txt", "-e", ".[dev]"], cwd=ROOT, check=True
    )
    STAMP.write_text(wanted)


def run(argv: list[str], extra_env: dict[str, str] | None = None) -> int:
    env = {**os.environ, **(extra_env or {})}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    env.setdefault("MPLCONFIGDIR", str(ROOT / "var" / ".matplotlib"))
    return subprocess.run(argv, cwd=ROOT, env=env).returncode


def gates() -> list[tuple[str, list[str], str]]:
    """(name, command, what to do when it fails) of every check that runs before the tests."""
    return [
        ("ruff check", [str(BIN / "ruff"), "check", "."], "fix the lint errors above"),
        (
            "ruff format",
            [str(BIN / "ruff"), "format", "--check", "."],
            "run `.venv/bin/ruff format .` to format the files listed above",
        ),
        (
            "import contracts",
            [str(BIN / "lint-imports")],
            "a module imports a package it must not (contracts: [tool.importlinter])",
        ),
        ("mypy", [str(BIN / "mypy")], "fix the type errors above ([tool.mypy])"),
        (
            "sqlfluff",
            [str(BIN / "sqlfluff"), "lint", "dbt_project", "--processes", "2"],
            "fix the SQL style errors above (rules: .sqlfluff)",
        ),
    ]


def gate(name: str, argv: list[str], hint: str) -> bool:
    started = time.perf_counter()
    shown = " ".join(Path(a).name if a.startswith(str(BIN)) else a for a in argv)
    print(f"--- gate {name}: {shown}", flush=True)
    code = run(argv, gate_env())
    took = time.perf_counter() - started
    if code == 0:
        print(f"--- gate {name}: ok ({took:.1f} s)", flush=True)
        return True
    print(f"--- gate {name}: FAILED (exit {code}, {took:.1f} s): {hint}", file=sys.stderr)
    return False


def gate_env() -> dict[str, str]:
    """sqlfluff's dbt templater compiles the project: profiles.yml needs a SITELEDGER_HOME, and dbt
    writes its logs (and, by .sqlfluff, its target) under var/.sqlfluff, not into dbt_project/."""
    scratch = ROOT / "var" / ".sqlfluff"
    (scratch / "warehouse").mkdir(parents=True, exist_ok=True)
    return {"SITELEDGER_HOME": str(scratch), "DBT_LOG_PATH": str(scratch / "logs")}


def ensure_pdftotext() -> None:
    """The report tests read rendered PDFs back with poppler's ``pdftotext``: install
    poppler-utils when it is missing and this is a Debian/Ubuntu machine we may install on (root),
    else say what to install."""
    if shutil.which("pdftotext"):
        return
    can_install = shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0
    if can_install:
        print("--- installing poppler-utils (pdftotext) for the report tests", flush=True)
        steps = (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "poppler-utils"])
        if all(subprocess.call(step, stdout=subprocess.DEVNULL) == 0 for step in steps):
            return
    print(
        "pdftotext not found: install poppler-utils (apt-get install poppler-utils, brew install "
        "poppler); the tests that read rendered PDFs will fail without it",
        file=sys.stderr,
    )


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"demo", "test", "setup"}:
        print(__doc__)
        return 2
    command, extra = sys.argv[1], sys.argv[2:]
    ensure_venv()
    if command == "setup":
        return 0
    if command == "demo":
        return run([str(BIN / "siteledger"), "demo", "run", *extra])
    failed = [name for name, argv, hint in gates() if not gate(name, argv, hint)]
    if failed:
        print(f"gates failed: {', '.join(failed)} (see above); tests not run", file=sys.stderr)
        return 1
    ensure_pdftotext()
    workers = ["-n", "2"] if not any(a.startswith("-n") for a in extra) else []
    return run([str(BIN / "python"), "-m", "pytest", *workers, *extra])


if __name__ == "__main__":
    sys.exit(main())
