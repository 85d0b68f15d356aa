"""Units of measure: the closed list the platform accepts, and conversions between them.

A value is normalised on the way in. A unit that is not listed here is rejected, never guessed.
Unit symbols are case-sensitive on purpose: ``ML`` is a megalitre, ``mL`` a millilitre.
"""

from __future__ import annotations

from dataclasses import dataclass

# (symbol, dimension, factor to the dimension's base unit, aliases)
_UNITS: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    # volume, base m3
    ("m3", "volume", 1.0, ("m³", "m^3", "cubic metres", "cubic meters", "kL", "kl")),
    ("L", "volume", 1e-3, ("l", "litre", "litres", "liter", "liters")),
    ("mL", "volume", 1e-6, ("millilitre", "millilitres")),
    ("ML", "volume", 1e3, ("Ml", "megalitre", "megalitres", "megaliter", "megaliters")),
    ("GL", "volume", 1e6, ("Gl", "gigalitre", "gigalitres")),
    # volumetric flow, base m3/h
    ("m3/h", "flow", 1.0, ("m³/h", "m3/hr", "m3h", "m^3/h")),
    ("m3/s", "flow", 3600.0, ("m³/s", "cumecs")),
    ("m3/d", "flow", 1.0 / 24.0, ("m³/d", "m3/day")),
    ("L/s", "flow", 3.6, ("l/s", "Lps", "lps")),
    ("L/min", "flow", 0.06, ("l/min", "Lpm", "lpm")),
    ("ML/d", "flow", 1000.0 / 24.0, ("Ml/d", "ML/day", "MLD")),
    # length (levels, depths), base m
    ("m", "length", 1.0, ("metre", "metres", "meter", "meters")),
    ("cm", "length", 0.01, ()),
    ("mm", "length", 0.001, ("millimetre", "millimetres")),
    # energy, base kWh
    ("kWh", "energy", 1.0, ("kwh", "KWH")),
    ("Wh", "energy", 1e-3, ()),
    ("MWh", "energy", 1e3, ("mwh",)),
    # power, base kW
    ("kW", "power", 1.0, ("kw",)),
    ("W", "power", 1e-3, ()),
    ("MW", "power", 1e3, ()),
    # mass, base t
    ("t", "mass", 1.0, ("tonne", "tonnes", "tonnes (metric)")),
    ("kg", "mass", 1e-3, ("kilogram", "kilograms", "kgs")),
    ("kt", "mass", 1e3, ()),
    ("g", "mass", 1e-6, ("gram", "grams")),
    ("lb", "mass", 0.45359237e-3, ("lbs", "pound", "pounds")),
    ("oz", "mass", 28.349523125e-6, ("ounce", "ounces")),
    # mass flow, base t/h
    ("t/h", "mass_flow", 1.0, ("tph",)),
    # dimensionless fraction, base %
    ("%", "fraction", 1.0, ("percent", "pct")),
    ("fraction", "fraction", 100.0, ()),
    # concentration in air, base ug/m3
    ("ug/m3", "air_concentration", 1.0, ("µg/m3", "µg/m³", "ug/m³")),
    ("mg/m3", "air_concentration", 1e3, ("mg/m³",)),
    # concentration in water, base mg/L
    ("mg/L", "water_concentration", 1.0, ("mg/l", "ppm")),
    ("g/L", "water_concentration", 1e3, ("g/l",)),
    ("ug/L", "water_concentration", 1e-3, ("µg/L", "µg/l", "ug/l", "ppb")),
    ("ng/L", "water_concentration", 1e-6, ("ng/l",)),
    # electrical conductivity, base uS/cm
    ("uS/cm", "conductivity", 1.0, ("µS/cm",)),
    ("mS/cm", "conductivity", 1e3, ()),
    # plane angle (wind direction), base degree
    ("deg", "angle", 1.0, ("°", "degrees", "degree", "degT")),
    # speed, base m/s
    ("m/s", "speed", 1.0, ()),
    ("km/h", "speed", 1.0 / 3.6, ("kph",)),
    # temperature, base degC (only linear scales without offset are listed)
    ("degC", "temperature", 1.0, ("°C", "C", "celsius")),
    # pH
    ("pH", "ph", 1.0, ("pH units", "pH unit")),
    # turbidity, base NTU (nephelometric; FNU read by the same method family is not converted)
    ("NTU", "turbidity", 1.0, ("ntu",)),
    # microbiology, base count per 100 mL
    ("cfu/100mL", "count_per_volume", 1.0, ("CFU/100mL", "cfu/100 mL")),
    # irradiance, base W/m2
    ("W/m2", "irradiance", 1.0, ("W/m²",)),
    # counted items (bars, candles, wheels), base each
    ("each", "count", 1.0, ("pcs", "pc", "ea", "unit", "units", "piece", "pieces")),
)


@dataclass(frozen=True)
class Unit:
    symbol: str
    dimension: str
    factor: float  # multiply a value in this unit by factor to get the dimension's base unit


UNITS: dict[str, Unit] = {}
_ALIASES: dict[str, str] = {}
for _symbol, _dimension, _factor, _aliases in _UNITS:
    UNITS[_symbol] = Unit(_symbol, _dimension, _factor)
    _ALIASES[_symbol] = _symbol
    for _alias in _aliases:
        _ALIASES[_alias] = _symbol


@dataclass(frozen=True)
class Measurand:
    name: str
    dimension: str
    canonical_unit: str
    cumulative: bool = False  # totalisers count up and roll over
    description: str = ""


MEASURANDS: dict[str, Measurand] = {
    m.name: m
    for m in (
        Measurand("flow_rate", "flow", "m3/h", description="instantaneous volumetric flow rate"),
        Measurand("totaliser", "volume", "m3", True, "cumulative volume register"),
        Measurand("volume", "volume", "m3", description="volume over the reading interval"),
        Measurand("level", "length", "m", description="water level (stage) of a store"),
        Measurand("rainfall", "length", "mm", description="rain depth over the reading interval"),
        Measurand(
            "evaporation_pan", "length", "mm", description="pan evaporation over the interval"
        ),
        Measurand("energy", "energy", "kWh", True, "cumulative energy register"),
        Measurand("power", "power", "kW", description="instantaneous electrical power"),
        Measurand("fuel", "volume", "L", description="fuel volume over the reading interval"),
        Measurand(
            "tank_contents",
            "volume",
            "L",
            description="fuel in a tank at the reading's instant (a stock, not a flow)",
        ),
        Measurand("ore_mass", "mass", "t", description="ore tonnes over the reading interval"),
        Measurand("ore_rate", "mass_flow", "t/h", description="ore feed rate"),
        Measurand("moisture", "fraction", "%", description="moisture content (lab or sensor)"),
        Measurand("pm10", "air_concentration", "ug/m3", description="PM10 concentration"),
        Measurand("pm25", "air_concentration", "ug/m3", description="PM2.5 concentration"),
        Measurand("humidity", "fraction", "%", description="relative humidity"),
        Measurand("wind_speed", "speed", "m/s", description="wind speed"),
        Measurand(
            "wind_direction",
            "angle",
            "deg",
            description="direction the wind blows from, degrees clockwise from north (0-360); "
            "circular: average by unit vectors, never arithmetically",
        ),
        Measurand("temperature", "temperature", "degC", description="air temperature"),
        Measurand("tds", "water_concentration", "mg/L", description="total dissolved solids"),
        Measurand("conductivity", "conductivity", "uS/cm", description="electrical conductivity"),
        Measurand("ph", "ph", "pH", description="pH"),
        Measurand("irradiance", "irradiance", "W/m2", description="solar irradiance"),
    )
}


class UnknownUnitError(ValueError):
    pass


def _normalise_text(text: str) -> str:
    return " ".join(text.replace("\u00b3", "3").replace("\u00b2", "2").split())


def resolve_unit(text: str) -> Unit:
    """The unit a symbol or alias names. Raises :class:`UnknownUnitError` for anything else."""
    if not isinstance(text, str):
        raise UnknownUnitError(f"unit must be text, got {type(text).__name__}")
    symbol = _ALIASES.get(text.strip()) or _ALIASES.get(_normalise_text(text))
    if symbol is None:
        raise UnknownUnitError(f"unknown unit {text!r}")
    return UNITS[symbol]


def is_known_unit(text: str) -> bool:
    try:
        resolve_unit(text)
    except UnknownUnitError:
        return False
    return True


def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Factor that converts a value in ``from_unit`` into ``to_unit`` (same dimension only)."""
    a, b = resolve_unit(from_unit), resolve_unit(to_unit)
    if a.dimension != b.dimension:
        raise UnknownUnitError(
            f"cannot convert {a.symbol} ({a.dimension}) to {b.symbol} ({b.dimension})"
        )
    return a.factor / b.factor


def convert_amount(
    value: float, from_unit: str, to_unit: str, density_g_per_ml: float | None = None
) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit``; a mass and a volume convert through
    ``density_g_per_ml`` when it is given. Raises :class:`UnknownUnitError` otherwise."""
    a, b = resolve_unit(from_unit), resolve_unit(to_unit)
    if a.dimension == b.dimension:
        return value * a.factor / b.factor
    if density_g_per_ml is not None and {a.dimension, b.dimension} == {"mass", "volume"}:
        # 1 g/mL is 1 t/m3: the base units of mass (t) and volume (m3) meet at the density
        if a.dimension == "volume":
            return value * a.factor * density_g_per_ml / b.factor
        return value * a.factor / density_g_per_ml / b.factor
    raise UnknownUnitError(
        f"cannot convert {a.symbol} ({a.dimension}) to {b.symbol} ({b.dimension})"
        + (" without a density" if {a.dimension, b.dimension} == {"mass", "volume"} else "")
    )


def amount_converts(from_unit: str, to_unit: str, density_g_per_ml: float | None = None) -> bool:
    """Whether :func:`convert_amount` can convert between the two units."""
    try:
        convert_amount(1.0, from_unit, to_unit, density_g_per_ml)
    except UnknownUnitError:
        return False
    return True


def unit_fits_measurand(unit: str, measurand: str) -> bool:
    """Whether a unit has the dimension a measurand is measured in."""
    m = MEASURANDS.get(measurand)
    if m is None:
        return False
    try:
        return resolve_unit(unit).dimension == m.dimension
    except UnknownUnitError:
        return False


def unit_aliases() -> dict[str, str]:
    """Every accepted spelling mapped to its canonical symbol (for loaders and dbt seeds)."""
    return dict(_ALIASES)
