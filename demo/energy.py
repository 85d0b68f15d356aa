"""The demo mine's power station at 15-minute resolution: physics, meter readings and truth.

The station feeds the plant services, workshops and the accommodation camp (the process water
pumps stay on the mine's main grid supply, metered at their own registers). It has

- two diesel gensets (800 kW and 500 kW) on the HOMER linear fuel curve
  ``L/h = F0 x rated kW + F1 x output kW`` (only while running), each with a kW meter and a fuel
  flow meter (litres per 15 minutes), burning from one bulk diesel tank with a level gauge
  (measurand ``tank_contents``) and manual delivery dockets;
- a 500 kWp PV array (450 kW inverter, tilt 20 degrees facing north) whose AC output is the
  pvwatts chain the marts use (``temperature.faiman`` -> ``pvsystem.pvwatts_dc`` -> losses
  14.08 % -> ``inverter.pvwatts``) on the plane-of-array irradiance: pvlib's Ineichen clear sky
  with a fixed monthly Linke turbidity (no network), times a clear-sky index drawn per calendar
  month (rain days of the water demo's weather are cloudy), split by Erbs and transposed with the
  isotropic model; air temperature and wind are the demo's weather;
- a grid tie with a 250 kW import limit, on a time-of-use tariff with a demand charge;
- two loads, the plant services (kWh register on the station's logger) and the camp (kWh sensor
  exported from Home Assistant), with daily and weekly shapes and air-conditioning.

Dispatch per interval (no storage, no export): all the solar (the loads never fall below the
inverter's 450 kW, so it is never curtailed), then the grid up to its limit; what is left is
carried by the gensets committed in order (genset 2 first, then genset 1 as well) until 90 % of
the committed rating covers it, sharing it by rating, each at least 40 % loaded (a genset never
runs below 40 %, so the low-load rule at 30 % never fires); the grid takes back what the
minimum loads add. So ``gensets + solar + grid = loads`` in every interval, exactly.

Readings (UTC instants on the demo's grid; interval meters stamped t describe [t, t+15 min)):
kW to 0.1 with 0.2 % noise; fuel litres per interval to 0.1 L, counted in whole tenths so a
day's sum is within 0.1 L of the truth; kWh registers to 0.1 kWh (the camp's Home Assistant
sensor to 0.01); POA to 1 W/m2 with 1 % noise; tank contents to 1 L with 3 L noise;
deliveries (trucks at 10:00 local) in a daily fuel log, the day's litres stamped 00:00.
Every random draw is made per calendar month (:func:`demo.drivers.calendar_draws`), so a day's
numbers do not depend on the period simulated; the tank (and its deliveries) runs forward from
the period's first midnight.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pvlib  # type: ignore[import-untyped]
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from demo.drivers import (
    PERTH_CLIMATE,
    STEPS_PER_DAY,
    Drivers,
    calendar_draws,
    calendar_noise,
    make_drivers,
    stream,
)

if TYPE_CHECKING:
    from siteledger.site.models import SiteConfig

STEP_H = 0.25
TIMEZONE = "Australia/Perth"  # UTC+8 all year: every local day has 96 intervals
LATITUDE, LONGITUDE, ALTITUDE_M = -31.95, 116.05, 250.0
# Linke turbidity by month (January first): clear, dry summers, a little hazier in winter
LINKE_TURBIDITY = (3.4, 3.4, 3.2, 3.0, 2.8, 2.7, 2.7, 2.8, 3.0, 3.2, 3.3, 3.4)
# chance that a day without rain is clear (clear-sky index 0.9-1.0), January first
CLEAR_DAY_CHANCE = (0.8, 0.8, 0.7, 0.6, 0.45, 0.4, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8)
EMISSION_SOLAR_KG_PER_KWH = 0.041  # IPCC AR5 rooftop PV lifecycle median
DIESEL_KG_PER_L = 2.70972  # NGA 2024, the demo mine's fuel factor (emission_factors seed)
GRID_KG_PER_KWH = 0.51  # NGA 2024 AU-WA-SWIS scope 2 (emission_factors seed)

POWER_NOISE = 0.002
POA_NOISE = 0.01
TANK_NOISE_L = 3.0
MIN_LOAD_FRACTION = 0.40  # dispatch floor of a running genset
COMMIT_FRACTION = 0.90  # a committed set carries at most 90 % of its rating before the next starts
HA_PRECISION = 2  # decimals of Home Assistant's kWh sensor


@dataclass(frozen=True)
class Genset:
    id: str
    name: str
    rated_kw: float
    f0: float  # L/h per kW rated
    f1: float  # L/h per kW output
    power_meter: str
    fuel_meter: str


@dataclass(frozen=True)
class PvArray:
    id: str
    name: str
    kwp: float
    tilt_deg: float
    azimuth_deg: float  # pvlib: 0 north, 180 south
    inverter_kw: float
    power_meter: str
    irradiance_meter: str
    gamma_pdc_per_c: float = -0.0037
    losses_pct: float = 14.08
    inverter_efficiency: float = 0.96


@dataclass(frozen=True)
class Load:
    id: str
    name: str
    meter: str
    kind: str  # "plant" or "camp": which daily shape
    scale: float = 1.0
    cost_centre: str = ""
    ha_entity: str | None = None  # read from Home Assistant (tag = entity_id)


@dataclass(frozen=True)
class Tariff:
    energy_rate_per_kwh: float = 0.15
    peak_rate_per_kwh: float = 0.32
    peak_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday .. Friday
    peak_start_h: float = 7.0
    peak_end_h: float = 23.0
    demand_charge_per_kw_month: float = 18.50
    demand_interval_minutes: int = 30
    daily_charge: float = 2.40


@dataclass(frozen=True)
class StationDesign:
    """What the power station is; the demo's (:data:`DEMO_STATION`) or a scaled one."""

    gensets: tuple[Genset, ...]
    arrays: tuple[PvArray, ...]
    loads: tuple[Load, ...]
    grid_limit_kw: float = 250.0
    grid_meter: str = "EI-931"
    temperature_meter: str = "TT-921"
    wind_meter: str = "WS-921"
    tank_id: str = "diesel_tank"
    tank_capacity_l: float = 60_000.0
    tank_level_meter: str = "LT-901"
    delivery_meter: str = "FD-901"
    delivery_l: float = 30_000.0
    reorder_fraction: float = 0.40  # a delivery comes the day the 07:00 level is below this
    fuel_price_per_l: float = 1.95
    tariff: Tariff = field(default_factory=Tariff)

    @property
    def interval_meters(self) -> list[tuple[str, str, str]]:
        """(meter id, measurand, unit) of every 15-minute meter, in the logger's column order."""
        out: list[tuple[str, str, str]] = []
        for g in self.gensets:
            out += [(g.power_meter, "power", "kW"), (g.fuel_meter, "fuel", "L")]
        for a in self.arrays:
            out += [(a.power_meter, "power", "kW"), (a.irradiance_meter, "irradiance", "W/m2")]
        out += [
            (self.temperature_meter, "temperature", "degC"),
            (self.wind_meter, "wind_speed", "m/s"),
            (self.grid_meter, "energy", "kWh"),
            (self.tank_level_meter, "tank_contents", "L"),
        ]
        out += [(ld.meter, "energy", "kWh") for ld in self.loads]
        return out

    @property
    def n_meters(self) -> int:
        return len(self.interval_meters) + 1  # and the manual delivery meter


DEMO_STATION = StationDesign(
    gensets=(
        # committed in this order: the 500 kW set carries the base, the 800 kW set joins it
        Genset("genset_2", "Genset 2 (500 kW)", 500.0, 0.020, 0.25, "JG-912", "FG-912"),
        Genset("genset_1", "Genset 1 (800 kW)", 800.0, 0.016, 0.25, "JG-911", "FG-911"),
    ),
    arrays=(PvArray("pv_1", "Camp and workshop PV", 500.0, 20.0, 0.0, 450.0, "JP-921", "RI-921"),),
    loads=(
        Load("plant", "Plant services and workshops", "EL-941", "plant", cost_centre="processing"),
        Load(
            "camp",
            "Accommodation camp",
            "EL-942",
            "camp",
            cost_centre="camp",
            ha_entity="sensor.camp_energy",
        ),
    ),
)
HA_CAMP_ENTITY = "sensor.camp_energy"


def scaled_station(n_meters: int = 200) -> StationDesign:
    """A larger station of about ``n_meters`` meters for benchmarks: 10 gensets of 3.5 MW,
    arrays of 250 kWp and loads (plant and camp shapes alternating, the first one from Home
    Assistant) in a 2 : 5 ratio of array to load meters, sized so that the loads stay above the
    solar and the gensets cover what the grid (4 MW) does not."""
    n_gensets = 10
    rest = n_meters - 2 * n_gensets - 5  # temperature, wind, grid, tank level, deliveries
    n_arrays = max(1, rest * 2 // 9)
    n_loads = max(1, rest - 2 * n_arrays)
    # the loads' floor (~250 kW x scale each) stays above the arrays' 225 kW inverters
    scale = max(0.3, 1.3 * n_arrays * 225.0 / (n_loads * 250.0))
    gensets = tuple(
        Genset(f"genset_{i:02d}", f"Genset {i}", 3500.0, 0.015, 0.25, f"JG-{i:03d}", f"FG-{i:03d}")
        for i in range(1, n_gensets + 1)
    )
    arrays = tuple(
        PvArray(
            f"pv_{i:03d}",
            f"PV array {i}",
            250.0,
            10.0 + 5 * (i % 4),
            float(((i * 37) % 91 - 45) % 360),  # north +- 45 degrees
            225.0,
            f"JP-{i:03d}",
            f"RI-{i:03d}",
        )
        for i in range(1, n_arrays + 1)
    )
    loads = tuple(
        Load(
            f"load_{i:03d}",
            f"Load {i}",
            f"EL-{i:03d}",
            "camp" if i % 2 else "plant",
            scale=scale,
            cost_centre="camp" if i % 2 else "processing",
            ha_entity=f"sensor.load_{i:03d}_energy" if i == 1 else None,
        )
        for i in range(1, n_loads + 1)
    )
    peak = n_loads * scale * 700.0
    return StationDesign(
        gensets=gensets,
        arrays=arrays,
        loads=loads,
        grid_limit_kw=max(250.0, round(0.12 * peak, -1)),
        tank_capacity_l=1_500_000.0,
        delivery_l=600_000.0,
    )


# -- physics -----------------------------------------------------------------------------------
def fuel_l_per_h(rated_kw: float, f0: float, f1: float, p_kw: np.ndarray) -> np.ndarray:
    """HOMER fuel curve: (F0 x rated + F1 x P) L/h while running (P > 0), 0 when stopped."""
    p = np.asarray(p_kw, dtype="float64")
    return np.where(p > 0, f0 * rated_kw + f1 * p, 0.0)


def specific_fuel_l_per_kwh(load_fraction: float | np.ndarray, f0: float, f1: float) -> np.ndarray:
    """SFC(p) = F1 + F0 / p (L/kWh) at load fraction p of the rating."""
    return f1 + f0 / np.asarray(load_fraction, dtype="float64")


def pvwatts_ac_kw(
    poa_w_m2: np.ndarray, temp_air_c: np.ndarray, wind_m_s: np.ndarray, array: PvArray
) -> np.ndarray:
    """AC kW of an array: the marts' chain (faiman cell temperature, pvwatts DC, system losses,
    pvwatts inverter with pdc0 = inverter kW / nominal efficiency)."""
    poa = np.asarray(poa_w_m2, dtype="float64")
    t_cell = pvlib.temperature.faiman(poa, np.asarray(temp_air_c), np.asarray(wind_m_s))
    pdc = pvlib.pvsystem.pvwatts_dc(poa, t_cell, array.kwp, array.gamma_pdc_per_c)
    pdc = pdc * (1 - array.losses_pct / 100)
    ac = pvlib.inverter.pvwatts(
        pdc, array.inverter_kw / array.inverter_efficiency, array.inverter_efficiency
    )
    return np.where(pdc > 0, np.asarray(ac, dtype="float64"), 0.0)


@dataclass(frozen=True)
class Sky:
    """Sun and clear-sky irradiance at each interval's midpoint."""

    zenith: np.ndarray
    azimuth: np.ndarray
    ghi_clear: np.ndarray
    dni_extra: np.ndarray
    times: pd.DatetimeIndex


def clear_sky(interval_starts: pd.DatetimeIndex) -> Sky:
    """Ineichen clear-sky GHI at the midpoints of the intervals (monthly Linke turbidity)."""
    mid = interval_starts + pd.Timedelta(minutes=7.5)
    pos = pvlib.solarposition.get_solarposition(mid, LATITUDE, LONGITUDE, ALTITUDE_M)
    airmass = pvlib.atmosphere.get_relative_airmass(pos["apparent_zenith"].to_numpy())
    am_abs = pvlib.atmosphere.get_absolute_airmass(airmass, pvlib.atmosphere.alt2pres(ALTITUDE_M))
    local_month = mid.tz_convert(TIMEZONE).month.to_numpy()
    linke = np.array(LINKE_TURBIDITY)[local_month - 1]
    dni_extra = pvlib.irradiance.get_extra_radiation(mid).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):  # night: the sun below the horizon
        cs = pvlib.clearsky.ineichen(
            pos["apparent_zenith"].to_numpy(), am_abs, linke, ALTITUDE_M, dni_extra
        )
    ghi = np.nan_to_num(np.asarray(cs["ghi"], dtype="float64"))
    return Sky(
        zenith=pos["zenith"].to_numpy(),
        azimuth=pos["azimuth"].to_numpy(),
        ghi_clear=ghi,
        dni_extra=dni_extra,
        times=mid,
    )


def clear_sky_index(seed: int, start: date, days: int, daily_rain_mm: np.ndarray) -> np.ndarray:
    """Cloudiness per interval: a day's mean index (clear 0.9-1.0, broken 0.45-0.9, rain days
    0.2-0.55) with passing cloud on top in proportion to the day's cloudiness."""
    draws = calendar_draws(
        seed,
        "energy:cloud_days",
        start,
        days,
        lambda rng, month: np.column_stack(
            [rng.random(len(month)), rng.random(len(month)), [d.month for d in month]]
        ),
    )
    month = draws[:, 2].astype(int)
    clear = draws[:, 0] < np.array(CLEAR_DAY_CHANCE)[month - 1]
    k_day = np.where(clear, 0.9 + 0.1 * draws[:, 1], 0.45 + 0.45 * draws[:, 1])
    k_day = np.where(daily_rain_mm > 0.5, 0.2 + 0.35 * draws[:, 1], k_day)
    passing = calendar_noise(seed, "energy:cloud_passing", start, days, 0.5, 3)[:-1]
    k = np.repeat(k_day, STEPS_PER_DAY) * (1 + passing * np.repeat(1 - k_day, STEPS_PER_DAY))
    return np.clip(k, 0.05, 1.05)


def plane_of_array(sky: Sky, k: np.ndarray, array: PvArray) -> np.ndarray:
    """POA W/m2 of ``array`` for GHI = k x clear-sky GHI (Erbs split, isotropic sky)."""
    ghi = k * sky.ghi_clear
    split = pvlib.irradiance.erbs(ghi, sky.zenith, sky.times)
    poa = pvlib.irradiance.get_total_irradiance(
        array.tilt_deg,
        array.azimuth_deg,
        sky.zenith,
        sky.azimuth,
        np.asarray(split["dni"]),
        ghi,
        np.asarray(split["dhi"]),
        dni_extra=sky.dni_extra,
    )
    return np.clip(np.nan_to_num(np.asarray(poa["poa_global"], dtype="float64")), 0.0, None)


def load_kw(load: Load, seed: int, start: date, days: int, temperature: np.ndarray) -> np.ndarray:
    """Interval-mean kW of a load: a weekday/weekend daily shape, air-conditioning on hot
    afternoons (camp), and 3 % red noise."""
    dates = [start + timedelta(days=d) for d in range(days)]
    weekday = np.repeat([d.weekday() for d in dates], STEPS_PER_DAY)
    hour = np.tile((np.arange(STEPS_PER_DAY) + 0.5) / 4.0, days)
    temp = temperature[:-1]
    if load.kind == "plant":
        # day shift 06:00-18:00 with ramps; Saturday lighter, Sunday a skeleton crew
        shift = np.clip(np.minimum(hour - 5.5, 18.5 - hour), 0.0, 1.0)
        crew = np.choose(np.clip(weekday - 4, 0, 2), [420.0, 220.0, 60.0])
        kw = 380.0 + crew * shift
    else:
        morning = np.exp(-(((hour - 6.0) / 1.0) ** 2))
        evening = np.exp(-(((hour - 19.5) / 2.0) ** 2))
        cooling = 6.0 * np.clip(temp - 24.0, 0.0, None)
        heating = 4.0 * np.clip(12.0 - temp, 0.0, None)
        kw = 125.0 + 80.0 * morning + 140.0 * evening + cooling + heating
    noise = calendar_noise(seed, f"energy:load:{load.id}", start, days, 0.03, 6)[:-1]
    return load.scale * kw * (1 + noise)


def dispatch(
    need_kw: np.ndarray, gensets: Sequence[Genset], grid_limit_kw: float
) -> tuple[np.ndarray, np.ndarray]:
    """(grid kW, genset kW (intervals, gensets)) covering ``need`` = loads - solar (>= 0)."""
    rated = np.array([g.rated_kw for g in gensets])
    cum = np.cumsum(rated)
    beyond = np.maximum(need_kw - grid_limit_kw, 0.0)
    committed = np.where(
        beyond > 0, np.searchsorted(COMMIT_FRACTION * cum, beyond, side="left") + 1, 0
    )
    committed = np.minimum(committed, len(gensets))
    cap = np.where(committed > 0, cum[np.maximum(committed - 1, 0)], 1.0)
    on = np.arange(len(gensets))[None, :] < committed[:, None]
    share = beyond[:, None] * rated[None, :] / cap[:, None]
    power = np.where(on, np.maximum(np.minimum(share, rated), MIN_LOAD_FRACTION * rated), 0.0)
    grid = need_kw - power.sum(axis=1)
    return grid, power


# -- faults (physics and the Home Assistant export) --------------------------------------------
@dataclass(frozen=True)
class EnergyFaults:
    """Where the energy faults go (local day indexes; ``None`` = not in the plan)."""

    degrade_genset: str = "genset_2"
    degrade_day: int | None = None  # first day of the ramp
    degrade_ramp_days: int = 28
    degrade_to: float = 1.25
    string_day: int | None = None  # PV AC x 7/8 from 00:00 local of this day on
    string_array: str = "pv_1"
    theft_day: int | None = None  # 400 L drawn 01:00-02:00 local
    theft_l: float = 400.0
    ha_reset_day: int | None = None  # the camp sensor restarts from 0 at 14:00 local
    ha_unavailable_days: tuple[int, ...] = ()  # 09:00-12:00 local 'unavailable', one 'unknown'

    THEFT_FIRST_STEP = 4  # 01:00 local
    THEFT_STEPS = 4
    RESET_STEP = 56  # 14:00 local
    UNAVAILABLE_FIRST, UNAVAILABLE_STEPS = 36, 12  # 09:00-11:45 local
    UNKNOWN_STEP = 80  # 20:00 local: one 'unknown' (an integration reload)

    def degrade_factor(self, days: int) -> np.ndarray:
        """(days,) fuel-curve factor of the degrading genset."""
        out = np.ones(days)
        if self.degrade_day is None:
            return out
        d = np.arange(days) - self.degrade_day
        ramp = np.clip((d + 1) / self.degrade_ramp_days, 0.0, 1.0)
        return out + (self.degrade_to - 1.0) * ramp


ENERGY_FAULT_KINDS = (
    "genset_degradation",
    "pv_string_failure",
    "fuel_theft",
    "ha_counter_reset",
    "ha_unavailable",
)


def plan_energy_faults(
    days: int, kinds: Sequence[str] | frozenset[str] = ENERGY_FAULT_KINDS
) -> EnergyFaults:
    """The demo's energy faults of ``kinds`` for a period of ``days``: degradation from 35 % of
    the period (its alert needs 20 running days in the 30-day window), the PV string at 60 %,
    the theft at 75 %, the Home Assistant reset at 45 % and unavailable runs at 50 % and 52 %."""
    from demo.faults import fault_day

    def day(kind: str, fraction: float) -> int | None:
        return fault_day(days, fraction) if kind in kinds else None

    ha = "ha_unavailable" in kinds
    return EnergyFaults(
        degrade_day=day("genset_degradation", 0.35),
        string_day=day("pv_string_failure", 0.6),
        theft_day=day("fuel_theft", 0.75),
        ha_reset_day=day("ha_counter_reset", 0.45),
        ha_unavailable_days=(
            tuple(sorted({fault_day(days, 0.5), fault_day(days, 0.52)})) if ha else ()
        ),
    )


# -- simulation --------------------------------------------------------------------------------
@dataclass
class PowerStation:
    """One simulated period: per-interval truth (kW, litres) and per-instant tank contents."""

    design: StationDesign
    start: date
    days: int
    seed: int
    ts_utc: pd.DatetimeIndex  # days * 96 + 1 instants
    faults: EnergyFaults
    load: np.ndarray  # (n, loads) kW
    solar: np.ndarray  # (n, arrays) kW delivered
    solar_clean: np.ndarray  # (n, arrays) kW the healthy array gives on the true weather
    poa: np.ndarray  # (n, arrays) W/m2
    temperature: np.ndarray  # (n,) degC, interval start
    wind: np.ndarray  # (n,) m/s
    grid: np.ndarray  # (n,) kW import
    genset: np.ndarray  # (n, gensets) kW
    fuel: np.ndarray  # (n, gensets) L burned
    fuel_expected: np.ndarray  # (n, gensets) L on the fuel curve
    tank: np.ndarray  # (n + 1,) L at each instant
    delivered: np.ndarray  # (n,) L delivered in the interval
    theft: np.ndarray  # (n,) L drawn off the books

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=d) for d in range(self.days)]


def simulate_energy(
    start: date,
    days: int,
    seed: int,
    drivers: Drivers | None = None,
    faults: EnergyFaults | None = None,
    design: StationDesign = DEMO_STATION,
) -> PowerStation:
    """Simulate the station for ``days`` local days from ``start``; ``drivers`` is the demo
    mine's weather (drawn here with ``seed`` when not given)."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if drivers is None:
        drivers = make_drivers(start, days, seed, 1, 1.0, PERTH_CLIMATE)
    faults = faults or EnergyFaults()
    n = days * STEPS_PER_DAY
    first = pd.Timestamp(start).tz_localize(TIMEZONE).tz_convert("UTC")
    ts = pd.date_range(first, periods=n + 1, freq="15min")
    temperature = drivers.temperature[:-1].astype("float64")
    wind = drivers.wind[:-1].astype("float64")
    daily_rain = drivers.rain_mm.reshape(days, -1).sum(axis=1)

    sky = clear_sky(ts[:-1])
    k = clear_sky_index(seed, start, days, daily_rain)
    poa = np.column_stack([plane_of_array(sky, k, a) for a in design.arrays])
    clean = np.column_stack(
        [pvwatts_ac_kw(poa[:, i], temperature, wind, a) for i, a in enumerate(design.arrays)]
    )
    solar = clean.copy()
    if faults.string_day is not None:
        i = [a.id for a in design.arrays].index(faults.string_array)
        solar[faults.string_day * STEPS_PER_DAY :, i] *= 7 / 8

    load = np.column_stack(
        [load_kw(ld, seed, start, days, drivers.temperature) for ld in design.loads]
    )
    need = load.sum(axis=1) - solar.sum(axis=1)
    if (need < 0).any():
        raise ValueError("the loads fall below the solar output: the demo never curtails")
    grid, genset = dispatch(need, design.gensets, design.grid_limit_kw)

    expected = np.column_stack(
        [
            fuel_l_per_h(g.rated_kw, g.f0, g.f1, genset[:, i]) * STEP_H
            for i, g in enumerate(design.gensets)
        ]
    )
    fuel = expected.copy()
    if faults.degrade_day is not None:
        i = [g.id for g in design.gensets].index(faults.degrade_genset)
        fuel[:, i] *= np.repeat(faults.degrade_factor(days), STEPS_PER_DAY)

    theft = np.zeros(n)
    if faults.theft_day is not None:
        s = faults.theft_day * STEPS_PER_DAY + EnergyFaults.THEFT_FIRST_STEP
        theft[s : s + EnergyFaults.THEFT_STEPS] = faults.theft_l / EnergyFaults.THEFT_STEPS
    tank, delivered = _run_tank(design, seed, days, fuel.sum(axis=1) + theft)
    return PowerStation(
        design=design,
        start=start,
        days=days,
        seed=seed,
        ts_utc=ts,
        faults=faults,
        load=load,
        solar=solar,
        solar_clean=clean,
        poa=poa,
        temperature=temperature,
        wind=wind,
        grid=grid,
        genset=genset,
        fuel=fuel,
        fuel_expected=expected,
        tank=tank,
        delivered=delivered,
        theft=theft,
    )


DELIVERY_CHECK_STEP, DELIVERY_STEP = 28, 40  # level read at 07:00, the truck at 10:00 local


def _run_tank(
    design: StationDesign, seed: int, days: int, drawn: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Tank contents at each instant and the deliveries: a truck of ``delivery_l`` arrives at
    10:00 on a day whose 07:00 contents are below the reorder fraction."""
    initial = design.tank_capacity_l * (0.55 + 0.2 * stream(seed, "energy:tank").random())
    delivered = np.zeros(days * STEPS_PER_DAY)
    level = np.empty(days * STEPS_PER_DAY + 1)
    level[0] = initial
    per_day = drawn.reshape(days, STEPS_PER_DAY)
    for d in range(days):
        base = d * STEPS_PER_DAY
        steps = np.r_[level[base], level[base] - np.cumsum(per_day[d])]
        if steps[DELIVERY_CHECK_STEP] < design.reorder_fraction * design.tank_capacity_l:
            delivered[base + DELIVERY_STEP] = design.delivery_l
            steps[DELIVERY_STEP + 1 :] += design.delivery_l
        if steps.min() < 0:
            raise ValueError(f"the tank runs dry on day {d}")
        level[base + 1 : base + STEPS_PER_DAY + 1] = steps[1:]
    return level, delivered


# -- readings ----------------------------------------------------------------------------------
def _month_noise(seed: int, name: str, start: date, days: int) -> np.ndarray:
    return calendar_draws(
        seed, name, start, days, lambda rng, d: rng.standard_normal((len(d), STEPS_PER_DAY))
    ).ravel()


def counted_tenths(amounts: np.ndarray) -> np.ndarray:
    """Per-interval amounts as a pulse counter reports them: whole tenths of the running
    total, differenced, so any run of intervals sums to within 0.1 of the truth."""
    tenths = np.rint(np.r_[0.0, np.cumsum(amounts)] * 10).astype("int64")
    return np.diff(tenths) / 10


def register(amounts: np.ndarray, start_value: float, decimals: int = 1) -> np.ndarray:
    """A kWh register at each instant (len + 1), to 0.1 kWh (Home Assistant's sensor: 0.01)."""
    scale = 10**decimals
    return np.rint((start_value + np.r_[0.0, np.cumsum(amounts)]) * scale) / scale


def station_readings(ps: PowerStation) -> dict[str, np.ndarray]:
    """Every 15-minute meter's readings on ``ps.ts_utc`` (NaN where none): interval meters
    fill the first ``n`` instants, registers and the tank gauge all ``n + 1``."""
    d, n = ps.design, ps.days * STEPS_PER_DAY
    seed, start, days = ps.seed, ps.start, ps.days
    out: dict[str, np.ndarray] = {}

    def interval(values: np.ndarray, decimals: int) -> np.ndarray:
        v = np.full(n + 1, np.nan)
        v[:-1] = np.round(values, decimals)
        return v

    for i, g in enumerate(d.gensets):
        noise = _month_noise(seed, f"energy:meter:{g.power_meter}", start, days)
        out[g.power_meter] = interval(ps.genset[:, i] * (1 + POWER_NOISE * noise), 1)
        v = np.full(n + 1, np.nan)
        v[:-1] = counted_tenths(ps.fuel[:, i])
        out[g.fuel_meter] = v
    for i, a in enumerate(d.arrays):
        noise = _month_noise(seed, f"energy:meter:{a.power_meter}", start, days)
        out[a.power_meter] = interval(ps.solar[:, i] * (1 + POWER_NOISE * noise), 1)
        noise = _month_noise(seed, f"energy:meter:{a.irradiance_meter}", start, days)
        out[a.irradiance_meter] = interval(ps.poa[:, i] * (1 + POA_NOISE * noise), 0)
    out[d.temperature_meter] = interval(ps.temperature, 1)
    out[d.wind_meter] = interval(ps.wind, 1)
    out[d.grid_meter] = register(ps.grid * STEP_H, _start_value(seed, d.grid_meter))
    noise = _month_noise(seed, f"energy:meter:{d.tank_level_meter}", start, days + 1)
    out[d.tank_level_meter] = np.round(ps.tank + TANK_NOISE_L * noise[: n + 1], 0)
    for i, ld in enumerate(d.loads):
        decimals = HA_PRECISION if ld.ha_entity else 1
        out[ld.meter] = register(ps.load[:, i] * STEP_H, _start_value(seed, ld.meter), decimals)
    return out


def _start_value(seed: int, meter_id: str) -> float:
    # at most 2 GWh on the counter, so a year of the busiest load stays below the 10 GWh wrap
    return round(float(stream(seed, f"energy:register:{meter_id}").uniform(1e4, 2e6)), 1)


def delivery_readings(ps: PowerStation) -> pd.DataFrame:
    """The fuel log of deliveries: meter_id, ts_utc (00:00 local), value (litres delivered
    during the local day that starts then, from the trucks' dockets; 0 on a day without a
    truck), unit. A reading every day keeps the meter complete where one per truck would
    leave it silent for days."""
    days = ps.days
    midnight = np.arange(days) * STEPS_PER_DAY
    return pd.DataFrame(
        {
            "meter_id": ps.design.delivery_meter,
            "ts_utc": ps.ts_utc[midnight],
            "value": _per_day(ps.delivered, days),
            "unit": "L",
        }
    )


# -- truth -------------------------------------------------------------------------------------
def _per_day(values: np.ndarray, days: int) -> np.ndarray:
    return values.reshape(days, STEPS_PER_DAY, *values.shape[1:]).sum(axis=1)


def rolling_ratio(
    fuel: np.ndarray, expected: np.ndarray, running: np.ndarray, window: int = 30
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """30-day sums of fuel and expected fuel over the running days of the window ending on
    each day, their ratio and the number of running days."""
    f = np.where(running, fuel, 0.0)
    e = np.where(running, expected, 0.0)
    c = running.astype(int)

    def trailing(x: np.ndarray) -> np.ndarray:
        cs = np.r_[0, np.cumsum(x)]
        idx = np.arange(x.size) + 1
        return cs[idx] - cs[np.maximum(idx - window, 0)]

    f30, e30, n30 = trailing(f), trailing(e), trailing(c)
    ratio = np.divide(f30, e30, out=np.full(f30.size, np.nan), where=e30 > 0)
    return f30, e30, ratio, n30


def consecutive_below(pi: np.ndarray, threshold: float) -> np.ndarray:
    """Days running, up to each day, with the performance index below ``threshold``."""
    out = np.zeros(pi.size, dtype=int)
    run = 0
    for i, v in enumerate(pi):
        run = run + 1 if np.isfinite(v) and v < threshold else 0
        out[i] = run
    return out


def truth_tables(ps: PowerStation) -> dict[str, pd.DataFrame]:
    """The station's daily truth, one table per kind of thing (see :func:`write_energy_truth`)."""
    d, days = ps.design, ps.days
    day = np.array(ps.dates, dtype=object)
    price = d.fuel_price_per_l
    gens = []
    for i, g in enumerate(d.gensets):
        kwh = _per_day(ps.genset[:, i] * STEP_H, days)
        running = _per_day((ps.genset[:, i] > 0) * STEP_H, days)
        fuel = _per_day(ps.fuel[:, i], days)
        expected = _per_day(ps.fuel_expected[:, i], days)
        p = ps.genset[:, i].reshape(days, -1)
        on = p > 0
        min_frac = np.where(on.any(axis=1), np.where(on, p, np.inf).min(axis=1), np.nan)
        f30, e30, ratio30, n30 = rolling_ratio(fuel, expected, running > 0)
        gens.append(
            pd.DataFrame(
                {
                    "day": day,
                    "generator_id": g.id,
                    "energy_kwh": kwh,
                    "running_hours": running,
                    "min_load_fraction": min_frac / g.rated_kw,
                    "fuel_l": fuel,
                    "expected_fuel_l": expected,
                    "efficiency_ratio": np.divide(
                        fuel, expected, out=np.full(days, np.nan), where=expected > 0
                    ),
                    "fuel_30d_l": f30,
                    "expected_fuel_30d_l": e30,
                    "efficiency_ratio_30d": ratio30,
                    "n_days_30d": n30,
                    "fuel_cost": fuel * price,
                    "co2e_kg": fuel * DIESEL_KG_PER_L,
                }
            )
        )
    arrays = []
    for i, a in enumerate(d.arrays):
        kwh = _per_day(ps.solar[:, i] * STEP_H, days)
        expected = _per_day(ps.solar_clean[:, i] * STEP_H, days)
        pi = np.divide(kwh, expected, out=np.full(days, np.nan), where=expected > 0)
        arrays.append(
            pd.DataFrame(
                {
                    "day": day,
                    "array_id": a.id,
                    "energy_kwh": kwh,
                    "expected_kwh": expected,
                    "poa_kwh_per_m2": _per_day(ps.poa[:, i] * STEP_H / 1000, days),
                    "performance_ratio": kwh
                    / (a.kwp * _per_day(ps.poa[:, i] * STEP_H / 1000, days)),
                    "performance_index": pi,
                    "days_below_pi": consecutive_below(pi, 0.90),
                    "co2e_kg": kwh * EMISSION_SOLAR_KG_PER_KWH,
                }
            )
        )
    at_midnight = ps.tank[::STEPS_PER_DAY]
    metered = _per_day(ps.fuel.sum(axis=1), days)
    delivered = _per_day(ps.delivered, days)
    tank = pd.DataFrame(
        {
            "day": day,
            "tank_id": d.tank_id,
            "opening_l": at_midnight[:-1],
            "closing_l": at_midnight[1:],
            "delivered_l": delivered,
            "metered_use_l": metered,
            "unaccounted_l": at_midnight[:-1] - at_midnight[1:] + delivered - metered,
        }
    )
    steps = np.flatnonzero(ps.delivered > 0)
    local = ps.ts_utc[steps].tz_convert(TIMEZONE)
    deliveries = pd.DataFrame(
        {
            "day": np.array([t.date() for t in local], dtype=object),
            "tank_id": d.tank_id,
            "meter_id": d.delivery_meter,
            "ts_utc": [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in ps.ts_utc[steps]],
            "delivered_l": ps.delivered[steps],
        }
    )
    grid = _grid_truth(ps, day)
    loads = []
    for i, ld in enumerate(d.loads):
        kw = ps.load[:, i].reshape(days, -1)
        loads.append(
            pd.DataFrame(
                {
                    "day": day,
                    "load_id": ld.id,
                    "meter_id": ld.meter,
                    "energy_kwh": kw.sum(axis=1) * STEP_H,
                    "peak_kw": kw.max(axis=1),
                }
            )
        )
    gen_kwh = _per_day(ps.genset.sum(axis=1) * STEP_H, days)
    solar_kwh = _per_day(ps.solar.sum(axis=1) * STEP_H, days)
    grid_kwh = _per_day(ps.grid * STEP_H, days)
    load_kwh = _per_day(ps.load.sum(axis=1) * STEP_H, days)
    fuel_l = _per_day(ps.fuel.sum(axis=1), days)
    site = pd.DataFrame(
        {
            "day": day,
            "generator_kwh": gen_kwh,
            "solar_kwh": solar_kwh,
            "grid_kwh": grid_kwh,
            "load_kwh": load_kwh,
            "balance_kwh": gen_kwh + solar_kwh + grid_kwh - load_kwh,
            "fuel_l": fuel_l,
            "generator_cost": fuel_l * price,
            "grid_cost": grid["energy_cost"].to_numpy() + grid["daily_charge"].to_numpy(),
            "solar_cost": 0.0,
            "co2e_kg": fuel_l * DIESEL_KG_PER_L
            + grid_kwh * GRID_KG_PER_KWH
            + solar_kwh * EMISSION_SOLAR_KG_PER_KWH,
        }
    )
    site["total_cost"] = site["generator_cost"] + site["grid_cost"] + site["solar_cost"]
    return {
        "energy_generators_daily": pd.concat(gens, ignore_index=True),
        "energy_solar_daily": pd.concat(arrays, ignore_index=True),
        "energy_tank_daily": tank,
        "energy_deliveries": deliveries,
        "energy_grid_daily": grid,
        "energy_loads_daily": pd.concat(loads, ignore_index=True),
        "energy_site_daily": site,
    }


def peak_period(ts_utc: pd.DatetimeIndex, tariff: Tariff) -> np.ndarray:
    """(intervals,) bool: the interval starts in the tariff's peak period (local time)."""
    local = ts_utc.tz_convert(TIMEZONE)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60
    return np.isin(local.day_of_week.to_numpy(), tariff.peak_days) & (
        (hour >= tariff.peak_start_h) & (hour < tariff.peak_end_h)
    )


def _grid_truth(ps: PowerStation, day: np.ndarray) -> pd.DataFrame:
    t, days = ps.design.tariff, ps.days
    peak = peak_period(ps.ts_utc[:-1], t)
    kwh = ps.grid * STEP_H
    rate = np.where(peak, t.peak_rate_per_kwh, t.energy_rate_per_kwh)
    per = t.demand_interval_minutes // 15
    demand = ps.grid.reshape(days, STEPS_PER_DAY // per, per).mean(axis=2).max(axis=1)
    months = np.array([(x.year, x.month) for x in ps.dates])
    month_peak = np.empty(days)
    for i in range(days):
        same = (months[: i + 1] == months[i]).all(axis=1)
        month_peak[i] = demand[: i + 1][same].max()
    return pd.DataFrame(
        {
            "day": day,
            "grid_id": "grid",
            "import_kwh": _per_day(kwh, days),
            "peak_kwh": _per_day(np.where(peak, kwh, 0.0), days),
            "offpeak_kwh": _per_day(np.where(peak, 0.0, kwh), days),
            "energy_cost": _per_day(kwh * rate, days),
            "daily_charge": t.daily_charge,
            "peak_kw": demand,
            "month_peak_kw_to_date": month_peak,
            "demand_charge_to_date": month_peak * t.demand_charge_per_kw_month,
            "co2e_kg": _per_day(kwh, days) * GRID_KG_PER_KWH,
        }
    )


def fault_alert_days(ps: PowerStation, tables: dict[str, pd.DataFrame]) -> dict[str, int | None]:
    """Day index on which each energy fault's alert must first fire, from the truth the way
    the marts compute it (``None`` when it does not fire within the period)."""
    f = ps.faults

    def first(mask: pd.Series) -> int | None:
        hits = np.flatnonzero(mask.to_numpy())
        return int(hits[0]) if hits.size else None

    out: dict[str, int | None] = {}
    gens = tables["energy_generators_daily"]
    if f.degrade_day is not None:
        g = gens[gens["generator_id"] == f.degrade_genset].reset_index(drop=True)
        out["genset_degradation"] = first(
            (g["efficiency_ratio_30d"] > 1.10) & (g["n_days_30d"] >= 20)
        )
    if f.string_day is not None:
        s = tables["energy_solar_daily"]
        s = s[s["array_id"] == f.string_array].reset_index(drop=True)
        out["pv_string_failure"] = first(s["days_below_pi"] >= 3)
    if f.theft_day is not None:
        out["fuel_theft"] = first(tables["energy_tank_daily"]["unaccounted_l"] > 50)
    return out


def write_energy_truth(ps: PowerStation, folder: Path) -> list[Path]:
    """The station's truth tables as CSV (6 decimals) in ``folder``."""
    paths = []
    for name, frame in truth_tables(ps).items():
        numeric = frame.select_dtypes("number").columns
        rounded = frame.assign(**{c: frame[c].round(6) + 0.0 for c in numeric})
        paths.append(folder / f"{name}.csv")
        rounded.to_csv(paths[-1], index=False, lineterminator="\n")
    return paths


# -- landing files -----------------------------------------------------------------------------
LOGGER_PATTERN = "power_station_{day}.csv"
HA_PATTERN = "home_assistant_history_{month}.csv"
LOGGER_HEADER = b"meter,time_utc,value,unit\n"


def _text(values: np.ndarray) -> pa.Array:
    return pc.fill_null(pc.cast(pa.array(values, from_pandas=True), pa.string()), "")


def write_logger_files(
    ps: PowerStation, readings: dict[str, np.ndarray], landing: Path, prefix: str = ""
) -> tuple[list[Path], int]:
    """``power_station_YYYYMMDD.csv`` (csv_long, ``meter,time_utc,value,unit``, rows by time
    then meter) for each local day, and the day after holding the closing instant. Meters read
    from Home Assistant are not on the logger."""
    ha = {ld.meter for ld in ps.design.loads if ld.ha_entity}
    meters = [(m, u) for m, _, u in ps.design.interval_meters if m not in ha]
    matrix = np.column_stack([readings[m] for m, _ in meters])
    stamps = pa.array(ps.ts_utc.strftime("%Y-%m-%dT%H:%M:%SZ").tolist(), type=pa.string())
    names = pa.array([m for m, _ in meters])
    units = pa.array([u for _, u in meters])
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    files, count = [], 0
    for day in range(ps.days + 1):
        first = day * STEPS_PER_DAY
        stop = min(first + STEPS_PER_DAY, len(ps.ts_utc))
        block = matrix[first:stop]
        present = ~np.isnan(block)
        steps, cols = np.nonzero(present)
        table = pa.table(
            {
                "meter": names.take(pa.array(cols)),
                "time_utc": stamps.take(pa.array(steps + first)),
                "value": _text(block[present]),
                "unit": units.take(pa.array(cols)),
            }
        )
        body = io.BytesIO()
        pacsv.write_csv(table, body, options)
        name = prefix + LOGGER_PATTERN.format(
            day=(ps.start + timedelta(days=day)).strftime("%Y%m%d")
        )
        (landing / name).write_bytes(LOGGER_HEADER + body.getvalue())
        files.append(landing / name)
        count += int(present.sum())
    return files, count


def ha_states(ps: PowerStation, readings: dict[str, np.ndarray]) -> pd.DataFrame:
    """The camp sensor's history as Home Assistant writes it: entity_id, state,
    last_changed (UTC), one row per change; with the plan's reset and unavailable runs."""
    load = next(ld for ld in ps.design.loads if ld.ha_entity)
    kwh = ps.load[:, list(ps.design.loads).index(load)] * STEP_H
    f = ps.faults
    values = readings[load.meter].copy()
    if f.ha_reset_day is not None:
        r = f.ha_reset_day * STEPS_PER_DAY + EnergyFaults.RESET_STEP
        # the sensor restarts at 0 just after instant r - 1: at r it shows the interval's kWh
        values[r:] = np.round(np.cumsum(kwh[r - 1 :])[: len(values) - r], HA_PRECISION)
    states = pd.Series(values).map(lambda v: f"{v:.{HA_PRECISION}f}")
    for d in f.ha_unavailable_days:
        s = d * STEPS_PER_DAY + EnergyFaults.UNAVAILABLE_FIRST
        states[s : s + EnergyFaults.UNAVAILABLE_STEPS] = "unavailable"
        states[d * STEPS_PER_DAY + EnergyFaults.UNKNOWN_STEP] = "unknown"
    changed = states.ne(states.shift())
    stamps = ps.ts_utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return pd.DataFrame(
        {
            "entity_id": load.ha_entity,
            "state": states[changed].to_numpy(),
            "last_changed": np.asarray(stamps)[changed.to_numpy()],
            "step": np.flatnonzero(changed.to_numpy()),
        }
    )


def write_ha_files(
    ps: PowerStation, readings: dict[str, np.ndarray], landing: Path, prefix: str = ""
) -> tuple[list[Path], int]:
    """``home_assistant_history_YYYY-MM.csv``: the camp sensor's history of each local month
    (the closing instant goes with the last month)."""
    states = ha_states(ps, readings)
    local = ps.ts_utc.tz_convert(TIMEZONE)
    month = np.asarray(local.strftime("%Y-%m"))[states["step"].to_numpy()]
    month[states["step"].to_numpy() == len(ps.ts_utc) - 1] = local[-2].strftime("%Y-%m")
    files = []
    for m in sorted(set(month)):
        rows = states[month == m][["entity_id", "state", "last_changed"]]
        path = landing / (prefix + HA_PATTERN.format(month=m))
        rows.to_csv(path, index=False, lineterminator="\n")
        files.append(path)
    return files, len(states)


def ha_fault_records(ps: PowerStation, files: list[Path]) -> list[dict[str, object]]:
    """Manifest entries of the Home Assistant export's reset and unavailable runs."""
    f, ts = ps.faults, ps.ts_utc
    load = next(ld for ld in ps.design.loads if ld.ha_entity)
    out: list[dict[str, object]] = []

    def file_of(step: int) -> str:
        m = ts[step].tz_convert(TIMEZONE).strftime("%Y-%m")
        return next(p.name for p in files if m in p.name)

    def iso(step: int) -> str:
        return ts[step].strftime("%Y-%m-%dT%H:%M:%SZ")

    if f.ha_reset_day is not None:
        r = f.ha_reset_day * STEPS_PER_DAY + EnergyFaults.RESET_STEP
        out.append(
            {
                "kind": "ha_counter_reset",
                "meter_id": load.meter,
                "file": file_of(r),
                "start_utc": iso(r),
                "end_utc": iso(r),
                "detail": f"{load.ha_entity} restarts from 0 kWh after {iso(r - 1)}: the "
                "reading at the reset is the interval's own kWh",
                "expected": "ingested: the fall is a reset (delta = the new reading), the "
                "camp's daily kWh equals the truth",
                "alert": None,
                "alert_day": None,
            }
        )
    for d in f.ha_unavailable_days:
        first = d * STEPS_PER_DAY + EnergyFaults.UNAVAILABLE_FIRST
        last = first + EnergyFaults.UNAVAILABLE_STEPS - 1
        unknown = d * STEPS_PER_DAY + EnergyFaults.UNKNOWN_STEP
        for s, e, what in (
            (first, last, f"'unavailable' for {EnergyFaults.UNAVAILABLE_STEPS} readings (3 h)"),
            (unknown, unknown, "'unknown' for one reading (an integration reload)"),
        ):
            out.append(
                {
                    "kind": "ha_unavailable",
                    "meter_id": load.meter,
                    "file": file_of(s),
                    "start_utc": iso(s),
                    "end_utc": iso(e),
                    "detail": f"{load.ha_entity} {what}; the next number carries the missed kWh",
                    "expected": "ingested: the 'unavailable'/'unknown' rows are no readings "
                    "(skipped, counted by reason), so those instants are gaps; the camp's daily "
                    "kWh still equals the truth (the register spans the gap within the day); "
                    "83 of 96 readings that day",
                    "alert": "meter_completeness_low",
                    "alert_day": (ps.start + timedelta(days=d)).isoformat(),
                }
            )
    return out


def physics_fault_records(
    ps: PowerStation, tables: dict[str, pd.DataFrame], prefix: str = ""
) -> list[dict[str, object]]:
    """Manifest entries of the degradation, the failed string and the theft, each with the
    alert that must fire and the local day it first does (from the truth)."""
    f, d = ps.faults, ps.design
    alerts = fault_alert_days(ps, tables)
    out: list[dict[str, object]] = []

    def day_text(i: int | None) -> str | None:
        return None if i is None else (ps.start + timedelta(days=i)).isoformat()

    def file_of(i: int) -> str:
        return prefix + LOGGER_PATTERN.format(day=(ps.start + timedelta(days=i)).strftime("%Y%m%d"))

    def iso(step: int) -> str:
        return ps.ts_utc[min(step, len(ps.ts_utc) - 1)].strftime("%Y-%m-%dT%H:%M:%SZ")

    if f.degrade_day is not None:
        g = next(x for x in d.gensets if x.id == f.degrade_genset)
        gens = tables["energy_generators_daily"]
        ratio = gens[gens["generator_id"] == g.id]["efficiency_ratio_30d"].to_numpy()
        hit = alerts["genset_degradation"]
        margin = (
            ""
            if hit is None
            else (
                f"; the 30-day ratio is {ratio[hit - 1]:.4f} the day before and {ratio[hit]:.4f} "
                "that day"
            )
        )
        out.append(
            {
                "kind": "genset_degradation",
                "meter_id": g.fuel_meter,
                "file": file_of(f.degrade_day),
                "start_utc": iso(f.degrade_day * STEPS_PER_DAY),
                "end_utc": iso(ps.days * STEPS_PER_DAY - 1),
                "detail": f"{g.id} burns the fuel curve x a factor rising from 1.0 to "
                f"{f.degrade_to} over {f.degrade_ramp_days} days, then held{margin}",
                "expected": "ingested",
                "alert": "generator_efficiency_decline",
                "alert_day": day_text(hit),
            }
        )
    if f.string_day is not None:
        a = next(x for x in d.arrays if x.id == f.string_array)
        out.append(
            {
                "kind": "pv_string_failure",
                "meter_id": a.power_meter,
                "file": file_of(f.string_day),
                "start_utc": iso(f.string_day * STEPS_PER_DAY),
                "end_utc": iso(ps.days * STEPS_PER_DAY - 1),
                "detail": f"one of 8 strings of {a.id} open: AC x 7/8 from 00:00 local on "
                "(performance index 0.875)",
                "expected": "ingested",
                "alert": "solar_underperformance",
                "alert_day": day_text(alerts["pv_string_failure"]),
            }
        )
    if f.theft_day is not None:
        s = f.theft_day * STEPS_PER_DAY + EnergyFaults.THEFT_FIRST_STEP
        out.append(
            {
                "kind": "fuel_theft",
                "meter_id": d.tank_level_meter,
                "file": file_of(f.theft_day),
                "start_utc": iso(s),
                "end_utc": iso(s + EnergyFaults.THEFT_STEPS - 1),
                "detail": f"{f.theft_l:g} L drawn from {d.tank_id} 01:00-02:00 local, through "
                "no generator meter",
                "expected": "ingested",
                "alert": "energy_fuel_unaccounted",
                "alert_day": day_text(alerts["fuel_theft"]),
            }
        )
    return out


# -- alert settings of the demo (fault-free days stay clear of every one) ----------------------
# Fault-free default year (seed 7, from 2025-07-01): plant at most 14 591 kWh/day, camp 4 177,
# the site's cost at most $8 135/day ($9 000 with the faults): about 10 % margin each.
LOAD_ANOMALY_KWH_PER_DAY = {"plant": 16_000.0, "camp": 4_600.0}
DAILY_COST_ALERT = 10_000.0
LOW_LOAD_FRACTION, LOW_LOAD_ALERT_HOURS = 0.30, 4
EFFICIENCY_ALERT_RATIO = 1.10
PI_ALERT_THRESHOLD, PI_ALERT_DAYS = 0.90, 3
UNACCOUNTED_ALERT_L_PER_DAY = 50.0


# -- the station in the site model -------------------------------------------------------------
POWER_STATION_LAYOUT = "power_station_logger"
HOME_ASSISTANT_LAYOUT = "home_assistant_camp"
REGISTER_ROLLOVER = 10_000_000.0
COST_CENTRES = {"processing": "Processing plant services", "camp": "Accommodation camp"}


def meter_layouts(design: StationDesign = DEMO_STATION) -> dict[str, str]:
    """meter id -> the layout its readings arrive in (the delivery dockets: the manual sheet)."""
    out = {m: POWER_STATION_LAYOUT for m, _, _ in design.interval_meters}
    for ld in design.loads:
        if ld.ha_entity:
            out[ld.meter] = HOME_ASSISTANT_LAYOUT
    return out


def has_station(site: SiteConfig, design: StationDesign = DEMO_STATION) -> bool:
    """The site carries the station's meters (the demo mine, once the site model can)."""
    return design.grid_meter in site.meters_by_id


def station_meter_ids(design: StationDesign = DEMO_STATION) -> frozenset[str]:
    """Every meter of the station, the delivery docket meter included."""
    return frozenset([*meter_layouts(design), design.delivery_meter])


def station_meter_dicts(design: StationDesign = DEMO_STATION) -> list[dict[str, object]]:
    """The station's meters as site-file entries (no Modbus: they arrive as files)."""
    names: dict[str, tuple[str, tuple[float, float] | None]] = {}
    for g in design.gensets:
        top = g.rated_kw * 1.2
        fuel_top = (g.f0 + g.f1) * g.rated_kw * STEP_H * 2
        names[g.power_meter] = (f"{g.name} output", (0.0, top))
        names[g.fuel_meter] = (f"{g.name} fuel flow (L per 15 min)", (0.0, round(fuel_top)))
    for a in design.arrays:
        names[a.power_meter] = (f"{a.name} AC output", (0.0, a.inverter_kw * 1.1))
        names[a.irradiance_meter] = (f"{a.name} plane-of-array irradiance", (0.0, 1600.0))
    names[design.temperature_meter] = ("Power station air temperature", (-10.0, 55.0))
    names[design.wind_meter] = ("Power station wind speed", (0.0, 40.0))
    names[design.grid_meter] = ("Grid tie import register", (0.0, REGISTER_ROLLOVER))
    names[design.tank_level_meter] = (
        "Bulk diesel tank contents",
        (0.0, design.tank_capacity_l * 1.02),
    )
    for ld in design.loads:
        names[ld.meter] = (f"{ld.name} energy", (0.0, REGISTER_ROLLOVER))
    out: list[dict[str, object]] = []
    ha = {ld.meter: ld.ha_entity for ld in design.loads if ld.ha_entity}
    for meter_id, measurand, unit in design.interval_meters:
        name, valid = names[meter_id]
        entry: dict[str, object] = {
            "id": meter_id,
            "name": name,
            "measurand": measurand,
            "unit": unit,
            "valid_range": valid,
        }
        if measurand == "energy":
            entry["rollover"] = REGISTER_ROLLOVER
        if meter_id in ha:
            entry["tag"] = ha[meter_id]
            entry["description"] = "Home Assistant kWh sensor (total_increasing), history.csv"
        out.append(entry)
    out.append(
        {
            "id": design.delivery_meter,
            "name": "Diesel deliveries (fuel log)",
            "measurand": "fuel",
            "unit": "L",
            "interval": "1d",
            "manual": True,
            "valid_range": (0.0, design.tank_capacity_l),
            "description": "litres delivered during the local day (the trucks' dockets), read "
            "at 00:00 for the day that starts then; 0 on a day without a truck",
        }
    )
    return out


def station_layouts(prefix: str = "") -> list[dict[str, object]]:
    """The station's two file drops as site-file layouts."""
    return [
        {
            "id": POWER_STATION_LAYOUT,
            "format": "csv_long",
            "pattern": f"{prefix}power_station_*.csv",
            "timezone": "UTC",
            "timestamp_column": "time_utc",
            "timestamp_format": "%Y-%m-%dT%H:%M:%SZ",
            "meter_column": "meter",
            "value_column": "value",
            "unit_column": "unit",
        },
        {
            "id": HOME_ASSISTANT_LAYOUT,
            "format": "home_assistant_history",
            "pattern": f"{prefix}home_assistant_history_*.csv",
            "timezone": "UTC",
            "timestamp_column": "last_changed",
            "meter_column": "entity_id",
            "value_column": "state",
        },
    ]


def energy_section(design: StationDesign = DEMO_STATION) -> dict[str, object]:
    """The site file's ``energy:`` section for the station (names as the site model has them)."""
    t = design.tariff
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    clock = "{:02d}:{:02d}".format
    return {
        "currency": "AUD",
        "location": {"latitude": LATITUDE, "longitude": LONGITUDE, "altitude_m": ALTITUDE_M},
        "fuel": {
            "price_per_l": design.fuel_price_per_l,
            "unaccounted_alert_l_per_day": UNACCOUNTED_ALERT_L_PER_DAY,
            "tanks": [
                {
                    "id": design.tank_id,
                    "name": "Bulk diesel tank",
                    "capacity_l": design.tank_capacity_l,
                    "level_meter": design.tank_level_meter,
                    "delivery_meter": design.delivery_meter,
                }
            ],
        },
        "generators": [
            {
                "id": g.id,
                "name": g.name,
                "rated_kw": g.rated_kw,
                "f0_l_per_h_per_kw_rated": g.f0,
                "f1_l_per_h_per_kw": g.f1,
                "power_meter": g.power_meter,
                "fuel_meter": g.fuel_meter,
                "tank": design.tank_id,
                "cost_centre": "processing",
                "low_load_fraction": LOW_LOAD_FRACTION,
                "low_load_alert_hours": LOW_LOAD_ALERT_HOURS,
                "efficiency_alert_ratio": EFFICIENCY_ALERT_RATIO,
            }
            for g in design.gensets
        ],
        "pv_arrays": [
            {
                "id": a.id,
                "name": a.name,
                "kwp": a.kwp,
                "tilt_deg": a.tilt_deg,
                "azimuth_deg": a.azimuth_deg,
                "inverter_kw": a.inverter_kw,
                "gamma_pdc_per_c": a.gamma_pdc_per_c,
                "losses_pct": a.losses_pct,
                "inverter_efficiency": a.inverter_efficiency,
                "power_meter": a.power_meter,
                "irradiance_meter": a.irradiance_meter,
                "temperature_meter": design.temperature_meter,
                "wind_meter": design.wind_meter,
                "pi_alert_threshold": PI_ALERT_THRESHOLD,
                "pi_alert_days": PI_ALERT_DAYS,
                "zero_production_irradiance_w_m2": 50.0,
            }
            for a in design.arrays
        ],
        "grid": {
            "id": "grid",
            "name": "Grid tie",
            "import_meter": design.grid_meter,
            "tariff": {
                "energy_rate_per_kwh": t.energy_rate_per_kwh,
                "periods": [
                    {
                        "name": "peak",
                        "rate_per_kwh": t.peak_rate_per_kwh,
                        "days": [days[d] for d in t.peak_days],
                        "start": clock(int(t.peak_start_h), round(t.peak_start_h % 1 * 60)),
                        "end": clock(int(t.peak_end_h), round(t.peak_end_h % 1 * 60)),
                    }
                ],
                "demand_charge_per_kw_month": t.demand_charge_per_kw_month,
                "demand_interval_minutes": t.demand_interval_minutes,
                "daily_charge": t.daily_charge,
            },
        },
        "solar_cost_per_kwh": 0.0,
        "loads": [
            {
                "id": ld.id,
                "name": ld.name,
                "meter": ld.meter,
                "cost_centre": ld.cost_centre or None,
                "operating_hours": (
                    {"days": days[:5], "start": "06:00", "end": "18:00"}
                    if ld.kind == "plant"
                    else {"days": days, "start": "05:00", "end": "22:00"}
                ),
                "anomaly_kwh_per_day": LOAD_ANOMALY_KWH_PER_DAY.get(ld.id, 0.0)
                or round(LOAD_ANOMALY_KWH_PER_DAY[ld.kind] * ld.scale),
            }
            for ld in design.loads
        ],
        "cost_centres": [{"id": k, "name": v} for k, v in COST_CENTRES.items()],
        "daily_cost_alert": DAILY_COST_ALERT if design == DEMO_STATION else None,
    }
