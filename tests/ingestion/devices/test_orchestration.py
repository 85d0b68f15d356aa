"""Dagster face of the devices: poll-now, spool import and device health assets in-process
against the simulator, the spool sensor, and the definitions resolving."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import RunRequest, SkipReason, build_sensor_context, materialize

from ingestion.devices.clock import SimClock
from ingestion.devices.collector import CollectorConfig
from ingestion.devices.health import health_snapshot_path, health_table
from ingestion.devices.importer import import_spool, spool_for
from ingestion.devices.service import poll_now
from ingestion.devices.spool import read_segment
from ingestion.lake import read_readings
from orchestration.devices.assets import device_health, device_readings
from orchestration.devices.sensors import device_spool_sensor
from orchestration.external import ModbusClientResource, device_poll_now_job
from orchestration.resources import SiteledgerHome
from siteledger.settings import Settings
from siteledger.site import dump_site
from siteledger.state.store import StateStore
from tests.ingestion.devices.helpers import FixedValues, ThreadedSimulator, free_ports
from tests.ingestion.devices.test_spool import _segment, _site

pytestmark = pytest.mark.integration


def test_poll_now_import_and_health_assets(tmp_path: Path):
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    [port] = free_ports(1)
    site = _site(port)
    (settings.sites_dir / "spool_site.yaml").write_text(dump_site(site), encoding="utf-8")
    resources = {"siteledger": SiteledgerHome(home=str(tmp_path))}
    with ThreadedSimulator(site, FixedValues({"FT-1": 12.5, "FQ-1": 4321.0}), SimClock.wall()):
        polled = device_poll_now_job.execute_in_process(
            resources={**resources, "modbus": ModbusClientResource()}
        )
    assert polled.success
    [segment] = polled.output_for_node("poll_modbus_sites_once")
    assert Path(segment).name == polled_segment(settings)
    result = materialize([device_readings, device_health], resources=resources)
    assert result.success
    imported = result.asset_materializations_for_node("raw__device_readings")[0].metadata
    assert imported["readings_imported"].value == 2
    assert imported["segments"].value == 1
    assert len(imported["days_written"].value) == 1
    lake = read_readings(settings, "spool_site", source="device").to_pandas()
    assert lake.set_index("meter_id")["value"].to_dict() == {"FT-1": 12.5, "FQ-1": 4321.0}
    health = result.asset_materializations_for_node("devices__device_health")[0].metadata
    assert health["devices_by_status"].value == {"online": 1}
    assert health_snapshot_path(settings, "spool_site").exists()


def polled_segment(settings: Settings) -> str:
    (segment,) = spool_for(settings, "spool_site").segments()
    return segment.name


def test_poll_now_with_no_device_answering_records_it_offline(tmp_path: Path):
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    [port] = free_ports(1)  # nothing listens there
    site = _site(port)
    path = poll_now(settings, site, CollectorConfig(interval_s=60, timeout_s=0.2))
    assert path is not None
    [poll] = read_segment(path).polls
    assert (poll["status"], poll["error_kind"]) == ("error", "unreachable")
    store = StateStore(settings.state_store_url)
    result = import_spool(settings, site, store)
    assert (result.segments, result.readings) == (1, 0)
    [row] = health_table(store, site)
    assert row["status"] == "offline" and row["error_counts"] == {"unreachable": 1}
    assert row["last_seen_at"] is None


def test_spool_sensor_asks_once_per_new_segment(tmp_path: Path):
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    resources = {"siteledger": SiteledgerHome(home=str(tmp_path))}
    context = build_sensor_context(resources=resources)
    assert isinstance(device_spool_sensor(context), SkipReason)
    spool = spool_for(settings, "spool_site")
    spool.write(_segment(1_751_328_000_000_000, {"FT-1": 1.0}), "abc")
    first = device_spool_sensor(context)
    assert isinstance(first, RunRequest)
    context = build_sensor_context(resources=resources, cursor=first.run_key)
    assert isinstance(device_spool_sensor(context), SkipReason)
    spool.write(_segment(1_751_328_060_000_000, {"FT-1": 1.0}), "abc")
    assert isinstance(device_spool_sensor(context), RunRequest)


def test_device_jobs_and_sensors_resolve():
    from orchestration.definitions import defs

    for job in ("device_spool_import_job", "device_poll_now_job"):
        assert defs.resolve_job_def(job) is not None
    for sensor in ("device_spool_sensor", "device_lake_days_changed_sensor"):
        assert defs.resolve_sensor_def(sensor) is not None
