"""The demo organisation's two workshops: a soap and candle maker and a powder-coating job shop.

Both are sites without a water model (no nodes, meters or flows): their site files hold only a
``materials:`` section (docs/materials.md), and their records arrive as file drops in
``landing/`` under the section's layouts, one file per kind and site-local month:

``demo_soapworks`` (Margaret River, Australia/Perth): 31 materials from 7 suppliers (oils and
butters, lye, water, fragrances bought in US dollars, colourants, waxes, wicks, packaging; in kg,
L and each, with densities where a recipe gives a mass for a liquid or a volume for an oil),
purchase orders and their receipts (one lot each, prices that move over the year, some late,
some short), 9 products from 11 recipes (two of them move to a version 2 188 days in), about
300 batches in a year (soap on Monday, Tuesday, Wednesday and Friday, candles on Tuesday and
Thursday) whose ingredients are issued from the lots first in, first out - the source system
names the lot on every issue but those of labels, tissue and cartons - every 25th batch from 26
an unscented base split into a lavender and a rose variant with added fragrance (batch 101 ->
``101A-Lavender``, ``101B-Rose``), QC results of every lot against its product's specification
(one lot fails its pH), one batch of low yield, the lots sold to a dozen customers once cured,
returns to suppliers and waste. Files:
``soapworks_<kind>_YYYY-MM.csv``, the QC results as a workbook (``.xlsx``), the web shop's
sales as JSON.

``demo_coating`` (Welshpool, Australia/Perth): 12 powders by colour (specific gravity, transfer
efficiency, reclaim), about 1 500 jobs a year of 5 job types for 40 customers (quoted, received,
coated, invoiced; some only quoted, a few cancelled), the powder issued to each job from the
colour's lots (FIFO), labour hours, oven energy, and one wasteful month (a worn spray gun: far
less of the powder lands on the parts). Files: ``coating_<kind>_YYYY-MM.csv``.

Everything is deterministic from the seed; the special events are placed in the period (batch
101 needs 101 batches, about 17 weeks; the wasteful month is the month 70 % of the way through
a period of at least 60 days). Ground truth (``materials.json`` in each site's ground-truth
folder) is computed from the records as written: the recalled supplier lot and its exact
descendants, the failed QC lot, per-batch and per-job FIFO costs from a FIFO walk of its own,
powder waste per job and month, and each supplier's OTIF.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
from openpyxl import Workbook

from demo.drivers import stream

if TYPE_CHECKING:
    from siteledger.site.models import SiteConfig

SOAPWORKS_SITE_ID = "demo_soapworks"
COATING_SITE_ID = "demo_coating"
MATERIALS_SITE_IDS = (SOAPWORKS_SITE_ID, COATING_SITE_ID)
TIMEZONE = "Australia/Perth"
REGION = "wa_south_west"
CURRENCY = "AUD"
DEFAULT_START = date(2025, 7, 1)
SOAPWORKS_PREFIX = "soapworks_"
COATING_PREFIX = "coating_"
TRUTH_FILE = "materials.json"

ZONE = ZoneInfo(TIMEZONE)
Q3 = Decimal("0.001")
CENT = Decimal("0.01")
Record = dict[str, Any]

# 1 USD in AUD from each day (multiples of 0.05: a USD price in steps of 0.20 converts to whole
# cents, so the site-currency cost of every receipt is exact)
USD_RATES = ((0, Decimal("1.50")), (188, Decimal("1.55")), (274, Decimal("1.45")))
# a purchase order is in full when at least 98 % of it arrives
OTIF_TOLERANCE_PCT = Decimal(2)


# -- the soapworks' catalogue ---------------------------------------------------------------------
@dataclass(frozen=True)
class Material:
    """A material with what buying it takes: supplier, price (per base unit, in the supplier's
    currency; step changes from a day of the period), the lot size it comes in and how many
    days of use an order covers; ``tracked`` = the source system names the lot on issues."""

    id: str
    name: str
    unit: str
    category: str
    supplier: str
    price: Decimal
    lot_size: Decimal
    density: float | None = None
    shelf_life_days: int | None = None
    prices: tuple[tuple[int, Decimal], ...] = ()
    cover_days: int = 42
    tracked: bool = True
    code: str = ""
    specific_gravity: float | None = None
    transfer_efficiency: float | None = None
    reclaim_fraction: float | None = None

    def price_on(self, day: int) -> Decimal:
        price = self.price
        for first, value in self.prices:
            if day >= first:
                price = value
        return price


@dataclass(frozen=True)
class Supplier:
    """A supplier with its lead time and how it delivers: the chance that an order is late
    (by 1 to ``max_late_days`` working days) and that it arrives short (80-95 %)."""

    id: str
    name: str
    lead_time_days: int
    currency: str = CURRENCY
    p_late: float = 0.05
    p_short: float = 0.03
    max_late_days: int = 4


def _d(value: str | float | int) -> Decimal:
    return Decimal(str(value))


SOAP_SUPPLIERS = (
    Supplier("oilco", "Swan Valley Oils", 7, p_late=0.08, p_short=0.04),
    Supplier("chemsupply", "WA Chemical Supplies", 5, p_late=0.04, p_short=0.0),
    Supplier("aroma", "Aroma Trade Co (Portland, USA)", 21, "USD", 0.35, 0.05, 6),
    Supplier("colourcraft", "ColourCraft Pigments", 10, p_late=0.10, p_short=0.0),
    Supplier("hive", "Margaret River Honey and Wax", 4, p_late=0.05, p_short=0.10),
    Supplier("waxworks", "Candle Supply Co", 10, p_late=0.12, p_short=0.05),
    Supplier("packright", "PackRight Packaging", 14, p_late=0.20, p_short=0.25),
)

SOAP_MATERIALS = (
    Material("olive_oil", "Olive oil (pomace)", "kg", "oil", "oilco", _d("9.80"), _d(20),
             0.91, 540, ((139, _d("11.60")),), code="OLV"),
    Material("coconut_oil", "Coconut oil (refined, 76 F)", "kg", "oil", "oilco", _d("6.40"),
             _d(15), 0.92, 720, ((216, _d("6.95")),), cover_days=28, code="COC"),
    Material("rapeseed_oil", "Rapeseed oil (high oleic)", "kg", "oil", "oilco", _d("4.20"),
             _d(20), 0.915, 365, code="RAP"),
    Material("castor_oil", "Castor oil", "L", "oil", "oilco", _d("8.90"), _d(5), 0.96, 720,
             code="CAS"),
    Material("shea_butter", "Shea butter (refined)", "kg", "butter", "oilco", _d("12.50"),
             _d(10), None, 720, code="SHE"),
    Material("cocoa_butter", "Cocoa butter", "kg", "butter", "oilco", _d("21.00"), _d(5),
             None, 720, code="COB"),
    Material("sodium_hydroxide", "Sodium hydroxide (lye) micropearls", "kg", "lye",
             "chemsupply", _d("4.60"), _d(25), None, 1095, code="NAOH"),
    Material("distilled_water", "Distilled water", "L", "water", "chemsupply", _d("0.90"),
             _d(20), 1.0, None, code="H2O"),
    Material("sodium_lactate", "Sodium lactate 60 %", "kg", "additive", "chemsupply",
             _d("9.50"), _d(5), 1.33, 730, code="SLAC"),
    Material("lavender_eo", "Lavender essential oil (40/42)", "kg", "fragrance", "aroma",
             _d("96.00"), _d(1), 0.885, 730, code="LAV"),
    Material("rose_fo", "Rose garden fragrance oil", "kg", "fragrance", "aroma", _d("64.40"),
             _d(1), 0.96, 730, ((160, _d("71.20")),), code="ROS"),
    Material("vanilla_fo", "Vanilla bean fragrance oil", "kg", "fragrance", "aroma",
             _d("52.60"), _d(5), 1.02, 730, code="VAN"),
    Material("cedarwood_eo", "Cedarwood essential oil (Atlas)", "kg", "fragrance", "aroma",
             _d("44.20"), _d(1), 0.95, 730, code="CED"),
    Material("oat_honey_fo", "Oatmeal milk and honey fragrance oil", "kg", "fragrance",
             "aroma", _d("48.80"), _d(1), 1.0, 730, code="OAT"),
    Material("sea_breeze_fo", "Sea breeze fragrance oil", "kg", "fragrance", "aroma",
             _d("50.20"), _d(1), 0.97, 730, code="SEA"),
    Material("activated_charcoal", "Activated charcoal powder", "kg", "colourant",
             "colourcraft", _d("38.00"), _d(1), None, None, cover_days=90, code="CHR"),
    Material("pink_clay", "Pink kaolin clay", "kg", "colourant", "colourcraft", _d("16.00"),
             _d(1), None, None, cover_days=90, code="PNK"),
    Material("ultramarine_blue", "Ultramarine blue", "kg", "colourant", "colourcraft",
             _d("64.00"), _d("0.5"), None, None, cover_days=120, code="ULT"),
    Material("mica_gold", "Gold mica", "kg", "colourant", "colourcraft", _d("120.00"),
             _d("0.25"), None, None, cover_days=120, code="MIC"),
    Material("colloidal_oatmeal", "Colloidal oatmeal", "kg", "additive", "colourcraft",
             _d("11.50"), _d(5), None, 365, cover_days=90, code="OML"),
    Material("honey", "Raw honey", "kg", "additive", "hive", _d("14.00"), _d(3), 1.42, 730,
             cover_days=60, code="HNY"),
    Material("beeswax", "Beeswax pastilles (yellow)", "kg", "wax", "hive", _d("24.00"),
             _d(10), None, None, ((283, _d("27.50")),), code="BWX"),
    Material("soy_wax", "Soy container wax", "kg", "wax", "waxworks", _d("7.80"), _d(20),
             None, 730, ((279, _d("7.40")),), code="SOY"),
    Material("wick_cd10", "Wick CD-10 (pre-tabbed)", "each", "wick", "waxworks", _d("0.18"),
             _d(500), code="WK10"),
    Material("wick_cd12", "Wick CD-12 (pre-tabbed)", "each", "wick", "waxworks", _d("0.22"),
             _d(250), code="WK12"),
    Material("candle_jar", "Amber candle jar 200 mL", "each", "packaging", "packright",
             _d("1.35"), _d(240), code="JAR"),
    Material("jar_lid", "Black tin lid 70 mm", "each", "packaging", "packright", _d("0.42"),
             _d(240), code="LID"),
    Material("soap_box", "Kraft soap box", "each", "packaging", "packright", _d("0.38"),
             _d(500), code="BOX"),
    Material("label", "Product label", "each", "packaging", "packright", _d("0.09"),
             _d(1000), tracked=False, code="LBL"),
    Material("tissue_wrap", "Tissue wrap sheet", "each", "packaging", "packright", _d("0.06"),
             _d(500), tracked=False, code="TIS"),
    Material("shipping_carton", "Shipping carton", "each", "packaging", "packright",
             _d("1.10"), _d(100), tracked=False, code="CTN"),
)  # fmt: skip


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    price: Decimal
    kind: str  # soap | jar_candle | pillar_candle


SOAP_PRODUCTS = (
    Product("unscented_soap", "Unscented soap bar", _d("7.50"), "soap"),
    Product("lav_soap", "Lavender soap bar", _d("8.50"), "soap"),
    Product("rose_soap", "Rose clay soap bar", _d("8.50"), "soap"),
    Product("oat_soap", "Oat and honey soap bar", _d("8.50"), "soap"),
    Product("charcoal_soap", "Charcoal and cedar soap bar", _d("9.00"), "soap"),
    Product("ocean_soap", "Sea breeze soap bar", _d("8.50"), "soap"),
    Product("candle_vanilla", "Vanilla soy candle 200 mL", _d("24.00"), "jar_candle"),
    Product("candle_cedar", "Cedarwood soy candle 200 mL", _d("24.00"), "jar_candle"),
    Product("candle_beeswax", "Beeswax pillar candle", _d("29.00"), "pillar_candle"),
)
PRODUCT = {p.id: p for p in SOAP_PRODUCTS}

# the soap base of every bar, per 100 bars (about 11 kg of batter): castor oil and water are
# kept in litres and weighed into the pot in kg, the sodium lactate is measured in mL
SOAP_BASE = (
    ("olive_oil", "4.2", "kg"),
    ("coconut_oil", "2.4", "kg"),
    ("shea_butter", "0.9", "kg"),
    ("castor_oil", "0.5", "kg"),
    ("sodium_hydroxide", "1.12", "kg"),
    ("distilled_water", "2.6", "kg"),
    ("sodium_lactate", "60", "mL"),
)
SOAP_PACKING = (("soap_box", "100", "each"), ("label", "100", "each"))
JAR_PACKING = (
    ("wick_cd10", "50", "each"),
    ("candle_jar", "50", "each"),
    ("jar_lid", "50", "each"),
    ("label", "50", "each"),
)
RECIPE_CHANGE_DAY = 188  # 2026-01-05 in the default year: olive oil partly replaced by rapeseed


def _replace(base: Iterable[tuple[str, str, str]], **changes: str) -> list[tuple[str, str, str]]:
    return [(m, changes.get(m, qty), unit) for m, qty, unit in base]


def _recipes() -> list[dict[str, Any]]:
    """Every recipe version: (id, version, product, valid-from day, yield, inputs)."""
    v2_base = [*_replace(SOAP_BASE, olive_oil="3.4"), ("rapeseed_oil", "0.8", "kg")]
    recipes = [
        ("unscented_bar", 1, "unscented_soap", 0, 100, [*SOAP_BASE, *SOAP_PACKING]),
        ("lavender_bar", 1, "lav_soap", 0, 100,
         [*SOAP_BASE, ("lavender_eo", "300", "mL"), *SOAP_PACKING]),
        ("lavender_bar", 2, "lav_soap", RECIPE_CHANGE_DAY, 100,
         [*v2_base, ("lavender_eo", "300", "mL"), *SOAP_PACKING]),
        ("rose_bar", 1, "rose_soap", 0, 100,
         [*SOAP_BASE, ("rose_fo", "280", "mL"), ("pink_clay", "0.08", "kg"),
          ("mica_gold", "0.01", "kg"), *SOAP_PACKING]),
        ("oat_bar", 1, "oat_soap", 0, 100,
         [*_replace(SOAP_BASE, olive_oil="3.8", shea_butter="0", sodium_hydroxide="1.10",
                    distilled_water="2.5"),
          ("cocoa_butter", "0.6", "kg"), ("oat_honey_fo", "250", "mL"),
          ("colloidal_oatmeal", "0.3", "kg"), ("honey", "0.2", "kg"), *SOAP_PACKING]),
        ("charcoal_bar", 1, "charcoal_soap", 0, 100,
         [*_replace(SOAP_BASE, olive_oil="4.0", coconut_oil="2.6", sodium_hydroxide="1.14"),
          ("cedarwood_eo", "250", "mL"), ("activated_charcoal", "0.12", "kg"), *SOAP_PACKING]),
        ("charcoal_bar", 2, "charcoal_soap", RECIPE_CHANGE_DAY, 100,
         [*_replace(SOAP_BASE, olive_oil="3.2", coconut_oil="2.6", sodium_hydroxide="1.14"),
          ("rapeseed_oil", "0.8", "kg"), ("cedarwood_eo", "250", "mL"),
          ("activated_charcoal", "0.12", "kg"), *SOAP_PACKING]),
        ("ocean_bar", 1, "ocean_soap", 0, 100,
         [*SOAP_BASE, ("sea_breeze_fo", "280", "mL"), ("ultramarine_blue", "0.03", "kg"),
          *SOAP_PACKING]),
        # a variant split off an unscented base: 40 bars' worth of batter and its fragrance
        ("lavender_variant", 1, "lav_soap", 0, 40, [("lavender_eo", "120", "mL")]),
        ("rose_variant", 1, "rose_soap", 0, 40,
         [("rose_fo", "112", "mL"), ("pink_clay", "0.032", "kg")]),
        ("vanilla_jar", 1, "candle_vanilla", 0, 50,
         [("soy_wax", "9.5", "kg"), ("vanilla_fo", "950", "mL"), *JAR_PACKING]),
        ("cedar_jar", 1, "candle_cedar", 0, 50,
         [("soy_wax", "9.5", "kg"), ("cedarwood_eo", "800", "mL"), *JAR_PACKING]),
        ("beeswax_pillar", 1, "candle_beeswax", 0, 50,
         [("beeswax", "12", "kg"), ("wick_cd12", "50", "each"), ("label", "50", "each"),
          ("tissue_wrap", "50", "each")]),
    ]  # fmt: skip
    return [
        {
            "id": rid,
            "version": version,
            "product": product,
            "day": day,
            "yield_qty": yield_qty,
            "inputs": [(m, Decimal(q), u) for m, q, u in inputs if Decimal(q) > 0],
        }
        for rid, version, product, day, yield_qty, inputs in recipes
    ]


RECIPES = _recipes()
PRODUCT_RECIPE = {
    "unscented_soap": "unscented_bar",
    "lav_soap": "lavender_bar",
    "rose_soap": "rose_bar",
    "oat_soap": "oat_bar",
    "charcoal_soap": "charcoal_bar",
    "ocean_soap": "ocean_bar",
    "candle_vanilla": "vanilla_jar",
    "candle_cedar": "cedar_jar",
    "candle_beeswax": "beeswax_pillar",
}
VARIANTS = (("A", "Lavender", "lavender_variant"), ("B", "Rose", "rose_variant"))

# (test id, name, method, unit, min, max, expected text) per kind of product
SPEC_TESTS: dict[str, tuple[tuple[str, str, str, str | None, float | None, float | None,
                                  str | None], ...]] = {
    "soap": (
        ("ph", "pH (1 % solution)", "ISO 4316", "pH", 8.0, 10.0, None),
        ("free_alkali", "Free caustic alkali", "ISO 684", "%", 0.0, 0.1, None),
        ("bar_weight", "Bar weight", "balance, 10 bars", "kg", 0.100, 0.125, None),
        ("appearance", "Appearance", "visual", None, None, None, "conforms"),
    ),
    "jar_candle": (
        ("net_weight", "Net weight", "balance, 5 candles", "kg", 0.190, 0.215, None),
        ("burn_test", "Burn test (4 h)", "in-house BT-2", None, None, None, "conforms"),
        ("fragrance_throw", "Fragrance throw", "panel", None, None, None, "conforms"),
    ),
    "pillar_candle": (
        ("net_weight", "Net weight", "balance, 5 candles", "kg", 0.230, 0.260, None),
        ("burn_test", "Burn test (4 h)", "in-house BT-2", None, None, None, "conforms"),
        ("appearance", "Appearance", "visual", None, None, None, "conforms"),
    ),
}  # fmt: skip

SOAP_CUSTOMERS = (
    # id, name, segment, share of the orders, price factor, currency
    ("c_web_shop", "Web shop orders", "online", 0.22, "1", CURRENCY),
    ("c_busselton_market", "Busselton Saturday market", "market", 0.12, "1", CURRENCY),
    ("c_corner_store", "Yallingup Corner Store", "retail", 0.08, "0.55", CURRENCY),
    ("c_mr_gifts", "Margaret River Gift Co", "retail", 0.10, "0.55", CURRENCY),
    ("c_leeuwin_spa", "Leeuwin Day Spa", "spa", 0.07, "0.5", CURRENCY),
    ("c_cape_hotel", "Cape Naturaliste Hotel", "hospitality", 0.08, "0.5", CURRENCY),
    ("c_subiaco_boutique", "Subiaco Boutique", "retail", 0.08, "0.55", CURRENCY),
    ("c_farm_gate", "Cowaramup farm-gate shop", "retail", 0.06, "0.55", CURRENCY),
    ("c_freo_organics", "Fremantle Organics", "retail", 0.07, "0.55", CURRENCY),
    ("c_cape_wines", "Cape Wines cellar door", "retail", 0.05, "0.55", CURRENCY),
    ("c_dunsborough_pharmacy", "Dunsborough Pharmacy", "retail", 0.04, "0.55", CURRENCY),
    ("c_portland_boutique", "Portland Soap Boutique (USA)", "export", 0.03, "0.5", "USD"),
)

FIRST_BATCH = 1
SPLIT_EVERY = 25  # soap batches 26, 51, 76, 101, ... are unscented bases split into two variants
SPLIT_BATCH = 101
# late in the default year, so that a first evaluation of the alert rules (which look back 90
# and 35 days from a mart's latest row) sees the failed lot and the low yield
FAILED_BATCH = 263
RECALLED_MATERIAL = "coconut_oil"
LOW_YIELD_BATCH = 292
SOAP_CURE_DAYS = 28
CANDLE_CURE_DAYS = 7
# the maker shuts from 24 December to 1 January (the coating shop from the 25th)
CLOSED_FROM = 24
SOAP_ROTATION = ("lav_soap", "rose_soap", "oat_soap", "charcoal_soap", "lav_soap",
                 "ocean_soap", "rose_soap", "unscented_soap")  # fmt: skip
CANDLE_ROTATION = ("candle_vanilla", "candle_cedar", "candle_vanilla", "candle_beeswax")
ANALYSTS = ("J. Moore", "P. Tran")
APPROVER = "R. Chen (QA)"


# -- stock kept first in, first out ---------------------------------------------------------
@dataclass
class Lot:
    lot_id: str
    material_id: str
    received_at: datetime
    qty: Decimal
    unit_cost: Decimal


@dataclass
class Stock:
    """The source system's stock: each material's lots, oldest first."""

    lots: dict[str, deque[Lot]] = field(default_factory=dict)

    def receive(self, lot: Lot) -> None:
        self.lots.setdefault(lot.material_id, deque()).append(lot)

    def on_hand(self, material_id: str) -> Decimal:
        return sum((lot.qty for lot in self.lots.get(material_id, ())), Decimal(0))

    def head(self, material_id: str) -> Lot | None:
        queue = self.lots.get(material_id)
        return queue[0] if queue else None

    def take(self, material_id: str, qty: Decimal) -> list[tuple[Lot, Decimal]]:
        """Draw ``qty`` oldest first: (lot, quantity) per lot drawn on."""
        queue = self.lots.get(material_id, deque())
        portions = []
        left = qty
        while left > 0:
            if not queue:
                raise RuntimeError(f"demo stock of {material_id} ran out ({left} short)")
            lot = queue[0]
            drawn = min(lot.qty, left)
            lot.qty -= drawn
            left -= drawn
            portions.append((lot, drawn))
            if lot.qty == 0:
                queue.popleft()
        return portions


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), ZONE)


def working_days(start: date, days: int, closed: Iterable[int] = ()) -> list[int]:
    """Offsets of the Monday-to-Friday days of the period, without ``closed`` ones."""
    shut = set(closed)
    return [d for d in range(days) if (start + timedelta(days=d)).weekday() < 5 and d not in shut]


def christmas_closure(start: date, days: int, first: int) -> set[int]:
    """Offsets of the days from ``first`` December to 1 January in the period."""
    return {
        d
        for d in range(days)
        if ((day := start + timedelta(days=d)).month == 12 and day.day >= first)
        or (day.month == 1 and day.day == 1)
    }


def next_working_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def usd_rate(offset: int) -> Decimal:
    rate = USD_RATES[0][1]
    for first, value in USD_RATES:
        if offset >= first:
            rate = value
    return rate


def _round_lots(qty: Decimal, lot_size: Decimal) -> Decimal:
    return max(1, math.ceil(qty / lot_size)) * lot_size


# -- purchasing and stock over the period -------------------------------------------------------
@dataclass
class Outflow:
    """A planned draw on a material: an issue to a batch or job, waste, a count correction."""

    at: datetime
    material_id: str
    qty: Decimal  # base units
    kind: str = "issue"
    batch_id: str | None = None
    job_id: str | None = None
    reason: str | None = None
    unit_given: str | None = None  # recorded in another unit than the base one
    qty_given: Decimal | None = None


@dataclass
class Books:
    """Every record of one site, by kind, as the source systems hold them."""

    receipts: list[Record] = field(default_factory=list)
    purchase_orders: list[Record] = field(default_factory=list)
    movements: list[Record] = field(default_factory=list)
    batches: list[Record] = field(default_factory=list)
    lot_edges: list[Record] = field(default_factory=list)
    qc_results: list[Record] = field(default_factory=list)
    sales: list[Record] = field(default_factory=list)
    jobs: list[Record] = field(default_factory=list)

    def by_kind(self) -> dict[str, list[Record]]:
        return {
            kind: rows
            for kind, rows in (
                ("purchase_orders", self.purchase_orders),
                ("receipts", self.receipts),
                ("movements", self.movements),
                ("batches", self.batches),
                ("lot_edges", self.lot_edges),
                ("qc_results", self.qc_results),
                ("sales", self.sales),
                ("jobs", self.jobs),
            )
            if rows
        }


class Purchasing:
    """Buys a site's materials so that planned outflows never find the shelf empty, and runs
    the outflows against the stock first in, first out.

    Each working day: the day's deliveries arrive (from 10:30:30 and 14:30:30, seven minutes
    apart: never at the instant of an outflow, which is on the whole minute), the outflows are
    drawn, and at 16:30 every material whose stock plus open orders, less what is to go back to
    its supplier, would fall below ten days of average use within :meth:`_horizon` is ordered:
    enough lots for ``cover_days``. A delivery due in the Christmas closure waits for the
    reopening; one that would arrive after the period is not ordered (the period's use is
    covered).
    """

    def __init__(
        self,
        prefix: str,
        start: date,
        days: int,
        materials: Iterable[Material],
        suppliers: Iterable[Supplier],
        outflows: list[Outflow],
        rng: np.random.Generator,
        books: Books,
        closed: Iterable[int] = (),
    ) -> None:
        self.prefix, self.start, self.days = prefix, start, days
        self.closed = set(closed)
        self.end = local(start + timedelta(days=days), 0)
        self.materials = {m.id: m for m in materials}
        self.suppliers = {s.id: s for s in suppliers}
        self.outflows = sorted(outflows, key=lambda o: o.at)
        self.rng, self.books = rng, books
        self.stock = Stock()
        self.open_orders: dict[str, list[Record]] = {}
        self.arrivals: dict[date, list[tuple[Record, Decimal]]] = {}
        self.lot_codes: set[str] = set()
        self.returns: dict[str, tuple[str, Decimal, str]] = {}  # lot -> (material, qty, reason)
        # material -> (n-th receipt, quantity sent back, reason)
        self.return_rules: dict[str, tuple[int, Decimal, str]] = {}
        self.received: dict[str, int] = {}
        # planned use per material up to and including each day of the period
        use = {m: [Decimal(0)] * (days + 1) for m in self.materials}
        for out in self.outflows:
            use[out.material_id][(out.at.date() - start).days + 1] += out.qty
        self.cumulative = {}
        for material_id, per_day in use.items():
            running, total = [], Decimal(0)
            for qty in per_day:
                total += qty
                running.append(total)
            self.cumulative[material_id] = running
        self.daily_use = {m: c[-1] / max(days, 1) for m, c in self.cumulative.items()}

    # ids ------------------------------------------------------------------------------------
    def _id(self, kind: str, rows: list[Record]) -> str:
        return f"{self.prefix}{kind}-{len(rows) + 1:05d}"

    def _lot_id(self, material: Material, day: date) -> str:
        base = f"{material.code}-{day:%y%m%d}"
        lot_id, n = base, 1
        while lot_id in self.lot_codes:
            n += 1
            lot_id = f"{base}-{n}"
        self.lot_codes.add(lot_id)
        return lot_id

    # money ----------------------------------------------------------------------------------
    def _given_price(self, material: Material, offset: int) -> Decimal:
        return material.price_on(offset)

    def _site_price(self, material: Material, offset: int) -> Decimal:
        given = material.price_on(offset)
        if self.suppliers[material.supplier].currency == "USD":
            return (given * usd_rate(offset)).quantize(CENT)
        return given

    # receiving ------------------------------------------------------------------------------
    def opening_stock(self) -> None:
        """The shelves on the first morning: enough for the first weeks, received from 08:00
        (two a minute) without a purchase order."""
        first = self.start
        for i, material in enumerate(self.materials.values()):
            horizon = self._horizon(material)
            need = self._need(material.id, 0, horizon + 14) + self._safety(material)
            qty = _round_lots(need, material.lot_size)
            self._receive(material, local(first, 8, i // 2, 30 * (i % 2) + 5), qty, None)

    def _receive(self, material: Material, at: datetime, qty: Decimal, po: Record | None) -> None:
        offset = (at.date() - self.start).days
        supplier = self.suppliers[material.supplier]
        lot_id = self._lot_id(material, at.date())
        receipt = {
            "receipt_id": self._id("RC", self.books.receipts),
            "lot_id": lot_id,
            "material_id": material.id,
            "supplier_id": supplier.id,
            "po_id": po["po_id"] if po else None,
            "received_at": at,
            "qty": qty,
            "unit": material.unit,
            "unit_cost": self._given_price(material, offset),
            "currency": supplier.currency,
            "expiry_date": (
                at.date() + timedelta(days=material.shelf_life_days)
                if material.shelf_life_days and material.category in ("oil", "fragrance")
                else None
            ),
            "supplier_lot": f"{supplier.id[:3].upper()}{int(self.rng.integers(10000, 99999))}",
        }
        self.books.receipts.append(receipt)
        self.stock.receive(Lot(lot_id, material.id, at, qty, self._site_price(material, offset)))
        self.received[material.id] = self.received.get(material.id, 0) + 1
        rule = self.return_rules.get(material.id)
        if rule is not None and rule[0] == self.received[material.id]:
            # sent back once it is the oldest lot on the shelf (at the first draw on the
            # material after that): returning it from its own lot and returning it first in,
            # first out are then the same thing
            self.returns[lot_id] = (material.id, min(rule[1], qty), rule[2])

    # ordering -------------------------------------------------------------------------------
    def _horizon(self, material: Material, offset: int = 0) -> int:
        """Days ahead an order placed on day ``offset`` must cover: the lead time, the latest a
        delivery may be (working days), a weekend, three days' margin, and the days until the
        next order can be placed (over a weekend or the Christmas closure)."""
        supplier = self.suppliers[material.supplier]
        late = math.ceil(supplier.max_late_days * 7 / 5) + 2
        following = offset + 1
        while following < self.days and (
            (self.start + timedelta(days=following)).weekday() >= 5 or following in self.closed
        ):
            following += 1
        return supplier.lead_time_days + late + 3 + (following - offset)

    def _safety(self, material: Material) -> Decimal:
        return self.daily_use[material.id] * 10

    def _need(self, material_id: str, after: int, until: int) -> Decimal:
        """Planned use of a material on days ``after`` < d <= ``until`` (10 % over plan)."""
        running = self.cumulative[material_id]
        last = len(running) - 1
        return (running[min(until + 1, last)] - running[min(after + 1, last)]) * Decimal("1.1")

    def _reorder(self, offset: int) -> None:
        day = self.start + timedelta(days=offset)
        for i, material in enumerate(self.materials.values()):
            supplier = self.suppliers[material.supplier]
            on_order = sum((po["qty"] for po in self.open_orders.get(material.id, [])), Decimal(0))
            horizon = self._horizon(material, offset)
            returning = sum(
                (qty for m, qty, _ in self.returns.values() if m == material.id), Decimal(0)
            )
            projected = (
                self.stock.on_hand(material.id)
                + on_order
                - returning
                - self._need(material.id, offset, offset + horizon)
            )
            if projected >= self._safety(material) or self.daily_use[material.id] == 0:
                continue
            promised = next_working_day(day + timedelta(days=supplier.lead_time_days))
            late = int(self.rng.integers(1, supplier.max_late_days + 1))
            is_late = self.rng.random() < supplier.p_late
            arrive = promised
            for _ in range(late if is_late else 0):
                arrive = next_working_day(arrive + timedelta(days=1))
            while (arrive - self.start).days in self.closed:  # it waits for the reopening
                arrive = next_working_day(arrive + timedelta(days=1))
            if arrive >= self.end.date():
                continue
            cover = self.daily_use[material.id] * material.cover_days
            qty = _round_lots(max(cover, self._safety(material) - projected), material.lot_size)
            po = {
                "po_id": self._id("PO", self.books.purchase_orders),
                "supplier_id": supplier.id,
                "material_id": material.id,
                "ordered_at": local(day, 16, 30, i),
                "promised_date": promised,
                "qty": qty,
                "unit": material.unit,
                "unit_price": self._given_price(material, offset),
                "currency": supplier.currency,
            }
            self.books.purchase_orders.append(po)
            self.open_orders.setdefault(material.id, []).append(po)
            received = qty
            if self.rng.random() < supplier.p_short:
                share = Decimal(str(round(float(self.rng.uniform(0.8, 0.95)), 2)))
                received = max(
                    material.lot_size,
                    (qty * share / material.lot_size).to_integral_value() * material.lot_size,
                )
                if received >= qty:
                    received = qty - material.lot_size if qty > material.lot_size else qty
            self.arrivals.setdefault(arrive, []).append((po, received))

    # the period ----------------------------------------------------------------------------
    def run(self, on_day: Callable[[int], None] | None = None) -> None:
        self.opening_stock()
        by_day: dict[int, list[Outflow]] = {}
        for out in self.outflows:
            by_day.setdefault((out.at.date() - self.start).days, []).append(out)
        for offset in range(self.days):
            day = self.start + timedelta(days=offset)
            events: list[tuple[datetime, int, Any]] = []
            # deliveries at hh:mm:30, draws at whole minutes (+ a second per extra lot): no
            # inflow and outflow of a material ever share an instant
            slots = [local(day, 10, 30, 30), local(day, 14, 30, 30)]
            for k, (po, received) in enumerate(self.arrivals.pop(day, [])):
                slot = slots[k % 2] + timedelta(minutes=7 * (k // 2))
                events.append((slot, 0, (po, received)))
            for out in by_day.get(offset, []):
                events.append((out.at, 1, out))
            events.sort(key=lambda e: (e[0], e[1]))
            for at, order, item in events:
                if order == 0:
                    po, received = item
                    material = self.materials[po["material_id"]]
                    self.open_orders[material.id].remove(po)
                    self._receive(material, at, received, po)
                else:
                    self._draw(item)
            if on_day is not None:
                on_day(offset)
            if day.weekday() < 5 and offset not in self.closed:
                self._reorder(offset)

    def _draw(self, out: Outflow) -> None:
        head = self.stock.head(out.material_id)
        if head is not None and head.lot_id in self.returns:
            material_id, qty, reason = self.returns.pop(head.lot_id)
            qty = min(qty, head.qty)
            self._record(
                Outflow(out.at - timedelta(seconds=20), material_id, qty, "return_to_vendor",
                        reason=reason),
                self.stock.take(material_id, qty),
            )  # fmt: skip
        self._record(out, self.stock.take(out.material_id, out.qty))

    def _record(self, out: Outflow, portions: list[tuple[Lot, Decimal]]) -> None:
        material = self.materials[out.material_id]
        if not material.tracked:
            portions = [(portions[0][0], out.qty)]  # one line, no lot named
        for k, (lot, qty) in enumerate(portions):
            given_unit, given_qty = material.unit, qty
            if out.unit_given is not None and len(portions) == 1:
                given_unit, given_qty = out.unit_given, out.qty_given or qty
            self.books.movements.append(
                {
                    "movement_id": self._id("MV", self.books.movements),
                    "moved_at": out.at + timedelta(seconds=k),
                    "material_id": material.id,
                    "lot_id": lot.lot_id if material.tracked else None,
                    "kind": out.kind,
                    "qty": given_qty,
                    "unit": given_unit,
                    "batch_id": out.batch_id,
                    "job_id": out.job_id,
                    "reason": out.reason,
                }
            )


# -- the soapworks' year --------------------------------------------------------------------------
def _recipe(recipe_id: str, offset: int) -> dict[str, Any]:
    """The version of a recipe in force on a day of the period."""
    versions = [r for r in RECIPES if r["id"] == recipe_id and r["day"] <= offset]
    return max(versions, key=lambda r: r["version"])


def to_base(material: Material, qty: Decimal, unit: str) -> Decimal:
    """A quantity of ``material`` in its base unit: kg <-> L by the density, mL as L / 1000."""
    if unit == material.unit:
        return qty
    litres = qty / 1000 if unit == "mL" else qty
    if unit in ("mL", "L") and material.unit == "kg":
        return litres * _d(material.density or 1)
    if unit == "kg" and material.unit == "L":
        return qty / _d(material.density or 1)
    if unit == "mL" and material.unit == "L":
        return litres
    raise ValueError(f"cannot give {material.id} ({material.unit}) in {unit}")


@dataclass
class PlannedBatch:
    batch_id: str
    product_id: str
    recipe: dict[str, Any]
    scale: Decimal
    started_at: datetime
    finished_at: datetime
    planned_qty: int
    actual_qty: int
    samples_qty: int
    equipment: str
    containers: int
    output_lot: str
    split_from: str | None = None  # the base batch (and its lot) a variant is split from


def _soap_batches(start: date, days: int, rng: np.random.Generator) -> list[PlannedBatch]:
    """Mon, Tue, Wed and Fri a soap batch at 09:00, Tue and Thu a candle batch at 13:30; every
    25th batch (from 26) an unscented base split into a lavender and a rose variant, batch 263
    a lavender soap (the one that fails QC), batch 292 a soap whose good output is 88 % of
    plan."""
    batches: list[PlannedBatch] = []
    n, soaps, candles = FIRST_BATCH, 0, 0
    for offset in working_days(start, days, christmas_closure(start, days, CLOSED_FROM)):
        day = start + timedelta(days=offset)
        slots = []
        if day.weekday() in (0, 1, 2, 4):
            slots.append(("soap", local(day, 9)))
        if day.weekday() in (1, 3):
            slots.append(("candle", local(day, 13, 30)))
        for kind, at in slots:
            split = n % SPLIT_EVERY == 1 and n > 1
            if split or n in (FAILED_BATCH, LOW_YIELD_BATCH):
                kind = "soap"
            if kind == "soap":
                product = "lav_soap" if n == FAILED_BATCH else SOAP_ROTATION[soaps % 8]
                soaps += 1
                if split:
                    product = "unscented_soap"
                scale = _d("1.2") if split else (_d("1.5") if product == "lav_soap" else _d(1))
                finished = at + timedelta(minutes=100 if split else 150)
                samples = 2
                equipment = "Soap pot 1" if n % 2 else "Soap pot 2"
            else:
                product = CANDLE_ROTATION[candles % 4]
                candles += 1
                scale = _d(2) if product == "candle_vanilla" else _d(1)
                finished = at + timedelta(minutes=90)
                samples = 1
                equipment = "Wax melter"
            recipe = _recipe(PRODUCT_RECIPE[product], offset)
            planned = int(recipe["yield_qty"] * scale)
            # good output (the samples kept aside) is 97-100 % of plan, 88 % at the low batch
            lost = int(rng.integers(0, math.floor(0.03 * planned) + 1))
            if n == LOW_YIELD_BATCH:
                lost = planned - int(0.88 * planned)
            actual = planned + samples - (0 if split else lost)
            batch = PlannedBatch(
                str(n), product, recipe, scale, at, finished, planned, actual, samples,
                equipment, math.ceil(planned / (25 if kind == "soap" else 50)), str(n),
            )  # fmt: skip
            batches.append(batch)
            if split:
                for k, (letter, name, variant_id) in enumerate(VARIANTS):
                    variant = _recipe(variant_id, offset)
                    v_start = finished + timedelta(minutes=5 + 15 * k)
                    qty = int(variant["yield_qty"])
                    batches.append(
                        PlannedBatch(
                            f"{n}{letter}", variant["product"], variant, _d(1), v_start,
                            v_start + timedelta(minutes=35), qty, qty, 1, "Soap pot 3", 2,
                            f"{n}{letter}-{name}", split_from=str(n),
                        )
                    )  # fmt: skip
            n += 1
    return batches


def _batch_outflows(
    batches: list[PlannedBatch], materials: dict[str, Material], rng: np.random.Generator
) -> list[Outflow]:
    """What each batch draws: the recipe scaled, weighed to the gram (within 1 % of plan),
    counted items exactly, a minute apart from a minute after the start."""
    out = []
    for batch in batches:
        for i, (material_id, qty, unit) in enumerate(batch.recipe["inputs"]):
            material = materials[material_id]
            planned = to_base(material, qty, unit) * batch.scale
            if material.unit == "each":
                drawn = planned.to_integral_value()
            else:
                drawn = (planned * _d(round(float(rng.normal(1.0, 0.004)), 4))).quantize(Q3)
            out.append(
                Outflow(
                    batch.started_at + timedelta(minutes=1 + i), material_id, drawn,
                    batch_id=batch.batch_id,
                )
            )  # fmt: skip
    return out


# planned waste and count corrections: (day, material, quantity, unit given, kind, reason)
SOAP_WASTE = (
    (40, "lavender_eo", "250", "mL", "waste", "bottle dropped in the store"),
    (95, "soy_wax", "1.5", "kg", "waste", "melt spilled on the pour table"),
    (150, "candle_jar", "12", "each", "waste", "broken on the shelf"),
    (230, "honey", "0.8", "kg", "waste", "crystallised, discarded"),
    (300, "olive_oil", "2.0", "kg", "waste", "rancid bottom of a pail"),
    (361, "soap_box", "35", "each", "adjustment_out", "stocktake count below the books"),
)
SOAP_RETURNS = {
    "candle_jar": (3, _d(24), "cracked in transit"),
    "rose_fo": (2, _d("0.5"), "wrong fragrance sent (Rose petal)"),
}


def simulate_soapworks(start: date, days: int, seed: int) -> Books:
    """Every record of ``demo_soapworks`` over ``days`` local days from ``start``."""
    rng = stream(seed, "materials/soapworks")
    materials = {m.id: m for m in SOAP_MATERIALS}
    batches = _soap_batches(start, days, stream(seed, "materials/soapworks/batches"))
    books = Books()
    closed = christmas_closure(start, days, CLOSED_FROM)
    outflows = _batch_outflows(batches, materials, stream(seed, "materials/soapworks/usage"))
    for offset, material_id, qty, unit, kind, reason in SOAP_WASTE:
        if offset >= days:
            continue
        day = next_working_day(start + timedelta(days=offset))
        if (day - start).days >= days or (day - start).days in closed:
            continue
        material = materials[material_id]
        base = to_base(material, _d(qty), unit)
        outflows.append(
            Outflow(local(day, 16, 10), material_id, base, kind, reason=reason,
                    unit_given=unit if unit != material.unit else None, qty_given=_d(qty))
        )  # fmt: skip
    for offset in working_days(start, days, closed):
        day = start + timedelta(days=offset)
        if day.weekday() == 4:  # Friday's parcels
            parcels = _d(int(rng.integers(8, 16)))
            outflows.append(
                Outflow(local(day, 16, 20), "shipping_carton", parcels, reason="weekly parcels")
            )
    buying = Purchasing(
        "SW-", start, days, SOAP_MATERIALS, SOAP_SUPPLIERS, outflows,
        stream(seed, "materials/soapworks/purchasing"), books, closed,
    )  # fmt: skip
    buying.return_rules = dict(SOAP_RETURNS)
    buying.run()
    end = local(start + timedelta(days=days), 0)
    _soap_batch_records(books, batches)
    released = _soap_qc(books, batches, end, stream(seed, "materials/soapworks/qc"))
    _soap_sales(books, batches, released, start, end, stream(seed, "materials/soapworks/sales"))
    return books


def _soap_batch_records(books: Books, batches: list[PlannedBatch]) -> None:
    for batch in batches:
        books.batches.append(
            {
                "batch_id": batch.batch_id,
                "product_id": batch.product_id,
                "recipe_id": batch.recipe["id"],
                "recipe_version": batch.recipe["version"],
                "planned_qty": batch.planned_qty,
                "actual_qty": batch.actual_qty,
                "samples_qty": batch.samples_qty,
                "output_unit": "each",
                "output_lot_id": batch.output_lot,
                "started_at": batch.started_at,
                "finished_at": batch.finished_at,
                "equipment": batch.equipment,
                "containers": batch.containers,
            }
        )
        if batch.split_from is not None:
            books.lot_edges.append(
                {
                    "edge_id": f"SW-E-{len(books.lot_edges) + 1:04d}",
                    "parent_lot_id": batch.split_from,
                    "child_lot_id": batch.output_lot,
                    "relation": "split",
                    "qty": _d(batch.planned_qty),
                    "unit": "each",
                    "moved_at": batch.started_at,
                }
            )


def _soap_qc(
    books: Books, batches: list[PlannedBatch], end: datetime, rng: np.random.Generator
) -> dict[str, datetime]:
    """QC of every batch's lot two days after it was made (10:00, before the end of the period
    only); returns when each passing lot may be sold (cured: soap 28 days, candles 7)."""
    released = {}
    for batch in batches:
        lot = batch.output_lot
        product = PRODUCT[batch.product_id]
        tested = batch.finished_at.replace(hour=10, minute=0) + timedelta(days=2)
        tested = local(next_working_day(tested.date()), 10, int(rng.integers(0, 50)))
        if tested >= end:
            continue
        analyst = ANALYSTS[int(rng.integers(0, 2))]
        passed = True
        for test_id, _, _, _, low, high, expected in SPEC_TESTS[product.kind]:
            value: float | None = None
            text: str | None = None
            if expected is not None:
                text = expected
            elif test_id == "ph":
                value = round(float(rng.uniform(8.9, 9.7)), 2)
                if batch.batch_id == str(FAILED_BATCH):
                    value = 10.6  # too much lye: the lot fails
            elif test_id == "free_alkali":
                value = round(float(rng.uniform(0.01, 0.06)), 3)
            else:
                assert low is not None and high is not None
                middle, spread = (low + high) / 2, (high - low) / 6
                value = round(float(rng.uniform(middle - spread, middle + spread)), 4)
            if value is not None and not (low is not None and high is not None):
                raise AssertionError(f"{test_id} has no limits")
            if value is not None and low is not None and high is not None:
                passed &= low <= value <= high
            books.qc_results.append(
                {
                    "result_id": f"SW-QC-{len(books.qc_results) + 1:05d}",
                    "lot_id": lot,
                    "spec_id": f"{product.id}_spec",
                    "spec_version": 1,
                    "test_id": test_id,
                    "value": value,
                    "result_text": text,
                    "tested_at": tested,
                    "analyst": analyst,
                    "approver": APPROVER,
                }
            )
        if passed:
            cure = SOAP_CURE_DAYS if product.kind == "soap" else CANDLE_CURE_DAYS
            released[lot] = max(tested, batch.finished_at + timedelta(days=cure))
    return released


ORDER_SIZES = {
    "online": (1, 4),
    "market": (4, 12),
    "retail": (12, 36),
    "spa": (24, 48),
    "hospitality": (24, 60),
    "export": (48, 96),
}


def _soap_sales(
    books: Books,
    batches: list[PlannedBatch],
    released: dict[str, datetime],
    start: date,
    end: datetime,
    rng: np.random.Generator,
) -> None:
    """Each released lot sold in orders over the eight weeks after its release (to the end of
    the period), by customer in proportion to their share; the samples and, of a split base,
    the variants' batter are not sold."""
    split_off: dict[str, int] = {}
    for batch in batches:
        if batch.split_from is not None:
            split_off[batch.split_from] = split_off.get(batch.split_from, 0) + batch.planned_qty
    shares = np.array([c[3] for c in SOAP_CUSTOMERS])
    shares = shares / shares.sum()
    orders = []
    for batch in batches:
        lot = batch.output_lot
        if lot not in released:
            continue
        left = batch.actual_qty - batch.samples_qty - split_off.get(batch.batch_id, 0)
        first = released[lot].date() + timedelta(days=1)
        day = first
        while left > 0:
            day = next_working_day(day + timedelta(days=int(rng.integers(0, 5))))
            if (day - first).days > 56:
                break
            at = local(day, int(rng.integers(9, 17)), int(rng.integers(0, 60)),
                       int(rng.integers(0, 60)))  # fmt: skip
            if at >= end:
                break
            customer = SOAP_CUSTOMERS[int(rng.choice(len(SOAP_CUSTOMERS), p=shares))]
            low, high = ORDER_SIZES[customer[2]]
            if PRODUCT[batch.product_id].kind != "soap":
                low, high = max(1, low // 3), max(2, high // 3)
            qty = min(left, int(rng.integers(low, high + 1)))
            left -= qty
            orders.append((at, batch.product_id, lot, qty, customer))
    orders.sort(key=lambda o: (o[0], o[2]))
    for at, product_id, lot, qty, customer in orders:
        price = PRODUCT[product_id].price * _d(customer[4])
        if customer[5] == "USD":
            # the US list: the wholesale price in US dollars, in steps of 20 cents
            price = (price / _d("1.5") / _d("0.2")).to_integral_value(ROUND_HALF_UP) * _d("0.2")
        books.sales.append(
            {
                "sale_id": f"SW-S-{len(books.sales) + 1:05d}",
                "sold_at": at,
                "customer_id": customer[0],
                "product_id": product_id,
                "lot_id": lot,
                "qty": _d(qty),
                "unit": "each",
                "unit_price": price.quantize(CENT),
                "currency": customer[5],
            }
        )


# -- the powder-coating shop ----------------------------------------------------------------------
COATING_SUPPLIERS = (
    Supplier("powderco", "PowderCo Australia", 5, p_late=0.10, p_short=0.02),
    Supplier("coatings_direct", "Coatings Direct", 10, p_late=0.30, p_short=0.12, max_late_days=5),
    Supplier("metallic_imports", "Metallic Powder Imports", 21, p_late=0.20, p_short=0.0),
)


def _powder(
    colour: str, name: str, supplier: str, price: str, sg: float, te: float, reclaim: float,
    code: str, prices: tuple[tuple[int, Decimal], ...] = (),
) -> Material:  # fmt: skip
    return Material(
        f"pc_{colour}", name, "kg", "powder", supplier, _d(price), _d(20), None, 540, prices,
        cover_days=35, code=code, specific_gravity=sg, transfer_efficiency=te,
        reclaim_fraction=reclaim,
    )  # fmt: skip


POWDERS = (
    _powder("ral9005", "RAL 9005 jet black gloss", "powderco", "14.20", 1.45, 0.62, 0.5, "BLK",
            ((200, _d("15.10")),)),
    _powder("satin_black", "Satin black (30 % gloss)", "powderco", "14.60", 1.48, 0.62, 0.5,
            "SBK"),
    _powder("ral9010", "RAL 9010 pure white", "powderco", "13.80", 1.65, 0.60, 0.5, "WHT",
            ((200, _d("14.70")),)),
    _powder("ral7016", "RAL 7016 anthracite grey", "coatings_direct", "15.40", 1.55, 0.60, 0.5,
            "ANT"),
    _powder("ral7035", "RAL 7035 light grey", "coatings_direct", "14.90", 1.58, 0.60, 0.5,
            "LGY"),
    _powder("ral1015", "RAL 1015 light ivory", "coatings_direct", "15.20", 1.60, 0.60, 0.5,
            "IVY"),
    _powder("ral6005", "RAL 6005 moss green", "coatings_direct", "15.80", 1.55, 0.60, 0.5,
            "GRN"),
    _powder("ral5015", "RAL 5015 sky blue", "coatings_direct", "16.30", 1.52, 0.60, 0.5, "BLU"),
    _powder("ral3020", "RAL 3020 traffic red", "powderco", "17.90", 1.50, 0.60, 0.5, "RED"),
    _powder("clear", "Clear coat (gloss)", "powderco", "18.40", 1.20, 0.65, 0.5, "CLR"),
    _powder("silver", "Wheel silver (metallic)", "metallic_imports", "24.80", 1.40, 0.55, 0.0,
            "SLV", ((150, _d("27.30")),)),
    _powder("bronze", "Bronze metallic", "metallic_imports", "26.50", 1.38, 0.52, 0.0, "BRZ"),
)  # fmt: skip
POWDER = {p.id: p for p in POWDERS}

JOB_TYPES = (
    # id, name, m2 per man-hour, film um, share of jobs, (log-mean area m2, sigma), parts,
    # price per m2, set-up charge, colours
    ("wheels", "Alloy wheels", 1.2, 80, 0.30, (0.75, 0.25), (2, 4), "110", "60",
     ("ral9005", "satin_black", "silver", "bronze", "ral7016")),
    ("railings", "Railings and gates", 6.0, 70, 0.20, (2.3, 0.5), (2, 12), "38", "60",
     ("ral9005", "ral7016", "ral9010", "ral6005")),
    ("furniture", "Outdoor furniture", 4.0, 70, 0.20, (1.7, 0.45), (2, 14), "45", "50",
     ("ral9010", "ral9005", "ral1015", "ral6005", "ral5015")),
    ("auto_parts", "Automotive parts and brackets", 2.5, 70, 0.20, (0.5, 0.6), (1, 24), "75",
     "40", ("ral9005", "satin_black", "ral3020", "clear", "silver")),
    ("panels", "Architectural panels and extrusions", 10.0, 60, 0.10, (3.4, 0.45), (10, 60),
     "28", "120", ("ral9010", "ral7035", "ral7016", "ral1015")),
)  # fmt: skip
LABOUR_RATE = Decimal(55)
OVEN_PRICE_PER_KWH = Decimal("0.28")
COATING_CLOSED_FROM = 25
WASTE_FACTOR = 0.55  # the wasteful month: the share of the usual first-pass efficiency
COATING_WASTE = (
    (60, "pc_ral9010", "5", "box got wet in the store"),
    (320, "pc_clear", "3", "lot past its shelf life"),
)
_FIRST = (
    "Swan",
    "Kewdale",
    "Osborne",
    "Canning",
    "Bayswater",
    "Malaga",
    "Midland",
    "Rivervale",
    "Jandakot",
    "Bibra",
    "Wangara",
    "Balcatta",
    "Hazelmere",
    "Forrestfield",
)
_LAST = ("Fabrication", "Steel", "Motors", "Wheels", "Gates and Fencing", "Engineering",
         "Outdoor Living", "Shopfitting", "Aluminium", "Restorations")  # fmt: skip
N_CUSTOMERS = 40


def coating_customers() -> list[tuple[str, str, str]]:
    """40 customers: (id, name, segment), the first ones the busiest (see :func:`_job_plan`)."""
    out = []
    for i in range(N_CUSTOMERS):
        name = f"{_FIRST[(i * 5) % len(_FIRST)]} {_LAST[(i * 3) % len(_LAST)]}"
        last = _LAST[(i * 3) % len(_LAST)]
        segment = (
            "automotive" if last in ("Motors", "Wheels", "Restorations")
            else "builder" if last in ("Gates and Fencing", "Shopfitting", "Aluminium")
            else "trade"
        )  # fmt: skip
        out.append((f"c{i + 1:02d}", f"{name} {'Pty Ltd' if i % 3 else 'Co'}", segment))
    return out


def wasteful_month(start: date, days: int) -> date | None:
    """First day of the month the coating shop wastes powder in: the month 70 % of the way
    through a period of at least 60 days."""
    if days < 60:
        return None
    return (start + timedelta(days=int(0.7 * days))).replace(day=1)


def simulate_coating(start: date, days: int, seed: int) -> Books:
    """Every record of ``demo_coating`` over ``days`` local days from ``start``."""
    books = Books()
    jobs, outflows = _job_plan(start, days, seed)
    waste_month = wasteful_month(start, days)
    for offset, material_id, qty, reason in COATING_WASTE:
        day = next_working_day(start + timedelta(days=offset))
        if (day - start).days >= days or day.replace(day=1) == waste_month:
            continue
        outflows.append(Outflow(local(day, 16, 10), material_id, _d(qty), "waste", reason=reason))
    buying = Purchasing(
        "PC-", start, days, POWDERS, COATING_SUPPLIERS, outflows,
        stream(seed, "materials/coating/purchasing"), books,
        christmas_closure(start, days, COATING_CLOSED_FROM),
    )  # fmt: skip
    buying.run()
    books.jobs = jobs
    return books


def _job_plan(start: date, days: int, seed: int) -> tuple[list[Record], list[Outflow]]:
    """The jobs of the period and the powder each draws at its start.

    About 6 requests a working day (Poisson), 5 % only quoted, 2 % cancelled; the rest wait
    for the next working days' slots (up to 9 starts a day, 08:00-09:45 and 12:30-13:45, 15
    minutes apart), are coated, cured and invoiced 0-4 working days later.
    """
    rng = stream(seed, "materials/coating/jobs")
    customers = coating_customers()
    weights = 1.0 / np.arange(1, N_CUSTOMERS + 1) ** 0.8
    weights /= weights.sum()
    shares = np.array([t[4] for t in JOB_TYPES])
    end = local(start + timedelta(days=days), 0)
    waste_month = wasteful_month(start, days)
    open_days = working_days(start, days, christmas_closure(start, days, COATING_CLOSED_FROM))
    slots = [(8 + k // 4, 15 * (k % 4)) for k in range(8)] + [(12, 30), (12, 45), (13, 0)]
    queue: deque[Record] = deque()
    jobs: list[Record] = []
    outflows: list[Outflow] = []
    for offset in open_days:
        day = start + timedelta(days=offset)
        for hour, minute in slots[:9]:
            if not queue:
                break
            job = queue.popleft()
            at = local(day, hour, minute)
            _coat(job, at, end, waste_month, rng, outflows)
        for _ in range(int(rng.poisson(6.2))):
            kind = JOB_TYPES[int(rng.choice(len(JOB_TYPES), p=shares))]
            type_id, _, _, film, _, (mu, sigma), (p_lo, p_hi), rate, setup, colours = kind
            area = round(float(np.exp(rng.normal(mu, sigma))), 2)
            colour = colours[int(rng.integers(0, len(colours)))]
            quoted = (_d(area) * _d(rate) + _d(setup)).to_integral_value(ROUND_HALF_UP)
            job = {
                "job_id": f"PC-J{len(jobs) + 1:05d}",
                "customer_id": customers[int(rng.choice(N_CUSTOMERS, p=weights))][0],
                "job_type_id": type_id,
                "parts": int(rng.integers(p_lo, p_hi + 1)),
                "area_m2": _d(area),
                "colour": POWDER[f"pc_{colour}"].name,
                "powder_material_id": f"pc_{colour}",
                "film_um": round(film + float(rng.normal(0, 3))),
                # none booked until the job is coated (the job board's zero)
                "labour_hours": Decimal(0),
                "oven_kwh": Decimal(0),
                "oven_cost": None,
                "quoted_price": quoted,
                "invoiced_price": None,
                "received_at": local(day, int(rng.integers(7, 16)), int(rng.integers(0, 60))),
                "started_at": None,
                "completed_at": None,
                "invoiced_at": None,
                "status": "received",
            }
            jobs.append(job)
            fate = rng.random()
            if fate < 0.05:
                job["status"] = "quoted"
            elif fate < 0.07:
                job["status"] = "cancelled"
            else:
                queue.append(job)
    return jobs, outflows


def _coat(
    job: Record,
    at: datetime,
    end: datetime,
    waste_month: date | None,
    rng: np.random.Generator,
    outflows: list[Outflow],
) -> None:
    """Start ``job`` at ``at``: its powder, labour, oven, completion and invoice."""
    powder = POWDER[job["powder_material_id"]]
    kind = next(t for t in JOB_TYPES if t[0] == job["job_type_id"])
    area = float(job["area_m2"])
    assert powder.specific_gravity and powder.transfer_efficiency is not None
    theoretical = area * job["film_um"] * powder.specific_gravity / 1000
    reclaim = powder.reclaim_fraction or 0.0
    efficiency = powder.transfer_efficiency + (1 - powder.transfer_efficiency) * reclaim * 0.8
    efficiency *= float(np.clip(rng.normal(1.0, 0.04), 0.9, 1.1))
    if waste_month is not None and at.date().replace(day=1) == waste_month:
        efficiency *= WASTE_FACTOR  # the worn gun
    issued = _d(max(0.05, round(theoretical / efficiency, 2)))
    labour = max(0.5, round((area / kind[2] * float(rng.uniform(0.9, 1.15)) + 0.5) * 4) / 4)
    kwh = _d(round(6 + 1.1 * area, 1))
    job["started_at"] = at
    job["status"] = "in_progress"
    job["labour_hours"] = _d(labour)
    job["oven_kwh"] = kwh
    job["oven_cost"] = (kwh * OVEN_PRICE_PER_KWH).quantize(CENT)
    outflows.append(Outflow(at, powder.id, issued, job_id=job["job_id"]))
    done = at + timedelta(hours=labour / 2 + 1.5)
    if done.time() > time(17, 30):
        done = local(next_working_day(at.date() + timedelta(days=1)), 10, done.minute)
    if done >= end:
        return
    job["completed_at"] = done
    job["status"] = "completed"
    invoice_day = done.date()
    for _ in range(int(rng.integers(0, 5))):
        invoice_day = next_working_day(invoice_day + timedelta(days=1))
    invoiced_at = local(invoice_day, 16, 45)
    if invoiced_at >= end:
        return
    quoted = job["quoted_price"]
    fate = rng.random()
    if fate < 0.08:  # masking or blasting found on the day
        price = quoted * _d(round(float(rng.uniform(1.10, 1.25)), 2))
    elif fate < 0.12:
        price = quoted * _d("0.95")
    else:
        price = quoted
    job["invoiced_price"] = price.quantize(CENT)
    job["invoiced_at"] = invoiced_at
    job["status"] = "invoiced"


# -- ground truth, from the records as written ---------------------------------------------------
OUTFLOW_KINDS = ("issue", "waste", "return_to_vendor", "adjustment_out")


def exchange_rates(start: date) -> list[tuple[date, str, Decimal]]:
    """(valid from, currency, site-currency units per unit) of the sites' exchange rates."""
    return [(start + timedelta(days=offset), "USD", rate) for offset, rate in USD_RATES]


def _rate(rates: list[tuple[date, str, Decimal]], currency: str, day: date) -> Decimal:
    if currency == CURRENCY:
        return Decimal(1)
    valid = [r for r in rates if r[1] == currency and r[0] <= day]
    if not valid:
        raise ValueError(f"no {currency} rate on {day}")
    return max(valid)[2]


@dataclass(frozen=True)
class Allocation:
    movement_id: str
    lot_id: str
    qty: Decimal
    unit_cost: Decimal

    @property
    def cost(self) -> Decimal:
        return self.qty * self.unit_cost


def fifo_walk(
    receipts: list[Record],
    movements: list[Record],
    materials: dict[str, Material],
    rates: list[tuple[date, str, Decimal]],
) -> list[Allocation]:
    """Every outflow's draw on the receipt lots, first in, first out, per material in time order
    (a receipt before an outflow at the same instant, then by id), in exact decimals.

    Written apart from the generator's own stock keeping (:class:`Stock`): it reads only the
    records, converts quantities to base units and costs to the site currency itself, and
    raises if an outflow finds the shelf short.
    """
    events: dict[str, list[tuple[datetime, int, str, Record]]] = {}
    for r in receipts:
        events.setdefault(r["material_id"], []).append((r["received_at"], 0, r["receipt_id"], r))
    for m in movements:
        if m["kind"] in OUTFLOW_KINDS:
            events.setdefault(m["material_id"], []).append((m["moved_at"], 1, m["movement_id"], m))
    out = []
    for material_id, items in events.items():
        material = materials[material_id]
        layers: deque[list[Any]] = deque()  # [lot, qty left, unit cost]
        for at, order, _, row in sorted(items, key=lambda e: e[:3]):
            qty = to_base(material, row["qty"], row["unit"])
            if order == 0:
                per_given = row["unit_cost"] * _rate(rates, row["currency"], at.date())
                layers.append([row["lot_id"], qty, per_given * row["qty"] / qty])
                continue
            left = qty
            while left > 0:
                if not layers:
                    raise AssertionError(f"{row['movement_id']}: {material_id} short by {left}")
                layer = layers[0]
                drawn = min(layer[1], left)
                out.append(Allocation(row["movement_id"], layer[0], drawn, layer[2]))
                layer[1] -= drawn
                left -= drawn
                if layer[1] == 0:
                    layers.popleft()
    return out


def _cents(value: Decimal) -> str:
    return str(value.quantize(CENT, ROUND_HALF_UP))


def supplier_otif(books: Books, tolerance_pct: Decimal = OTIF_TOLERANCE_PCT) -> dict[str, Any]:
    """Per supplier: orders, on time (received on or before the promised local day), in full
    (at least (100 - tolerance) % of the ordered quantity), both, and OTIF %."""
    received: dict[str, tuple[date, Decimal]] = {}
    for r in books.receipts:
        if r["po_id"]:
            day, qty = received.get(r["po_id"], (r["received_at"].date(), Decimal(0)))
            received[r["po_id"]] = (max(day, r["received_at"].date()), qty + r["qty"])
    out: dict[str, dict[str, Any]] = {}
    for po in books.purchase_orders:
        row = out.setdefault(
            po["supplier_id"], {"orders": 0, "on_time": 0, "in_full": 0, "otif": 0}
        )
        day, qty = received[po["po_id"]]
        on_time = day <= po["promised_date"]
        in_full = qty >= po["qty"] * (1 - tolerance_pct / 100)
        row["orders"] += 1
        row["on_time"] += on_time
        row["in_full"] += in_full
        row["otif"] += on_time and in_full
    for row in out.values():
        row["otif_pct"] = round(100 * row["otif"] / row["orders"], 4)
    return dict(sorted(out.items()))


def _descendants(books: Books, lot_id: str) -> dict[str, Any]:
    """Everything made from or shipped out of ``lot_id``: by issue into a batch (the lot the
    movement names), by split, by sale."""
    output_of = {b["batch_id"]: b["output_lot_id"] for b in books.batches}
    children: dict[str, set[str]] = {}
    for m in books.movements:
        if m["lot_id"] and m["batch_id"]:
            children.setdefault(m["lot_id"], set()).add(output_of[m["batch_id"]])
    for e in books.lot_edges:
        children.setdefault(e["parent_lot_id"], set()).add(e["child_lot_id"])
    lots: set[str] = set()
    todo = [lot_id]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in lots:
                lots.add(child)
                todo.append(child)
    batch_of = {b["output_lot_id"]: b["batch_id"] for b in books.batches}
    sales = [s for s in books.sales if s["lot_id"] in lots]
    return {
        "lots": sorted(lots, key=_batch_key),
        "batches": sorted((batch_of[lot] for lot in lots), key=_batch_key),
        "split_lots": sorted(
            e["child_lot_id"] for e in books.lot_edges if e["child_lot_id"] in lots
        ),
        "sales": sorted(s["sale_id"] for s in sales),
        "customers": sorted({s["customer_id"] for s in sales}),
        "qty_sold": int(sum(s["qty"] for s in sales)),
    }


def soapworks_truth(books: Books, start: date, days: int) -> dict[str, Any]:
    """``demo_soapworks``' ground truth (see the module doc)."""
    materials = {m.id: m for m in SOAP_MATERIALS}
    allocations = fifo_walk(books.receipts, books.movements, materials, exchange_rates(start))
    movement = {m["movement_id"]: m for m in books.movements}
    batch_costs: dict[str, dict[str, Decimal]] = {}
    for a in allocations:
        m = movement[a.movement_id]
        if m["kind"] == "issue" and m["batch_id"]:
            per = batch_costs.setdefault(m["batch_id"], {})
            per[m["material_id"]] = per.get(m["material_id"], Decimal(0)) + a.cost
    recalled = _recalled_lot(books)
    receipt = next(r for r in books.receipts if r["lot_id"] == recalled) if recalled else None
    failed = _failed_lots(books)
    return {
        "site_id": SOAPWORKS_SITE_ID,
        "start": start.isoformat(),
        "days": days,
        "currency": CURRENCY,
        "counts": {kind: len(rows) for kind, rows in books.by_kind().items()},
        "recall": None
        if receipt is None
        else {
            "lot_id": receipt["lot_id"],
            "material_id": receipt["material_id"],
            "supplier_id": receipt["supplier_id"],
            "supplier_lot": receipt["supplier_lot"],
            "received_at": receipt["received_at"].isoformat(),
            "descendants": _descendants(books, receipt["lot_id"]),
        },
        "failed_qc": failed,
        "batch_costs": {
            batch: {
                "cost": str(sum(per.values(), Decimal(0))),
                "cost_cents": _cents(sum(per.values(), Decimal(0))),
                "materials": {m: str(v) for m, v in sorted(per.items())},
            }
            for batch, per in sorted(batch_costs.items(), key=lambda kv: _batch_key(kv[0]))
        },
        "supplier_otif": supplier_otif(books),
        "lot_checks": {
            "issues_naming_a_lot": sum(1 for m in books.movements if m["lot_id"]),
            "issues_without_a_lot": sum(1 for m in books.movements if not m["lot_id"]),
        },
    }


def _batch_key(batch_id: str) -> tuple[int, str]:
    digits = "".join(c for c in batch_id if c.isdigit())
    return int(digits), batch_id


def _recalled_lot(books: Books) -> str | None:
    """The coconut oil lot batch 101 was made with (the older one if it drew on two); without a
    batch 101 in the period, the one of the middle soap batch."""
    issues = [
        m for m in books.movements
        if m["material_id"] == RECALLED_MATERIAL and m["kind"] == "issue" and m["batch_id"]
    ]  # fmt: skip
    if not issues:
        return None
    for m in issues:
        if m["batch_id"] == str(SPLIT_BATCH):
            return str(m["lot_id"])
    return str(issues[len(issues) // 2]["lot_id"])


def _failed_lots(books: Books) -> list[dict[str, Any]]:
    """Every lot with a test outside its specification's limits."""
    limits = {(kind, t[0]): (t[4], t[5]) for kind, tests in SPEC_TESTS.items() for t in tests}
    product_of = {b["output_lot_id"]: b for b in books.batches}
    failed = []
    for r in books.qc_results:
        batch = product_of[r["lot_id"]]
        low, high = limits[(PRODUCT[batch["product_id"]].kind, r["test_id"])]
        if r["value"] is not None and not (low <= r["value"] <= high):
            failed.append(
                {
                    "lot_id": r["lot_id"],
                    "batch_id": batch["batch_id"],
                    "product_id": batch["product_id"],
                    "spec_id": r["spec_id"],
                    "spec_version": r["spec_version"],
                    "test_id": r["test_id"],
                    "result_id": r["result_id"],
                    "value": r["value"],
                    "min": low,
                    "max": high,
                }
            )
    return failed


def coating_truth(books: Books, start: date, days: int) -> dict[str, Any]:
    """``demo_coating``'s ground truth (see the module doc)."""
    allocations = fifo_walk(books.receipts, books.movements, POWDER, exchange_rates(start))
    movement = {m["movement_id"]: m for m in books.movements}
    issued: dict[str, Decimal] = {}
    cost: dict[str, Decimal] = {}
    for a in allocations:
        m = movement[a.movement_id]
        if m["job_id"]:
            issued[m["job_id"]] = issued.get(m["job_id"], Decimal(0)) + a.qty
            cost[m["job_id"]] = cost.get(m["job_id"], Decimal(0)) + a.cost
    jobs = {}
    by_completion: dict[str, Decimal] = {}
    by_issue: dict[str, Decimal] = {}
    for job in books.jobs:
        if job["job_id"] not in issued:
            continue
        powder = POWDER[job["powder_material_id"]]
        theoretical = job["area_m2"] * job["film_um"] * _d(powder.specific_gravity or 0) / 1000
        waste = issued[job["job_id"]] - theoretical
        jobs[job["job_id"]] = {
            "issued_kg": str(issued[job["job_id"]]),
            "theoretical_kg": str(theoretical),
            "waste_kg": str(waste),
            "powder_cost": str(cost[job["job_id"]]),
        }
        month = f"{job['started_at']:%Y-%m}"
        by_issue[month] = by_issue.get(month, Decimal(0)) + waste
        if job["completed_at"] is not None:
            month = f"{job['completed_at']:%Y-%m}"
            by_completion[month] = by_completion.get(month, Decimal(0)) + waste
    month_start = wasteful_month(start, days)
    wasteful = None
    if month_start is not None:
        key = f"{month_start:%Y-%m}"
        wasteful = {
            "month": key,
            "waste_kg_by_issue": str(by_issue[key]),
            "waste_kg_by_completion": str(by_completion.get(key, Decimal(0))),
            "cause": f"worn spray gun: first-pass efficiency x {WASTE_FACTOR}",
        }
    statuses: dict[str, int] = {}
    for job in books.jobs:
        statuses[job["status"]] = statuses.get(job["status"], 0) + 1
    return {
        "site_id": COATING_SITE_ID,
        "start": start.isoformat(),
        "days": days,
        "currency": CURRENCY,
        "counts": {kind: len(rows) for kind, rows in books.by_kind().items()},
        "job_statuses": dict(sorted(statuses.items())),
        "wasteful_month": wasteful,
        "monthly_waste_kg_by_issue": {k: str(v) for k, v in sorted(by_issue.items())},
        "monthly_waste_kg_by_completion": {k: str(v) for k, v in sorted(by_completion.items())},
        "jobs": jobs,
        "supplier_otif": supplier_otif(books),
    }


# -- the site files -------------------------------------------------------------------------------
def _layouts(prefix: str, kinds: Iterable[str], excel: str = "", json_kind: str = "") -> list:
    out: list[dict[str, Any]] = []
    for kind in kinds:
        if kind == excel:
            out.append(
                {
                    "id": f"{prefix}{kind}",
                    "kind": kind,
                    "pattern": f"{prefix}{kind}_*.xlsx",
                    "format": "excel",
                    "sheet": "Results",
                    "header_row": 3,
                    "columns": dict(QC_HEADERS),
                }
            )
        elif kind == json_kind:
            out.append(
                {
                    "id": f"{prefix}{kind}",
                    "kind": kind,
                    "pattern": f"{prefix}{kind}_*.json",
                    "format": "json",
                }
            )
        else:
            out.append(
                {
                    "id": f"{prefix}{kind}",
                    "kind": kind,
                    "pattern": f"{prefix}{kind}_*.csv",
                    "format": "csv",
                }
            )
    return out


# the QC workbook's headers, as the lab writes them (canonical column -> header)
QC_HEADERS = (
    ("result_id", "Result ID"),
    ("lot_id", "Lot"),
    ("spec_id", "Specification"),
    ("spec_version", "Version"),
    ("test_id", "Test"),
    ("value", "Result"),
    ("result_text", "Observation"),
    ("tested_at", "Tested"),
    ("analyst", "Analyst"),
    ("approver", "Approved by"),
)
SOAP_KINDS = ("purchase_orders", "receipts", "movements", "batches", "lot_edges", "qc_results",
              "sales")  # fmt: skip
COATING_KINDS = ("purchase_orders", "receipts", "movements", "jobs")


def _settings_head(start: date) -> dict[str, Any]:
    return {
        "currency": CURRENCY,
        "exchange_rates": [
            {"currency": c, "valid_from": d.isoformat(), "rate": float(r)}
            for d, c, r in exchange_rates(start)
        ],
        "expiry_alert_days": 30,
        "margin_floor_pct": 20.0,
        "margin_fall_pct_points": 5.0,
        "price_rise_alert_pct": 10.0,
        "yield_alert_pct": 95.0,
        "service_level": 0.95,
        "holding_cost_rate": 0.25,
        "order_cost": 40.0,
        "otif_tolerance_pct": float(OTIF_TOLERANCE_PCT),
    }


def _material_entry(m: Material, suppliers: dict[str, Supplier]) -> dict[str, Any]:
    supplier = suppliers[m.supplier]
    entry: dict[str, Any] = {
        "id": m.id,
        "name": m.name,
        "unit": m.unit,
        "category": m.category,
        "lead_time_days": float(supplier.lead_time_days),
        "lead_time_sd_days": round(supplier.p_late * (supplier.max_late_days + 1) / 2, 2),
    }
    if m.density is not None:
        entry["density_g_per_ml"] = m.density
    if m.shelf_life_days is not None:
        entry["shelf_life_days"] = m.shelf_life_days
    for key in ("specific_gravity", "transfer_efficiency", "reclaim_fraction"):
        if getattr(m, key) is not None:
            entry[key] = getattr(m, key)
    return entry


def soapworks_section(start: date = DEFAULT_START) -> dict[str, Any]:
    """``demo_soapworks``' ``materials:`` section (recipe and rate dates follow ``start``)."""
    suppliers = {s.id: s for s in SOAP_SUPPLIERS}
    return {
        **_settings_head(start),
        "materials": [_material_entry(m, suppliers) for m in SOAP_MATERIALS],
        "suppliers": [
            {"id": s.id, "name": s.name, "lead_time_days": float(s.lead_time_days)}
            for s in SOAP_SUPPLIERS
        ],
        "customers": [{"id": c[0], "name": c[1], "segment": c[2]} for c in SOAP_CUSTOMERS],
        "products": [
            {
                "id": p.id,
                "name": p.name,
                "unit": "each",
                "price": float(p.price),
                "shelf_life_days": 730 if p.kind == "soap" else 1095,
                "spec": f"{p.id}_spec",
            }
            for p in SOAP_PRODUCTS
        ],
        "recipes": [
            {
                "id": r["id"],
                "product": r["product"],
                "version": r["version"],
                "valid_from": (start + timedelta(days=r["day"])).isoformat(),
                "yield_qty": float(r["yield_qty"]),
                "yield_unit": "each",
                "inputs": [{"material": m, "qty": float(q), "unit": u} for m, q, u in r["inputs"]],
            }
            for r in RECIPES
        ],
        "specifications": [
            {
                "id": f"{p.id}_spec",
                "version": 1,
                "product": p.id,
                "tests": [_spec_test(t) for t in SPEC_TESTS[p.kind]],
            }
            for p in SOAP_PRODUCTS
        ],
        "layouts": _layouts(SOAPWORKS_PREFIX, SOAP_KINDS, excel="qc_results", json_kind="sales"),
    }


def _spec_test(test: tuple[Any, ...]) -> dict[str, Any]:
    test_id, name, method, unit, low, high, expected = test
    entry: dict[str, Any] = {"id": test_id, "name": name, "method": method}
    if unit is not None:
        entry["unit"] = unit
    if expected is not None:
        entry["expected"] = expected
    else:
        entry["min"], entry["max"] = low, high
    return entry


def coating_section(start: date = DEFAULT_START) -> dict[str, Any]:
    """``demo_coating``'s ``materials:`` section."""
    suppliers = {s.id: s for s in COATING_SUPPLIERS}
    return {
        **_settings_head(start),
        "margin_floor_pct": 25.0,
        "materials": [_material_entry(m, suppliers) for m in POWDERS],
        "suppliers": [
            {"id": s.id, "name": s.name, "lead_time_days": float(s.lead_time_days)}
            for s in COATING_SUPPLIERS
        ],
        "customers": [{"id": c, "name": n, "segment": s} for c, n, s in coating_customers()],
        "job_shop": {
            "labour_rate_per_hour": float(LABOUR_RATE),
            "overhead_rate_per_m2": 3.5,
            "consumables_per_m2": 0.45,
            "default_film_um": 70.0,
        },
        "job_types": [
            {"id": t[0], "name": t[1], "m2_per_man_hour": t[2], "film_um": float(t[3])}
            for t in JOB_TYPES
        ],
        "layouts": _layouts(COATING_PREFIX, COATING_KINDS),
    }


# -- the file drops ---------------------------------------------------------------------------
MAIN_TIME = {
    "receipts": "received_at",
    "purchase_orders": "ordered_at",
    "movements": "moved_at",
    "batches": "started_at",
    "lot_edges": "moved_at",
    "qc_results": "tested_at",
    "sales": "sold_at",
    "jobs": "received_at",
}
# canonical columns of each kind as the demo's files carry them, in file order
FILE_COLUMNS = {
    "receipts": ("receipt_id", "lot_id", "material_id", "supplier_id", "po_id", "received_at",
                 "qty", "unit", "unit_cost", "currency", "expiry_date", "supplier_lot"),
    "purchase_orders": ("po_id", "supplier_id", "material_id", "ordered_at", "promised_date",
                        "qty", "unit", "unit_price", "currency"),
    "movements": ("movement_id", "moved_at", "material_id", "lot_id", "kind", "qty", "unit",
                  "batch_id", "job_id", "reason"),
    "batches": ("batch_id", "product_id", "recipe_id", "recipe_version", "planned_qty",
                "actual_qty", "samples_qty", "output_unit", "output_lot_id", "started_at",
                "finished_at", "equipment", "containers"),
    "lot_edges": ("edge_id", "parent_lot_id", "child_lot_id", "relation", "qty", "unit",
                  "moved_at"),
    "qc_results": tuple(c for c, _ in QC_HEADERS),
    "sales": ("sale_id", "sold_at", "customer_id", "product_id", "lot_id", "qty", "unit",
              "unit_price", "currency"),
    "jobs": ("job_id", "customer_id", "job_type_id", "parts", "area_m2", "colour",
             "powder_material_id", "film_um", "labour_hours", "oven_kwh", "oven_cost",
             "quoted_price", "invoiced_price", "received_at", "started_at", "completed_at",
             "invoiced_at", "status"),
}  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _months(rows: list[Record], kind: str) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for row in rows:
        out.setdefault(f"{row[MAIN_TIME[kind]]:%Y-%m}", []).append(row)
    return out


def write_drops(landing: Path, prefix: str, books: Books, title: str) -> tuple[list[Path], int]:
    """One file per kind and site-local month into ``landing``: CSV, the QC results as a
    workbook (sheet ``Results``, a title and a note above the header in row 3, Excel dates in
    local time), the sales as a JSON array. Returns the files and the records they hold."""
    files: list[Path] = []
    count = 0
    for kind, rows in books.by_kind().items():
        columns = FILE_COLUMNS[kind]
        for month, chunk in sorted(_months(rows, kind).items()):
            count += len(chunk)
            if kind == "qc_results":
                path = landing / f"{prefix}{kind}_{month}.xlsx"
                path.write_bytes(_qc_workbook(chunk, title, month))
            elif kind == "sales":
                path = landing / f"{prefix}{kind}_{month}.json"
                data = [{c: _json_value(r[c]) for c in columns} for r in chunk]
                path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
            else:
                path = landing / f"{prefix}{kind}_{month}.csv"
                out = io.StringIO()
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(columns)
                writer.writerows([_cell(r[c]) for c in columns] for r in chunk)
                path.write_text(out.getvalue(), encoding="utf-8")
            files.append(path)
    return files, count


def _qc_workbook(rows: list[Record], title: str, month: str) -> bytes:
    from demo.write import _reproducible_xlsx

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Results"
    sheet["A1"] = f"{title} - QC results {month}"
    sheet["A2"] = "Times are local (AWST, UTC+8). Text tests: conforms / does not conform."
    sheet.append([header for _, header in QC_HEADERS])
    for row in rows:
        cells = []
        for column, _ in QC_HEADERS:
            value = row[column]
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)
            cells.append(value)
        sheet.append(cells)
        sheet.cell(sheet.max_row, 8).number_format = "dd/mm/yyyy hh:mm"
    workbook.properties.creator = "siteledger demo"
    stamp = datetime(2025, 7, 1)
    workbook.properties.created = stamp
    return _reproducible_xlsx(workbook, stamp)


def write_truth(folder: Path, truth: dict[str, Any]) -> Path:
    path = folder / TRUTH_FILE
    path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return path


def build_soapworks_site(start: date = DEFAULT_START) -> SiteConfig:
    """``demo_soapworks``: a site without a water model, its ``materials:`` section only."""
    from siteledger.site.models import SiteConfig

    return SiteConfig.model_validate(
        {
            "site": {
                "id": SOAPWORKS_SITE_ID,
                "name": "Demo Soapworks (soap and candles, Margaret River)",
                "organisation": "example_resources",
                "region": REGION,
                "timezone": TIMEZONE,
                "data_start": start,
            },
            "materials": soapworks_section(start),
        }
    )


def build_coating_site(start: date = DEFAULT_START) -> SiteConfig:
    """``demo_coating``: a site without a water model, its ``materials:`` section only."""
    from siteledger.site.models import SiteConfig

    return SiteConfig.model_validate(
        {
            "site": {
                "id": COATING_SITE_ID,
                "name": "Demo Coating (powder-coating job shop, Welshpool)",
                "organisation": "example_resources",
                "region": REGION,
                "timezone": TIMEZONE,
                "data_start": start,
            },
            "materials": coating_section(start),
        }
    )


@dataclass(frozen=True)
class MaterialsOutput:
    """What :func:`write_site` wrote for a workshop."""

    site: SiteConfig
    files: list[Path]
    n_records: int
    truth_file: Path


def write_site(
    landing: Path, truth_dir: Path, site_id: str, start: date, days: int, seed: int
) -> MaterialsOutput:
    """A workshop's records over the period into ``landing`` and its ground truth into
    ``truth_dir`` (the site file is the caller's: :func:`build_soapworks_site`)."""
    if site_id == SOAPWORKS_SITE_ID:
        site = build_soapworks_site(start)
        books = simulate_soapworks(start, days, seed)
        truth = soapworks_truth(books, start, days)
        prefix = SOAPWORKS_PREFIX
    elif site_id == COATING_SITE_ID:
        site = build_coating_site(start)
        books = simulate_coating(start, days, seed)
        truth = coating_truth(books, start, days)
        prefix = COATING_PREFIX
    else:
        raise ValueError(f"the demo's workshops are {list(MATERIALS_SITE_IDS)}, not {site_id!r}")
    files, n_records = write_drops(landing, prefix, books, site.site.name.split(" (")[0])
    return MaterialsOutput(site, files, n_records, write_truth(truth_dir, truth))
