"""A power station's meters read over Modbus TCP by the collector like any other meter: a
generator's kW (a 32-bit float), its kWh register (a 32-bit unsigned integer in tenths), its
fuel meter, the diesel tank's contents in litres and the array's irradiance, from a real
Modbus server, spooled, imported into the lake in their units and named in the site's energy
section."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from ingestion.devices.collector import Collector, CollectorConfig
from ingestion.devices.importer import import_spool, spool_for
from ingestion.lake import read_readings
from siteledger.settings import Settings
from siteledger.site.models import Meter, SiteConfig, SiteInfo
from siteledger.state.store import StateStore
from tests.ingestion.devices.helpers import FixedValues, ManualClock, ThreadedSimulator, free_ports

pytestmark = pytest.mark.integration

NOW = dt.datetime(2025, 7, 1, 2, 0, tzinfo=dt.UTC)
# meter, measurand, unit, first register, data type, scale (raw x scale = value)
STATION = (
    ("JG-911", "power", "kW", 0, "float32", 1.0),
    ("EG-911", "energy", "kWh", 2, "uint32", 0.1),
    ("FG-911", "fuel", "L", 4, "float32", 1.0),
    ("LT-901", "tank_contents", "L", 6, "float32", 1.0),
    ("RI-921", "irradiance", "W/m2", 8, "float32", 1.0),
    ("JP-921", "power", "kW", 10, "float32", 1.0),
)
VALUES = {
    "JG-911": 412.5,
    "EG-911": 1_234_567.8,
    "FG-911": 28.25,
    "LT-901": 41_250.0,
    "RI-921": 812.0,
    "JP-921": 366.75,
}


def _site(port: int) -> SiteConfig:
    meters = [
        Meter.model_validate(
            {
                "id": meter_id,
                "measurand": measurand,
                "unit": unit,
                "modbus": {
                    "port": port,
                    "unit_id": 1,
                    "register": register,
                    "data_type": data_type,
                    "scale": scale,
                },
            }
        )
        for meter_id, measurand, unit, register, data_type, scale in STATION
    ]
    return SiteConfig.model_validate(
        {
            "site": SiteInfo(id="station", name="Power station", timezone="Australia/Perth"),
            "nodes": [],
            "meters": meters,
            "energy": {
                "location": {"latitude": -31.95, "longitude": 116.05},
                "fuel": {
                    "price_per_l": 1.9,
                    "tanks": [{"id": "diesel", "capacity_l": 60000, "level_meter": "LT-901"}],
                },
                "generators": [
                    {
                        "id": "genset_1",
                        "rated_kw": 800,
                        "power_meter": "JG-911",
                        "energy_meter": "EG-911",
                        "fuel_meter": "FG-911",
                        "tank": "diesel",
                    }
                ],
                "pv_arrays": [
                    {
                        "id": "pv_1",
                        "kwp": 500,
                        "tilt_deg": 20,
                        "azimuth_deg": 0,
                        "inverter_kw": 450,
                        "power_meter": "JP-921",
                        "irradiance_meter": "RI-921",
                    }
                ],
            },
        }
    )


def test_the_station_meters_are_polled_spooled_and_imported(tmp_path: Path):
    [port] = free_ports(1)
    site = _site(port)
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    clock = ManualClock(NOW.timestamp())
    collector = Collector(
        site, spool_for(settings, site.site.id), CollectorConfig(interval_s=60.0), clock
    )

    async def cycles() -> None:
        for minute in (0, 15):
            moment = NOW + dt.timedelta(minutes=minute)
            clock.sim_now = moment.timestamp()
            await collector.cycle(moment.timestamp())
        for link in collector.links.values():
            link.close()

    with ThreadedSimulator(site, FixedValues(VALUES), clock):
        asyncio.run(cycles())
    store = StateStore(settings.state_store_url)
    try:
        result = import_spool(settings, site, store)
    finally:
        store.dispose()

    assert (result.readings, result.quarantined_rows) == (2 * len(STATION), 0)
    lake = read_readings(settings, site.site.id).to_pylist()
    by_meter: dict[str, list[dict]] = {}
    for row in lake:
        by_meter.setdefault(row["meter_id"], []).append(row)
    assert set(by_meter) == set(VALUES)
    for meter_id, unit in ((m, u) for m, _, u, *_ in STATION):
        rows = by_meter[meter_id]
        assert len(rows) == 2
        for row in rows:
            # a float32 holds about 7 digits; the register's tenths come back exactly
            assert row["value"] == pytest.approx(VALUES[meter_id], rel=1e-6), meter_id
            assert row["unit"] == unit
    assert by_meter["EG-911"][0]["value"] == pytest.approx(1_234_567.8, abs=1e-6)
