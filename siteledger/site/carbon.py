"""Carbon settings of a site: which emission factors apply and which meters count.

The factors themselves are the dbt seed ``dbt_project/seeds/emission_factors.csv`` (region,
scope, activity, gas basis, factor, unit, edition, source). A site names the grid region and
edition of its location-based scope 2 factor; there is no global default grid factor. Diesel
(scope 1) takes the seed's factor for ``fuel_region`` / ``fuel_edition`` unless the site states
its own. docs/sustainability-water-and-carbon.md describes the settings and the marts.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from siteledger.site.models import SiteConfig

EMISSION_FACTORS_CSV = (
    Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "emission_factors.csv"
)

# AU-WA-SWIS, ZA, US, GLOBAL: upper-case letters and digits in dash-separated parts
REGION_PATTERN = r"^[A-Z]{2,}(-[A-Z0-9]+)*$"
# NGA-2024, DFFE-2021, EIA-1605b, default
EDITION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]*$"

Region = Annotated[str, Field(pattern=REGION_PATTERN, max_length=32)]
Edition = Annotated[str, Field(pattern=EDITION_PATTERN, max_length=32)]
MeterId = Annotated[str, Field(min_length=1, max_length=64)]

GRID_MEASURANDS = ("energy", "power")
FUEL_MEASURANDS = ("fuel",)


class CarbonSettings(BaseModel):
    """``carbon:`` in a site file."""

    model_config = ConfigDict(extra="forbid")

    grid_region: Region | None = Field(
        None,
        description="region of the grid electricity factor in the emission-factor seed, "
        "e.g. AU-WA-SWIS; unset = grid kWh are counted but carry no emissions",
    )
    grid_edition: Edition | None = Field(
        None, description="edition of that factor, e.g. NGA-2024 (required with grid_region)"
    )
    scope2_basis: Literal["location"] = Field(
        "location",
        description="scope 2 method: location-based (grid average); market-based needs "
        "supplier or residual-mix factors, which the seed does not hold",
    )
    fuel_region: Region = Field("GLOBAL", description="region of the diesel factor in the seed")
    fuel_edition: Edition = Field("default", description="edition of the diesel factor")
    diesel_factor_kg_per_l: float | None = Field(
        None, gt=0, le=10, description="site's own diesel factor, kg CO2-e per litre"
    )
    grid_meters: list[MeterId] | None = Field(
        None,
        description="energy (kWh register) or power (kW) meters that measure grid electricity; "
        "unset = every energy and power meter of the site",
    )
    fuel_meters: list[MeterId] | None = Field(
        None,
        description="fuel meters (litres of diesel over the interval); unset = every fuel meter",
    )

    @model_validator(mode="after")
    def _edition_with_region(self) -> CarbonSettings:
        if (self.grid_region is None) != (self.grid_edition is None):
            raise ValueError("grid_region and grid_edition go together: name both or neither")
        return self


@cache
def seed_factor_keys(path: Path = EMISSION_FACTORS_CSV) -> frozenset[tuple[str, str, str, str]]:
    """(region, scope, activity, edition) of every row of the emission-factor seed."""
    if not path.exists():
        return frozenset()
    with path.open(newline="") as handle:
        return frozenset(
            (row["region"], row["scope"], row["activity"], row["edition"])
            for row in csv.DictReader(handle)
        )


def seed_factor(region: str, scope: int, activity: str, edition: str) -> float:
    """The factor of one row of the emission-factor seed (KeyError when it has none)."""
    with EMISSION_FACTORS_CSV.open(newline="") as handle:
        for row in csv.DictReader(handle):
            key = (row["region"], row["scope"], row["activity"], row["edition"])
            if key == (region, str(scope), activity, edition):
                return float(row["factor"])
    raise KeyError(f"no {activity} scope {scope} factor for {region}/{edition}")


def _known(keys: frozenset[tuple[str, str, str, str]], scope: str, activity: str) -> list[str]:
    return sorted({f"{r}/{e}" for r, s, a, e in keys if s == scope and a == activity})


def carbon_meters(cfg: SiteConfig) -> list[tuple[str, str, int]]:
    """(meter id, activity, scope) of every meter whose readings count for carbon.

    Unless the site lists them, grid electricity comes from every energy register, and from a
    power meter only where its flow or node has no energy register (a pump with both would
    count twice); diesel from every fuel meter. A site with an ``energy:`` section says where
    its electricity comes from: grid electricity is then its grid connection's import meter
    alone (generators, PV arrays and loads are not grid supply, and a pump behind the import
    meter is already in it), and a fuel tank's delivery meter is not diesel burned.
    """
    settings = cfg.carbon
    chosen: list[tuple[str, str, int]] = []
    registered = {(m.flow, m.node) for m in cfg.meters if m.measurand == "energy"}
    energy = cfg.energy
    import_meter = energy.grid.import_meter if energy.grid is not None else None
    deliveries = {tank.delivery_meter for tank in energy.fuel.tanks}
    for meter in cfg.meters:
        if meter.measurand in GRID_MEASURANDS:
            if settings.grid_meters is not None:
                counts = meter.id in settings.grid_meters
            elif energy.enabled:
                counts = meter.id == import_meter
            else:
                counts = meter.measurand == "energy" or (meter.flow, meter.node) not in registered
            if counts:
                chosen.append((meter.id, "grid_electricity", 2))
        elif meter.measurand in FUEL_MEASURANDS:
            if settings.fuel_meters is not None:
                counts = meter.id in settings.fuel_meters
            else:
                counts = meter.id not in deliveries
            if counts:
                chosen.append((meter.id, "diesel", 1))
    return chosen


def carbon_problems(cfg: SiteConfig) -> list[tuple[str, str]]:
    """Cross-reference problems of ``cfg.carbon``: unknown or unfit meters, and factors the
    emission-factor seed does not hold."""
    settings = cfg.carbon
    problems: list[tuple[str, str]] = []
    meters = cfg.meters_by_id
    for field, wanted in (("grid_meters", GRID_MEASURANDS), ("fuel_meters", FUEL_MEASURANDS)):
        for i, meter_id in enumerate(getattr(settings, field) or []):
            path = f"carbon.{field}[{i}]"
            meter = meters.get(meter_id)
            if meter is None:
                problems.append((path, f"unknown meter {meter_id!r}"))
            elif meter.measurand not in wanted:
                problems.append(
                    (path, f"{meter_id!r} measures {meter.measurand}, not {' or '.join(wanted)}")
                )
    keys = seed_factor_keys()
    if keys and settings.grid_region is not None:
        grid = (settings.grid_region, "2", "grid_electricity", settings.grid_edition or "")
        if grid not in keys:
            problems.append(
                (
                    "carbon.grid_region",
                    f"no grid electricity factor for {settings.grid_region}/"
                    f"{settings.grid_edition} in the emission-factor seed; known: "
                    f"{', '.join(_known(keys, '2', 'grid_electricity'))}",
                )
            )
    if keys and settings.diesel_factor_kg_per_l is None:
        fuel = (settings.fuel_region, "1", "diesel", settings.fuel_edition)
        if fuel not in keys:
            problems.append(
                (
                    "carbon.fuel_region",
                    f"no diesel factor for {settings.fuel_region}/{settings.fuel_edition} in the "
                    f"emission-factor seed; known: {', '.join(_known(keys, '1', 'diesel'))}",
                )
            )
    return problems
