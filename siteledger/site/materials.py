"""Materials and production settings of a site (``materials:`` in the site file): materials and
their base units, suppliers, customers, products, recipes (versioned), specifications (versioned),
the job shop's rates and job types, and the record file layouts (docs/materials.md).

Structure is checked by pydantic (strict: no NaN or infinity, no quoted number, no boolean for a
number, no unknown key); cross-references (an unknown material, product, specification or
supplier, a recipe quantity whose unit does not fit its material, a second recipe of the same id
and version, a layout whose pattern overlaps another's) by :func:`materials_problems`, which
``semantic_problems`` calls.

Quantities are kept in each material's base unit (its ``unit``: a mass, volume or count unit of
:mod:`siteledger.units`). A mass and a volume convert through the material's
``density_g_per_ml``; without one, a recipe or a record in litres of a material kept in kg is
refused. Money is in the site's ``currency``; an amount in another currency converts at the
exchange rate valid on its day (the latest ``valid_from`` on or before it).
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from siteledger.site.identifiers import Identifier
from siteledger.site.models import FileLayout
from siteledger.site.records import (
    ColumnType,
    DateText,
    RecordColumn,
    RecordFormat,
    StrictModel,
    check_column_mapping,
    duplicates,
    hint,
    layout_problems,
    layouts_at,
)
from siteledger.units import UnknownUnitError, amount_converts, resolve_unit

if TYPE_CHECKING:
    from siteledger.site.models import SiteConfig

# the dimensions a material's or product's base unit may have
MATERIAL_DIMENSIONS = ("mass", "volume", "count")
DEFAULT_CURRENCY = "AUD"
DEFAULT_LEAD_TIME_DAYS = 7.0
# z of the normal distribution for the usual service levels (DOMAIN_MATERIALS.md)
DEFAULT_SERVICE_LEVEL = 0.95
DEFAULT_EXPIRY_ALERT_DAYS = 30
DEFAULT_MARGIN_FLOOR_PCT = 20.0
DEFAULT_MARGIN_FALL_PCT_POINTS = 5.0
DEFAULT_PRICE_RISE_ALERT_PCT = 10.0
DEFAULT_YIELD_ALERT_PCT = 95.0
DEFAULT_HOLDING_COST_RATE = 0.25
DEFAULT_ORDER_COST = 40.0
DEFAULT_OTIF_TOLERANCE_PCT = 2.0
# typical powder film 60-80 um
DEFAULT_FILM_UM = 70.0

RecordKind = Literal[
    "receipts",
    "purchase_orders",
    "movements",
    "batches",
    "lot_edges",
    "qc_results",
    "sales",
    "jobs",
]
RECORD_KINDS: tuple[str, ...] = (
    "receipts",
    "purchase_orders",
    "movements",
    "batches",
    "lot_edges",
    "qc_results",
    "sales",
    "jobs",
)
MOVEMENT_KINDS = (
    "issue",
    "return_to_vendor",
    "return_from_customer",
    "adjustment_in",
    "adjustment_out",
    "waste",
)
# movements that bring stock in (they may carry their own unit cost)
INFLOW_MOVEMENT_KINDS = ("return_from_customer", "adjustment_in")
EDGE_RELATIONS = ("split", "merge", "rework")
JOB_STATUSES = ("quoted", "received", "in_progress", "completed", "invoiced", "cancelled")


def _c(
    name: str, kind: ColumnType, required: bool = True, choices: tuple[str, ...] = ()
) -> RecordColumn:
    return RecordColumn(name, kind, required, choices)


# The columns each kind of record file has (canonical names; a layout's ``columns`` maps them
# to the file's headers). Empty optional cells are null; ``unit`` and ``currency`` default to
# the material's (product's) unit and the site currency.
RECORD_COLUMNS: dict[str, tuple[RecordColumn, ...]] = {
    "receipts": (
        _c("receipt_id", "id"),
        _c("lot_id", "id"),
        _c("material_id", "id"),
        _c("supplier_id", "id"),
        _c("po_id", "id", False),
        _c("received_at", "timestamp"),
        _c("qty", "number"),
        _c("unit", "unit", False),
        _c("unit_cost", "number"),
        _c("currency", "currency", False),
        _c("expiry_date", "date", False),
        _c("supplier_lot", "text", False),
    ),
    "purchase_orders": (
        _c("po_id", "id"),
        _c("supplier_id", "id"),
        _c("material_id", "id"),
        _c("ordered_at", "timestamp"),
        _c("promised_date", "date"),
        _c("qty", "number"),
        _c("unit", "unit", False),
        _c("unit_price", "number"),
        _c("currency", "currency", False),
    ),
    "movements": (
        _c("movement_id", "id"),
        _c("moved_at", "timestamp"),
        _c("material_id", "id"),
        _c("lot_id", "id", False),
        _c("kind", "choice", choices=MOVEMENT_KINDS),
        _c("qty", "number"),
        _c("unit", "unit", False),
        _c("unit_cost", "number", False),
        _c("currency", "currency", False),
        _c("batch_id", "id", False),
        _c("job_id", "id", False),
        _c("reason", "text", False),
    ),
    "batches": (
        _c("batch_id", "id"),
        _c("product_id", "id"),
        _c("recipe_id", "id"),
        _c("recipe_version", "integer"),
        _c("planned_qty", "number"),
        _c("actual_qty", "number"),
        _c("samples_qty", "number", False),
        _c("output_unit", "unit", False),
        _c("output_lot_id", "id"),
        _c("started_at", "timestamp"),
        _c("finished_at", "timestamp"),
        _c("equipment", "text", False),
        _c("containers", "integer", False),
    ),
    "lot_edges": (
        _c("edge_id", "id"),
        _c("parent_lot_id", "id"),
        _c("child_lot_id", "id"),
        _c("relation", "choice", choices=EDGE_RELATIONS),
        _c("qty", "number"),
        _c("unit", "unit"),
        _c("moved_at", "timestamp"),
    ),
    "qc_results": (
        _c("result_id", "id"),
        _c("lot_id", "id"),
        _c("spec_id", "id"),
        _c("spec_version", "integer"),
        _c("test_id", "id"),
        _c("value", "number", False),
        _c("result_text", "text", False),
        _c("tested_at", "timestamp"),
        _c("analyst", "text", False),
        _c("approver", "text", False),
    ),
    "sales": (
        _c("sale_id", "id"),
        _c("sold_at", "timestamp"),
        _c("customer_id", "id"),
        _c("product_id", "id"),
        _c("lot_id", "id", False),
        _c("qty", "number"),
        _c("unit", "unit", False),
        _c("unit_price", "number"),
        _c("currency", "currency", False),
    ),
    "jobs": (
        _c("job_id", "id"),
        _c("customer_id", "id"),
        _c("job_type_id", "id"),
        _c("parts", "integer"),
        _c("area_m2", "number"),
        _c("colour", "text"),
        _c("powder_material_id", "id"),
        _c("film_um", "number", False),
        _c("labour_hours", "number"),
        _c("oven_kwh", "number"),
        _c("oven_cost", "number", False),
        _c("quoted_price", "number"),
        _c("invoiced_price", "number", False),
        _c("received_at", "timestamp"),
        _c("started_at", "timestamp", False),
        _c("completed_at", "timestamp", False),
        _c("invoiced_at", "timestamp", False),
        _c("status", "choice", choices=JOB_STATUSES),
    ),
}
# the column that identifies a record of each kind (a second row with it is a duplicate)
RECORD_KEYS: dict[str, str] = {kind: columns[0].name for kind, columns in RECORD_COLUMNS.items()}


def _known_unit(value: str, dimensions: tuple[str, ...] | None = None) -> str:
    try:
        unit = resolve_unit(value)
    except UnknownUnitError as exc:
        raise ValueError(str(exc)) from exc
    if dimensions is not None and unit.dimension not in dimensions:
        raise ValueError(
            f"unit {value!r} measures {unit.dimension}; a material or product is counted in a "
            f"unit of {', '.join(dimensions)} (e.g. kg, L, each)"
        )
    return unit.symbol


class ExchangeRate(StrictModel):
    """1 unit of ``currency`` = ``rate`` units of the site currency, from ``valid_from`` on."""

    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    valid_from: DateText = Field(description="first day the rate applies (YYYY-MM-DD)")
    rate: float = Field(gt=0, le=1e6, description="site currency per unit of `currency`")


class Material(StrictModel):
    id: Identifier
    name: str = ""
    unit: str = Field(description="base unit: a mass, volume or count unit (kg, L, each)")
    category: str = ""
    density_g_per_ml: float | None = Field(
        None, gt=0, le=25, description="enables mass <-> volume conversion"
    )
    shelf_life_days: int | None = Field(
        None, ge=1, le=36500, description="expiry of a receipt that gives none"
    )
    lead_time_days: float = Field(DEFAULT_LEAD_TIME_DAYS, ge=0, le=3650)
    lead_time_sd_days: float = Field(0.0, ge=0, le=3650)
    service_level: float | None = Field(
        None, gt=0, lt=1, description="overrides the site's service_level for the reorder point"
    )
    reorder_point: float | None = Field(
        None, ge=0, le=1e12, description="fixed reorder point (base units); unset = computed"
    )
    specific_gravity: float | None = Field(None, gt=0, le=25, description="powders: coverage")
    transfer_efficiency: float | None = Field(
        None, gt=0, le=1, description="powders: first-pass transfer efficiency, 0..1"
    )
    reclaim_fraction: float | None = Field(
        None, ge=0, le=1, description="powders: share of the overspray reclaimed, 0..1"
    )

    @field_validator("unit")
    @classmethod
    def _base_unit(cls, value: str) -> str:
        return _known_unit(value, MATERIAL_DIMENSIONS)

    @property
    def dimension(self) -> str:
        return resolve_unit(self.unit).dimension


class Supplier(StrictModel):
    id: Identifier
    name: str = ""
    lead_time_days: float | None = Field(
        None, ge=0, le=3650, description="usual lead time; unset = the material's"
    )


class Customer(StrictModel):
    id: Identifier
    name: str = ""
    segment: str = ""


class Product(StrictModel):
    id: Identifier
    name: str = ""
    unit: str = Field("each", description="unit products are made and sold in")
    price: float | None = Field(None, ge=0, le=1e9, description="list price per unit")
    shelf_life_days: int | None = Field(None, ge=1, le=36500)
    spec: Identifier | None = Field(None, description="specification its lots are tested to")

    @field_validator("unit")
    @classmethod
    def _base_unit(cls, value: str) -> str:
        return _known_unit(value, MATERIAL_DIMENSIONS)

    @property
    def dimension(self) -> str:
        return resolve_unit(self.unit).dimension


class RecipeInput(StrictModel):
    material: Identifier
    qty: float = Field(gt=0, le=1e12, description="per recipe run (yield_qty of output)")
    unit: str = Field(description="unit of qty; converted to the material's unit")

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        return _known_unit(value)


class Recipe(StrictModel):
    id: Identifier
    product: Identifier
    version: int = Field(1, ge=1, le=100_000)
    valid_from: DateText | None = Field(None, description="first day this version is used")
    yield_qty: float = Field(gt=0, le=1e12, description="output per recipe run")
    yield_unit: str | None = Field(None, description="unit of yield_qty; default the product's")
    inputs: list[RecipeInput] = Field(min_length=1)

    @field_validator("yield_unit")
    @classmethod
    def _unit(cls, value: str | None) -> str | None:
        return None if value is None else _known_unit(value, MATERIAL_DIMENSIONS)


class SpecTest(StrictModel):
    """One test of a specification: numeric (``min`` and/or ``max``) or text (``expected``)."""

    id: Identifier
    name: str = ""
    method: str = ""
    unit: str = Field("", description="unit the result is reported in (as printed)")
    min: float | None = None
    max: float | None = None
    expected: str | None = Field(None, description="the text result a lot must have")

    @model_validator(mode="after")
    def _one_kind(self) -> SpecTest:
        numeric = self.min is not None or self.max is not None
        if numeric and self.expected is not None:
            raise ValueError(f"test {self.id!r} is numeric (min/max) or text (expected), not both")
        if not numeric and self.expected is None:
            raise ValueError(f"test {self.id!r} needs min, max or both, or expected")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"test {self.id!r}: min {self.min:g} is above max {self.max:g}")
        return self

    @property
    def numeric(self) -> bool:
        return self.expected is None


class Specification(StrictModel):
    id: Identifier
    version: int = Field(1, ge=1, le=100_000)
    product: Identifier | None = Field(None, description="the product it is written for")
    tests: list[SpecTest] = Field(min_length=1)


class JobShop(StrictModel):
    """Rates of a job shop (powder coating)."""

    labour_rate_per_hour: float = Field(0.0, ge=0, le=1e5, description="loaded labour rate")
    overhead_rate_per_m2: float | None = Field(None, ge=0, le=1e5)
    overhead_pct: float | None = Field(
        None, ge=0, le=1000, description="overhead as % of the direct cost (instead of per m2)"
    )
    consumables_per_m2: float = Field(0.0, ge=0, le=1e5)
    default_film_um: float = Field(DEFAULT_FILM_UM, gt=0, le=5000)
    oven_energy_price_per_kwh: float | None = Field(
        None,
        ge=0,
        le=1e3,
        description="site currency per kWh: costs a job's oven_kwh when it records no oven_cost",
    )

    @model_validator(mode="after")
    def _one_overhead(self) -> JobShop:
        if self.overhead_rate_per_m2 is not None and self.overhead_pct is not None:
            raise ValueError("give overhead_rate_per_m2 or overhead_pct, not both")
        return self


class JobType(StrictModel):
    id: Identifier
    name: str = ""
    m2_per_man_hour: float = Field(gt=0, le=1e5)
    film_um: float | None = Field(None, gt=0, le=5000, description="unset = default_film_um")


class RecordLayout(FileLayout):
    """How one kind of record file (receipts, batches, jobs, ...) is read.

    One row (or JSON object) is one record. Columns have their canonical names
    (:data:`RECORD_COLUMNS`) unless ``columns`` maps a canonical name to the file's header.
    """

    # FileLayout is lax (its models predate strict); these fields are checked as they are
    kind: RecordKind
    format: RecordFormat  # type: ignore[assignment]
    columns: dict[str, str] = Field(
        default_factory=dict, description="canonical column -> header in the file"
    )
    date_format: str | None = Field(None, description="strftime format of dates; default ISO")

    @model_validator(mode="after")
    def _known_columns(self) -> RecordLayout:
        names = [c.name for c in RECORD_COLUMNS[self.kind]]
        check_column_mapping(self.kind, self.columns, names)
        return self

    def header(self, column: str) -> str:
        """The file's header of a canonical column."""
        return self.columns.get(column, column)


class MaterialsSettings(StrictModel):
    """``materials:`` of a site file; absent = no materials accounting."""

    currency: str = Field(DEFAULT_CURRENCY, pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    exchange_rates: list[ExchangeRate] = Field(default_factory=list)
    expiry_alert_days: int = Field(DEFAULT_EXPIRY_ALERT_DAYS, ge=0, le=3650)
    margin_floor_pct: float = Field(DEFAULT_MARGIN_FLOOR_PCT, ge=-1000, le=100)
    margin_fall_pct_points: float = Field(DEFAULT_MARGIN_FALL_PCT_POINTS, gt=0, le=1000)
    price_rise_alert_pct: float = Field(DEFAULT_PRICE_RISE_ALERT_PCT, gt=0, le=10_000)
    yield_alert_pct: float = Field(DEFAULT_YIELD_ALERT_PCT, gt=0, le=1000)
    service_level: float = Field(DEFAULT_SERVICE_LEVEL, gt=0, lt=1)
    holding_cost_rate: float = Field(
        DEFAULT_HOLDING_COST_RATE, gt=0, le=10, description="per year, of unit cost (EOQ H)"
    )
    order_cost: float = Field(DEFAULT_ORDER_COST, ge=0, le=1e9, description="per order (EOQ S)")
    otif_tolerance_pct: float = Field(DEFAULT_OTIF_TOLERANCE_PCT, ge=0, lt=100)
    materials: list[Material] = Field(default_factory=list)
    suppliers: list[Supplier] = Field(default_factory=list)
    customers: list[Customer] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)
    recipes: list[Recipe] = Field(default_factory=list)
    specifications: list[Specification] = Field(default_factory=list)
    job_shop: JobShop | None = None
    job_types: list[JobType] = Field(default_factory=list)
    layouts: list[RecordLayout] = Field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.materials or self.products or self.job_types or self.layouts)

    @property
    def shop(self) -> JobShop:
        """The job shop's rates (the defaults without a ``job_shop``)."""
        return self.job_shop if self.job_shop is not None else JobShop()

    def material(self, material_id: str) -> Material | None:
        return next((m for m in self.materials if m.id == material_id), None)

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)

    def recipe(self, recipe_id: str, version: int) -> Recipe | None:
        return next((r for r in self.recipes if r.id == recipe_id and r.version == version), None)

    def specification(self, spec_id: str, version: int) -> Specification | None:
        return next(
            (s for s in self.specifications if s.id == spec_id and s.version == version), None
        )

    def rate_rows(self) -> list[tuple[str, datetime.date, float]]:
        """(currency, first day, rate) in currency and date order."""
        return sorted((r.currency, r.valid_from, r.rate) for r in self.exchange_rates)

    def rate_on(self, currency: str, day: datetime.date) -> float | None:
        """Site currency per unit of ``currency`` on ``day`` (1 for the site currency; None
        when no rate is valid yet)."""
        if currency == self.currency:
            return 1.0
        valid = [r for r in self.rate_rows() if r[0] == currency and r[1] <= day]
        return valid[-1][2] if valid else None

    def film_um(self, job_type: JobType) -> float:
        """A job type's film thickness, else the shop's default."""
        return job_type.film_um if job_type.film_um is not None else self.shop.default_film_um


def _empty_as_default(value: Any) -> Any:
    # ``materials:`` written with nothing under it is the defaults: no materials accounting
    return {} if value is None else value


MaterialsSection = Annotated[MaterialsSettings, BeforeValidator(_empty_as_default)]


def _unit_fit(
    path: str, unit: str, target_unit: str, what: str, density: float | None
) -> list[tuple[str, str]]:
    if amount_converts(unit, target_unit, density):
        return []
    a, b = resolve_unit(unit), resolve_unit(target_unit)
    extra = ""
    if {a.dimension, b.dimension} == {"mass", "volume"}:
        extra = "; give the material a density_g_per_ml to convert"
    return [
        (
            path,
            f"unit {unit!r} ({a.dimension}) does not fit the unit {target_unit!r} "
            f"({b.dimension}) of {what}{extra}",
        )
    ]


def materials_problems(cfg: SiteConfig) -> list[tuple[str, str]]:
    """Cross-reference problems of ``cfg.materials``, as (key path, reason)."""
    settings = cfg.materials
    root = "materials"
    problems: list[tuple[str, str]] = []
    problems += duplicates(f"{root}.materials", [m.id for m in settings.materials], "material")
    problems += duplicates(f"{root}.suppliers", [s.id for s in settings.suppliers], "supplier")
    problems += duplicates(f"{root}.customers", [c.id for c in settings.customers], "customer")
    problems += duplicates(f"{root}.products", [p.id for p in settings.products], "product")
    problems += duplicates(
        f"{root}.recipes", [(r.id, r.version) for r in settings.recipes], "recipe"
    )
    problems += duplicates(
        f"{root}.specifications",
        [(s.id, s.version) for s in settings.specifications],
        "specification",
    )
    problems += duplicates(f"{root}.job_types", [j.id for j in settings.job_types], "job type")

    if settings.currency in {r.currency for r in settings.exchange_rates}:
        index = next(
            i for i, r in enumerate(settings.exchange_rates) if r.currency == settings.currency
        )
        problems.append(
            (
                f"{root}.exchange_rates[{index}].currency",
                f"{settings.currency} is the site currency; it needs no rate",
            )
        )
    seen_rates: dict[tuple[str, datetime.date], int] = {}
    for i, rate in enumerate(settings.exchange_rates):
        key = (rate.currency, rate.valid_from)
        if key in seen_rates:
            problems.append(
                (
                    f"{root}.exchange_rates[{i}].valid_from",
                    f"a second {rate.currency} rate from {rate.valid_from} "
                    f"(first at {root}.exchange_rates[{seen_rates[key]}])",
                )
            )
        seen_rates.setdefault(key, i)

    materials: dict[str, Material] = {}
    for material in settings.materials:
        materials.setdefault(material.id, material)
    products: dict[str, Product] = {}
    for product in settings.products:
        products.setdefault(product.id, product)
    spec_ids = sorted({s.id for s in settings.specifications})
    material_ids, product_ids = list(materials), list(products)

    for i, material in enumerate(settings.materials):
        if material.density_g_per_ml is not None and material.dimension == "count":
            problems.append(
                (
                    f"{root}.materials[{i}].density_g_per_ml",
                    f"material {material.id!r} is counted ({material.unit}); a density "
                    "converts only masses and volumes",
                )
            )
    for i, product in enumerate(settings.products):
        if product.spec is not None and product.spec not in spec_ids:
            problems.append(
                (
                    f"{root}.products[{i}].spec",
                    f"unknown specification {product.spec!r}{hint(product.spec, spec_ids)}",
                )
            )
    for i, recipe in enumerate(settings.recipes):
        path = f"{root}.recipes[{i}]"
        made = products.get(recipe.product)
        if made is None:
            problems.append(
                (
                    f"{path}.product",
                    f"unknown product {recipe.product!r}{hint(recipe.product, product_ids)}",
                )
            )
        elif recipe.yield_unit is not None:
            problems += _unit_fit(
                f"{path}.yield_unit", recipe.yield_unit, made.unit, f"product {made.id!r}", None
            )
        for j, item in enumerate(recipe.inputs):
            ipath = f"{path}.inputs[{j}]"
            used_material = materials.get(item.material)
            if used_material is None:
                problems.append(
                    (
                        f"{ipath}.material",
                        f"unknown material {item.material!r}{hint(item.material, material_ids)}",
                    )
                )
                continue
            problems += _unit_fit(
                f"{ipath}.unit",
                item.unit,
                used_material.unit,
                f"material {used_material.id!r}",
                used_material.density_g_per_ml,
            )
        used = Counter(item.material for item in recipe.inputs)
        for j, item in enumerate(recipe.inputs):
            if (
                used[item.material] > 1
                and [x.material for x in recipe.inputs].index(item.material) != j
            ):
                problems.append(
                    (
                        f"{path}.inputs[{j}].material",
                        f"material {item.material!r} is listed twice in recipe {recipe.id!r} "
                        f"version {recipe.version}",
                    )
                )
    for i, spec in enumerate(settings.specifications):
        path = f"{root}.specifications[{i}]"
        if spec.product is not None and spec.product not in products:
            problems.append(
                (
                    f"{path}.product",
                    f"unknown product {spec.product!r}{hint(spec.product, product_ids)}",
                )
            )
        tests = [t.id for t in spec.tests]
        for j, test_id in enumerate(tests):
            if tests.index(test_id) != j:
                problems.append((f"{path}.tests[{j}].id", f"duplicate test {test_id!r}"))

    problems += _layout_problems(cfg)
    return problems


def _layout_problems(cfg: SiteConfig) -> list[tuple[str, str]]:
    """Layout ids unique across every kind of layout, and patterns that do not overlap."""
    others = [
        *layouts_at("file_layouts", cfg.file_layouts),
        *layouts_at("water_quality.lab_layouts", cfg.water_quality.lab_layouts),
    ]
    return layout_problems("materials.layouts", cfg.materials.layouts, others)
