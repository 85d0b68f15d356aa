"""A collector whose clock reset to 1900 or 1970, or ran away to 2200 or 9999, polls real Modbus
devices and spools what it read; the import quarantines those readings with the reason and
lands the ones of a plausible cycle."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from ingestion.devices.collector import Collector, CollectorConfig
from ingestion.devices.importer import import_spool, spool_for
from ingestion.lake import read_quarantine, read_readings
from siteledger.settings import Settings
from siteledger.state.store import StateStore
from tests.ingestion.devices.helpers import FixedValues, ManualClock, ThreadedSimulator, free_ports
from tests.ingestion.devices.test_spool import _site

pytestmark = pytest.mark.integration

GOOD = dt.datetime(2025, 7, 1, 2, 0, tzinfo=dt.UTC)
CLOCKS = {
    "year 1900": dt.datetime(1900, 1, 1, tzinfo=dt.UTC),
    "epoch": dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    "year 2200": dt.datetime(2200, 7, 1, tzinfo=dt.UTC),
    "year 9999": dt.datetime(9999, 12, 31, 12, 0, tzinfo=dt.UTC),
}


def test_device_readings_of_a_reset_or_runaway_clock_are_quarantined(tmp_path: Path):
    [port] = free_ports(1)
    site = _site(port)
    site.site.data_start = dt.date(2025, 7, 1)
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    clock = ManualClock(GOOD.timestamp())
    collector = Collector(
        site, spool_for(settings, site.site.id), CollectorConfig(interval_s=60.0), clock
    )

    async def cycles() -> None:
        for moment in (GOOD, *CLOCKS.values()):
            clock.sim_now = moment.timestamp()
            await collector.cycle(moment.timestamp())
        for link in collector.links.values():
            link.close()

    with ThreadedSimulator(site, FixedValues({"FT-1": 3.25, "FQ-1": 99.5}), clock):
        asyncio.run(cycles())
    store = StateStore(settings.state_store_url)
    try:
        result = import_spool(settings, site, store)
        [job] = store.jobs(site_id=site.site.id)
    finally:
        store.dispose()

    assert (result.segments, result.readings, result.quarantined_rows) == (5, 2, 8)
    assert (job.status, job.imported_rows, job.failed_rows) == ("committed", 2, 8)
    lake = read_readings(settings, site.site.id)
    assert sorted(lake.column("meter_id").to_pylist()) == ["FQ-1", "FT-1"]
    assert {d.isoformat() for d in lake.column("day").to_pylist()} == {"2025-07-01"}
    rows = read_quarantine(settings).to_pylist()
    reasons = sorted({row["reason"] for row in rows})
    early = [r for r in reasons if "before the site's first day of data 2025-07-01" in r]
    late = [r for r in reasons if "later than now plus the future tolerance of 6 h" in r]
    assert (len(early), len(late)) == (2, 2), reasons
    assert "'1970-01-01T00:00:00+00:00' (site-local day 1970-01-01)" in early[1]
    assert "'9999-12-31T12:00:00+00:00'" in late[1]
    assert {row["column"] for row in rows} == {"FT-1", "FQ-1"}
