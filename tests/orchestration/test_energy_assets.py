"""The energy group in the one Dagster entry point: the weekly energy report asset, its job and
schedule, the energy report e-mail job and schedule, the dbt energy marts in group `energy`; the
weekly asset materialised in process on a hand-built published warehouse, and the e-mail job
against a real SMTP server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dagster import AssetKey, DagsterInstance, RunRequest, build_schedule_context, materialize

from orchestration.definitions import build_defs, defs
from orchestration.energy.assets import ENERGY_REPORT_WEEKLY, build_energy_assets
from orchestration.energy.jobs import energy_report_email_job
from orchestration.external import SmtpDeliveryResource
from orchestration.partitions import build_partitions
from orchestration.resources import SiteledgerHome
from reports.registry import Registry
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.alerts.servers import SmtpReceiver
from tests.reports.test_energy_reports import publish

ENERGY_MARTS = Path(__file__).parents[2] / "dbt_project" / "models" / "marts" / "energy"


def _home(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    settings.organisation_file.write_text(
        "organisation:\n  data_start: 2026-02-20\n  timezone: Australia/Perth\n"
    )
    publish(settings)
    return settings


def test_the_energy_group_jobs_and_schedules_are_in_the_one_definitions():
    graph = defs.resolve_asset_graph()
    groups = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups[ENERGY_REPORT_WEEKLY] == "energy"
    # every dbt model under marts/energy/ is in the group, from its folder
    for model in ENERGY_MARTS.glob("*.sql"):
        assert groups[AssetKey(["marts", model.stem])] == "energy", model.stem
    assert graph.get(ENERGY_REPORT_WEEKLY).partitions_def is not None
    weekly = defs.resolve_job_def("energy_report_weekly_job")
    assert weekly.description and "weekly energy summaries" in weekly.description
    assert defs.resolve_job_def("energy_report_email_job").description
    schedules = {
        name: defs.resolve_schedule_def(name)
        for name in ("energy_report_weekly_schedule", "energy_report_email_schedule")
    }
    assert schedules["energy_report_weekly_schedule"].cron_schedule == "0 5 * * 1"
    assert schedules["energy_report_weekly_schedule"].job_name == "energy_report_weekly_job"
    assert schedules["energy_report_email_schedule"].cron_schedule == "0 6 * * *"
    assert schedules["energy_report_email_schedule"].job_name == "energy_report_email_job"
    # the monthly energy cost report rides the monthly report schedule: it renders every
    # monthly definition
    assert defs.resolve_schedule_def("compliance_report_monthly_schedule").job_name == (
        "compliance_report_monthly_job"
    )


def test_the_weekly_schedule_asks_for_the_iso_week_just_ended(tmp_path: Path):
    settings = _home(tmp_path)
    configured = build_defs(settings)
    schedule = configured.resolve_schedule_def("energy_report_weekly_schedule")
    assert schedule.execution_timezone == "Australia/Perth"
    # Monday 16 March 2026, 05:00 in Perth: the week of 9-15 March
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(
            instance=instance,
            repository_def=configured.get_repository_def(),
            scheduled_execution_time=dt.datetime(
                2026, 3, 16, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))
            ),
        )
        (request,) = schedule.evaluate_tick(context).run_requests or []
    assert isinstance(request, RunRequest)
    assert request.partition_key == "2026-03-09"
    weekly = configured.resolve_assets_def(ENERGY_REPORT_WEEKLY).partitions_def
    assert weekly is not None and weekly.get_partition_keys()[0] == "2026-02-23"


def test_the_weekly_asset_renders_the_weeks_reports_and_the_email_job_sends_them(tmp_path):
    settings = _home(tmp_path)
    (asset,) = build_energy_assets(build_partitions(settings))
    home = SiteledgerHome(home=str(settings.home))
    result = materialize([asset], partition_key="2026-03-02", resources={"siteledger": home})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    materialization = event.materialization
    assert materialization.asset_key == ENERGY_REPORT_WEEKLY
    assert materialization.metadata["periods"].value == ["2026-W10"]
    assert materialization.metadata["created"].value == 1
    store = StateStore(settings.state_store_url)
    try:
        (record,) = Registry(store).list()
        assert (record.definition_id, record.site_id, record.period_key) == (
            "weekly_energy_summary",
            "power",
            "2026-W10",
        )
        assert record.status == "validated" and "pdf" in record.artifacts
        with SmtpReceiver() as smtp:
            target = smtp.target()
            resources = {
                "siteledger": home,
                "smtp": SmtpDeliveryResource(host=target.host, port=target.port),
            }
            first = energy_report_email_job.execute_in_process(resources=resources)
            second = energy_report_email_job.execute_in_process(resources=resources)
            messages = smtp.messages
        assert first.success and second.success
        assert first.output_for_node("email_energy_reports") == [record.report_id]
        assert second.output_for_node("email_energy_reports") == []  # sent once
        (mail,) = messages
        assert mail.message["To"] == "operations@operator.example"
        (attachment,) = list(mail.message.iter_attachments())
        assert attachment.get_filename().endswith(".pdf")
    finally:
        store.dispose()
