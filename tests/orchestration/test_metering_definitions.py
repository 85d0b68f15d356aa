"""The metering group in the one Dagster entry point: the raw metering lake asset (by day) the
dbt source links to, the dbt metering marts in group `metering` and rebuilt by the nightly run,
the metering reports run with the monthly reports and e-mailed by their own job and schedule;
the lake asset materialised in process on real lake files, the e-mail job against a real SMTP
server; and no package imports Dagster."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, materialize

from orchestration.definitions import defs
from orchestration.external import SmtpDeliveryResource
from orchestration.keys import QUALITY_SCORES, RAW_METERING, RAW_READINGS, REPORTS
from orchestration.metering.assets import build_metering_records
from orchestration.metering.jobs import metering_report_email_job
from orchestration.resources import SiteledgerHome
from orchestration.water.assets import manifest, translator
from orchestration.water.dbt import dbt_project
from reports.definitions import load_definitions
from reports.registry import Registry
from reports.service import generate
from siteledger.settings import Settings
from siteledger.state import StateStore
from siteledger.state.store import ImportJob, utcnow
from tests.alerts.servers import SmtpReceiver
from tests.reports.metering_fixture import publish

REPO = Path(__file__).resolve().parents[2]
# the packages do the work, plain Python: none of them imports Dagster, the orchestration or the
# CLI (which run them), nor the demo
PACKAGES = ("alerts", "reports", "ingestion", "quality", "ml", "siteledger")
FORBIDDEN = ("dagster", "orchestration", "cli", "demo")


def metering_models() -> list[str]:
    return [
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["fqn"][1:3] == ["marts", "metering"]
    ]


def test_the_metering_group_partitions_and_schedules():
    graph = defs.resolve_asset_graph()
    node = graph.get(RAW_METERING)
    assert node.group_name == "metering"
    # the existing day partitions: those of the nightly run and the quality scores
    assert node.partitions_def is not None
    assert node.partitions_def == graph.get(QUALITY_SCORES).partitions_def
    assert node.partitions_def == defs.resolve_job_def("nightly_job").partitions_def
    assert RAW_READINGS in node.parent_keys  # imported from landing with the readings
    nightly = defs.resolve_job_def("nightly_job").asset_layer.selected_asset_keys
    assert RAW_METERING in nightly
    schedule = defs.resolve_schedule_def("metering_report_email_schedule")
    assert schedule.job_name == "metering_report_email_job"
    assert schedule.cron_schedule == "15 6 * * *"
    # the monthly report run makes every monthly definition: the metering ones among them
    assert REPORTS["monthly"] in graph.get_all_asset_keys()
    monthly = {d.id for d in load_definitions() if d.period == "monthly"}
    assert {"monthly_metering_revenue_report", "metering_device_health_report"} <= monthly


def test_a_marts_metering_model_is_in_group_metering():
    """The translator groups a mart by its folder: a model under marts/metering is in group
    `metering` (a copy of a real mart node moved there, whatever the dbt project holds)."""
    uid, node = next(
        (u, n) for u, n in manifest["nodes"].items() if n["fqn"][1:3] == ["marts", "materials"]
    )
    moved = copy.deepcopy(manifest)
    new_uid = "model.siteledger.fct_meter_probe"
    moved["nodes"][new_uid] = {
        **copy.deepcopy(node),
        "unique_id": new_uid,
        "name": "fct_meter_probe",
        "fqn": ["siteledger", "marts", "metering", "fct_meter_probe"],
    }
    spec = translator.get_asset_spec(moved, new_uid, dbt_project)
    assert spec.group_name == "metering"
    assert spec.key == AssetKey(["marts", "fct_meter_probe"])
    del uid


def test_the_dbt_metering_marts_are_in_the_group_and_rebuilt_nightly():
    models = metering_models()
    if not models:
        pytest.skip("the dbt metering marts are not in this checkout's manifest yet")
    graph = defs.resolve_asset_graph()
    nightly = defs.resolve_job_def("nightly_job").asset_layer.selected_asset_keys
    for uid in models:
        key = translator.get_asset_spec(manifest, uid, dbt_project).key
        assert graph.get(key).group_name == "metering", key
        assert key in nightly, key
    # the dbt source metering_lake is the raw metering asset
    staged = [k for k in graph.get_all_asset_keys() if k.path[-1].startswith("stg_metering__")]
    assert staged and all(RAW_METERING in graph.get(k).parent_keys for k in staged)


def test_no_package_imports_dagster():
    offenders = []
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(
                    n.split(".")[0] in ("dagster", "dagster_dbt", "orchestration") for n in names
                ):
                    offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def _lake_file(path: Path, n: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"meter_id": ["m1"] * n, "source_row": list(range(n))}), path)


def _commit(store: StateStore, batch_id: str, site: str) -> None:
    with store.session() as s:
        s.add(
            ImportJob(
                batch_id=batch_id,
                site_id=site,
                source="headend",
                source_file="readings.csv",
                content_sha256=batch_id,
                status="committed",
                finished_at=utcnow(),
            )
        )


def test_the_raw_metering_asset_counts_a_days_committed_readings(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    lake = settings.lake / "metering"
    readings = lake / "readings" / "site=aqua" / "source=headend"
    _lake_file(readings / "day=2026-03-30" / "b1.parquet", 24)
    _lake_file(readings / "day=2026-03-31" / "b1.parquet", 20)
    _lake_file(readings / "day=2026-03-31" / "b3.parquet", 7)  # never committed
    _lake_file(lake / "customers" / "site=aqua" / "source=crm" / "b2.parquet", 3)
    store = StateStore(settings.state_store_url)
    try:
        _commit(store, "b1", "aqua")
        _commit(store, "b2", "aqua")
    finally:
        store.dispose()
    asset = build_metering_records(defs.resolve_job_def("nightly_job").partitions_def)  # type: ignore[arg-type]
    result = materialize(
        [asset],
        resources={"siteledger": SiteledgerHome(home=str(settings.home))},
        partition_key="2026-03-31",
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["rows"].value == {"customers": {"aqua": 3}, "readings": {"aqua": 44}}
    assert metadata["window_readings"].value == {"aqua": 20}
    assert metadata["window_days"].value == 1
    assert metadata["batches"].value == 2


def test_the_metering_reports_are_e_mailed_once(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    publish(settings)
    home = SiteledgerHome(home=str(settings.home))
    store = StateStore(settings.state_store_url)
    try:
        outcomes = generate(
            settings,
            store,
            definition_ids=["monthly_metering_revenue_report"],
            period_keys=["2026-03"],
            workers=1,
        )
        (record,) = [o.record for o in outcomes]
        with SmtpReceiver() as smtp:
            target = smtp.target()
            resources = {
                "siteledger": home,
                "smtp": SmtpDeliveryResource(host=target.host, port=target.port),
            }
            sent = metering_report_email_job.execute_in_process(resources=resources)
            again = metering_report_email_job.execute_in_process(resources=resources)
            messages = smtp.messages
        assert sent.success and again.success
        assert sent.output_for_node("email_metering_reports") == [record.report_id]
        assert again.output_for_node("email_metering_reports") == []
        (mail,) = messages
        assert mail.message["To"] == "finance@utility.example"
        names = sorted(a.get_filename() for a in mail.message.iter_attachments())
        assert [n.rsplit(".", 1)[1] for n in names] == ["pdf", "xlsx"]
        attempts = Registry(store).attempts(record.report_id)
        assert [(a.channel, a.status) for a in attempts] == [("email", "succeeded")]
    finally:
        store.dispose()
