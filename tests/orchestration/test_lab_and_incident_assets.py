"""Dagster face of the incidents register and the lab files: the readings asset imports a lab
file dropped in landing, and the incidents asset records incident drops and exports the
register."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from dagster import materialize

from orchestration.ingestion.assets import readings
from orchestration.ingestion.incidents import recorded_incidents
from orchestration.resources import SiteledgerHome
from siteledger.settings import Settings
from siteledger.site.loader import dump_site
from siteledger.state.incidents import incidents_file
from tests.ingestion.lab_site import EDD_HEADER, lab_site


def test_lab_and_incident_drops_are_imported_by_the_assets(tmp_path: Path):
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    (settings.sites_dir / "small_site.yaml").write_text(dump_site(lab_site()), encoding="utf-8")
    (settings.landing / "lab_edd_march.csv").write_text(
        EDD_HEADER + "SP-DIS,2025-03-12 09:00,TDS,1620,mg/L,,,,\nSP-DIS,2025-03-12,X,1,,,,,\n",
        encoding="utf-8",
    )
    (settings.landing / "incidents_march.yaml").write_text(
        "incidents:\n"
        "  - {site_id: small_site, type: spill, node: dam, started_at: '2025-03-01 10:00'}\n"
        "  - {site_id: small_site, type: spill, node: nowhere, started_at: '2025-03-01'}\n",
        encoding="utf-8",
    )
    home = SiteledgerHome(home=str(tmp_path))

    result = materialize([readings, recorded_incidents], resources={"siteledger": home})

    assert result.success
    lab = result.asset_materializations_for_node("raw__readings")[0].metadata
    assert (lab["readings_imported"].value, lab["rows_quarantined"].value) == (1, 1)
    register = result.asset_materializations_for_node("raw__incidents")[0].metadata
    assert register["incidents"].value == 1
    assert register["problems"].value == [
        "incidents_march.yaml:3: unknown node 'nowhere' of site 'small_site'"
    ]
    assert pq.read_table(incidents_file(settings)).column("node_id").to_pylist() == ["dam"]
    assert not any(settings.landing.iterdir())


def test_an_incident_drop_wakes_the_landing_sensor_and_its_job_records_it(tmp_path: Path):
    from dagster import DagsterInstance, RunRequest, build_sensor_context

    from orchestration.definitions import build_defs
    from orchestration.ingestion.incidents import RAW_INCIDENTS
    from orchestration.ingestion.sensors import landing_file_sensor

    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    (settings.sites_dir / "small_site.yaml").write_text(dump_site(lab_site()), encoding="utf-8")
    (settings.landing / "incidents_april.csv").write_text(
        "site_id,type,node,started_at,severity\n"
        "small_site,overflow,dam,2025-04-02 06:00,high\n"
        "small_site,overflow,dam,not a time,high\n",
        encoding="utf-8",
    )
    home = SiteledgerHome(home=str(tmp_path))
    with DagsterInstance.ephemeral() as instance:
        with build_sensor_context(instance=instance, resources={"siteledger": home}) as context:
            request = landing_file_sensor(context)
        assert isinstance(request, RunRequest)
        job = build_defs(settings).resolve_job_def("ingest_landing_job")
        result = job.execute_in_process(
            instance=instance, run_config=request.run_config, tags=request.tags
        )
        assert result.success
        event = instance.get_latest_materialization_event(RAW_INCIDENTS)
        assert event is not None and event.run_id == result.run_id
        meta = event.asset_materialization.metadata
        assert meta["incidents"].value == 1
        assert len(meta["problems"].value) == 1
        assert meta["problems"].value[0].startswith("incidents_april.csv:3:")
    register = pq.read_table(incidents_file(settings)).to_pylist()
    assert [(r["incident_type"], r["node_id"], r["severity"]) for r in register] == [
        ("overflow", "dam", "high")
    ]
