#!/usr/bin/env python3
"""The project's two entry points on a fresh machine (only Python 3.11+ needed).

    python3 dev.py demo    set up .venv with the pinned dependencies, then run the main job on
                           the embedded demo site (DuckDB, SQLite, local files); says where
                           the results are
    python3 dev.py test    set up .venv the same way, then lint and run the whole test suite

Further arguments go to the command: ``python3 dev.py demo --days 30``,
``python3 dev.py test -k lake``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
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


def run(argv: list[str]) -> int:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    env.setdefault("MPLCONFIGDIR", str(ROOT / "var" / ".matplotlib"))
    return subprocess.run(argv, cwd=ROOT, env=env).returncode


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
    lint = run([str(BIN / "ruff"), "check", "."])
    if lint != 0:
        print("ruff found problems (see above)", file=sys.stderr)
        return lint
    workers = ["-n", "2"] if not any(a.startswith("-n") for a in extra) else []
    return run([str(BIN / "python"), "-m", "pytest", *workers, *extra])


if __name__ == "__main__":
    sys.exit(main())
