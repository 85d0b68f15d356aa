"""Water quality settings of a site (``water_quality:`` in the site file).

Sample points say where lab and field samples are taken (a node or a flow) and what they are
for; licence limits apply to discharge points; the parameter catalogue fixes each parameter's
canonical unit; treatments pair an inlet and an outlet point; lab layouts say how lab result
files are read. docs/water-quality-and-incidents.md describes every key.
"""

from __future__ import annotations

from collections import Counter
from difflib import get_close_matches
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from siteledger.site.models import FileLayout, Identifier
from siteledger.units import UnknownUnitError, resolve_unit

if TYPE_CHECKING:
    from siteledger.site.models import SiteConfig

SampleRole = Literal["discharge", "treatment_in", "treatment_out", "monitoring"]
LimitBasis = Literal["single_sample", "monthly_mean"]
LabFormat = Literal["lab_csv", "lab_excel"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Parameter(_Model):
    """A measured water quality parameter and the unit its results are normalised to."""

    id: Identifier
    name: str = ""
    unit: str
    aliases: list[str] = Field(
        default_factory=list, description="other names lab files use for it (case-insensitive)"
    )
    min_value: float | None = Field(
        0.0, description="results below this are implausible (None: no bound)"
    )
    max_value: float | None = None

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str) -> str:
        try:
            return resolve_unit(value).symbol
        except UnknownUnitError as exc:
            raise ValueError(str(exc)) from exc


def _p(pid: str, name: str, unit: str, *aliases: str, **bounds: float | None) -> Parameter:
    return Parameter(id=pid, name=name, unit=unit, aliases=list(aliases), **bounds)


# Metals are reported by labs in ug/L or mg/L; the catalogue normalises to mg/L so that licence
# limits in either unit compare without a second conversion.
DEFAULT_PARAMETERS: tuple[Parameter, ...] = (
    _p("tds", "Total dissolved solids", "mg/L", "total dissolved solids", "TDS @180C"),
    _p("ec", "Electrical conductivity", "uS/cm", "conductivity", "EC @25C"),
    _p("ph", "pH", "pH", "pH value", min_value=0.0, max_value=14.0),
    _p("tss", "Total suspended solids", "mg/L", "suspended solids"),
    _p("turbidity", "Turbidity", "NTU"),
    _p("so4", "Sulfate", "mg/L", "sulfate", "sulphate", "SO4-2"),
    _p("cl", "Chloride", "mg/L", "chloride"),
    _p("no3_n", "Nitrate as N", "mg/L", "nitrate-n", "nitrate as n"),
    _p("nh3_n", "Ammonia as N", "mg/L", "ammonia-n", "ammonia as n"),
    _p("as", "Arsenic (dissolved)", "mg/L", "arsenic"),
    _p("cd", "Cadmium (dissolved)", "mg/L", "cadmium"),
    _p("cu", "Copper (dissolved)", "mg/L", "copper"),
    _p("fe", "Iron (dissolved)", "mg/L", "iron"),
    _p("hg", "Mercury (dissolved)", "mg/L", "mercury"),
    _p("mn", "Manganese (dissolved)", "mg/L", "manganese"),
    _p("ni", "Nickel (dissolved)", "mg/L", "nickel"),
    _p("pb", "Lead (dissolved)", "mg/L", "lead"),
    _p("zn", "Zinc (dissolved)", "mg/L", "zinc"),
    _p("cn_wad", "Cyanide (WAD)", "mg/L", "wad cyanide", "cyanide wad"),
)


class SamplePoint(_Model):
    id: Identifier
    name: str = ""
    node: Identifier | None = None
    flow: Identifier | None = None
    role: SampleRole = "monitoring"
    description: str = ""

    @model_validator(mode="after")
    def _one_place(self) -> SamplePoint:
        if (self.node is None) == (self.flow is None):
            raise ValueError("a sample point samples one node or one flow (give node or flow)")
        return self


class LicenceLimit(_Model):
    """A licence condition on one parameter at one discharge point."""

    id: Identifier
    sample_point: Identifier
    parameter: Identifier
    min: float | None = None
    max: float | None = None
    unit: str | None = Field(None, description="unit of min/max; default the parameter's unit")
    basis: LimitBasis = "single_sample"
    reference: str = Field("", description="licence and condition, e.g. 'L1234/2020 cond. 12'")

    @model_validator(mode="after")
    def _has_bound(self) -> LicenceLimit:
        if self.min is None and self.max is None:
            raise ValueError("a limit needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return resolve_unit(value).symbol
        except UnknownUnitError as exc:
            raise ValueError(str(exc)) from exc


class Treatment(_Model):
    """A treatment step measured by samples before (inlet) and after (outlet) it."""

    id: Identifier
    name: str = ""
    inlet: Identifier = Field(..., description="sample point before treatment")
    outlet: Identifier = Field(..., description="sample point after treatment")


class LabLayout(FileLayout):
    """How one kind of lab result file is read: an EDD-style long CSV or one Excel sheet.

    One row is one result. The value cell may carry the detection-limit qualifier itself
    (``<0.01``) or leave it to ``qualifier_column``. An empty column name (``""``) means the
    files have no such column.
    """

    format: LabFormat  # type: ignore[assignment]
    timestamp_column: str = "sampled_at"
    sample_point_column: str = "sample_point"
    parameter_column: str = "parameter"
    value_column: str = "value"
    unit_column: str | None = "unit"
    qualifier_column: str | None = "qualifier"
    lab_column: str | None = "lab"
    method_column: str | None = "method"
    sample_id_column: str | None = "sample_id"


class WaterQualitySettings(_Model):
    sample_points: list[SamplePoint] = Field(default_factory=list)
    parameters: list[Parameter] = Field(default_factory=lambda: list(DEFAULT_PARAMETERS))
    limits: list[LicenceLimit] = Field(default_factory=list)
    treatments: list[Treatment] = Field(default_factory=list)
    lab_layouts: list[LabLayout] = Field(default_factory=list)
    future_tolerance_hours: float = Field(
        24.0, ge=0, description="a sample dated more than this after now is rejected"
    )
    # WAF Category 3 (DOMAIN: unsuitable for most purposes): TDS > 5 000 mg/L or pH < 4 or > 10
    category3_tds_mg_l: float = Field(5000.0, gt=0, description="TDS above this is category 3")
    category3_ph_low: float = Field(4.0, ge=0, le=14, description="pH below this is category 3")
    category3_ph_high: float = Field(10.0, ge=0, le=14, description="pH above this is category 3")
    ec_to_tds_factor: float = Field(
        0.65,
        gt=0,
        le=1.5,
        description="TDS (mg/L) per uS/cm, to read a conductivity meter as TDS where a flow has "
        "no TDS result (0.55-0.75 for most waters)",
    )

    def parameter_index(self) -> dict[str, Parameter]:
        """Every spelling of every parameter (id, name, aliases; lower case) -> parameter."""
        index: dict[str, Parameter] = {}
        for parameter in self.parameters:
            for spelling in (parameter.id, parameter.name, *parameter.aliases):
                if spelling.strip():
                    index.setdefault(spelling.strip().lower(), parameter)
        return index


def _hint(value: str, choices: list[str]) -> str:
    match = get_close_matches(value, choices, n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _duplicate_ids(path: str, ids: list[str]) -> list[tuple[str, str]]:
    counts = Counter(ids)
    seen: set[str] = set()
    problems = []
    for index, item in enumerate(ids):
        if counts[item] > 1 and item in seen:
            problems.append((f"{path}[{index}].id", f"duplicate id {item!r}"))
        seen.add(item)
    return problems


def water_quality_problems(cfg: SiteConfig) -> list[tuple[str, str]]:
    """Cross-reference problems of ``cfg.water_quality`` as (key path, reason)."""
    wq = cfg.water_quality
    root = "water_quality"
    problems: list[tuple[str, str]] = []
    problems += _duplicate_ids(f"{root}.sample_points", [p.id for p in wq.sample_points])
    problems += _duplicate_ids(f"{root}.parameters", [p.id for p in wq.parameters])
    problems += _duplicate_ids(f"{root}.limits", [lim.id for lim in wq.limits])
    problems += _duplicate_ids(f"{root}.treatments", [t.id for t in wq.treatments])
    layout_ids = [lay.id for lay in cfg.file_layouts]
    for i, layout in enumerate(wq.lab_layouts):
        if layout.id in layout_ids or [lay.id for lay in wq.lab_layouts].index(layout.id) != i:
            problems.append((f"{root}.lab_layouts[{i}].id", f"duplicate layout id {layout.id!r}"))

    spellings: dict[str, str] = {}
    for i, catalogued in enumerate(wq.parameters):
        for spelling in (catalogued.id, catalogued.name, *catalogued.aliases):
            key = spelling.strip().lower()
            if key and spellings.setdefault(key, catalogued.id) != catalogued.id:
                problems.append(
                    (
                        f"{root}.parameters[{i}]",
                        f"{spelling!r} names both {spellings[key]!r} and {catalogued.id!r}",
                    )
                )

    node_ids = [n.id for n in cfg.nodes]
    flow_ids = [f.id for f in cfg.flows]
    for i, sample_point in enumerate(wq.sample_points):
        path = f"{root}.sample_points[{i}]"
        node, flow = sample_point.node, sample_point.flow
        if node is not None and node not in node_ids:
            problems.append((f"{path}.node", f"unknown node {node!r}{_hint(node, node_ids)}"))
        if flow is not None and flow not in flow_ids:
            problems.append((f"{path}.flow", f"unknown flow {flow!r}{_hint(flow, flow_ids)}"))

    # a duplicate id is reported above; the first definition is the one checked against
    points: dict[str, SamplePoint] = {}
    for point_def in wq.sample_points:
        points.setdefault(point_def.id, point_def)
    parameters: dict[str, Parameter] = {}
    for parameter_def in wq.parameters:
        parameters.setdefault(parameter_def.id, parameter_def)
    for i, limit in enumerate(wq.limits):
        path = f"{root}.limits[{i}]"
        point = points.get(limit.sample_point)
        if point is None:
            hint = _hint(limit.sample_point, list(points))
            problems.append(
                (f"{path}.sample_point", f"unknown sample point {limit.sample_point!r}{hint}")
            )
        elif point.role != "discharge":
            problems.append(
                (
                    f"{path}.sample_point",
                    f"licence limits apply to discharge points; {point.id!r} is {point.role}",
                )
            )
        parameter = parameters.get(limit.parameter)
        if parameter is None:
            hint = _hint(limit.parameter, list(parameters))
            problems.append((f"{path}.parameter", f"unknown parameter {limit.parameter!r}{hint}"))
        elif limit.unit is not None:
            a, b = resolve_unit(limit.unit), resolve_unit(parameter.unit)
            if a.dimension != b.dimension:
                problems.append(
                    (
                        f"{path}.unit",
                        f"unit {limit.unit!r} cannot be converted to {parameter.id}'s unit "
                        f"{parameter.unit!r}",
                    )
                )

    for i, treatment in enumerate(wq.treatments):
        path = f"{root}.treatments[{i}]"
        for key, role in (("inlet", "treatment_in"), ("outlet", "treatment_out")):
            ref = getattr(treatment, key)
            point = points.get(ref)
            if point is None:
                problems.append(
                    (f"{path}.{key}", f"unknown sample point {ref!r}{_hint(ref, list(points))}")
                )
            elif point.role != role:
                problems.append((f"{path}.{key}", f"{ref!r} is {point.role}, not {role}"))
        if treatment.inlet == treatment.outlet:
            problems.append((path, "inlet and outlet are the same sample point"))
    return problems
