"""The materials group in the one Dagster entry point: the raw materials lake asset the dbt
source links to, the certificates of analysis, the monthly materials reports' e-mail, the dbt
materials marts in group `materials` and rebuilt by the nightly run; the assets materialised in
process on real lake files and a hand-built published warehouse, the e-mail job against a real
SMTP server."""

from __future__ import annotations

from pathlib import Path

from dagster import AssetKey, materialize

from ingestion.materials_lake import write_records
from orchestration.definitions import defs
from orchestration.external import SmtpDeliveryResource
from orchestration.keys import CERTIFICATES, RAW_MATERIALS, RAW_READINGS
from orchestration.materials.assets import certificates_of_analysis, materials_records
from orchestration.materials.jobs import materials_report_email_job
from orchestration.resources import SiteledgerHome
from reports.registry import Registry
from reports.service import generate
from siteledger.settings import Settings
from siteledger.state import StateStore
from siteledger.state.store import ImportJob, utcnow
from tests.alerts.servers import SmtpReceiver
from tests.reports.materials_site import publish

MATERIALS_MARTS = Path(__file__).parents[2] / "dbt_project" / "models" / "marts" / "materials"


def test_the_materials_group_in_the_one_definitions():
    graph = defs.resolve_asset_graph()
    groups = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups[RAW_MATERIALS] == "materials" and groups[CERTIFICATES] == "materials"
    for model in MATERIALS_MARTS.glob("*.sql"):
        assert groups[AssetKey(["marts", model.stem])] == "materials", model.stem
    # the dbt source materials_lake is the raw materials asset, downstream of the import
    assert RAW_READINGS in graph.get(RAW_MATERIALS).parent_keys
    staged = graph.get(AssetKey(["staging", "stg_materials__receipts"]))
    assert RAW_MATERIALS in staged.parent_keys
    # the nightly run imports, then rebuilds the materials models with the day models
    nightly = defs.resolve_job_def("nightly_job").asset_layer.selected_asset_keys
    assert {RAW_MATERIALS, AssetKey(["marts", "fct_material_lot_balances"])} <= nightly
    assert AssetKey(["marts", "fct_qc_lots"]) in nightly
    assert CERTIFICATES not in nightly
    certificates = defs.resolve_job_def("certificates_of_analysis_job")
    assert certificates.asset_layer.selected_asset_keys == {CERTIFICATES}
    assert defs.resolve_schedule_def("materials_report_email_schedule").job_name == (
        "materials_report_email_job"
    )
    assert defs.resolve_sensor_def("certificates_of_analysis_sensor").job_name == (
        "certificates_of_analysis_job"
    )


def _commit(store: StateStore, batch_id: str, site: str) -> None:
    with store.session() as s:
        s.add(
            ImportJob(
                batch_id=batch_id,
                site_id=site,
                source="r",
                source_file="receipts.csv",
                content_sha256=batch_id,
                status="committed",
                finished_at=utcnow(),
            )
        )


def test_the_raw_materials_asset_counts_the_committed_records(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    receipt = {
        "receipt_id": "R1",
        "lot_id": "L1",
        "material_id": "oil",
        "supplier_id": "oilco",
        "received_at": utcnow(),
        "qty": 10.0,
        "unit": "kg",
        "qty_given": 10.0,
        "unit_given": "kg",
        "unit_cost": 2.0,
        "currency_given": "EUR",
        "unit_cost_given": 2.0,
        "source_row": 2,
    }
    try:
        for batch, site, rows in (
            ("b1", "s1", [receipt, {**receipt, "receipt_id": "R2", "lot_id": "L2"}]),
            ("b2", "s2", [receipt]),
            # written but never committed (an import that failed): not counted
            ("b3", "s1", [{**receipt, "receipt_id": "R3", "lot_id": "L3"}]),
        ):
            write_records(settings, "receipts", site, "r", batch, "receipts.csv", rows, utcnow())
            if batch != "b3":
                _commit(store, batch, site)
    finally:
        store.dispose()
    home = SiteledgerHome(home=str(settings.home))
    result = materialize([materials_records], resources={"siteledger": home})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["rows"].value == {"receipts": {"s1": 2, "s2": 1}}
    assert metadata["batches"].value == 2
    assert isinstance(metadata["fingerprint"].value, str)


def test_certificates_are_made_once_and_the_monthly_reports_e_mailed(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    publish(settings)
    home = SiteledgerHome(home=str(settings.home))
    first = materialize([certificates_of_analysis], resources={"siteledger": home})
    second = materialize([certificates_of_analysis], resources={"siteledger": home})
    assert first.success and second.success
    (made,) = first.get_asset_materialization_events()
    metadata = made.materialization.metadata
    # B1-OUT passed, B2-OUT failed (a draft); B3-OUT is still in testing
    assert metadata["created"].value == 2
    assert sorted(c["lot"] for c in metadata["certificates"].value) == ["B1-OUT", "B2-OUT"]
    assert list(metadata["drafts"].value) == ["B2-OUT"]
    (again,) = second.get_asset_materialization_events()
    assert again.materialization.metadata["created"].value == 0
    assert again.materialization.metadata["unchanged"].value == 2

    store = StateStore(settings.state_store_url)
    try:
        outcomes = generate(
            settings,
            store,
            definition_ids=["monthly_inventory_report"],
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
            sent = materials_report_email_job.execute_in_process(resources=resources)
            again_sent = materials_report_email_job.execute_in_process(resources=resources)
            messages = smtp.messages
        assert sent.success and again_sent.success
        # the monthly report is mailed once; certificates (per-lot documents) are not mailed
        assert sent.output_for_node("email_materials_reports") == [record.report_id]
        assert again_sent.output_for_node("email_materials_reports") == []
        (mail,) = messages
        assert mail.message["To"] == "stores@operator.example"
        names = sorted(a.get_filename() for a in mail.message.iter_attachments())
        assert [n.rsplit(".", 1)[1] for n in names] == ["pdf", "xlsx"]
        attempts = Registry(store).attempts(record.report_id)
        assert [(a.channel, a.status) for a in attempts] == [("email", "succeeded")]
    finally:
        store.dispose()
