"""Prepaid customer water metering settings of a site (``metering:`` in the site file): the
currency, emergency credit and low-balance settings, leak, burst and device-health thresholds,
the increasing-block tariffs (versioned by effective date), the districts with their bulk meters,
and the record file layouts (docs/metering.md).

Structure is checked by pydantic (strict: no NaN or infinity, no quoted number, no boolean for a
number, no unknown key); cross-references (a second tariff or district of the same id, a
tariff's versions on the same day, blocks that do not increase, a bulk meter the site does not
have, a layout whose id or pattern clashes with another's) by :func:`metering_problems`, which
``semantic_problems`` calls.

Tariff semantics (docs/metering.md): blocks apply to a customer's consumption of the calendar
month (site-local), all meters of the customer together,
``charge(q) = sum_i rate_i * clip(q - b_{i-1}, 0, b_i - b_{i-1})``; the version in force on a
day applies; the fixed charge accrues daily (``fixed_charge_per_month`` / days in the month).
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from siteledger.site.identifiers import Identifier
from siteledger.site.models import FileLayout
from siteledger.site.records import (
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

if TYPE_CHECKING:
    from siteledger.site.models import SiteConfig

MeteringKind = Literal[
    "customers", "meters", "vouchers", "purchases", "readings", "meter_events", "maintenance"
]
METERING_KINDS: tuple[str, ...] = (
    "customers",
    "meters",
    "vouchers",
    "purchases",
    "readings",
    "meter_events",
    "maintenance",
)
# what a customers or meters row does; ``upsert`` (the default) is resolved against committed state
ENTITY_ACTIONS = ("upsert", "create", "update", "deactivate")
COMMUNICATIONS = ("nb_iot", "lte_m", "lora", "wmbus", "gprs", "modbus", "manual")
DISCOUNT_TYPES = ("percentage", "fixed")
PAYMENT_METHODS = ("virtual_account", "qr", "e_wallet", "card", "bank_transfer", "manual")
EVENT_TYPES = (
    "magnetic",
    "cover_open",
    "tilt",
    "reverse_flow",
    "cable_cut",
    "register_removed",
    "low_battery",
    "signal_loss",
    "reboot",
    "leak",
    "burst",
)
TASK_TYPES = (
    "inspection",
    "battery_replacement",
    "calibration",
    "meter_replacement",
    "repair",
    "other",
)
TASK_STATUSES = ("scheduled", "done", "cancelled")
# the site meters (``meters:``) a district's bulk meter may be: they measure a volume
BULK_MEASURANDS = ("totaliser", "volume")

DEFAULT_CURRENCY = "IDR"
DEFAULT_READING_INTERVAL_MINUTES = 60


def _c(name: str, kind: Any, required: bool = True, choices: tuple[str, ...] = ()) -> RecordColumn:
    return RecordColumn(name, kind, required, choices)


# The columns of each kind of metering record file (canonical names; a layout's ``columns``
# maps them to the file's headers). The first column is the record's key. ``readings`` is read
# by the vectorised importer (ingestion.files.metering_readings), the rest by the record importer.
METERING_COLUMNS: dict[str, tuple[RecordColumn, ...]] = {
    "customers": (
        _c("customer_id", "id"),
        _c("action", "choice", False, ENTITY_ACTIONS),
        _c("name", "text", False),
        _c("segment", "id", False),
        _c("household_size", "integer", False),
        _c("district_id", "id", False),
        _c("low_balance_threshold", "number", False),
        _c("address", "text", False),
        _c("effective_at", "timestamp", False),
    ),
    "meters": (
        _c("meter_id", "id"),
        _c("action", "choice", False, ENTITY_ACTIONS),
        _c("customer_id", "id", False),
        _c("meter_type", "text", False),
        _c("q3_m3_per_h", "number", False),
        _c("install_date", "date", False),
        _c("location", "text", False),
        _c("latitude", "number", False),
        _c("longitude", "number", False),
        _c("communication", "choice", False, COMMUNICATIONS),
        _c("reading_interval_minutes", "integer", False),
        _c("effective_at", "timestamp", False),
    ),
    "vouchers": (
        _c("voucher_code", "id"),
        _c("discount_type", "choice", choices=DISCOUNT_TYPES),
        _c("value", "number"),
        _c("max_discount", "number", False),
        _c("min_purchase", "number", False),
        _c("total_limit", "integer", False),
        _c("per_customer_limit", "integer", False),
        _c("valid_from", "timestamp"),
        _c("valid_until", "timestamp"),
        _c("description", "text", False),
    ),
    "purchases": (
        _c("purchase_id", "id"),
        _c("customer_id", "id"),
        _c("meter_id", "id", False),
        _c("paid_at", "timestamp"),
        _c("amount", "number"),
        _c("voucher_code", "id", False),
        _c("discount", "number", False),
        _c("final_amount", "number"),
        _c("currency", "currency", False),
        _c("payment_method", "choice", choices=PAYMENT_METHODS),
        _c("provider", "text", False),
        _c("token_id", "text", False),
    ),
    "readings": (
        _c("meter_id", "id"),
        _c("read_at", "timestamp"),
        _c("register_m3", "number", False),
        _c("interval_m3", "number", False),
        _c("reverse_m3", "number", False),
        _c("battery_pct", "number", False),
        _c("signal_dbm", "number", False),
    ),
    "meter_events": (
        _c("event_id", "id"),
        _c("meter_id", "id"),
        _c("occurred_at", "timestamp"),
        _c("event_type", "choice", choices=EVENT_TYPES),
        _c("cleared_at", "timestamp", False),
        _c("detail", "text", False),
    ),
    "maintenance": (
        _c("task_id", "id"),
        _c("meter_id", "id"),
        _c("task_type", "choice", choices=TASK_TYPES),
        _c("due_date", "date"),
        _c("technician", "text", False),
        _c("status", "choice", False, TASK_STATUSES),
        _c("done_at", "timestamp", False),
        _c("notes", "text", False),
    ),
}
METERING_KEYS: dict[str, str] = {kind: cols[0].name for kind, cols in METERING_COLUMNS.items()}


def _hour(value: Any) -> str:
    """A site-local hour as ``HH:00`` (00:00-24:00)."""
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1440:
            # YAML 1.1 reads an unquoted 22:00 as the base-60 number 1320
            hint = f'; write it in quotes, e.g. "{value // 60:02d}:{value % 60:02d}"'
        else:
            hint = ""
        raise ValueError(f"a time of day is text like '02:00', got {value!r}{hint}")
    parts = value.strip().split(":")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        raise ValueError(f"time {value!r} is not like '02:00'")
    hours, minutes = int(parts[0]), int(parts[1])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes > 0):
        raise ValueError(f"time {value!r} is not a time of day (00:00 to 24:00)")
    if minutes:
        raise ValueError(f"time {value!r} is not on the hour (hourly consumption is checked)")
    return f"{hours:02d}:00"


HourText = Annotated[str, BeforeValidator(_hour)]


def _window(value: Any) -> str:
    """A peak window ``HH:00-HH:00`` of whole hours (the end after the start)."""
    if not isinstance(value, str) or value.count("-") != 1:
        raise ValueError(f"a peak window is text like '07:00-09:00', got {value!r}")
    start, end = (_hour(part) for part in value.split("-"))
    if int(end[:2]) <= int(start[:2]):
        raise ValueError(f"peak window {value!r} ends before it starts")
    return f"{start}-{end}"


PeakWindow = Annotated[str, BeforeValidator(_window)]


class LeakSettings(StrictModel):
    night_start: HourText = Field("02:00", description="site-local, on the hour")
    night_end: HourText = Field("05:00", description="site-local, on the hour")
    night_flow_l_per_h: float = Field(10.0, ge=0, le=1e6, description="night-flow leak above")
    zero_flow_l_per_h: float = Field(1.0, ge=0, le=1e6, description="an hour below is zero-flow")
    intermittent_min_hours: int = Field(12, ge=1, le=24, description="hours with flow of 24")

    @model_validator(mode="after")
    def _night(self) -> LeakSettings:
        if self.night_start == self.night_end:
            raise ValueError(f"night_start and night_end are both {self.night_start}")
        return self

    @property
    def night_start_hour(self) -> int:
        return int(self.night_start[:2]) % 24

    @property
    def night_end_hour(self) -> int:
        return int(self.night_end[:2]) % 24


class TariffBlock(StrictModel):
    up_to_m3: float | None = Field(
        None, gt=0, le=1e7, description="monthly m3 the block ends at; unset = open-ended (last)"
    )
    rate: float = Field(ge=0, le=1e9, description="per m3, in the site currency")


class TariffVersion(StrictModel):
    effective_from: DateText = Field(description="first day the version applies (YYYY-MM-DD)")
    fixed_charge_per_month: float = Field(0.0, ge=0, le=1e9)
    blocks: list[TariffBlock] = Field(min_length=1)


class Tariff(StrictModel):
    id: Identifier
    name: str = ""
    versions: list[TariffVersion] = Field(min_length=1)

    def version_on(self, day: datetime.date) -> TariffVersion | None:
        """The version in force on ``day`` (the latest effective_from on or before it)."""
        valid = [v for v in self.versions if v.effective_from <= day]
        return max(valid, key=lambda v: v.effective_from) if valid else None


class District(StrictModel):
    id: Identifier
    name: str = ""
    bulk_meters: list[str] = Field(default_factory=list, description="site meters (volume)")


class MeteringLayout(FileLayout):
    """How one kind of metering record file (customers, purchases, readings, ...) is read.

    One row (or JSON object) is one record. Columns have their canonical names
    (:data:`METERING_COLUMNS`) unless ``columns`` maps a canonical name to the file's header.
    """

    kind: MeteringKind
    format: RecordFormat  # type: ignore[assignment]
    columns: dict[str, str] = Field(
        default_factory=dict, description="canonical column -> header in the file"
    )
    date_format: str | None = Field(None, description="strftime format of dates; default ISO")
    unit: Literal["m3", "L"] | None = Field(
        None, description="readings: the unit of register, interval and reverse volumes (m3)"
    )

    @model_validator(mode="after")
    def _known_columns(self) -> MeteringLayout:
        names = [c.name for c in METERING_COLUMNS[self.kind]]
        check_column_mapping(self.kind, self.columns, names)
        if self.unit is not None and self.kind != "readings":
            raise ValueError(f"unit is for readings layouts; {self.kind} have no volumes")
        return self

    def header(self, column: str) -> str:
        """The file's header of a canonical column."""
        return self.columns.get(column, column)

    @property
    def volume_factor(self) -> float:
        """m3 per unit of the file's volumes."""
        return 0.001 if self.unit == "L" else 1.0


# days-of-credit-left levels the ledger carries and the credit_days_level_* rules compare with
MAX_CREDIT_DAY_LEVELS = 3


class MeteringSettings(StrictModel):
    """``metering:`` of a site file; absent = no prepaid metering."""

    currency: str = Field(DEFAULT_CURRENCY, pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    emergency_credit: float = Field(20000.0, ge=0, le=1e12)
    low_balance_threshold: float = Field(25000.0, ge=0, le=1e12)
    low_balance_days: list[Annotated[int, Field(ge=0, le=366)]] = Field(
        default_factory=lambda: [7, 3, 1], max_length=50
    )
    credit_days_window: int = Field(7, ge=1, le=366)
    leak: LeakSettings = Field(default_factory=LeakSettings)
    burst_q3_fraction: float = Field(0.2, gt=0, le=10)
    default_q3_m3_per_h: float = Field(2.5, gt=0, le=1e5)
    reverse_flow_l: float = Field(5.0, ge=0, le=1e9)
    offline_after_intervals: int = Field(3, ge=1, le=10_000)
    low_battery_pct: float = Field(10.0, ge=0, le=100)
    weak_signal_dbm: float = Field(-110.0, ge=-200, le=0)
    per_capita_benchmark_l: float = Field(100.0, gt=0, le=10_000)
    peak_hours: list[PeakWindow] = Field(default_factory=lambda: ["07:00-09:00", "18:00-21:00"])
    revenue_drop_pct: float = Field(20.0, gt=0, le=100)
    maintenance_due_days: int = Field(14, ge=0, le=3650)
    tariffs: list[Tariff] = Field(default_factory=list)
    districts: list[District] = Field(default_factory=list)
    layouts: list[MeteringLayout] = Field(default_factory=list)

    @field_validator("low_balance_days")
    @classmethod
    def _distinct_days(cls, value: list[int]) -> list[int]:
        repeated = sorted(d for d, n in Counter(value).items() if n > 1)
        if repeated:
            raise ValueError(f"{repeated[0]} days is listed twice")
        if len(value) > MAX_CREDIT_DAY_LEVELS:
            raise ValueError(
                f"{len(value)} levels given: at most {MAX_CREDIT_DAY_LEVELS} are alerted (the "
                "ledger's credit_days_level_1..3); keep the three that matter"
            )
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.tariffs or self.districts or self.layouts)

    def tariff(self, tariff_id: str) -> Tariff | None:
        return next((t for t in self.tariffs if t.id == tariff_id), None)

    @property
    def peak_hour_starts(self) -> list[int]:
        """The site-local hours that start a peak hour (sorted, distinct)."""
        hours = {
            hour for window in self.peak_hours for hour in range(int(window[:2]), int(window[6:8]))
        }
        return sorted(hours)


def _empty_as_default(value: Any) -> Any:
    # ``metering:`` written with nothing under it is the defaults
    return {} if value is None else value


MeteringSection = Annotated[MeteringSettings, BeforeValidator(_empty_as_default)]


def _tariff_problems(settings: MeteringSettings) -> list[tuple[str, str]]:
    root = "metering.tariffs"
    problems = duplicates(root, [t.id for t in settings.tariffs], "tariff")
    for i, tariff in enumerate(settings.tariffs):
        seen: dict[datetime.date, int] = {}
        for j, version in enumerate(tariff.versions):
            vpath = f"{root}[{i}].versions[{j}]"
            if version.effective_from in seen:
                problems.append(
                    (
                        f"{vpath}.effective_from",
                        f"tariff {tariff.id!r} has a second version from "
                        f"{version.effective_from} (first at {root}[{i}].versions["
                        f"{seen[version.effective_from]}])",
                    )
                )
            seen.setdefault(version.effective_from, j)
            last = len(version.blocks) - 1
            previous: float | None = None
            for k, block in enumerate(version.blocks):
                bpath = f"{vpath}.blocks[{k}]"
                if block.up_to_m3 is None:
                    if k != last:
                        problems.append(
                            (f"{bpath}.up_to_m3", "only the last block is open-ended (no up_to_m3)")
                        )
                    continue
                if k == last:
                    problems.append(
                        (
                            f"{bpath}.up_to_m3",
                            f"the last block is open-ended: drop up_to_m3 {block.up_to_m3:g} "
                            "(consumption above it would have no rate)",
                        )
                    )
                if previous is not None and block.up_to_m3 <= previous:
                    problems.append(
                        (
                            f"{bpath}.up_to_m3",
                            f"blocks increase strictly: up_to_m3 {block.up_to_m3:g} is not "
                            f"above the previous block's {previous:g}",
                        )
                    )
                previous = block.up_to_m3 if previous is None else max(previous, block.up_to_m3)
    return problems


def _district_problems(cfg: SiteConfig) -> list[tuple[str, str]]:
    root = "metering.districts"
    settings = cfg.metering
    problems = duplicates(root, [d.id for d in settings.districts], "district")
    meters = cfg.meters_by_id
    meter_ids = sorted(meters)
    owner: dict[str, str] = {}
    for i, district in enumerate(settings.districts):
        for j, meter_id in enumerate(district.bulk_meters):
            path = f"{root}[{i}].bulk_meters[{j}]"
            meter = meters.get(meter_id)
            if meter is None:
                problems.append(
                    (path, f"unknown bulk meter {meter_id!r}{hint(meter_id, meter_ids)}")
                )
            elif meter.measurand not in BULK_MEASURANDS:
                problems.append(
                    (
                        path,
                        f"bulk meter {meter_id!r} measures {meter.measurand}; a bulk meter is a "
                        f"water meter of {' or '.join(BULK_MEASURANDS)}",
                    )
                )
            elif meter_id in owner and owner[meter_id] != district.id:
                problems.append(
                    (path, f"bulk meter {meter_id!r} already feeds district {owner[meter_id]!r}")
                )
            owner.setdefault(meter_id, district.id)
    return problems


def _layout_problems(cfg: SiteConfig) -> list[tuple[str, str]]:
    """Layout ids unique across every kind of layout, and patterns that do not overlap."""
    others = [
        *layouts_at("file_layouts", cfg.file_layouts),
        *layouts_at("water_quality.lab_layouts", cfg.water_quality.lab_layouts),
        *layouts_at("materials.layouts", cfg.materials.layouts),
    ]
    return layout_problems("metering.layouts", cfg.metering.layouts, others)


def metering_problems(cfg: SiteConfig) -> list[tuple[str, str]]:
    """Cross-reference problems of ``cfg.metering``, as (key path, reason)."""
    settings = cfg.metering
    problems = _tariff_problems(settings)
    problems += _district_problems(cfg)
    problems += _layout_problems(cfg)
    return problems
