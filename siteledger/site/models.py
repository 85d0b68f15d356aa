"""The site model: one YAML file describes a site (SPEC §3).

Structure and types are checked by pydantic; cross-references and physics (unknown nodes, a
stage-storage curve that is not monotonic, duplicate ids, ...) by :func:`semantic_problems`, which
returns every problem at once so a user can fix a file in one pass.
"""

from __future__ import annotations

import datetime
import math
import re
import zoneinfo
from collections import Counter
from difflib import get_close_matches
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from siteledger.site.air_quality import AirQualitySettings, air_quality_problems
from siteledger.site.carbon import CarbonSettings, carbon_problems
from siteledger.site.energy import EnergySection, EnergySettings, energy_problems
from siteledger.site.identifiers import Identifier
from siteledger.site.sustainability import SustainabilitySettings
from siteledger.units import MEASURANDS, UnknownUnitError, resolve_unit

_INTERVAL_RE = re.compile(r"^\s*(\d+)\s*(s|sec|min|m|h|hr|d|day)\s*$")
_INTERVAL_SECONDS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hr": 3600, "d": 86400}
_INTERVAL_SECONDS["day"] = 86400

DEFAULT_INPUT_SOURCES = ["surface_water", "groundwater", "sea_water", "third_party_water", "other"]
DEFAULT_OUTPUT_DESTINATIONS = [
    "surface_water",
    "groundwater",
    "sea_water",
    "third_party_water",
    "evaporation",
    "entrainment",
    "other",
]


def interval_seconds(text: str) -> int:
    """Seconds in an interval such as ``15min``, ``1h``, ``1d``."""
    match = _INTERVAL_RE.match(text)
    if not match:
        raise ValueError(f"interval {text!r} is not like '15min', '1h' or '1d'")
    seconds = int(match.group(1)) * _INTERVAL_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"interval {text!r} must be positive")
    return seconds


class _Model(BaseModel):
    # a NaN or infinite capacity, area or bound is never meant: refuse it where it is written
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=False, allow_inf_nan=False
    )


class SiteInfo(_Model):
    id: Identifier
    name: str
    organisation: str = Field(
        "", description="the organisation file's id (checked against it when there is one)"
    )
    region: str = Field("", description="one of the organisation file's region ids")
    timezone: str = "UTC"
    regulators: list[str] = Field(default_factory=list)
    water_stressed: bool = False
    data_start: datetime.date | None = Field(
        None,
        description="first local day of this site's data; not before the organisation's "
        "data_start, which is where day partitions start",
    )
    future_tolerance_hours: float = Field(
        6.0,
        ge=0,
        le=24 * 31,
        allow_inf_nan=False,
        description="a reading stamped more than this after now is quarantined (a clock "
        "that ran ahead); readings before the first day of data are quarantined too",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value


class WafCategories(_Model):
    """Category lists are configuration: sources disagree beyond the core WAF names."""

    input_sources: list[str] = Field(default_factory=lambda: list(DEFAULT_INPUT_SOURCES))
    output_destinations: list[str] = Field(
        default_factory=lambda: list(DEFAULT_OUTPUT_DESTINATIONS)
    )
    quality_high: list[int] = Field(default_factory=lambda: [1, 2])


NodeKind = Literal["store", "task", "source", "destination"]


class Node(_Model):
    id: Identifier
    name: str = ""
    kind: NodeKind
    type: str = Field("", description="dam, tsf, pit, tank / plant, dust_suppression / river ...")
    capacity_m3: float | None = Field(None, gt=0)
    surface_area_m2: float | None = Field(None, gt=0)
    catchment_area_m2: float | None = Field(None, ge=0)
    stage_storage: list[tuple[float, float]] | None = Field(
        None, description="[level m, volume m3] points, interpolated linearly"
    )
    description: str = ""

    @property
    def is_store(self) -> bool:
        return self.kind == "store"

    @property
    def is_external(self) -> bool:
        return self.kind in ("source", "destination")


Method = Literal["measured", "estimated", "simulated"]


class Flow(_Model):
    id: Identifier
    name: str = ""
    from_node: Identifier = Field(alias="from")
    to_node: Identifier = Field(alias="to")
    waf_input_source: str | None = None
    waf_output_destination: str | None = None
    quality: Literal[1, 2, 3] | None = Field(None, description="WAF water quality category")
    method: Method = "measured"
    water_state: Literal["raw", "worked", "treated"] | None = None
    description: str = ""


DataType = Literal["uint16", "int16", "uint32", "int32", "float32", "float64"]
REGISTER_COUNT: dict[str, int] = {
    "uint16": 1,
    "int16": 1,
    "uint32": 2,
    "int32": 2,
    "float32": 2,
    "float64": 4,
}


class ModbusAddress(_Model):
    host: str = "127.0.0.1"
    port: int = Field(502, ge=1, le=65535)
    unit_id: int = Field(1, ge=0, le=255)
    address: int = Field(..., alias="register", ge=0, le=65535, description="first register")
    function: Literal["holding", "input"] = "holding"
    data_type: DataType = "float32"
    byte_order: Literal["big", "little"] = "big"
    word_order: Literal["big", "little"] = "big"
    scale: float = 1.0
    offset: float = 0.0
    # a data logger's own record of past values, read to fill a gap after an outage
    history_register: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="first register of the history: uint32 time of the newest record (Unix "
        "seconds), uint16 record count, then records newest first, one per meter interval",
    )
    history_depth: int = Field(96, ge=1, le=10000, description="records the history holds")

    @property
    def register_count(self) -> int:
        return REGISTER_COUNT[self.data_type]

    @property
    def history_register_count(self) -> int:
        """Registers of the history block (0 without one): 3 of header, then the records."""
        if self.history_register is None:
            return 0
        return 3 + self.history_depth * self.register_count

    @model_validator(mode="after")
    def _fits_address_space(self) -> ModbusAddress:
        if self.address + self.register_count > 65536:
            raise ValueError(
                f"{self.data_type} at register {self.address} runs past register 65535"
            )
        if (
            self.history_register is not None
            and self.history_register + self.history_register_count > 65536
        ):
            raise ValueError(
                f"a history of {self.history_depth} records at register "
                f"{self.history_register} runs past register 65535"
            )
        if self.scale == 0:
            raise ValueError("scale must not be 0")
        return self


VeeFlag = Literal[
    "out_of_range",
    "unit_mismatch",
    "negative_delta",
    "spike",
    "flat_line",
    "duplicate",
    "gap",
    "late_arrival",
    "redundancy_disagreement",
]

# Measurands a constant value says nothing about: registers that do not move while a pump is
# off, rain and evaporation that are 0 for weeks, manual daily values, stores held at a set
# point, a fixed-speed pump's power (the 115-bore demo year: 654 k readings of constant bore
# pump power in runs over 6 h), a genset's litres (0 on the days it stands), a fuel tank's
# contents while its generators stand. A meter of these measurands is checked for flat lines
# only with its own flat_line_hours.
FLAT_LINE_EXEMPT = (
    "totaliser",
    "energy",
    "power",
    "level",
    "rainfall",
    "evaporation_pan",
    "moisture",
    "ore_mass",
    "fuel",
    "tank_contents",
)


class VeeOverrides(_Model):
    """Per-meter VEE thresholds (``meters[].vee``); unset fields take the site's ``quality.vee``."""

    spike_ratio: float | None = Field(None, gt=1)
    spike_step: float | None = Field(None, gt=0)
    flat_line_hours: float | None = Field(None, gt=0)
    late_arrival_hours: float | None = Field(None, gt=0)
    redundancy_tolerance_pct: float | None = Field(None, gt=0)
    redundancy_floor_pct: float | None = Field(None, ge=0, le=100)
    estimation_cap_hours: float | None = Field(None, gt=0)
    profile_days: int | None = Field(None, ge=1, le=14)
    disabled_flags: list[VeeFlag] | None = None


class VeeSettings(_Model):
    """Site-wide VEE defaults (``quality.vee``); docs/quality.md explains each rule."""

    # the demo's variable-speed transfer pump legitimately reads 4.1x both neighbours
    spike_ratio: float = Field(
        6.0, gt=1, description="a rate above this many times both neighbours (both > 0) is a spike"
    )
    spike_step: float = Field(
        0.5, gt=0, description="a level that jumps by more than this (m) and comes back"
    )
    flat_line_hours: float = Field(
        6.0, gt=0, description="identical non-zero values for this long are a stuck sensor"
    )
    late_arrival_hours: float = Field(
        24.0, gt=0, description="arrived after its source had delivered readings this much newer"
    )
    redundancy_tolerance_pct: float = Field(
        5.0, gt=0, description="redundant meters disagreeing by more than this % of their mean"
    )
    redundancy_floor_pct: float = Field(
        1.0, ge=0, le=100, description="pairs below this % of the valid range are not compared"
    )
    estimation_cap_hours: float = Field(
        6.0, gt=0, description="a run of estimates longer than this is a prolonged estimation"
    )
    profile_days: int = Field(7, ge=1, le=14, description="days either side of a flow profile")
    disabled_flags: list[VeeFlag] = Field(default_factory=list)

    def for_meter(self, meter: Meter) -> VeeSettings:
        """These defaults with ``meter``'s overrides applied."""
        if meter.vee is None:
            return self
        overrides = meter.vee.model_dump(exclude_none=True)
        return self.model_copy(update=overrides)


class QualitySettings(_Model):
    """Data quality: VEE thresholds, score bands and the publish floor (``quality``)."""

    vee: VeeSettings = Field(default_factory=VeeSettings)
    excellent_min: float = Field(95.0, gt=0, le=100)
    good_min: float = Field(85.0, gt=0, le=100)
    fair_min: float = Field(70.0, gt=0, le=100)
    publish_floor: float = Field(
        50.0, ge=0, le=100, description="a closed site-day scoring below this blocks publishing"
    )
    block_on_closure_exceeded: bool = Field(
        False, description="also block publishing when a closed day's closure exceeds its threshold"
    )

    @model_validator(mode="after")
    def _bands_descend(self) -> QualitySettings:
        if not self.excellent_min > self.good_min > self.fair_min:
            raise ValueError("score bands must descend: excellent_min > good_min > fair_min")
        return self


class Meter(_Model):
    id: Identifier
    name: str = ""
    measurand: str
    unit: str
    interval: str = "15min"
    node: Identifier | None = None
    flow: Identifier | None = None
    valid_range: tuple[float, float] | None = None
    redundancy_group: Identifier | None = None
    rollover: float | None = Field(None, gt=0, description="register value at which it wraps")
    tag: str | None = Field(None, description="the name this meter has in SCADA exports")
    manual: bool = False
    modbus: ModbusAddress | None = None
    vee: VeeOverrides | None = Field(None, description="this meter's VEE thresholds")
    description: str = ""

    @field_validator("measurand")
    @classmethod
    def _known_measurand(cls, value: str) -> str:
        if value not in MEASURANDS:
            hint = get_close_matches(value, list(MEASURANDS), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(f"unknown measurand {value!r}{extra}; one of {sorted(MEASURANDS)}")
        return value

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str) -> str:
        try:
            return resolve_unit(value).symbol
        except UnknownUnitError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("interval")
    @classmethod
    def _valid_interval(cls, value: str) -> str:
        interval_seconds(value)
        return value

    @property
    def interval_seconds(self) -> int:
        return interval_seconds(self.interval)

    @property
    def cumulative(self) -> bool:
        return MEASURANDS[self.measurand].cumulative


EstimationMethod = Literal[
    "rainfall_runoff",
    "pan_evaporation",
    "ore_moisture",
    "plant_water_per_tonne",
    "tsf_return",
    "entrainment",
    "seepage",
    "dust_suppression",
    "fixed_rate",
]

# Required and optional parameters per estimation method (DOMAIN_WATER.md, "Estimation formulas").
ESTIMATION_PARAMS: dict[str, tuple[set[str], set[str]]] = {
    "rainfall_runoff": ({"rain_meter"}, {"node", "area_m2", "runoff_coefficient"}),
    "pan_evaporation": ({"pan_meter"}, {"node", "area_m2", "pan_factor"}),
    "ore_moisture": (
        {"ore_meter", "moisture_basis"},
        {"moisture_pct", "moisture_meter", "water_density_t_per_m3", "bulk_density_t_per_m3"},
    ),
    "plant_water_per_tonne": ({"ore_meter", "m3_per_t"}, set()),
    "tsf_return": ({"source_flow", "return_pct"}, set()),
    "entrainment": ({"source_flow", "return_pct", "retention_pct"}, set()),
    "seepage": ({"node", "rate_pct_per_month"}, set()),
    "dust_suppression": ({"ore_meter", "m3_per_t"}, set()),
    # a declared rate from an external model (e.g. a hydrogeological inflow model): never silent
    "fixed_rate": ({"m3_per_day"}, set()),
}

# The value an optional parameter takes when a rule leaves it out; the site tables record it
# with the rule (and which parameters took their default), so the estimate states what it assumed.
ESTIMATION_DEFAULTS: dict[str, dict[str, float]] = {
    "rainfall_runoff": {"runoff_coefficient": 1.0},
    # a Class A pan evaporates more than an open water body; 0.7 is the usual pan coefficient
    "pan_evaporation": {"pan_factor": 0.7},
    "ore_moisture": {"water_density_t_per_m3": 1.0},
}

# How ore moisture is reported (moisture_pct, or the moisture meter's %), with the ore meter's
# tonnes as weighed (wet): wet_mass = % of the wet mass, dry_mass = % of the dry mass,
# volume = % of the ore's bulk volume (then bulk_density_t_per_m3 is needed).
MOISTURE_BASES = ("wet_mass", "dry_mass", "volume")

# Physically plausible range of every numeric parameter: (low, high, low is allowed, what).
# Water density: fresh water 0.998 t/m3, hypersaline brine up to about 1.3; ore bulk density:
# from coal and scoria near 0.5 t/m3 to massive sulphides and iron ore near 5, below 6.
ESTIMATION_RANGES: dict[str, tuple[float, float, bool, str]] = {
    "area_m2": (0.0, math.inf, False, "an area in m2 above 0"),
    "runoff_coefficient": (0.0, 1.0, True, "a fraction between 0 and 1"),
    "pan_factor": (
        0.0,
        1.5,
        False,
        "a pan coefficient above 0 and at most 1.5 (typically 0.6-0.85)",
    ),
    "moisture_pct": (0.0, 100.0, True, "a percentage between 0 and 100"),
    "water_density_t_per_m3": (
        0.95,
        1.3,
        True,
        "a water density between 0.95 and 1.3 t/m3 (fresh water 1.0, brine up to 1.3)",
    ),
    "bulk_density_t_per_m3": (
        0.5,
        6.0,
        True,
        "an ore bulk density between 0.5 and 6 t/m3",
    ),
    "m3_per_t": (0.0, math.inf, True, "m3 per tonne, 0 or more"),
    "return_pct": (0.0, 100.0, True, "a percentage between 0 and 100"),
    "retention_pct": (0.0, 100.0, True, "a percentage between 0 and 100"),
    "rate_pct_per_month": (0.0, 100.0, True, "a percentage between 0 and 100"),
    "m3_per_day": (0.0, math.inf, True, "m3 per day, 0 or more"),
}


def is_text_param(name: str) -> bool:
    """Parameters that name a meter, a flow, a node or a choice; every other one is a number."""
    return name in ("node", "moisture_basis") or name.endswith(("_meter", "_flow"))


class EstimationRule(_Model):
    flow: Identifier
    method: EstimationMethod
    classification: Literal["estimated", "simulated"] = "estimated"
    params: dict[str, Any] = Field(default_factory=dict)
    description: str = ""

    @model_validator(mode="after")
    def _params_for_method(self) -> EstimationRule:
        required, optional = ESTIMATION_PARAMS[self.method]
        missing = sorted(required - set(self.params))
        unknown = sorted(set(self.params) - required - optional)
        problems = []
        if missing:
            problems.append(f"method {self.method} needs params {missing}")
            if "moisture_basis" in missing:
                problems.append(f"moisture_basis is one of {', '.join(MOISTURE_BASES)}")
        if unknown:
            problems.append(
                f"method {self.method} does not take params {unknown} "
                f"(takes {sorted(required | optional)})"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def defaulted_params(self) -> dict[str, float]:
        """The optional parameters this rule leaves out, with the value they take."""
        defaults = ESTIMATION_DEFAULTS.get(self.method, {})
        if self.params.get("moisture_basis") == "volume":
            defaults = {}  # water density does not enter the volume basis
        return {k: v for k, v in defaults.items() if k not in self.params}


def _estimation_param_problems(path: str, rule: EstimationRule) -> list[tuple[str, str]]:
    """Numbers out of their physical range, and parameters that contradict each other."""
    problems: list[tuple[str, str]] = []
    params = rule.params
    for key, value in params.items():
        if is_text_param(key):
            continue
        ppath = f"{path}.params.{key}"
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append((ppath, f"must be a number, got {value!r}"))
            continue
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an integer beyond any float
            finite = False
        if not finite:
            problems.append((ppath, f"must be a finite number, got {str(value)[:40]}"))
            continue
        low, high, low_allowed, what = ESTIMATION_RANGES[key]
        if value > high or value < low or (value == low and not low_allowed):
            problems.append((ppath, f"{value} is not {what}"))
    if rule.method == "ore_moisture":
        basis = params.get("moisture_basis")
        if "moisture_pct" not in params and "moisture_meter" not in params:
            problems.append((f"{path}.params", "ore_moisture needs moisture_pct or moisture_meter"))
        if basis not in MOISTURE_BASES:
            problems.append(
                (
                    f"{path}.params.moisture_basis",
                    f"{basis!r} is not one of {', '.join(MOISTURE_BASES)}",
                )
            )
        elif basis == "volume":
            if "bulk_density_t_per_m3" not in params:
                problems.append(
                    (
                        f"{path}.params",
                        "the volume basis needs bulk_density_t_per_m3, the ore's bulk density",
                    )
                )
            if "water_density_t_per_m3" in params:
                problems.append(
                    (
                        f"{path}.params.water_density_t_per_m3",
                        "the volume basis gives water m3 directly; water density is not used",
                    )
                )
        elif "bulk_density_t_per_m3" in params:
            problems.append(
                (
                    f"{path}.params.bulk_density_t_per_m3",
                    f"only the volume basis uses the ore's bulk density, not {basis}",
                )
            )
        elif basis == "wet_mass" and params.get("moisture_pct") == 100:
            problems.append(
                (f"{path}.params.moisture_pct", "100 % of the wet mass is water, not ore")
            )
    return problems


class Requirement(_Model):
    """A regulatory limit on a metric (licence conditions)."""

    id: Identifier
    metric: str
    scope: str = "site"
    period: Literal["day", "month", "quarter", "year"] = "month"
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    reference: str = ""

    @model_validator(mode="after")
    def _has_bound(self) -> Requirement:
        if self.min is None and self.max is None:
            raise ValueError("a requirement needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Thresholds(_Model):
    closure_error_pct: float = Field(5.0, gt=0, le=100)
    node_balance_error_pct: float = Field(10.0, gt=0, le=100)
    store_high_pct: float = Field(80.0, gt=0, le=100)
    store_low_pct: float = Field(20.0, ge=0, lt=100)


FileFormat = Literal[
    "csv_wide", "csv_long", "excel_long", "home_assistant_history", "home_assistant_statistics"
]


class FileLayout(_Model):
    """How one kind of file drop maps onto readings. Column names are configuration."""

    id: Identifier
    format: FileFormat
    pattern: str = Field(..., min_length=1, description="glob on the file name, e.g. scada_*.csv")
    encoding: str = "utf-8"
    delimiter: str = Field(",", min_length=1, max_length=1)
    decimal: str = Field(".", min_length=1, max_length=1)
    timezone: str | None = Field(None, description="of naive timestamps; default: site timezone")
    timestamp_column: str = "timestamp"
    timestamp_format: str | None = Field(None, description="strftime format; default ISO 8601")
    # csv_wide: one column per meter, matched on the meter's tag (or id)
    header_meter_key: Literal["tag", "id"] = "tag"
    unit_in_header: str | None = Field(
        None,
        description="regex with groups 'name' and 'unit', e.g. '(?P<name>.+) \\[(?P<unit>.+)\\]'",
    )
    # csv_long / excel_long
    meter_column: str = "meter"
    value_column: str = "value"
    unit_column: str | None = None
    # excel_long
    sheet: str | None = None
    header_row: int = Field(1, ge=1, le=1000)
    null_values: list[str] = Field(default_factory=lambda: ["", "NaN", "nan", "NULL", "null"])

    @field_validator("unit_in_header")
    @classmethod
    def _regex_groups(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        if not {"name", "unit"} <= set(compiled.groupindex):
            raise ValueError("needs named groups 'name' and 'unit'")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            SiteInfo._known_timezone(value)
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value


# after FileLayout and Identifier, which the water quality and materials settings build on
from siteledger.site.materials import (  # noqa: E402
    MaterialsSection,
    MaterialsSettings,
    materials_problems,
)
from siteledger.site.metering import (  # noqa: E402
    MeteringSection,
    MeteringSettings,
    metering_problems,
)
from siteledger.site.water_quality import (  # noqa: E402
    WaterQualitySettings,
    water_quality_problems,
)


class SiteConfig(_Model):
    """A whole site: the root of a site YAML file."""

    site: SiteInfo
    waf: WafCategories = Field(default_factory=WafCategories)
    nodes: list[Node] = Field(
        default_factory=list,
        description="the water model's nodes; none = a site without a water model (e.g. only a "
        "`materials:` section): the water marts have no rows for it",
    )
    flows: list[Flow] = Field(default_factory=list)
    meters: list[Meter] = Field(default_factory=list)
    estimations: list[EstimationRule] = Field(default_factory=list)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    requirements: list[Requirement] = Field(default_factory=list)
    file_layouts: list[FileLayout] = Field(default_factory=list)
    air_quality: AirQualitySettings = Field(default_factory=AirQualitySettings)
    sustainability: SustainabilitySettings = Field(default_factory=SustainabilitySettings)
    water_quality: WaterQualitySettings = Field(default_factory=WaterQualitySettings)
    alerts: dict[str, Any] | None = Field(
        None,
        description="this site's own alert rules (`rules:`), validated by the alert engine "
        "(docs/alerts.md); the core keeps them as they are",
    )
    carbon: CarbonSettings = Field(default_factory=CarbonSettings)
    energy: EnergySection = Field(
        default_factory=EnergySettings,
        description="generators, fuel tanks, PV arrays, the grid and its tariff, loads and "
        "cost centres (docs/energy.md); absent = no energy accounting",
    )
    materials: MaterialsSection = Field(
        default_factory=MaterialsSettings,
        description="materials, suppliers, products, recipes, specifications, job shop rates "
        "and record file layouts (docs/materials.md); absent = no materials accounting",
    )
    metering: MeteringSection = Field(
        default_factory=MeteringSettings,
        description="prepaid customer water metering: tariffs, districts, leak and device "
        "thresholds and record file layouts (docs/metering.md); absent = no prepaid metering",
    )

    # -- lookups -----------------------------------------------------------------------------
    def node(self, node_id: str) -> Node:
        return {n.id: n for n in self.nodes}[node_id]

    def flow(self, flow_id: str) -> Flow:
        return {f.id: f for f in self.flows}[flow_id]

    def meter(self, meter_id: str) -> Meter:
        return {m.id: m for m in self.meters}[meter_id]

    @property
    def meters_by_id(self) -> dict[str, Meter]:
        return {m.id: m for m in self.meters}

    def layout(self, layout_id: str) -> FileLayout:
        return {layout.id: layout for layout in self.file_layouts}[layout_id]

    def layout_timezone(self, layout: FileLayout) -> str:
        return layout.timezone or self.site.timezone


def _hint(value: str, choices: list[str]) -> str:
    match = get_close_matches(value, choices, n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _duplicates(path: str, ids: list[str]) -> list[tuple[str, str]]:
    problems = []
    counts = Counter(ids)
    for index, item in enumerate(ids):
        if counts[item] > 1:
            first = ids.index(item)
            if first != index:
                problems.append(
                    (f"{path}[{index}].id", f"duplicate id {item!r} (first at {path}[{first}])")
                )
    return problems


def _curve_problems(path: str, node: Node) -> list[tuple[str, str]]:
    curve = node.stage_storage or []
    problems: list[tuple[str, str]] = []
    if len(curve) < 2:
        return [(path, "a stage-storage curve needs at least 2 points")]
    for i in range(1, len(curve)):
        (l0, v0), (l1, v1) = curve[i - 1], curve[i]
        if l1 <= l0:
            problems.append(
                (f"{path}[{i}]", f"curve not monotonic: level {l1} does not rise above {l0}")
            )
        if v1 <= v0:
            problems.append(
                (f"{path}[{i}]", f"curve not monotonic: volume {v1} does not rise above {v0}")
            )
    if any(v < 0 for _, v in curve):
        problems.append((path, "curve has a negative volume"))
    if node.capacity_m3 is not None and curve[-1][1] < node.capacity_m3 * 0.999:
        problems.append(
            (
                path,
                f"curve tops out at {curve[-1][1]:g} m3, below capacity_m3 {node.capacity_m3:g}",
            )
        )
    return problems


def semantic_problems(cfg: SiteConfig) -> list[tuple[str, str]]:
    """Every cross-reference and physics problem in a structurally valid site, as (path, reason)."""
    problems: list[tuple[str, str]] = []
    problems += _duplicates("nodes", [n.id for n in cfg.nodes])
    problems += _duplicates("flows", [f.id for f in cfg.flows])
    problems += _duplicates("meters", [m.id for m in cfg.meters])
    problems += _duplicates("file_layouts", [lay.id for lay in cfg.file_layouts])

    nodes = {n.id: n for n in cfg.nodes}
    node_ids = list(nodes)
    flows = {f.id: f for f in cfg.flows}
    flow_ids = list(flows)
    meters = {m.id: m for m in cfg.meters}

    for i, node in enumerate(cfg.nodes):
        path = f"nodes[{i}]"
        if node.is_store:
            for key in ("capacity_m3", "surface_area_m2", "stage_storage"):
                if getattr(node, key) is None:
                    problems.append((f"{path}.{key}", f"store {node.id!r} needs {key}"))
            if node.stage_storage is not None:
                problems += _curve_problems(f"{path}.stage_storage", node)
        else:
            for key in ("capacity_m3", "stage_storage"):
                if getattr(node, key) is not None:
                    problems.append(
                        (f"{path}.{key}", f"only stores have {key}; {node.id!r} is a {node.kind}")
                    )

    for i, flow in enumerate(cfg.flows):
        path = f"flows[{i}]"
        ends = []
        for key, ref in (("from", flow.from_node), ("to", flow.to_node)):
            if ref not in nodes:
                problems.append((f"{path}.{key}", f"unknown node {ref!r}{_hint(ref, node_ids)}"))
            ends.append(nodes.get(ref))
        src, dst = ends
        if flow.from_node == flow.to_node:
            problems.append((path, f"flow {flow.id!r} starts and ends at {flow.from_node!r}"))
        if src is not None and src.kind == "destination":
            problems.append((f"{path}.from", f"{src.id!r} is a destination; flows cannot leave it"))
        if dst is not None and dst.kind == "source":
            problems.append((f"{path}.to", f"{dst.id!r} is a source; flows cannot enter it"))
        is_input = src is not None and src.kind == "source"
        is_output = dst is not None and dst.kind == "destination"
        if is_input:
            if flow.waf_input_source is None:
                problems.append(
                    (
                        f"{path}.waf_input_source",
                        f"input flow {flow.id!r} needs a WAF source category",
                    )
                )
        elif flow.waf_input_source is not None and src is not None:
            problems.append(
                (f"{path}.waf_input_source", "only flows from a source node are inputs")
            )
        if is_output:
            if flow.waf_output_destination is None:
                problems.append(
                    (
                        f"{path}.waf_output_destination",
                        f"output flow {flow.id!r} needs a WAF destination category",
                    )
                )
        elif flow.waf_output_destination is not None and dst is not None:
            problems.append(
                (f"{path}.waf_output_destination", "only flows to a destination node are outputs")
            )
        if flow.waf_input_source is not None and flow.waf_input_source not in cfg.waf.input_sources:
            problems.append(
                (
                    f"{path}.waf_input_source",
                    f"unknown category {flow.waf_input_source!r}"
                    f"{_hint(flow.waf_input_source, cfg.waf.input_sources)}; "
                    f"one of {cfg.waf.input_sources}",
                )
            )
        dest = flow.waf_output_destination
        if dest is not None and dest not in cfg.waf.output_destinations:
            problems.append(
                (
                    f"{path}.waf_output_destination",
                    f"unknown category {dest!r}{_hint(dest, cfg.waf.output_destinations)}; "
                    f"one of {cfg.waf.output_destinations}",
                )
            )

    groups: dict[str, list[Meter]] = {}
    for i, meter in enumerate(cfg.meters):
        path = f"meters[{i}]"
        measurand = MEASURANDS[meter.measurand]
        unit = resolve_unit(meter.unit)
        if unit.dimension != measurand.dimension:
            problems.append(
                (
                    f"{path}.unit",
                    f"unit {meter.unit!r} measures {unit.dimension}, but {meter.measurand} "
                    f"is {measurand.dimension} (e.g. {measurand.canonical_unit})",
                )
            )
        if meter.node is not None and meter.flow is not None:
            problems.append((path, "a meter belongs to a node or a flow, not both"))
        if meter.node is not None and meter.node not in nodes:
            problems.append(
                (f"{path}.node", f"unknown node {meter.node!r}{_hint(meter.node, node_ids)}")
            )
        if meter.flow is not None and meter.flow not in flows:
            problems.append(
                (f"{path}.flow", f"unknown flow {meter.flow!r}{_hint(meter.flow, flow_ids)}")
            )
        if meter.measurand == "level" and meter.node in nodes and not nodes[meter.node].is_store:
            problems.append(
                (f"{path}.node", f"a level sensor needs a store; {meter.node!r} is not")
            )
        if meter.valid_range is not None and meter.valid_range[0] >= meter.valid_range[1]:
            problems.append(
                (
                    f"{path}.valid_range",
                    f"min {meter.valid_range[0]} is not below max {meter.valid_range[1]}",
                )
            )
        if meter.rollover is not None and not measurand.cumulative:
            problems.append(
                (
                    f"{path}.rollover",
                    f"only cumulative registers roll over; {meter.measurand} does not",
                )
            )
        if meter.redundancy_group is not None:
            groups.setdefault(meter.redundancy_group, []).append(meter)
    for group, members in groups.items():
        index = cfg.meters.index(members[0])
        if len(members) < 2:
            problems.append(
                (f"meters[{index}].redundancy_group", f"group {group!r} has only one meter")
            )
        elif len({(m.measurand, m.node, m.flow) for m in members}) > 1:
            problems.append(
                (
                    f"meters[{index}].redundancy_group",
                    f"group {group!r} mixes meters of different quantities",
                )
            )
    tags = [m.tag for m in cfg.meters if m.tag]
    for tag, count in Counter(tags).items():
        if count > 1:
            index = next(i for i, m in enumerate(cfg.meters) if m.tag == tag)
            problems.append((f"meters[{index}].tag", f"tag {tag!r} is used by {count} meters"))
    addresses: dict[tuple[str, int, int, str, int], str] = {}
    for i, meter in enumerate(cfg.meters):
        if meter.modbus is None:
            continue
        mb = meter.modbus
        blocks = [("register", mb.address, mb.register_count)]
        if mb.history_register is not None:
            blocks.append(("history_register", mb.history_register, mb.history_register_count))
        for field, first, count in blocks:
            for reg in range(first, first + count):
                slot = (mb.host, mb.port, mb.unit_id, mb.function, reg)
                if slot in addresses and addresses[slot] != meter.id:
                    problems.append(
                        (
                            f"meters[{i}].modbus.{field}",
                            f"register {reg} on {mb.host}:{mb.port} unit {mb.unit_id} "
                            f"overlaps meter {addresses[slot]!r}",
                        )
                    )
                    break
                addresses[slot] = meter.id

    for i, rule in enumerate(cfg.estimations):
        path = f"estimations[{i}]"
        if rule.flow not in flows:
            problems.append(
                (f"{path}.flow", f"unknown flow {rule.flow!r}{_hint(rule.flow, flow_ids)}")
            )
        for key, value in rule.params.items():
            ppath = f"{path}.params.{key}"
            names_something = key.endswith(("_meter", "_flow")) or key == "node"
            if names_something and not isinstance(value, str):
                what = (
                    "meter"
                    if key.endswith("_meter")
                    else "flow"
                    if key.endswith("_flow")
                    else "node"
                )
                problems.append(
                    (ppath, f"must be a {what} id, got {type(value).__name__} {value!r}")
                )
            elif key.endswith("_meter"):
                if value not in meters:
                    problems.append(
                        (ppath, f"unknown meter {value!r}{_hint(str(value), list(meters))}")
                    )
            elif key == "node":
                if value not in nodes:
                    problems.append((ppath, f"unknown node {value!r}{_hint(str(value), node_ids)}"))
                elif not nodes[value].is_store and rule.method != "rainfall_runoff":
                    problems.append((ppath, f"{value!r} is not a store"))
            elif key.endswith("_flow") and value not in flows:
                problems.append((ppath, f"unknown flow {value!r}{_hint(str(value), flow_ids)}"))
        problems += _estimation_param_problems(path, rule)
        needs_area = rule.method in ("rainfall_runoff", "pan_evaporation")
        if needs_area and "node" not in rule.params and "area_m2" not in rule.params:
            problems.append((f"{path}.params", f"{rule.method} needs node or area_m2"))
    problems += water_quality_problems(cfg)
    estimated = [r.flow for r in cfg.estimations]
    for flow_id, count in Counter(estimated).items():
        if count > 1:
            problems.append(("estimations", f"flow {flow_id!r} has {count} estimation rules"))
    problems += carbon_problems(cfg)
    problems += air_quality_problems(cfg)
    problems += energy_problems(cfg)
    problems += materials_problems(cfg)
    problems += metering_problems(cfg)
    return problems
