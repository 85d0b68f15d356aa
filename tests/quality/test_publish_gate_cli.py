"""The CLI face of write-audit-publish: ``siteledger run`` publishes an audited build and exits
non-zero, publishing nothing, when the audits reject one.

dbt is replaced by the build database of the shared faulty demo (a real dbt build, copied), so
the test exercises the Dagster run's scoring, auditing and publishing, and the CLI's rendering of
it, on real data without a second build; the report runs after publishing are not under test
here and are skipped.
"""

from __future__ import annotations

import shutil
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from dagster import AssetCheckResult, Output

import orchestration.runner
import orchestration.water.assets
from cli.main import cli
from orchestration.water.dbt import ensure_manifest
from siteledger.dbt import manifest_path
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.dbt.runner import shared_home

pytestmark = [
    pytest.mark.slow,
]


def _build_faulty(home: Path) -> None:
    from tests.dbt.test_demo_faults import _build

    _build(home)


def _built_already(context, dbt, siteledger, window, full_refresh=False):  # type: ignore[no-untyped-def]
    """The dbt step of a run whose build database is already there: every model and test ok."""
    deps = context.assets_def.asset_deps
    order = TopologicalSorter({key: deps.get(key, set()) for key in context.selected_asset_keys})
    for key in (k for k in order.static_order() if k in context.selected_asset_keys):
        output = context.assets_def.get_output_name_for_asset_key(key)
        yield Output(None, output_name=output, metadata={"dbt_build": "PASS=1 WARN=0 ERROR=0"})
    for check in context.selected_asset_check_keys:
        yield AssetCheckResult(asset_key=check.asset_key, check_name=check.name, passed=True)


def test_run_publishes_an_audited_build_and_refuses_a_broken_one(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
):
    source = shared_home(tmp_path_factory, "faulty_demo", _build_faulty)
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "sites" / "demo_mine.yaml", settings.sites_dir / "demo_mine.yaml")
    build_db = settings.warehouse_dir / "build.duckdb"
    shutil.copy(source / "warehouse" / "build.duckdb", build_db)
    shutil.copytree(source / "lake" / "readings", settings.readings_lake, dirs_exist_ok=True)
    monkeypatch.setattr(orchestration.water.assets, "dbt_build", _built_already)
    monkeypatch.setattr(orchestration.runner, "report_ranges", lambda *a, **k: {})
    # the stand-in for dbt leaves what a build leaves: the home's manifest the audits read
    manifest_path(settings).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ensure_manifest(), manifest_path(settings))

    good = CliRunner().invoke(cli, ["--home", str(tmp_path), "run"])
    assert good.exit_code == 0, good.output
    assert "quality scores:" in good.output and "published warehouse version" in good.output
    store = StateStore(settings.state_store_url)
    (first,) = store.warehouse_versions()

    with duckdb.connect(str(build_db)) as con:
        con.execute(
            "insert into marts.fct_node_balance_daily select * from marts.fct_node_balance_daily "
            "where node_id = 'process_water_dam' and day = date '2025-07-03'"
        )
    bad = CliRunner().invoke(cli, ["--home", str(tmp_path), "run"])

    assert bad.exit_code == 1, bad.output
    assert "audit failed: mart_grains_are_unique" in bad.output
    duplicated = "fct_node_balance_daily: 2 rows for site_id=demo_mine, node_id=process_water_dam"
    assert duplicated in bad.output
    assert f"version {first.version_id} still serves readers" in bad.output
    assert [(v.version_id, v.status) for v in store.warehouse_versions()] == [
        (first.version_id, "current")
    ]
    with duckdb.connect(str(settings.warehouse_dir / "siteledger.duckdb"), read_only=True) as con:
        (n,) = con.execute(
            "select count(*) from fct_node_balance_daily "
            "where node_id = 'process_water_dam' and day = date '2025-07-03'"
        ).fetchone()
    assert n == 1
    assert [a.outcome for a in store.publish_audits()] == ["rejected", "passed"]
