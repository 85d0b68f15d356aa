"""The Dagster face of write-audit-publish: a failed blocking audit stops the publish in the
same run, the previous version keeps serving, and the rejection is recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetSelection, materialize

from orchestration.keys import BUILD, QUALITY_SCORES
from orchestration.partitions import build_partitions
from orchestration.quality.assets import build, build_quality_scores, site_days_score_good_or_better
from orchestration.resources import SiteledgerHome
from orchestration.water.assets import published
from siteledger.dbt import manifest_path
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.dbt.homes import build_two_sites
from tests.dbt.runner import shared_home

pytestmark = [
    pytest.mark.slow,
]
PUBLISHED = published.key
QUALITY_SCORES_KEY = QUALITY_SCORES


def _copy(source: Path, target: Path) -> Settings:
    settings = Settings(home=target)
    settings.ensure_dirs()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "warehouse" / "build.duckdb", settings.warehouse_dir / "build.duckdb")
    # and the manifest dbt wrote with that build: the audits read grains and columns from it
    manifest_path(settings).parent.mkdir(parents=True)
    shutil.copy(manifest_path(Settings(home=source)), manifest_path(settings))
    return settings


def _run(settings: Settings):
    quality_scores_daily = build_quality_scores(build_partitions(settings).daily)
    assets = [quality_scores_daily, build, published]
    return materialize(
        [*assets, site_days_score_good_or_better],
        selection=AssetSelection.assets(*assets) | AssetSelection.checks_for_assets(*assets),
        partition_key="2025-07-05",
        resources={"siteledger": SiteledgerHome(home=str(settings.home))},
        raise_on_error=False,
    )


def test_a_failed_blocking_audit_stops_the_publish_in_the_same_run(
    tmp_path_factory: pytest.TempPathFactory,
):
    source = shared_home(tmp_path_factory, "two_sites", build_two_sites)
    settings = _copy(source, tmp_path_factory.mktemp("gate"))

    good = _run(settings)
    assert good.success
    checks = {e.check_name: e.passed for e in good.get_asset_check_evaluations()}
    assert checks["mart_grains_are_unique"] and checks["site_scores_are_above_the_floor"]
    assert [m.asset_key for m in good.get_asset_materialization_events()][-1] == PUBLISHED
    store = StateStore(settings.state_store_url)
    (first,) = store.warehouse_versions()
    score_check = next(
        e
        for e in good.get_asset_check_evaluations()
        if e.check_name == "site_days_score_good_or_better"
    )
    assert score_check.metadata["site_days"].value > 0

    # a deliberately broken mart: one balance day twice
    with duckdb.connect(str(settings.warehouse_dir / "build.duckdb")) as con:
        con.execute(
            "insert into marts.fct_site_balance_daily select * from marts.fct_site_balance_daily "
            "where site_id = 'demo_mine' and day = date '2025-07-04'"
        )
    bad = _run(settings)

    assert not bad.success
    failed = {e.check_name for e in bad.get_asset_check_evaluations() if not e.passed}
    assert failed == {"mart_grains_are_unique"}
    materialized = {m.asset_key for m in bad.get_asset_materialization_events()}
    assert QUALITY_SCORES_KEY in materialized and PUBLISHED not in materialized
    versions = store.warehouse_versions()
    assert [(v.version_id, v.status) for v in versions] == [(first.version_id, "current")]
    with duckdb.connect(str(settings.warehouse_dir / "siteledger.duckdb"), read_only=True) as con:
        (n,) = con.execute(
            "select count(*) from fct_site_balance_daily "
            "where site_id = 'demo_mine' and day = date '2025-07-04'"
        ).fetchone()
    assert n == 1  # readers still get the prior version
    latest = store.publish_audits()[0]
    assert latest.outcome == "rejected" and latest.serving_version_id == first.version_id
    (failure,) = latest.failures
    assert failure["name"] == "mart_grains_are_unique"
    assert "fct_site_balance_daily: 2 rows for site_id=demo_mine, day=2025-07-04" in failure["rows"]


def test_the_build_carries_the_blocking_audits():
    from orchestration.definitions import defs

    layer = defs.resolve_job_def("nightly_job").asset_layer
    assert {QUALITY_SCORES_KEY, BUILD, PUBLISHED} <= set(layer.selected_asset_keys)
    checks = {k.name for k in layer.asset_graph.asset_check_keys if k.asset_key == BUILD}
    assert {"mart_grains_are_unique", "site_scores_are_above_the_floor"} <= checks
    spec = next(s for s in build.check_specs if s.name == "mart_grains_are_unique")
    assert spec.blocking
