"""The demo's carbon: emission-factor settings of both mines and the pit dewatering genset.

``demo_mine`` buys grid electricity in Western Australia's South West Interconnected System
(NGA 2024 scope 2 factor) and runs a diesel genset for the in-pit booster pump that lifts the
dewatering water from the pit sump to the grid-powered surface pump of the pit dewatering line.
Its fuel is physics: the booster lifts ``PIT_LIFT_M`` at ``PIT_PUMP_EFFICIENCY`` and the genset
burns ``GENSET_L_PER_KWH``, so

    litres/day = m3 lifted x 1000 kg/m3 x 9.81 m/s2 x lift / 3.6e6 J/kWh / efficiency x L/kWh
               = m3 lifted x 0.0575 L/m3

read once a day (the day's litres stamped 00:00 local, to 0.1 L) on a manual fuel meter on the
pit sump. ``demo_highveld`` buys South African grid electricity and has no energy meters.
The daily truth (litres, kWh and kg CO2-e) is ``carbon_daily.csv`` beside the other truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from demo.drivers import STEPS_PER_DAY
from siteledger.site.carbon import CarbonSettings, carbon_meters, seed_factor
from siteledger.site.models import Meter, SiteConfig

if TYPE_CHECKING:
    from demo.energy import PowerStation
    from demo.simulate import DemoSimulation

GENSET_METER = "FL-176"
GENSET_NODE = "pit_sump"
GENSET_FLOW = "pit_to_rwd"  # the water the in-pit booster lifts
PIT_LIFT_M = 40.0
PIT_PUMP_EFFICIENCY = 0.55
GENSET_L_PER_KWH = 0.29  # a large set near full load (DOMAIN notes: REopt default ~0.29 L/kWh)
GENSET_L_PER_M3 = 1000.0 * 9.81 * PIT_LIFT_M / 3.6e6 / PIT_PUMP_EFFICIENCY * GENSET_L_PER_KWH

DEMO_MINE_CARBON = CarbonSettings(
    grid_region="AU-WA-SWIS",
    grid_edition="NGA-2024",
    fuel_region="AU",
    fuel_edition="NGA-2024",
)
HIGHVELD_CARBON = CarbonSettings(grid_region="ZA", grid_edition="DFFE-2021")


def with_power_station(settings: CarbonSettings, water_meters: list[Meter]) -> CarbonSettings:
    """The demo mine's carbon settings once it has its power station (:mod:`demo.energy`): grid
    electricity is the water pumps' registers (on the mine's main supply) and the station's grid
    tie import; diesel is the pit genset and the station's genset fuel meters. The station's
    load, solar and genset output meters and the delivery dockets would count the same energy
    or fuel twice, so the lists name the counted meters."""
    from demo.energy import DEMO_STATION

    registers = [m.id for m in water_meters if m.measurand == "energy"]
    return settings.model_copy(
        update={
            "grid_meters": [*registers, DEMO_STATION.grid_meter],
            "fuel_meters": [
                *(m.id for m in water_meters if m.measurand == "fuel"),
                *(g.fuel_meter for g in DEMO_STATION.gensets),
            ],
        }
    )


def genset_meters() -> list[Meter]:
    """The pit genset's daily fuel meter (litres burned over the local day)."""
    return [
        Meter.model_validate(
            {
                "id": GENSET_METER,
                "name": "Pit dewatering genset diesel",
                "measurand": "fuel",
                "unit": "L",
                "interval": "1d",
                "node": GENSET_NODE,
                "manual": True,
                "valid_range": (0.0, 2000.0),
                "description": "litres issued to the in-pit pump genset, read from the tank "
                "meter at 00:00 for the day that starts then",
            }
        )
    ]


def genset_litres(sim_flows: np.ndarray, column: int, days: int) -> np.ndarray:
    """True litres burned per local day, from the 15-minute volumes of the lifted flow."""
    per_day = sim_flows[:, column].reshape(days, -1).sum(axis=1)
    return per_day * GENSET_L_PER_M3


def fuel_readings(
    meter: Meter, ts_utc: pd.DatetimeIndex, flows: np.ndarray, col: dict[str, int]
) -> pd.DataFrame:
    """The genset meter's daily readings: the day's litres at local 00:00, to 0.1 L."""
    days = (len(ts_utc) - 1) // STEPS_PER_DAY
    litres = genset_litres(flows, col[GENSET_FLOW], days)
    return pd.DataFrame(
        {
            "meter_id": meter.id,
            "ts_utc": ts_utc[np.arange(days) * STEPS_PER_DAY],
            "value": np.round(litres, 1).astype("float64"),
            "unit": meter.unit,
        }
    )


def write_carbon_truth(
    sim: DemoSimulation, folder: Path, station: PowerStation | None = None
) -> list[Path]:
    """``carbon_daily.csv``: per local day the true litres and kWh of the site's counted meters
    and their kg CO2-e by the site's factors (diesel scope 1, grid scope 2); the power
    station's genset fuel and grid import come from ``station``."""
    from demo.simulate import PUMP_KWH_PER_M3
    from demo.site import BORE_FLOW_RE

    site: SiteConfig = sim.site
    counted = carbon_meters(site)
    if not counted:
        return []
    settings = site.carbon
    col = {flow_id: i for i, flow_id in enumerate(sim.flow_ids)}
    bore_kwh = {
        f: sim.drivers.bore_kwh_per_m3[i] for i, f in enumerate(col) if BORE_FLOW_RE.match(f)
    }
    per_day = sim.flows.reshape(sim.days, STEPS_PER_DAY, -1).sum(axis=1)
    litres = np.zeros(sim.days)
    kwh = np.zeros(sim.days)
    meters = site.meters_by_id
    station_fuel: dict[str, np.ndarray] = {}
    station_grid: dict[str, np.ndarray] = {}
    if station is not None:
        for i, g in enumerate(station.design.gensets):
            station_fuel[g.fuel_meter] = station.fuel[:, i].reshape(sim.days, -1).sum(axis=1)
        grid_kwh = station.grid.reshape(sim.days, -1).sum(axis=1) * 0.25
        station_grid[station.design.grid_meter] = grid_kwh
    for meter_id, activity, _scope in counted:
        meter = meters[meter_id]
        if meter_id in station_fuel:
            litres += station_fuel[meter_id]
        elif meter_id in station_grid:
            kwh += station_grid[meter_id]
        elif activity == "diesel":
            litres += genset_litres(sim.flows, col[GENSET_FLOW], sim.days)
        elif meter.flow is not None:
            kwh_per_m3 = bore_kwh.get(meter.flow) or PUMP_KWH_PER_M3.get(meter.flow, 0.0)
            kwh += per_day[:, col[meter.flow]] * kwh_per_m3
    diesel_factor = settings.diesel_factor_kg_per_l or seed_factor(
        settings.fuel_region, 1, "diesel", settings.fuel_edition
    )
    grid_factor = (
        seed_factor(settings.grid_region, 2, "grid_electricity", settings.grid_edition or "")
        if settings.grid_region
        else 0.0
    )
    frame = pd.DataFrame(
        {
            "day": np.array(sim.dates, dtype=object),
            "diesel_l": litres,
            "scope1_kg_co2e": litres * diesel_factor,
            "grid_kwh": kwh,
            "scope2_kg_co2e": kwh * grid_factor,
        }
    )
    frame["total_kg_co2e"] = frame["scope1_kg_co2e"] + frame["scope2_kg_co2e"]
    path = folder / "carbon_daily.csv"
    numeric = frame.select_dtypes("number").columns
    frame.assign(**{c: frame[c].round(6) + 0.0 for c in numeric}).to_csv(
        path, index=False, lineterminator="\n"
    )
    return [path]
