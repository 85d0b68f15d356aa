"""The demo mine's exogenous drivers: weather, ore throughput and borefield behaviour.

Everything here is random but reproducible: each driver draws from its own stream, seeded by the
run's seed and the driver's name, so changing the number of bores does not change the rain; and
each calendar month of a driver has its own stream (:func:`calendar_draws`), so a day's rain,
tonnes or noise are the same whatever period it is simulated in.
Arrays are per 15-minute interval (``n_steps``), per instant (``n_steps + 1``) or per local day.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

STEPS_PER_DAY = 96
TIP_MM = 0.2  # tipping-bucket resolution

# Perth-like climate (Bureau of Meteorology normals, rounded): mean monthly rain (mm) and rain days.
MONTHLY_RAIN_MM = (15, 15, 20, 40, 90, 125, 145, 120, 80, 45, 25, 10)
MONTHLY_RAIN_DAYS = (3, 3, 4, 8, 13, 16, 18, 17, 14, 10, 6, 4)
# Share of the river licence that may be taken: low flows in late summer restrict abstraction.
RIVER_AVAILABILITY = (0.3, 0.2, 0.2, 0.3, 0.6, 1.0, 1.0, 1.0, 1.0, 0.8, 0.6, 0.4)
WET_SEASON_MONTHS = frozenset({5, 6, 7, 8, 9, 10})


@dataclass(frozen=True)
class Climate:
    """Monthly normals of a mine's weather and water licence, January first."""

    rain_mm: tuple[float, ...]
    rain_days: tuple[float, ...]
    river_availability: tuple[float, ...]
    # months in which the discharge licence allows water to the creek
    wet_season_months: frozenset[int]


PERTH_CLIMATE = Climate(MONTHLY_RAIN_MM, MONTHLY_RAIN_DAYS, RIVER_AVAILABILITY, WET_SEASON_MONTHS)
# Johannesburg-like summer rainfall (South African Weather Service normals, rounded; ~700 mm a
# year, almost all October-March): the river runs and discharge is allowed in summer.
HIGHVELD_CLIMATE = Climate(
    rain_mm=(125, 90, 90, 50, 15, 5, 5, 5, 25, 70, 110, 110),
    rain_days=(12, 9, 9, 6, 2, 1, 1, 1, 3, 8, 12, 12),
    river_availability=(1.0, 1.0, 1.0, 0.8, 0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 0.6, 0.9),
    wet_season_months=frozenset({11, 12, 1, 2, 3, 4}),
)


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream for one named part of the simulation."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def smooth_noise(rng: np.random.Generator, n: int, sigma: float, tau_steps: float) -> np.ndarray:
    """Red noise with standard deviation ``sigma`` and correlation time ``tau_steps``."""
    kernel = _kernel(tau_steps)
    white = rng.standard_normal(n + kernel.size)
    return sigma * np.convolve(white, kernel, mode="valid")[:n]


def _kernel(tau_steps: float) -> np.ndarray:
    kernel = np.exp(-np.arange(int(5 * tau_steps) + 1) / tau_steps)
    return kernel / np.sqrt(np.sum(kernel**2))


def calendar_draws(
    seed: int,
    name: str,
    start: date,
    days: int,
    draw: Callable[[np.random.Generator, list[date]], np.ndarray],
) -> np.ndarray:
    """Rows of ``days`` local days from ``start``, drawn a whole calendar month at a time.

    ``draw(rng, month_days)`` gives one row per day of a calendar month from that month's own
    stream (seeded by ``seed``, ``name``, the year and the month); the period's rows are cut out.
    So a day's numbers do not depend on the period around it: a 130-day and a 365-day demo
    have the same July.
    """
    first = date(start.year, start.month, 1)
    last = start + timedelta(days=days - 1)
    rows, month = [], first
    while month <= last:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        month_days = [month + timedelta(days=d) for d in range((following - month).days)]
        rng = np.random.default_rng([seed, zlib.crc32(name.encode()), month.year, month.month])
        rows.append(draw(rng, month_days))
        month = following
    offset = (start - first).days
    return np.concatenate(rows)[offset : offset + days]


def calendar_noise(
    seed: int, name: str, start: date, days: int, sigma: float, tau_steps: float
) -> np.ndarray:
    """:func:`smooth_noise` at each instant of ``days`` local days (``days * 96 + 1``), from
    white noise drawn a calendar month at a time (:func:`calendar_draws`), so an instant's
    value is the same in any period that holds it."""
    kernel = _kernel(tau_steps)
    n = days * STEPS_PER_DAY + 1
    # the filter looks ahead kernel.size steps: draw whole days past the period's end
    ahead = -(-kernel.size // STEPS_PER_DAY) + 1
    white = calendar_draws(
        seed,
        name,
        start,
        days + ahead,
        lambda rng, month: rng.standard_normal((len(month), STEPS_PER_DAY)),
    ).ravel()
    return sigma * np.convolve(white, kernel, mode="valid")[:n]


@dataclass(frozen=True)
class Drivers:
    """Exogenous inputs of one simulation run."""

    dates: list[date]
    month: np.ndarray  # (days,) 1-12
    rain_mm: np.ndarray  # (steps,) mm in each 15-min interval, whole tips of 0.2 mm
    pan_mm: np.ndarray  # (days,) pan evaporation during each local day, 0.1 mm
    evap_profile: np.ndarray  # (96,) share of a day's evaporation in each interval, sums to 1
    ore_t: np.ndarray  # (steps,) mill feed tonnes per interval, 0.01 t
    concentrate_t: np.ndarray  # (steps,) concentrate tonnes per interval, 0.01 t
    ore_moisture_pct: np.ndarray  # (days,) lab moisture of the day's mill feed, 0.1 %
    water_per_t: np.ndarray  # (days,) plant process water demand, m3 per tonne of ore
    shutdown: np.ndarray  # (days,) bool, planned maintenance days
    third_party_on: np.ndarray  # (days,) bool, scheme water delivered that day
    temperature: np.ndarray  # (steps+1,) degC
    humidity: np.ndarray  # (steps+1,) %
    wind: np.ndarray  # (steps+1,) m/s
    pm10: np.ndarray  # (steps+1,) ug/m3
    tds: np.ndarray  # (steps+1,) mg/L at the discharge sampling point
    ph: np.ndarray  # (steps+1,)
    conductivity: np.ndarray  # (steps+1,) uS/cm
    bore_rate_m3_per_h: np.ndarray  # (days, bores) output of each bore when running
    bore_available: np.ndarray  # (days, bores) bool, false while a pump is out for repair
    bore_start_fraction: np.ndarray  # (bores,) RWD fill fraction below which a bore starts
    bore_kwh_per_m3: np.ndarray  # (bores,) specific energy of each bore pump
    climate: Climate = PERTH_CLIMATE

    @property
    def wet_season(self) -> np.ndarray:
        """(days,) bool: discharge to the creek is permitted (May-October in Perth)."""
        return np.isin(self.month, list(self.climate.wet_season_months))


def make_drivers(
    start: date,
    days: int,
    seed: int,
    n_bores: int,
    borefield_m3_per_h: float,
    climate: Climate = PERTH_CLIMATE,
) -> Drivers:
    """Draw every driver for ``days`` local days from ``start`` in ``climate``; each day's
    draws come from its calendar month's streams (:func:`calendar_draws`)."""
    dates = [start + timedelta(days=d) for d in range(days)]
    month = np.array([d.month for d in dates])
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype="float64")
    n = days * STEPS_PER_DAY
    hours = (np.arange(n + 1) % STEPS_PER_DAY) / 4.0
    season = np.cos(2 * np.pi * (np.repeat(doy, STEPS_PER_DAY)[np.r_[0:n, n - 1]] - 20) / 365.25)

    def by_month(
        name: str, draw: Callable[[np.random.Generator, list[date]], np.ndarray]
    ) -> np.ndarray:
        return calendar_draws(seed, name, start, days, draw)

    def noise(name: str, sigma: float, tau_steps: float) -> np.ndarray:
        return calendar_noise(seed, f"weather:{name}", start, days, sigma, tau_steps)

    rain_mm = by_month(
        "rain",
        lambda rng, days_: draw_rain(rng, _months_of(days_), climate).reshape(len(days_), -1),
    ).ravel()
    daily_rain = rain_mm.reshape(days, STEPS_PER_DAY).sum(axis=1)
    ore = by_month("ore", _ore_days)
    ore_t = ore[:, :STEPS_PER_DAY].ravel()
    concentrate_t = ore[:, STEPS_PER_DAY:-1].ravel()
    shutdown = ore[:, -1].astype(bool)

    pan_factor = by_month("evaporation", lambda rng, days_: _pan_factors(rng, len(days_)))
    pan_mm = _pan(doy, daily_rain, pan_factor)
    hour_mid = (np.arange(STEPS_PER_DAY) + 0.5) / 4.0
    profile = 0.03 + np.clip(np.sin(np.pi * (hour_mid - 6.0) / 14.0), 0.0, None)
    evap_profile = profile / profile.sum()

    plant = by_month(
        "plant",
        lambda rng, days_: np.column_stack(
            [
                rng.normal(0, 0.25, len(days_)),
                rng.uniform(0.97, 1.03, len(days_)),
                rng.random(len(days_)),
            ]
        ),
    )
    wet = np.isin(month, list(climate.wet_season_months))
    moisture = np.where(wet, 3.6, 3.0) + plant[:, 0]
    ore_moisture_pct = np.round(np.clip(moisture, 2.0, 5.5), 1)
    water_per_t = 0.6 * plant[:, 1]
    third_party_on = plant[:, 2] > 0.03

    raining = np.r_[rain_mm, 0.0] > 0
    temperature = (
        17.5
        + 6.5 * season
        + (5.5 + 2.0 * season) * np.cos(2 * np.pi * (hours - 15.0) / 24.0)
        + noise("temperature", 1.5, 24)
        - 2.0 * raining
    )
    humidity = np.clip(
        85.0 - 2.2 * (temperature - 10.0) + 15.0 * raining + noise("humidity", 5.0, 12),
        8.0,
        100.0,
    )
    sea_breeze = np.clip(np.cos(2 * np.pi * (hours - 16.0) / 24.0), 0.0, None)
    wind = np.clip(3.5 + 3.0 * sea_breeze + noise("wind", 1.5, 8), 0.0, None)
    mining = np.r_[ore_t, ore_t[-1]] > 0
    dryness = np.clip((100.0 - humidity) / 60.0, 0.0, 1.5)
    pm10 = (12.0 + 6.0 * wind * dryness * (0.4 + 0.6 * mining)) * np.exp(noise("pm10", 0.3, 8))
    # summer evapo-concentration in the raw water dam raises salinity
    tds = 950.0 + 250.0 * season + noise("tds", 40.0, 96)
    conductivity = tds / 0.65 * (1.0 + noise("conductivity", 0.005, 24))
    ph = 7.6 + noise("ph", 0.15, 48)

    # the borefield's make-up is one per run; its day-to-day behaviour per calendar month
    rng = stream(seed, "borefield")
    share = rng.uniform(0.6, 1.4, n_bores)
    nominal = borefield_m3_per_h * share / share.sum()
    bore_start_fraction = rng.uniform(0.45, 0.65, n_bores)
    # about 120 m of head at 65 % wire-to-water efficiency: 0.5 kWh/m3
    bore_kwh_per_m3 = 0.5 * rng.uniform(0.85, 1.2, n_bores)
    bore_rate = nominal * (
        1.0 + by_month("borefield:rate", lambda rng, d: rng.normal(0, 0.02, (len(d), n_bores)))
    )
    bore_available = _bore_availability(seed, start, days, n_bores)

    return Drivers(
        dates=dates,
        month=month,
        rain_mm=rain_mm,
        pan_mm=pan_mm,
        evap_profile=evap_profile,
        ore_t=ore_t,
        concentrate_t=concentrate_t,
        ore_moisture_pct=ore_moisture_pct,
        water_per_t=water_per_t,
        shutdown=shutdown,
        third_party_on=third_party_on,
        temperature=np.round(temperature, 1),
        humidity=np.round(humidity, 1),
        wind=np.round(wind, 1),
        pm10=np.round(pm10, 1),
        tds=np.round(tds, 0),
        ph=np.round(ph, 2),
        conductivity=np.round(conductivity, 0),
        bore_rate_m3_per_h=bore_rate,
        bore_available=bore_available,
        bore_start_fraction=bore_start_fraction,
        bore_kwh_per_m3=bore_kwh_per_m3,
        climate=climate,
    )


def draw_pan_evaporation(
    rng: np.random.Generator, doy: np.ndarray, daily_rain: np.ndarray
) -> np.ndarray:
    """Pan evaporation (mm, 0.1) of each local day, by day of year and the day's rain (mm)."""
    return _pan(doy, daily_rain, _pan_factors(rng, doy.size))


def _pan_factors(rng: np.random.Generator, days: int) -> np.ndarray:
    return rng.lognormal(0, 0.15, days)


def _pan(doy: np.ndarray, daily_rain: np.ndarray, factor: np.ndarray) -> np.ndarray:
    # ~10 mm/d in mid-January, ~2 mm/d in mid-July; cloudy, rainy days evaporate less
    pan = (6.0 + 4.0 * np.cos(2 * np.pi * (doy - 15) / 365.25)) * factor
    pan = np.where(daily_rain > 1.0, pan * 0.6, pan)
    return np.round(np.maximum(pan, 0.2), 1)


def _months_of(days: list[date]) -> np.ndarray:
    return np.array([d.month for d in days])


def draw_rain(rng: np.random.Generator, month: np.ndarray, climate: Climate) -> np.ndarray:
    """Rain per interval (mm, whole tips) of local days in ``month`` (1-12 per day): wet days by
    month, gamma-distributed totals, one storm per wet day."""
    days = month.size
    rain_days = np.array(climate.rain_days)[month - 1]
    monthly_mm = np.array(climate.rain_mm)[month - 1]
    wet = rng.random(days) < rain_days / 30.4
    # shape 0.8: many light days, a few heavy ones, as daily rain totals are
    totals = rng.gamma(0.8, (monthly_mm / rain_days) / 0.8)
    tips = np.where(wet, np.round(totals / TIP_MM), 0).astype(int)
    rain_tips = np.zeros((days, STEPS_PER_DAY), dtype=int)
    for d in np.flatnonzero(tips):
        duration = int(rng.integers(4, 41))
        first = int(rng.integers(0, STEPS_PER_DAY - duration + 1))
        rain_tips[d, first : first + duration] = rng.multinomial(tips[d], _storm(duration))
    return np.round(rain_tips.ravel() * TIP_MM, 1)


@functools.cache
def _storm(duration: int) -> np.ndarray:
    """Share of a storm's rain in each of its ``duration`` intervals (a half sine)."""
    shape = np.sin(np.pi * (np.arange(duration) + 0.5) / duration)
    shares = shape / shape.sum()
    shares.flags.writeable = False
    return shares


def _ore_days(rng: np.random.Generator, dates: list[date]) -> np.ndarray:
    """:func:`_ore` per day: 96 feed tonnes, 96 concentrate tonnes and the shutdown flag."""
    ore_t, concentrate_t, shutdown = _ore(rng, dates)
    per_day = (len(dates), STEPS_PER_DAY)
    return np.column_stack(
        [ore_t.reshape(per_day), concentrate_t.reshape(per_day), shutdown.astype("float64")]
    )


def _ore(rng: np.random.Generator, dates: list[date]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mill feed and concentrate tonnes per interval, and the monthly maintenance days."""
    days = len(dates)
    target = np.clip(rng.normal(30_000, 1_800, days), 25_000, 35_000)
    shutdown = np.zeros(days, dtype=bool)
    months = sorted({(d.year, d.month) for d in dates})
    planned = {ym: int(rng.integers(1, 29)) for ym in months}
    for i, d in enumerate(dates):
        shutdown[i] = planned[(d.year, d.month)] == d.day
    per_step = np.repeat(target / STEPS_PER_DAY, STEPS_PER_DAY).reshape(days, STEPS_PER_DAY)
    per_step = per_step * rng.lognormal(0, 0.06, per_step.shape)
    # about one unplanned 1-3 hour stop every three days (a crusher chute block, a trip)
    for d in np.flatnonzero(rng.random(days) < 0.3):
        length = int(rng.integers(4, 13))
        first = int(rng.integers(0, STEPS_PER_DAY - length + 1))
        per_step[d, first : first + length] = 0.0
    per_step[shutdown] = 0.0
    ore_t = np.round(per_step.ravel(), 2)
    # copper-gold concentrate is about 3 % of the feed by mass
    mass_pull = np.repeat(0.03 * rng.uniform(0.9, 1.1, days), STEPS_PER_DAY)
    concentrate_t = np.round(ore_t * mass_pull, 2)
    return ore_t, concentrate_t, shutdown


def _bore_availability(seed: int, start: date, days: int, n_bores: int) -> np.ndarray:
    """Pump failures about once per 90 days per bore, each out for 1-4 days; drawn per calendar
    month from four days before ``start``, so a repair that began before the period carries
    into it."""
    lead = 4
    repair = calendar_draws(
        seed,
        "borefield:failures",
        start - timedelta(days=lead),
        days + lead,
        lambda rng, d: np.where(
            rng.random((len(d), n_bores)) < 1 / 90, rng.integers(1, 5, (len(d), n_bores)), 0
        ),
    )
    available = np.ones((days + lead, n_bores), dtype=bool)
    for day, bore in np.argwhere(repair > 0):
        available[day : day + repair[day, bore], bore] = False
    return available[lead:]
