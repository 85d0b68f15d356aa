"""The import contracts in pyproject.toml ([tool.importlinter]) bite: a copy of the packages with
one import pointing the wrong way fails ``lint-imports`` and names that import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = (
    "siteledger",
    "ingestion",
    "quality",
    "reports",
    "ml",
    "alerts",
    "orchestration",
    "cli",
    "api",
)
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _copy_tree(dest: Path) -> Path:
    for package in (*PACKAGES, "demo"):
        shutil.copytree(
            REPO / package, dest / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    shutil.copy(REPO / "pyproject.toml", dest / "pyproject.toml")
    return dest


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return _copy_tree(tmp_path / "tree")


def test_the_packages_as_they_are_keep_every_contract(tree: Path) -> None:
    done = _lint_imports(tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_reversed_import_breaks_its_contract_and_is_named(tree: Path) -> None:
    (tree / "quality" / "reversed_import.py").write_text(
        '"""A working package reaching up into Dagster-facing code."""\n\n'
        "from orchestration import definitions  # noqa: F401\n"
    )
    (tree / "siteledger" / "reversed_import.py").write_text(
        '"""The core importing Dagster."""\n\nimport dagster  # noqa: F401\n'
    )
    (tree / "orchestration" / "reversed_import.py").write_text(
        '"""Orchestration importing the command line."""\n\nimport cli.main  # noqa: F401\n'
    )
    done = _lint_imports(tree)
    report = done.stdout + done.stderr
    assert done.returncode != 0, report
    assert "3 broken" in report, report
    assert "quality.reversed_import -> orchestration" in report, report
    assert "siteledger.reversed_import -> dagster" in report, report
    assert "orchestration.reversed_import -> cli.main" in report, report
