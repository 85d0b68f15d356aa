"""The wheel is the product: built from the sources, installed outside the checkout, it runs the
demo end to end and loads the Dagster definitions, writing only under its home.

The virtualenv gets the wheel alone (``--no-deps``); the pinned dependencies come from the
environment running this test through a ``.pth`` line (a plain path: the checkout's own editable
install, a ``.pth`` hook of that environment, is not run). Console scripts of the dependencies the
project calls as programs (``dbt``, ``dagster``) are written from their entry points, as pip would.
Installing the dependencies afresh would take ~2 minutes and 1.3 GB; what is under test is the
project's own distribution.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import duckdb
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
# what a checkout has that a source tree for building does not need
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".*_cache",
    "target", "logs",
)  # fmt: skip
NOT_SOURCES_AT_TOP = {"tests", "benchmarks", "docs"}


def _not_sources(folder: str, names: list[str]) -> set[str]:
    top = NOT_SOURCES_AT_TOP if Path(folder) == REPO else set()
    return set(NOT_SOURCES(folder, names)) | (top & set(names))


def _run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv outside the checkout with the freshly built wheel; returns its bin/."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=_not_sources)
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(root / "dist"), "."],
        cwd=source,
        timeout=300,
    )
    (wheel,) = (root / "dist").glob("siteledger-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "dbt_project/dbt_project.yml",
        "dbt_project/profiles.yml",
        "dbt_project/models/marts/water/fct_site_balance_daily.sql",
        "dbt_project/macros/partition_window.sql",
        "dbt_project/models/marts/water/_water__models.yml",
        "dbt_project/tests/generic/grain.sql",
        "orchestration/dagster.yaml",
        "reports/schema/siteledger-report-1.0.xsd",
        "reports/templates/report.html.j2",
        "reports/definitions/monthly_water_return.yaml",
        "alerts/channels/templates/email.html.j2",
        "alerts/channels/templates/slack_alert.mrkdwn.j2",
        "alerts/rules/water.yaml",
    ):
        assert shipped in names, f"{shipped} is not in {wheel.name}"

    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(_run([str(python), "-c", where]).stdout.strip())
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--ignore-installed",
            str(wheel),
        ],
        env=_clean_env(root / "home"),
        timeout=300,
    )
    # after the install: pip would otherwise take the checkout's editable install for this one
    (purelib / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for script in ("dbt", "dagster"):
        (ep,) = entry_points(group="console_scripts", name=script)
        head = ep.attr.split(".")[0]
        launcher = venv / "bin" / script
        launcher.write_text(
            f"#!{python}\nimport sys\nfrom {ep.module} import {head}\nsys.exit({ep.attr}())\n"
        )
        launcher.chmod(0o755)
    return venv / "bin"


def _clean_env(home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SITELEDGER_", "DBT_"))
    }
    env.update(
        SITELEDGER_HOME=str(home),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DAGSTER_DISABLE_TELEMETRY="1",
        MPLCONFIGDIR=str(home / ".matplotlib"),
    )
    return env


def test_the_installed_packages_come_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    done = _run(
        [
            str(installed / "python"),
            "-c",
            "import siteledger.dbt as d, cli.main, orchestration, demo; "
            "print(d.DBT_PROJECT_DIR); print(cli.main.__file__)",
        ],
        cwd=tmp_path,
        env=_clean_env(tmp_path / "home"),
    )
    project_dir, cli_file = done.stdout.split()
    site = installed.parent / "lib"
    assert Path(project_dir).is_relative_to(site), project_dir
    assert Path(cli_file).is_relative_to(site), cli_file
    assert (Path(project_dir) / "dbt_project.yml").is_file()


def test_the_demo_runs_from_the_wheel_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = _run(
        [str(installed / "siteledger"), "--home", str(home), "demo", "run", "--days", "3"],
        cwd=elsewhere,
        env=_clean_env(home),
        timeout=900,
    )
    published = home / "warehouse" / "siteledger.duckdb"
    assert published.is_file(), done.stdout
    with duckdb.connect(str(published), read_only=True) as con:
        (days,) = con.execute(
            "select count(distinct day) from fct_site_balance_daily"
        ).fetchone() or (0,)
    assert days >= 3, done.stdout
    assert (home / "dbt" / "target" / "manifest.json").is_file()
    installed_project = next((installed.parent / "lib").glob("python*/site-packages/dbt_project"))
    assert not (installed_project / "target").exists()
    assert not (installed_project / "logs").exists()
    assert not any(elsewhere.iterdir()), list(elsewhere.iterdir())


def test_the_dagster_definitions_load_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = _run(
        [
            str(installed / "python"),
            "-c",
            "from orchestration.definitions import defs; "
            "print(len(list(defs.resolve_all_job_defs())))",
        ],
        cwd=tmp_path,
        env=_clean_env(home),
        timeout=300,
    )
    assert int(done.stdout.split()[-1]) > 0
    assert (home / "dbt" / "target" / "manifest.json").is_file()
    installed_project = next((installed.parent / "lib").glob("python*/site-packages/dbt_project"))
    assert not (installed_project / "target").exists()
