"""Energy settings of a site (``energy:`` in the site file): diesel generators and their fuel
tanks, PV arrays, the grid connection and its tariff, the loads and the cost centres they are
charged to (docs/energy.md).

Meters stay in the site's ``meters:`` list; this section gives them roles (a generator's power
meter, a tank's level meter, ...). Structure is checked by pydantic (no NaN or infinity, no
unknown key); cross-references (unknown meters, tanks and cost centres, a meter of the wrong
measurand or with two roles, overlapping tariff periods, PV arrays without a location) by
:func:`energy_problems`, which ``semantic_problems`` calls.

Generator fuel curve (HOMER): fuel flow in L/h = F0 x rated kW + F1 x output kW, where F0 is the
no-load intercept per kW of rating and F1 the slope per kW of output. F1 is about 0.245-0.27 for
every size (default 0.25). F0 falls with the set's size, so an unset F0 takes
:func:`default_f0` of the rating: 0.08 L/h per rated kW up to 40 kW, 0.035 at 100 kW and 0.02 at
500 kW and above, linear in log(rated kW) between those points. With F0 0.08 and F1 0.25 a set
burns 0.33 L/kWh at full load, 0.41 at 50 %, 0.57 at 25 % and 1.05 at 10 % (DOMAIN_ENERGY.md).

Tariff periods and operating hours are local-time windows ``[start, end)`` on the days listed;
a window whose end is before its start (22:00-06:00) runs past midnight into the next day, so
``days`` names the day it starts on. ``24:00`` (or ``00:00`` as an end) is midnight at the end
of the day.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from difflib import get_close_matches
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from siteledger.site.identifiers import Identifier

if TYPE_CHECKING:
    from siteledger.site.models import SiteConfig

# ISO weekday numbers (1 = Monday) of the day names a window may list
DAY_NUMBERS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
DAY_NAMES = {number: name for name, number in DAY_NUMBERS.items()}
_FULL_DAY_NAMES = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
MINUTES_PER_DAY = 1440

# HOMER fuel curve defaults (DOMAIN_ENERGY.md): F1 per kW of output; F0 per kW of rating at
# (rated kW, F0) points, flat outside them and linear in log(rated kW) between
DEFAULT_F1_L_PER_H_PER_KW = 0.25
F0_POINTS: tuple[tuple[float, float], ...] = ((40.0, 0.08), (100.0, 0.035), (500.0, 0.02))
# NFPA 110 monthly exercise needs >= 30 % of rating; long running below it wet-stacks a set
DEFAULT_LOW_LOAD_FRACTION = 0.30
DEFAULT_LOW_LOAD_ALERT_HOURS = 4.0
# 30-day measured fuel / fuel-curve fuel above which a set's efficiency has declined
DEFAULT_EFFICIENCY_ALERT_RATIO = 1.10
# pvlib pvwatts defaults: system losses 14.08 %, nominal inverter efficiency 0.96; a typical
# crystalline silicon module loses 0.37 % of power per degree C above 25 degC
DEFAULT_LOSSES_PCT = 14.08
DEFAULT_INVERTER_EFFICIENCY = 0.96
DEFAULT_GAMMA_PDC_PER_C = -0.0037
DEFAULT_PI_ALERT_THRESHOLD = 0.90
DEFAULT_PI_ALERT_DAYS = 3
# zero production with irradiance above 50 W/m2 is a fault, not dusk
DEFAULT_ZERO_PRODUCTION_IRRADIANCE_W_M2 = 50.0
# the seed site's own thresholds: fuel use spike > 50 L/day, factory load anomaly > 300 kWh/day
DEFAULT_UNACCOUNTED_ALERT_L_PER_DAY = 50.0
DEFAULT_ANOMALY_KWH_PER_DAY = 300.0

# the measurands a meter in each role may measure
ROLE_MEASURANDS: dict[str, tuple[str, ...]] = {
    "level_meter": ("tank_contents",),
    "delivery_meter": ("fuel",),
    "power_meter": ("power",),
    "energy_meter": ("energy",),
    "fuel_meter": ("fuel",),
    "irradiance_meter": ("irradiance",),
    "temperature_meter": ("temperature",),
    "wind_meter": ("wind_speed",),
    "import_meter": ("energy", "power"),
    "export_meter": ("energy", "power"),
    "meter": ("energy", "power"),
}
# weather meters one sensor may serve for several arrays (one station, one plane)
SHARED_ROLES = ("irradiance_meter", "temperature_meter", "wind_meter")


def default_f0(rated_kw: float) -> float:
    """HOMER fuel curve intercept (L/h per rated kW) of a generator of ``rated_kw``:
    0.08 up to 40 kW, 0.035 at 100 kW, 0.02 from 500 kW, linear in log(rated kW) between."""
    (low_kw, low_f0), *_ = F0_POINTS
    if rated_kw <= low_kw:
        return low_f0
    for (kw0, f0_0), (kw1, f0_1) in pairwise(F0_POINTS):
        if rated_kw == kw1:
            return f0_1
        if rated_kw < kw1:
            share = (math.log(rated_kw) - math.log(kw0)) / (math.log(kw1) - math.log(kw0))
            return f0_0 + share * (f0_1 - f0_0)
    return F0_POINTS[-1][1]


def _clock(value: Any) -> str:
    """A local time of day as ``HH:MM`` (00:00-24:00)."""
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1440:
            # YAML 1.1 reads an unquoted 22:00 as the base-60 number 1320
            hint = f'; write it in quotes, e.g. "{value // 60:02d}:{value % 60:02d}"'
        else:
            hint = ""
        raise ValueError(f"a time of day is text like '07:30', got {value!r}{hint}")
    text = value.strip()
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        raise ValueError(f"time {value!r} is not like '07:30'")
    hours, minutes = int(parts[0]), int(parts[1])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes > 0):
        raise ValueError(f"time {value!r} is not a time of day (00:00 to 24:00)")
    return f"{hours:02d}:{minutes:02d}"


def _day(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a day is a name such as 'mon', got {value!r}")
    text = value.strip().lower()
    text = _FULL_DAY_NAMES.get(text, text)
    if text not in DAY_NUMBERS:
        match = get_close_matches(text, [*DAY_NUMBERS, *_FULL_DAY_NAMES], n=1)
        hint = f" (did you mean {_FULL_DAY_NAMES.get(match[0], match[0])!r}?)" if match else ""
        raise ValueError(f"unknown day {value!r}{hint}; one of {', '.join(DAY_NUMBERS)}")
    return text


ClockTime = Annotated[str, BeforeValidator(_clock)]
DayName = Annotated[str, BeforeValidator(_day)]
MeterId = Identifier


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _as_list(value: Any) -> Any:
    # one window may be written as a mapping, several as a list of them
    return [value] if isinstance(value, dict) else value


def _all_days() -> list[str]:
    return list(DAY_NUMBERS)


class _EnergyModel(BaseModel):
    # strict: a quoted "800" or a YAML boolean (yes, on) is never taken for a number
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, allow_inf_nan=False, strict=True
    )


class Window(_EnergyModel):
    """A weekly local-time window ``[start, end)`` on the listed days (the day it starts on)."""

    days: list[DayName] = Field(
        default_factory=_all_days, min_length=1, description="mon ... sun; default every day"
    )
    start: ClockTime = Field(description="local time the window opens, HH:MM")
    end: ClockTime = Field(
        description="local time it closes, HH:MM (24:00 or 00:00 = midnight); before start = "
        "the window runs past midnight into the next day"
    )

    @model_validator(mode="after")
    def _sensible(self) -> Window:
        repeated = sorted(day for day, count in Counter(self.days).items() if count > 1)
        if repeated:
            raise ValueError(f"day {repeated[0]!r} is listed twice")
        if self.start == "24:00":
            raise ValueError("a window cannot start at 24:00; start at 00:00")
        if _minutes(self.start) == _minutes(self.end):
            raise ValueError(
                f"start {self.start} equals end {self.end}: the window is empty "
                "(for the whole day write 00:00 to 24:00)"
            )
        return self

    @property
    def start_minute(self) -> int:
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        """Minutes after local midnight at which the window closes (1440 = midnight)."""
        end = _minutes(self.end)
        return MINUTES_PER_DAY if end == 0 else end

    def day_rows(self) -> list[tuple[int, int, int]]:
        """(ISO day of week, start minute, end minute) of each day the window covers, split at
        midnight when it runs into the next day; sorted by day and start."""
        rows: list[tuple[int, int, int]] = []
        start, end = self.start_minute, self.end_minute
        for name in self.days:
            day = DAY_NUMBERS[name]
            if end > start:
                rows.append((day, start, end))
            else:
                rows.append((day, start, MINUTES_PER_DAY))
                rows.append((day % 7 + 1, 0, end))
        return sorted(rows)


class TariffPeriod(Window):
    """A time-of-use period of the grid tariff."""

    name: Identifier = Field(description="e.g. peak, shoulder")
    rate_per_kwh: float = Field(ge=0, le=100, description="energy rate in the period, per kWh")


class Tariff(_EnergyModel):
    """What the grid connection costs: energy by time of use, a monthly demand charge and a
    daily supply charge."""

    energy_rate_per_kwh: float = Field(
        ge=0, le=100, description="energy rate outside every period (off-peak), per kWh"
    )
    periods: list[TariffPeriod] = Field(default_factory=list)
    demand_charge_per_kw_month: float = Field(
        0.0, ge=0, le=10_000, description="per kW of the month's billed (highest) demand"
    )
    demand_interval_minutes: Literal[15, 30] = Field(
        30, description="billed demand = the highest average kW over an interval of this length"
    )
    daily_charge: float = Field(0.0, ge=0, le=1e6, description="fixed supply charge per day")


class Grid(_EnergyModel):
    id: Identifier = "grid"
    name: str = "Grid connection"
    import_meter: MeterId = Field(description="energy register (kWh) or power meter (kW)")
    export_meter: MeterId | None = Field(None, description="energy or power meter of exports")
    tariff: Tariff


class Location(_EnergyModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    altitude_m: float = Field(0.0, ge=-500, le=9000)


class FuelPrice(_EnergyModel):
    valid_from: datetime.date = Field(
        alias="from", strict=False, description="first day the price applies (YYYY-MM-DD)"
    )
    price_per_l: float = Field(gt=0, le=100)


class Tank(_EnergyModel):
    id: Identifier
    name: str = ""
    capacity_l: float = Field(gt=0, le=1e9)
    level_meter: MeterId | None = Field(None, description="a tank_contents meter (L in the tank)")
    delivery_meter: MeterId | None = Field(
        None, description="a fuel meter with one reading per delivery (L delivered)"
    )


class Fuel(_EnergyModel):
    price_per_l: float | None = Field(None, gt=0, le=100, description="one diesel price")
    prices: list[FuelPrice] | None = Field(
        None, min_length=1, description="dated prices: the latest `from` on or before a day wins"
    )
    unaccounted_alert_l_per_day: float = Field(
        DEFAULT_UNACCOUNTED_ALERT_L_PER_DAY,
        ge=0,
        le=1e7,
        description="litres a tank may lose in a day beyond the generators' metered use",
    )
    tanks: list[Tank] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_price_form(self) -> Fuel:
        if self.price_per_l is not None and self.prices is not None:
            raise ValueError("give price_per_l or prices, not both")
        return self

    def price_rows(self) -> list[tuple[datetime.date, float]]:
        """(first day, price per L) in date order; one price applies from 0001-01-01."""
        if self.price_per_l is not None:
            return [(datetime.date.min, self.price_per_l)]
        return sorted((p.valid_from, p.price_per_l) for p in self.prices or [])


class Generator(_EnergyModel):
    id: Identifier
    name: str = ""
    rated_kw: float = Field(gt=0, le=1e6, description="prime rating, kW")
    f0_l_per_h_per_kw_rated: float | None = Field(
        None, ge=0, le=1, description="fuel curve intercept; unset = by size (default_f0)"
    )
    f1_l_per_h_per_kw: float = Field(DEFAULT_F1_L_PER_H_PER_KW, gt=0, le=1)
    power_meter: MeterId | None = Field(None, description="power meter of the output (kW)")
    energy_meter: MeterId | None = Field(None, description="energy register of the output (kWh)")
    fuel_meter: MeterId | None = Field(None, description="fuel meter, L over each interval")
    tank: Identifier | None = None
    cost_centre: Identifier | None = None
    low_load_fraction: float = Field(DEFAULT_LOW_LOAD_FRACTION, gt=0, lt=1)
    low_load_alert_hours: float = Field(DEFAULT_LOW_LOAD_ALERT_HOURS, gt=0, le=24 * 31)
    efficiency_alert_ratio: float = Field(DEFAULT_EFFICIENCY_ALERT_RATIO, gt=1, le=5)

    @model_validator(mode="after")
    def _measured(self) -> Generator:
        if self.power_meter is None and self.energy_meter is None:
            raise ValueError(f"generator {self.id!r} needs power_meter, energy_meter or both")
        return self

    @property
    def f0(self) -> float:
        """F0 as configured, else the default for the set's size."""
        if self.f0_l_per_h_per_kw_rated is not None:
            return self.f0_l_per_h_per_kw_rated
        return default_f0(self.rated_kw)

    @property
    def f0_defaulted(self) -> bool:
        return self.f0_l_per_h_per_kw_rated is None


class PvArray(_EnergyModel):
    id: Identifier
    name: str = ""
    kwp: float = Field(gt=0, le=1e7, description="DC nameplate at STC, kW (pvwatts pdc0)")
    tilt_deg: float = Field(ge=0, le=90)
    azimuth_deg: float = Field(ge=0, lt=360, description="pvlib: 0 = north, 180 = south")
    inverter_kw: float = Field(gt=0, le=1e7, description="AC rating of the inverters, kW")
    gamma_pdc_per_c: float = Field(DEFAULT_GAMMA_PDC_PER_C, ge=-0.02, le=0)
    losses_pct: float = Field(DEFAULT_LOSSES_PCT, ge=0, lt=100)
    inverter_efficiency: float = Field(DEFAULT_INVERTER_EFFICIENCY, gt=0, le=1)
    power_meter: MeterId | None = Field(None, description="AC power meter (kW)")
    energy_meter: MeterId | None = Field(None, description="AC energy register (kWh)")
    irradiance_meter: MeterId | None = Field(
        None, description="plane-of-array irradiance (W/m2); without it nothing is expected"
    )
    temperature_meter: MeterId | None = Field(None, description="air temperature; unset = 25 degC")
    wind_meter: MeterId | None = Field(None, description="wind speed; unset = 1 m/s")
    pi_alert_threshold: float = Field(DEFAULT_PI_ALERT_THRESHOLD, gt=0, le=1)
    pi_alert_days: int = Field(DEFAULT_PI_ALERT_DAYS, ge=1, le=366)
    zero_production_irradiance_w_m2: float = Field(
        DEFAULT_ZERO_PRODUCTION_IRRADIANCE_W_M2, ge=0, le=1500
    )

    @model_validator(mode="after")
    def _measured(self) -> PvArray:
        if self.power_meter is None and self.energy_meter is None:
            raise ValueError(f"PV array {self.id!r} needs power_meter, energy_meter or both")
        return self


class Load(_EnergyModel):
    id: Identifier
    name: str = ""
    meter: MeterId = Field(description="energy register (kWh) or power meter (kW)")
    cost_centre: Identifier | None = None
    operating_hours: Annotated[list[Window], BeforeValidator(_as_list)] = Field(
        default_factory=list,
        description="when the load is meant to run (one window or a list); the rest is out of "
        "hours; unset = no out-of-hours analysis",
    )
    anomaly_kwh_per_day: float = Field(DEFAULT_ANOMALY_KWH_PER_DAY, gt=0, le=1e9)


class CostCentre(_EnergyModel):
    id: Identifier
    name: str = ""


class EnergySettings(_EnergyModel):
    """``energy:`` of a site file; absent = no energy accounting."""

    currency: str = Field("AUD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    location: Location | None = Field(None, description="required when there are PV arrays")
    fuel: Fuel = Field(default_factory=Fuel)
    generators: list[Generator] = Field(default_factory=list)
    pv_arrays: list[PvArray] = Field(default_factory=list)
    grid: Grid | None = None
    solar_cost_per_kwh: float = Field(0.0, ge=0, le=100, description="levelised cost of solar")
    loads: list[Load] = Field(default_factory=list)
    cost_centres: list[CostCentre] = Field(default_factory=list)
    daily_cost_alert: float | None = Field(
        None, gt=0, le=1e9, description="alert when a day's energy cost exceeds it"
    )

    @property
    def enabled(self) -> bool:
        return bool(self.generators or self.pv_arrays or self.grid or self.loads or self.fuel.tanks)

    def meter_roles(self) -> list[tuple[str, str, str]]:
        """(key path, meter id, role) of every meter the settings name; the role is the key
        (power_meter, level_meter, import_meter, meter, ...)."""
        named: list[tuple[str, str, str | None]] = []
        for i, tank in enumerate(self.fuel.tanks):
            for role in ("level_meter", "delivery_meter"):
                named.append((f"energy.fuel.tanks[{i}].{role}", role, getattr(tank, role)))
        for i, gen in enumerate(self.generators):
            for role in ("power_meter", "energy_meter", "fuel_meter"):
                named.append((f"energy.generators[{i}].{role}", role, getattr(gen, role)))
        for i, array in enumerate(self.pv_arrays):
            for role in (
                "power_meter",
                "energy_meter",
                "irradiance_meter",
                "temperature_meter",
                "wind_meter",
            ):
                named.append((f"energy.pv_arrays[{i}].{role}", role, getattr(array, role)))
        if self.grid is not None:
            for role in ("import_meter", "export_meter"):
                named.append((f"energy.grid.{role}", role, getattr(self.grid, role)))
        for i, load in enumerate(self.loads):
            named.append((f"energy.loads[{i}].meter", "meter", load.meter))
        return [(path, meter, role) for path, role, meter in named if meter is not None]


def _empty_as_default(value: Any) -> Any:
    # ``energy:`` written with nothing under it is the defaults: no energy accounting
    return {} if value is None else value


EnergySection = Annotated[EnergySettings, BeforeValidator(_empty_as_default)]


def _hint(value: str, choices: list[str]) -> str:
    match = get_close_matches(value, choices, n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _overlaps(path: str, what: str, windows: list[tuple[str, Window]]) -> list[tuple[str, str]]:
    """Windows (named) that cover the same minutes of a day; reported at the later window."""
    problems: list[tuple[str, str]] = []
    seen: list[tuple[int, int, int, str, int]] = []
    for index, (name, window) in enumerate(windows):
        reported = False
        for day, start, end in window.day_rows():
            for day0, start0, end0, name0, index0 in seen:
                if reported or index0 == index or day0 != day:
                    continue
                if start < end0 and start0 < end:
                    problems.append(
                        (
                            f"{path}[{index}]",
                            f"{what} {name!r} overlaps {what} {name0!r} on {DAY_NAMES[day]} "
                            f"{_clock_text(max(start, start0))}-"
                            f"{_clock_text(min(end, end0))}",
                        )
                    )
                    reported = True
        seen += [(day, start, end, name, index) for day, start, end in window.day_rows()]
    return problems


def energy_problems(cfg: SiteConfig) -> list[tuple[str, str]]:
    """Cross-reference problems of ``cfg.energy``, as (key path, reason)."""
    settings = cfg.energy
    problems: list[tuple[str, str]] = []
    meters = cfg.meters_by_id
    meter_ids = list(meters)

    # one namespace for the things energy is accounted to
    owners: list[tuple[str, str]] = [
        *((f"energy.fuel.tanks[{i}].id", t.id) for i, t in enumerate(settings.fuel.tanks)),
        *((f"energy.generators[{i}].id", g.id) for i, g in enumerate(settings.generators)),
        *((f"energy.pv_arrays[{i}].id", a.id) for i, a in enumerate(settings.pv_arrays)),
        *((f"energy.loads[{i}].id", load.id) for i, load in enumerate(settings.loads)),
    ]
    if settings.grid is not None:
        owners.append(("energy.grid.id", settings.grid.id))
    first: dict[str, str] = {}
    for path, owner in owners:
        if owner in first:
            problems.append((path, f"duplicate id {owner!r} (first at {first[owner]})"))
        else:
            first[owner] = path
    centres: dict[str, str] = {}
    for i, centre in enumerate(settings.cost_centres):
        path = f"energy.cost_centres[{i}].id"
        if centre.id in centres:
            problems.append(
                (path, f"duplicate cost centre {centre.id!r} (first at {centres[centre.id]})")
            )
        else:
            centres[centre.id] = path

    # meters: known, of the role's measurand, in one role only
    roles: dict[str, tuple[str, str]] = {}
    for path, meter_id, role in settings.meter_roles():
        meter = meters.get(meter_id)
        if meter is None:
            problems.append((path, f"unknown meter {meter_id!r}{_hint(meter_id, meter_ids)}"))
        elif meter.measurand not in ROLE_MEASURANDS[role]:
            wanted = " or ".join(ROLE_MEASURANDS[role])
            problems.append((path, f"meter {meter_id!r} measures {meter.measurand}, not {wanted}"))
        if meter_id in roles:
            path0, role0 = roles[meter_id]
            if not (role == role0 and role in SHARED_ROLES):
                problems.append((path, f"meter {meter_id!r} already has a role at {path0}"))
        else:
            roles[meter_id] = (path, role)

    tanks = [t.id for t in settings.fuel.tanks]
    centre_ids = list(centres)
    for i, gen in enumerate(settings.generators):
        if gen.tank is not None and gen.tank not in tanks:
            problems.append(
                (
                    f"energy.generators[{i}].tank",
                    f"unknown tank {gen.tank!r}{_hint(gen.tank, tanks)}",
                )
            )
    charged = [
        *(
            (f"energy.generators[{i}].cost_centre", g.cost_centre)
            for i, g in enumerate(settings.generators)
        ),
        *(
            (f"energy.loads[{i}].cost_centre", load.cost_centre)
            for i, load in enumerate(settings.loads)
        ),
    ]
    for path, centre_id in charged:
        if centre_id is not None and centre_id not in centres:
            problems.append(
                (path, f"unknown cost centre {centre_id!r}{_hint(centre_id, centre_ids)}")
            )

    if settings.pv_arrays and settings.location is None:
        problems.append(
            ("energy.location", "PV arrays need the site's location (latitude, longitude)")
        )

    dates = [p.valid_from for p in settings.fuel.prices or []]
    for i, day in enumerate(dates):
        if day in dates[:i]:
            problems.append((f"energy.fuel.prices[{i}].from", f"a second price from {day}"))

    if settings.grid is not None:
        tariff = settings.grid.tariff
        problems += _overlaps(
            "energy.grid.tariff.periods", "period", [(p.name, p) for p in tariff.periods]
        )
        # a period may be written in several windows (weekdays 07-23, Saturday 08-12), at one rate
        rates: dict[str, float] = {}
        for i, period in enumerate(tariff.periods):
            rate = rates.setdefault(period.name, period.rate_per_kwh)
            if rate != period.rate_per_kwh:
                problems.append(
                    (
                        f"energy.grid.tariff.periods[{i}].rate_per_kwh",
                        f"period {period.name!r} is already at {rate:g} per kWh; name a "
                        "different rate differently",
                    )
                )
        meter = meters.get(settings.grid.import_meter)
        demand_seconds = tariff.demand_interval_minutes * 60
        if (
            meter is not None
            and tariff.demand_charge_per_kw_month > 0
            and meter.interval_seconds > demand_seconds
        ):
            problems.append(
                (
                    "energy.grid.import_meter",
                    f"meter {meter.id!r} reads every {meter.interval}; a "
                    f"{tariff.demand_interval_minutes}-minute demand charge needs readings at "
                    "least that often",
                )
            )
    for i, load in enumerate(settings.loads):
        windows = load.operating_hours
        if len(windows) > 1:
            problems += _overlaps(
                f"energy.loads[{i}].operating_hours",
                "window",
                [(f"#{j}", w) for j, w in enumerate(windows)],
            )
    return problems
