"""The demo organisation's prepaid water utility: ``demo_waterco`` (Jakarta, Asia/Jakarta, IDR).

A site without a water model (no nodes or flows): three districts whose bulk meters are ordinary
totalisers of the site's ``meters:`` (hourly, ``waterco_bulk_YYYY-MM.csv``), and a ``metering:``
section (docs/metering.md) with PAM Jaya-like increasing-block tariffs per customer group (the
segment), a new tariff version on the first of the month nearest the middle of the period,
emergency credit and the record file layouts. ``customers`` customers (2 000 by default): about
90 % households in three tariff groups (household size 1-8) and 10 % small businesses (some with
two meters). Every meter reports its forward and reverse registers hourly (whole litres), its
battery and signal in the 12:00 reading.

Households draw water in 4-9 hours of the day (a morning and an evening peak, more at weekends,
almost never 02:00-05:00), businesses in 6-9 opening hours (closed on Sunday), so a day without
a leak always has zero-flow hours, fewer than 12 flowing hours and no night flow. On top of that
the period carries, on disjoint sets of meters:

* leaks in about 10 % of homes: continuous (a running toilet, 8-17 L/h, or bigger, 20-60 L/h),
  intermittent (a cistern refilling in 14-20 hours of each day) and night-only flows, lasting
  3-40 days from and to a random hour (the partial first and last days are "edge" days);
* bursts (1-2 hours at 700-1 500 L/h, above 0.2 x Q3);
* tamper alarms in ``waterco_hes_events_YYYY-MM.csv`` (magnetic - the register stops while the
  water still flows, which the district's bulk meter sees -, cover open, tilt), signal loss and
  reboots around offline periods, and the dying battery's low-battery alarm;
* reverse flow (the reverse register rises 10-60 L within a day);
* offline meters: no readings from a random hour of one day to the end of a later day of the
  same month, then the register catches up;
* stale meters: during a leak-looking flow the head-end keeps exporting the meter's last reading
  (same time, same register) every hour for 2-4 days; those days must never count as leaks;
* one dying battery (from 28 % down to 2 %, below 10 % for the last part of the period);
* customers who let their credit run low or into emergency credit, a few beyond it (the valve
  closes for the day: no water, no charge, until they top up).

Purchases (``waterco_pay_purchases_YYYY-MM.csv``) carry the method, the provider, a 20-digit
STS token and, where a voucher of ``waterco_pay_campaign_vouchers.json`` applied, its discount
(percentage with a cap or fixed, minimum purchase, total and per-customer limits, validity).
Customers and meters arrive as a bulk CRM file at the start (``action`` create) and a later file
with new connections, updates and deactivations; maintenance tasks (some overdue) as a workbook.

Ground truth (``metering.json``) is computed from the data as written: leak customer-days,
bursts, tamper, reverse flow, offline and stale periods, the dying battery, each customer's
balance at the end (an exact ledger of its own with :class:`fractions.Fraction`, independent of
the simulation's running float ledger), collections per month, voucher cost and non-revenue
water per district and month. Same arguments, same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import yaml
from openpyxl import Workbook
from openpyxl.styles import Font

METERING_SITE_ID = "demo_waterco"
METERING_SITE_IDS = (METERING_SITE_ID,)
TIMEZONE = "Asia/Jakarta"
UTC_OFFSET_H = 7  # Asia/Jakarta has no daylight saving
REGION = "jakarta"
REGION_NAME = "DKI Jakarta, Indonesia"
CURRENCY = "IDR"
PREFIX = "waterco_"
TRUTH_FILE = "metering.json"
DEFAULT_START = date(2025, 7, 1)
DEFAULT_CUSTOMERS = 2000

EMERGENCY_CREDIT = 20000
LOW_BALANCE_THRESHOLD = 25000
BURST_Q3_FRACTION = 0.2
NIGHT_HOURS = (2, 3, 4)  # local hours that start a night hour (02:00-05:00)
STATUS_HOUR = 12  # the reading at 12:00 local carries battery and signal
READ_TIME_FORMAT = "%Y-%m-%d %H:%M"
BULK_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# canonical readings column -> the head-end export's header
READINGS_HEADERS = {
    "meter_id": "MeterNo",
    "read_at": "ReadingTime",
    "register_m3": "ForwardTotal_m3",
    "reverse_m3": "ReverseTotal_m3",
    "battery_pct": "Battery_pct",
    "signal_dbm": "RSSI_dBm",
}
CUSTOMER_COLUMNS = (
    "customer_id",
    "action",
    "name",
    "segment",
    "household_size",
    "district_id",
    "low_balance_threshold",
    "address",
    "effective_at",
)
METER_COLUMNS = (
    "meter_id",
    "action",
    "customer_id",
    "meter_type",
    "q3_m3_per_h",
    "install_date",
    "location",
    "latitude",
    "longitude",
    "communication",
    "reading_interval_minutes",
    "effective_at",
)
PURCHASE_COLUMNS = (
    "purchase_id",
    "customer_id",
    "meter_id",
    "paid_at",
    "amount",
    "voucher_code",
    "discount",
    "final_amount",
    "payment_method",
    "provider",
    "token_id",
)
EVENT_COLUMNS = ("event_id", "meter_id", "occurred_at", "event_type", "cleared_at", "detail")
MAINTENANCE_HEADERS = (
    ("task_id", "Task"),
    ("meter_id", "Meter"),
    ("task_type", "Type"),
    ("due_date", "Due"),
    ("technician", "Technician"),
    ("status", "Status"),
    ("done_at", "Done"),
    ("notes", "Notes"),
)


# -- tariffs ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TariffVersion:
    effective_from: date
    fixed_charge_per_month: int
    blocks: tuple[tuple[int | None, int], ...]  # (up_to_m3 or None = open, rate per m3)


@dataclass(frozen=True)
class Tariff:
    id: str
    name: str
    versions: tuple[TariffVersion, ...]

    def version_on(self, day: date) -> TariffVersion:
        chosen = self.versions[0]
        for version in self.versions:
            if version.effective_from <= day:
                chosen = version
        return chosen


# Rp per m3 for 0-10, 10-20 and above 20 m3 a month; the first version is PAM Jaya's 2025 table
# for group IIIA (Rp 3 550 / 4 700 / 5 500), the others in proportion; the mid-period version
# raises every rate by about 5 %.
_TARIFF_TABLE = (
    ("household_ii", "Household II (simple homes)", 5000, (1050, 1575, 3550), (1100, 1650, 3725)),
    ("household_iiia", "Household IIIA", 7500, (3550, 4700, 5500), (3725, 4935, 5775)),
    ("household_iiib", "Household IIIB", 10000, (4900, 6000, 7450), (5145, 6300, 7825)),
    ("commercial", "Small business (Niaga I)", 25000, (6825, 8150, 9800), (7165, 8555, 10290)),
)
SEGMENTS = tuple(t[0] for t in _TARIFF_TABLE)
HOUSEHOLD_SEGMENTS = SEGMENTS[:3]
SEGMENT_SHARES = (0.22, 0.45, 0.23, 0.10)


def tariff_change_day(start: date, days: int) -> date:
    """The first of the month nearest the middle of the period (2026-01-01 for the demo year)."""
    middle = start + timedelta(days=days // 2)
    first = middle.replace(day=1)
    if middle.day > 15:
        first = (first + timedelta(days=32)).replace(day=1)
    if first <= start:
        first = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first


def tariffs(start: date = DEFAULT_START, days: int = 365) -> tuple[Tariff, ...]:
    change = tariff_change_day(start, days)
    out = []
    for tariff_id, name, fixed, old, new in _TARIFF_TABLE:
        versions = (
            TariffVersion(
                date(start.year - (start.month == 1), 1, 1),
                fixed,
                ((10, old[0]), (20, old[1]), (None, old[2])),
            ),
            TariffVersion(
                change,
                fixed + (500 if fixed < 20000 else 1500),
                ((10, new[0]), (20, new[1]), (None, new[2])),
            ),
        )
        out.append(Tariff(tariff_id, name, versions))
    return tuple(out)


def exact_charge(litres: int, blocks: tuple[tuple[int | None, int], ...]) -> Fraction:
    """charge(q) = sum_i rate_i x clip(q - b_{i-1}, 0, b_i - b_{i-1}), exactly (q in litres)."""
    total = Fraction(0)
    lower = 0
    for up_to, rate in blocks:
        upper = None if up_to is None else up_to * 1000
        top = litres if upper is None else min(litres, upper)
        if top > lower:
            total += Fraction(rate * (top - lower), 1000)
        if upper is None or litres <= upper:
            break
        lower = upper
    return total


def _float_charge(litres: np.ndarray, blocks: tuple[tuple[int | None, int], ...]) -> np.ndarray:
    q = litres.astype(np.float64)
    total = np.zeros_like(q)
    lower = 0.0
    for up_to, rate in blocks:
        upper = np.inf if up_to is None else up_to * 1000.0
        total += rate / 1000.0 * np.clip(q - lower, 0.0, upper - lower)
        lower = upper
    return total


# -- districts, vouchers, payment ---------------------------------------------------------------
DISTRICTS = (
    ("north", "North zone (Penjaringan - Pademangan)", "bulk_north", -6.125, 106.80, 0.35),
    ("central", "Central zone (Menteng - Tanah Abang)", "bulk_central", -6.190, 106.83, 0.40),
    ("south", "South zone (Kebayoran - Cilandak)", "bulk_south", -6.265, 106.79, 0.25),
)
# background leakage of each district's mains, L/h per connection (real losses; about 8-15 %
# of the input: the old northern mains leak most)
DISTRICT_LOSS_L_PER_H = (3.2, 2.4, 1.6)

PAYMENT = (  # method, providers, share
    ("virtual_account", ("BCA", "Mandiri", "BNI", "BRI"), 0.30),
    ("qr", ("QRIS",), 0.22),
    ("e_wallet", ("GoPay", "OVO", "DANA", "ShopeePay"), 0.25),
    ("card", ("Midtrans",), 0.04),
    ("bank_transfer", ("BCA", "Mandiri"), 0.09),
    ("manual", ("Loket PAM",), 0.10),
)
DENOMINATIONS = np.array([20000, 50000, 75000, 100000, 150000, 200000, 300000, 500000, 1000000])


@dataclass(frozen=True)
class Voucher:
    code: str
    discount_type: str
    value: int
    max_discount: int | None
    min_purchase: int | None
    total_limit: int | None
    per_customer_limit: int | None
    first_day: int  # day offset of valid_from (00:00 local)
    last_day: int  # valid_until = 23:59:59 of this day offset
    uptake: float  # chance that an eligible purchase uses it
    description: str

    def discount(self, amount: int) -> int:
        if self.discount_type == "fixed":
            return min(self.value, amount)
        raw = amount * self.value // 100
        return raw if self.max_discount is None else min(raw, self.max_discount)


def vouchers(days: int) -> tuple[Voucher, ...]:
    """Campaigns placed as fractions of the period (the demo year: Aug, Oct-Nov, Jan, ...)."""

    def at(fraction: float) -> int:
        return min(days - 1, int(days * fraction))

    return (
        Voucher(
            "MERDEKA10",
            "percentage",
            10,
            15000,
            50000,
            None,
            1,
            at(0.09),
            at(0.17),
            0.45,
            "Independence Day: 10 % off, up to Rp 15 000, from Rp 50 000",
        ),
        Voucher(
            "HEMATAIR5K",
            "fixed",
            5000,
            None,
            100000,
            400,
            2,
            at(0.27),
            at(0.42),
            0.35,
            "Save water campaign: Rp 5 000 off a top-up of Rp 100 000 or more",
        ),
        Voucher(
            "TAHUNBARU15",
            "percentage",
            15,
            25000,
            100000,
            150,
            1,
            at(0.50),
            at(0.55),
            0.6,
            "New year: 15 % off, up to Rp 25 000, first 150 top-ups",
        ),
        Voucher(
            "QRIS5",
            "percentage",
            5,
            10000,
            None,
            None,
            3,
            at(0.0),
            at(0.999),
            0.08,
            "Pay by QRIS: 5 % off, up to Rp 10 000, three times per customer",
        ),
        Voucher(
            "RAMADAN10K",
            "fixed",
            10000,
            None,
            150000,
            250,
            1,
            at(0.63),
            at(0.72),
            0.5,
            "Ramadan: Rp 10 000 off a top-up of Rp 150 000 or more",
        ),
    )


# -- names --------------------------------------------------------------------------------------
FIRST_NAMES = (
    "Adi",
    "Agus",
    "Ahmad",
    "Andi",
    "Ani",
    "Bambang",
    "Budi",
    "Dewi",
    "Dian",
    "Eko",
    "Fajar",
    "Fitri",
    "Hadi",
    "Hendra",
    "Indah",
    "Joko",
    "Kartika",
    "Lestari",
    "Made",
    "Nur",
    "Putri",
    "Rina",
    "Rudi",
    "Sari",
    "Siti",
    "Sri",
    "Teguh",
    "Wati",
    "Wayan",
    "Yanti",
    "Yusuf",
    "Zainal",
)
LAST_NAMES = (
    "Hidayat",
    "Kusuma",
    "Lubis",
    "Nasution",
    "Pratama",
    "Purnomo",
    "Santoso",
    "Saputra",
    "Setiawan",
    "Siregar",
    "Situmorang",
    "Sulistyo",
    "Susanto",
    "Wibowo",
    "Wijaya",
    "Yulianto",
    "Gunawan",
    "Halim",
    "Harahap",
    "Rahman",
)
BUSINESSES = (
    "Warung",
    "Toko",
    "Laundry",
    "Bengkel",
    "Apotek",
    "Kedai Kopi",
    "Salon",
    "Rumah Makan",
    "Klinik",
    "Kos-kosan",
)
STREETS = (
    "Jl. Melati",
    "Jl. Kenanga",
    "Jl. Mawar",
    "Jl. Cempaka",
    "Jl. Anggrek",
    "Jl. Flamboyan",
    "Jl. Kamboja",
    "Jl. Dahlia",
    "Gg. Masjid",
    "Jl. Raya Utama",
)
TECHNICIANS = ("Rahmat S.", "Dedi K.", "Wulan P.", "Agung T.")
LOCATIONS = ("front yard", "beside the gate", "kitchen wall", "meter box at the kerb", "carport")


# -- the plan: who and what happens when ----------------------------------------------------------
@dataclass
class Leak:
    meter: int
    kind: str  # continuous | intermittent | night_flow
    start: int  # first hour (index from the period's first local hour)
    end: int  # one past the last hour
    rate: float  # L/h (continuous, night_flow) or mean L per leaking hour (intermittent)


@dataclass
class Span:
    meter: int
    start: int
    end: int
    kind: str = ""
    value: float = 0.0


@dataclass
class Plan:
    start: date
    days: int
    seed: int
    tariffs: tuple[Tariff, ...]
    vouchers: tuple[Voucher, ...]
    # customers
    customer_ids: list[str]
    names: list[str]
    segment: np.ndarray  # int index into SEGMENTS
    size: np.ndarray  # household size, 0 = unknown / business
    district: np.ndarray
    threshold: np.ndarray  # NaN = the site default
    addresses: list[str]
    created_day: np.ndarray
    deactivated_day: np.ndarray  # days = never
    updated: np.ndarray  # bool: changed in the later CRM file
    new_size: np.ndarray
    new_threshold: np.ndarray
    # customer behaviour
    pc_litres: np.ndarray  # L per person per day (households) or L/day (businesses)
    trigger_days: np.ndarray
    cover_days: np.ndarray
    late_level: np.ndarray  # NaN = tops up before running out; else tops up below this balance
    method: np.ndarray
    # meters
    meter_ids: list[str]
    meter_customer: np.ndarray
    q3: np.ndarray
    install: list[date]
    comm: list[str]
    lat: np.ndarray
    lon: np.ndarray
    signal: np.ndarray
    battery0: np.ndarray
    battery_slope: np.ndarray
    register0: np.ndarray  # litres
    # events
    leaks: list[Leak] = field(default_factory=list)
    bursts: list[Span] = field(default_factory=list)
    tampers: list[Span] = field(default_factory=list)
    reverse: list[Span] = field(default_factory=list)
    offline: list[Span] = field(default_factory=list)
    stale: list[Span] = field(default_factory=list)
    dying: int = 0
    mains_burst: Span | None = None
    update_day: int = 0

    @property
    def hours(self) -> int:
        return self.days * 24

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    @property
    def n_meters(self) -> int:
        return len(self.meter_ids)

    def day(self, offset: int) -> date:
        return self.start + timedelta(days=int(offset))

    @property
    def commercial(self) -> np.ndarray:
        return self.segment == SEGMENTS.index("commercial")


def _pick(rng: np.random.Generator, pool: list[int], n: int) -> list[int]:
    n = min(n, len(pool))
    chosen = sorted(int(i) for i in rng.choice(np.array(pool), size=n, replace=False))
    for i in chosen:
        pool.remove(i)
    return chosen


def _same_month(plan_start: date, a: int, b: int) -> bool:
    da, db = plan_start + timedelta(days=a), plan_start + timedelta(days=b)
    return (da.year, da.month) == (db.year, db.month)


def make_plan(
    customers: int = DEFAULT_CUSTOMERS, start: date = DEFAULT_START, days: int = 365, seed: int = 7
) -> Plan:
    """Every customer, meter and event of the period, from the seed."""
    if customers < 10:
        raise ValueError(f"the demo utility needs at least 10 customers, got {customers}")
    if days < 1:
        raise ValueError(f"the demo utility needs at least 1 day, got {days}")
    rng = np.random.default_rng([seed, 16, customers, days])
    n = customers
    segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES)
    commercial = segment == SEGMENTS.index("commercial")
    size = np.where(commercial, 0, np.clip(rng.poisson(3.2, n) + 1, 1, 8))
    size[(~commercial) & (rng.random(n) < 0.04)] = 0  # household size not known
    district = rng.choice(len(DISTRICTS), size=n, p=[d[5] for d in DISTRICTS])
    threshold = np.where(rng.random(n) < 0.12, rng.choice([15000, 50000, 75000], n), np.nan)
    created = np.zeros(n, dtype=np.int64)
    deactivated = np.full(n, days, dtype=np.int64)
    update_day = min(max(int(days * 0.6), 8), days - 1)
    # new connections (2 %) join between day 5 and the later CRM file; deactivations (1.5 %)
    # leave between day 20 and that file; both at local midnight
    order = rng.permutation(n)
    # (a period under two weeks has no room for them, nor for the events below)
    n_new = max(1, n // 50) if days >= 14 else 0
    n_gone = max(1, (n * 3) // 200) if days >= 14 else 0
    new = order[:n_new]
    created[new] = rng.integers(5, max(6, update_day - 3), n_new)
    gone = order[n_new : n_new + n_gone]
    deactivated[gone] = rng.integers(min(20, update_day - 2), update_day, n_gone)
    updated = np.zeros(n, dtype=bool)
    updated[order[n_new + n_gone : n_new + n_gone + max(1, n // 25)]] = days >= 14
    new_size = np.where(updated & ~commercial, np.clip(size + rng.choice([-1, 1], n), 1, 8), size)
    new_threshold = np.where(updated & (rng.random(n) < 0.5), 40000.0, threshold)

    names, addresses = [], []
    for i in range(n):
        street = STREETS[rng.integers(len(STREETS))]
        addresses.append(f"{street} No. {rng.integers(1, 120)}, {DISTRICTS[district[i]][1]}")
        first, last = FIRST_NAMES[rng.integers(len(FIRST_NAMES))], LAST_NAMES[rng.integers(20)]
        if commercial[i]:
            names.append(f"{BUSINESSES[rng.integers(len(BUSINESSES))]} {first}")
        else:
            names.append(f"{first} {last}")
    pc_litres = np.where(
        commercial, rng.lognormal(np.log(1800), 0.5, n), rng.lognormal(np.log(125), 0.3, n)
    )
    pc_litres = np.where(commercial, np.clip(pc_litres, 500, 5000), np.clip(pc_litres, 55, 230))
    # 15 % top up only once the meter runs on emergency credit, a few of them beyond it
    draw = rng.random(n)
    late_level = np.where(draw < 0.13, -rng.uniform(1000, 18000, n), np.nan)
    late_level = np.where(draw < 0.02, -rng.uniform(20000, 26000, n), late_level)
    method = rng.choice(len(PAYMENT), size=n, p=[p[2] for p in PAYMENT])

    # meters: one per customer, a second for a quarter of the businesses
    second = commercial & (rng.random(n) < 0.25)
    meter_customer = np.sort(np.concatenate([np.arange(n), np.flatnonzero(second)]))
    m = len(meter_customer)
    meter_ids = [f"WM{25000001 + i}" for i in range(m)]
    big = commercial[meter_customer]
    q3 = np.where(big, 4.0, 2.5)
    install = [
        DEFAULT_START - timedelta(days=int(x)) for x in rng.integers(30, 2500, m)
    ]  # fixed dates: the demo does not depend on today's date
    comm_choice = rng.choice(3, size=m, p=[0.7, 0.2, 0.1])
    comm = [("nb_iot", "lora", "lte_m")[c] for c in comm_choice]
    lat = np.array([DISTRICTS[d][3] for d in district[meter_customer]]) + rng.normal(0, 0.012, m)
    lon = np.array([DISTRICTS[d][4] for d in district[meter_customer]]) + rng.normal(0, 0.012, m)
    signal = rng.normal(-92, 7, m)
    signal[rng.random(m) < 0.01] = -114.0  # a few meters deep in a basement
    battery0 = rng.uniform(55, 99, m)
    battery_slope = rng.uniform(0.005, 0.03, m)  # % per day
    register0 = np.where(created[meter_customer] > 0, 0, rng.integers(20_000, 2_500_000, m))

    plan = Plan(
        start=start,
        days=days,
        seed=seed,
        tariffs=tariffs(start, days),
        vouchers=vouchers(days),
        customer_ids=[f"CUST{100001 + i}" for i in range(n)],
        names=names,
        segment=segment,
        size=size,
        district=district,
        threshold=threshold,
        addresses=addresses,
        created_day=created,
        deactivated_day=deactivated,
        updated=updated,
        new_size=new_size,
        new_threshold=new_threshold,
        pc_litres=pc_litres,
        trigger_days=rng.uniform(1.0, 7.0, n),
        cover_days=rng.uniform(10, 40, n),
        late_level=late_level,
        method=method,
        meter_ids=meter_ids,
        meter_customer=meter_customer,
        q3=q3,
        install=install,
        comm=comm,
        lat=lat,
        lon=lon,
        signal=signal,
        battery0=battery0,
        battery_slope=battery_slope,
        register0=register0,
        update_day=update_day,
    )
    _plan_events(plan, rng)
    return plan


def _plan_events(plan: Plan, rng: np.random.Generator) -> None:
    days, hours = plan.days, plan.hours
    cust = plan.meter_customer
    # events only on meters of customers present for the whole period
    whole = (plan.created_day[cust] == 0) & (plan.deactivated_day[cust] == days)
    household = whole & ~plan.commercial[cust]
    pool = [int(i) for i in np.flatnonzero(household)]
    n = len(pool)
    dying = _pick(rng, pool, 1)[0]
    plan.dying = dying
    plan.battery0[dying], plan.battery_slope[dying] = 28.0, 26.0 / days
    if days < 14:
        return
    # offline and stale: from a random hour of day d0 to the end of day d1, the register catching
    # up in the first hour of d1 + 1, all in one calendar month (so the month's consumption, and
    # with it the month's block charges, is whatever the catch-up is attributed to)
    for kind, count in (("offline", max(2, n // 100)), ("stale", max(2, n // 500))):
        for meter in _pick(rng, pool, count):
            while True:
                d0 = int(rng.integers(3, days - 8))
                d1 = d0 + int(rng.integers(1, 4) if kind == "offline" else rng.integers(2, 4))
                if d1 + 1 <= days - 2 and _same_month(plan.start, d0, d1 + 1):
                    break
            start = d0 * 24 + int(rng.integers(8, 19))
            span = Span(meter, start, (d1 + 1) * 24, kind)
            if kind == "offline":
                plan.offline.append(span)
            else:
                plan.stale.append(span)
                # leak-looking: a continuous flow from 6 h before the stall to 3 days after it
                plan.leaks.append(
                    Leak(meter, "continuous", start - 6, (d1 + 4) * 24 + 9, rng.uniform(12, 25))
                )
    for meter in _pick(rng, pool, max(3, n // 10)):
        kind = str(rng.choice(["continuous", "intermittent", "night_flow"], p=[0.6, 0.28, 0.12]))
        length = int(rng.integers(3, 41)) * 24 + int(rng.integers(-12, 12))
        first = int(rng.integers(24, max(25, hours - length - 24)))
        end = min(first + length, hours - 1)
        if kind == "continuous":
            rate = rng.uniform(8.5, 17) if rng.random() < 0.8 else rng.uniform(20, 60)
        elif kind == "intermittent":
            rate = rng.uniform(4, 14)
        else:
            rate = rng.uniform(15, 40)
        plan.leaks.append(Leak(meter, kind, first, end, float(rate)))
    for meter in _pick(rng, pool, max(3, n // 100)):
        day = int(rng.integers(2, days - 1))
        start = day * 24 + int(rng.integers(9, 16))
        plan.bursts.append(
            Span(
                meter,
                start,
                start + int(rng.integers(1, 3)),
                "burst",
                float(rng.uniform(700, 1500)),
            )
        )
    for kind, count in (
        ("magnetic", max(3, n // 200)),
        ("cover_open", max(2, n // 250)),
        ("tilt", max(2, n // 300)),
    ):
        for meter in _pick(rng, pool, count):
            start = int(rng.integers(2, days - 2)) * 24 + int(rng.integers(0, 24))
            length = int(rng.integers(6, 40)) if kind == "magnetic" else int(rng.integers(1, 5))
            plan.tampers.append(Span(meter, start, min(start + length, hours - 1), kind))
    for meter in _pick(rng, pool, max(3, n // 150)):
        start = int(rng.integers(1, days - 1)) * 24 + int(rng.integers(1, 20))
        plan.reverse.append(
            Span(
                meter,
                start,
                start + int(rng.integers(1, 4)),
                "reverse_flow",
                float(rng.integers(10, 61)),
            )
        )
    day = int(rng.integers(days // 4, days - 3))
    district = int(rng.integers(len(DISTRICTS)))
    plan.mains_burst = Span(
        district,
        day * 24 + 3,
        day * 24 + 3 + int(rng.integers(4, 10)),
        "mains_burst",
        float(rng.uniform(20000, 45000)),
    )


# -- the simulation, month by month -------------------------------------------------------------
# share of a household's water by local hour (bathing morning and late afternoon, cooking)
_HOUSE_WEIGHT = np.array(
    [
        0.4,
        0.15,
        0.02,
        0.01,
        0.05,
        6,
        9,
        8,
        5,
        3,
        2.5,
        3,
        3,
        2,
        1.5,
        2.5,
        5,
        7,
        6,
        4.5,
        3,
        2,
        1.2,
        0.7,
    ]
)
_SHOP_WEIGHT = np.array(
    [0, 0, 0, 0, 0, 0, 0.3, 2, 4, 5, 5, 5, 6, 5, 4, 4, 4, 4, 3, 2, 1, 0.2, 0, 0]
)


@dataclass
class Month:
    """One calendar month of the period (local hours ``first`` .. ``first + hours``)."""

    first: int
    hours: int
    first_day: int
    days: int
    registered: np.ndarray  # [meters, hours] int32 litres the forward register counted
    actual: np.ndarray  # [meters, hours] water that went through the service pipe
    reverse: np.ndarray  # [meters, hours] litres the reverse register counted
    reported: np.ndarray  # [meters, hours] bool: a new reading for that hour
    stale: np.ndarray  # [meters, hours] bool: the head-end repeated the last reading
    closed: np.ndarray  # [customers, days] bool: the valve was closed (credit exhausted)


@dataclass
class Purchase:
    purchase_id: str
    customer: int
    meter: int
    day: int
    minute: int  # minute of the local day
    amount: int
    voucher: str | None
    discount: int
    token: str
    method: str
    provider: str

    @property
    def final_amount(self) -> int:
        return self.amount - self.discount


class Utility:
    """Runs the plan month by month; the running float ledger decides top-ups and valve
    closures (consumption depends on credit), and records every purchase."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.rng = np.random.default_rng([plan.seed, 160, plan.n_customers, plan.days])
        n = plan.n_customers
        self.balance = np.zeros(n)
        self.charges = np.zeros((n, 7))  # last 7 days' charges (ring)
        self.mtd = np.zeros(n, dtype=np.int64)
        self.closed_next = np.zeros(n, dtype=bool)
        self.register = plan.register0.astype(np.int64).copy()
        self.reverse_register = np.zeros(plan.n_meters, dtype=np.int64)
        self.purchases: list[Purchase] = []
        self.used: dict[str, int] = {}
        self.used_by: dict[tuple[str, int], int] = {}
        self.valve_closed_days = 0
        self.month_starts = _month_starts(plan.start, plan.days)

    def months(self) -> Iterator[Month]:
        for first_day, n_days in self.month_starts:
            yield self._month(first_day, n_days)

    # -- water
    def _use(self, first_day: int, n_days: int) -> np.ndarray:
        plan, rng = self.plan, self.rng
        m = plan.n_meters
        cust = plan.meter_customer
        shop = plan.commercial[cust]
        dates = [plan.day(first_day + d) for d in range(n_days)]
        weekday = np.array([d.weekday() for d in dates])
        season = np.array(
            [
                1.0 + 0.08 * math.sin(2 * math.pi * (d.timetuple().tm_yday - 150) / 365)
                for d in dates
            ]
        )
        # active hours per meter-day: households 4-9 (more with more people), shops 6-9
        size = np.maximum(plan.size[cust], 3)
        k = np.where(
            shop[:, None],
            rng.integers(6, 10, (m, n_days)),
            np.clip(np.rint(3 + size[:, None] * 0.7 + rng.normal(0, 1.0, (m, n_days))), 4, 9),
        ).astype(np.int64)
        weekend = weekday >= 5
        k[shop[:, None] & (weekday == 6)[None, :]] = 0  # shops close on Sunday
        weights = np.where(shop[:, None], _SHOP_WEIGHT[None, :], _HOUSE_WEIGHT[None, :])
        # Gumbel top-k: k distinct hours drawn by weight, for every meter-day at once
        with np.errstate(divide="ignore"):
            keys = np.log(weights)[:, None, :] + rng.gumbel(size=(m, n_days, 24))
        rank = np.argsort(np.argsort(-keys, axis=2), axis=2)
        active = rank < k[:, :, None]
        # never all three night hours (02:00-05:00)
        night = active[:, :, 2] & active[:, :, 3] & active[:, :, 4]
        active[:, :, 3] &= ~night
        daily = (
            np.where(
                shop,
                plan.pc_litres[cust],
                plan.pc_litres[cust] * np.maximum(plan.size[cust], 1),
            )[:, None]
            * season[None, :]
            * np.where(weekend, 1.08, 1.0)[None, :]
        )
        daily = daily * rng.lognormal(0, 0.15, (m, n_days))
        share = np.where(active, weights[:, None, :] * rng.lognormal(0, 0.5, (m, n_days, 24)), 0)
        total = share.sum(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            litres = np.where(active, share / total * daily[:, :, None], 0.0)
        cap = np.where(shop, 700, 400)[:, None, None]
        litres = np.where(active, np.clip(np.rint(litres), 2, cap), 0)
        return litres.reshape(m, n_days * 24).astype(np.int32)

    def _month(self, first_day: int, n_days: int) -> Month:
        plan, rng = self.plan, self.rng
        first, hours = first_day * 24, n_days * 24
        hour = np.arange(first, first + hours)
        actual = self._use(first_day, n_days)
        cust = plan.meter_customer
        for leak in plan.leaks:
            lo, hi = max(leak.start, first), min(leak.end, first + hours)
            if lo >= hi:
                continue
            span = slice(lo - first, hi - first)
            local = hour[span] % 24
            if leak.kind == "continuous":
                flow = np.maximum(np.rint(leak.rate + rng.normal(0, 1.5, hi - lo)), 6)
            elif leak.kind == "night_flow":
                flow = np.where(local < 6, np.rint(leak.rate + rng.normal(0, 2, hi - lo)), 0)
                flow = np.maximum(flow, np.where(local < 6, 11, 0))
            else:  # a cistern refilling in 14-20 hours of each day, every night hour among them
                days_in = (hi - lo + 23) // 24 + 1
                count = rng.integers(14, 21, days_in)
                keys = rng.random((days_in, 24))
                keys[:, list(NIGHT_HOURS)] = -1.0  # at night nothing masks the refills
                on = np.argsort(np.argsort(keys, axis=1), axis=1) < count[:, None]
                day_idx = (hour[span] - (lo - lo % 24)) // 24
                flow = np.where(
                    on[day_idx, local],
                    np.maximum(np.rint(rng.gamma(4, leak.rate / 4, hi - lo)), 3),
                    0,
                )
            actual[leak.meter, span] += flow.astype(np.int32)
        for burst in plan.bursts:
            lo, hi = max(burst.start, first), min(burst.end, first + hours)
            if lo < hi:
                actual[burst.meter, lo - first : hi - first] += int(burst.value)
        registered = actual.copy()
        reverse = np.zeros_like(actual)
        for tamper in plan.tampers:
            lo, hi = max(tamper.start, first), min(tamper.end, first + hours)
            if tamper.kind == "magnetic" and lo < hi:
                registered[tamper.meter, lo - first : hi - first] = 0
        for rev in plan.reverse:
            lo, hi = max(rev.start, first), min(rev.end, first + hours)
            if lo < hi:
                per = np.diff(np.rint(np.linspace(0, rev.value, rev.end - rev.start + 1)))
                reverse[rev.meter, lo - first : hi - first] = per[lo - rev.start : hi - rev.start]
        # a meter exists from its customer's first day to the day it leaves
        day_of = (hour // 24)[None, :]
        alive = (day_of >= plan.created_day[cust][:, None]) & (
            day_of < plan.deactivated_day[cust][:, None]
        )
        actual[~alive] = 0
        registered[~alive] = 0
        reverse[~alive] = 0
        reported = alive.copy()
        stale = np.zeros_like(reported)
        for span_ in plan.offline:
            lo, hi = max(span_.start, first), min(span_.end, first + hours)
            if lo < hi:
                reported[span_.meter, lo - first : hi - first] = False
        for span_ in plan.stale:
            lo, hi = max(span_.start, first), min(span_.end, first + hours)
            if lo < hi:
                reported[span_.meter, lo - first : hi - first] = False
                stale[span_.meter, lo - first : hi - first] = True
        closed = self._ledger(first_day, n_days, actual, registered)
        return Month(
            first, hours, first_day, n_days, registered, actual, reverse, reported, stale, closed
        )

    # -- money
    def _ledger(
        self, first_day: int, n_days: int, actual: np.ndarray, registered: np.ndarray
    ) -> np.ndarray:
        plan, rng = self.plan, self.rng
        n = plan.n_customers
        cust = plan.meter_customer
        closed = np.zeros((n, n_days), dtype=bool)
        self.mtd[:] = 0
        month_day = plan.day(first_day)
        dim = _days_in_month(month_day)
        versions = [t.version_on(month_day) for t in plan.tariffs]
        fixed = np.array([versions[s].fixed_charge_per_month for s in plan.segment]) / dim
        threshold = np.where(np.isnan(plan.threshold), LOW_BALANCE_THRESHOLD, plan.threshold)
        for d in range(n_days):
            day = first_day + d
            date_ = plan.day(day)
            active = (plan.created_day <= day) & (plan.deactivated_day > day)
            shut = self.closed_next & active
            closed[:, d] = shut
            self.valve_closed_days += int(shut.sum())
            if shut.any():
                meters = shut[cust]
                actual[meters, d * 24 : (d + 1) * 24] = 0
                registered[meters, d * 24 : (d + 1) * 24] = 0
            litres = np.bincount(
                cust, weights=registered[:, d * 24 : (d + 1) * 24].sum(axis=1), minlength=n
            ).astype(np.int64)
            before = self.mtd.copy()
            self.mtd += litres
            charge = np.zeros(n)
            for s, version in enumerate(versions):
                rows = plan.segment == s
                charge[rows] = _float_charge(self.mtd[rows], version.blocks) - _float_charge(
                    before[rows], version.blocks
                )
            charge += np.where(active, fixed, 0.0)
            opening = self.balance.copy()
            recent = self.charges.mean(axis=1)
            mean = np.maximum(recent, charge)
            days_left = np.where(mean > 0, opening / np.maximum(mean, 1.0), 99)
            late = ~np.isnan(plan.late_level)
            wants = np.where(
                late,
                opening < np.nan_to_num(plan.late_level, nan=0.0),
                (days_left < plan.trigger_days) | (opening <= threshold),
            )
            wants |= opening < -EMERGENCY_CREDIT
            first_day_of = plan.created_day == day
            payday = date_.day >= 25 or date_.day <= 2
            chance = np.where(late, 0.5, 0.8) + (0.15 if payday else 0.0)
            buy = active & (first_day_of | (wants & (rng.random(n) < chance)) | shut)
            # the last weeks of a leaving customer: no more top-ups
            leaving = plan.deactivated_day < plan.days
            buy &= ~leaving | (plan.deactivated_day - day > 10) | first_day_of
            bought = self._buy(day, np.flatnonzero(buy), mean, threshold)
            self.balance = opening + bought - charge
            self.charges[:, day % 7] = np.where(active, charge, 0.0)
            self.closed_next = self.balance < -EMERGENCY_CREDIT
        return closed

    def _buy(
        self, day: int, buyers: np.ndarray, mean: np.ndarray, threshold: np.ndarray
    ) -> np.ndarray:
        plan, rng = self.plan, self.rng
        credit = np.zeros(plan.n_customers)
        if buyers.size == 0:
            return credit
        shop = plan.commercial[buyers]
        need = np.maximum(mean[buyers], 2000.0) * plan.cover_days[buyers]
        need = np.where(np.isnan(plan.late_level[buyers]), need, need * 0.4)
        need += np.maximum(-self.balance[buyers], 0) + threshold[buyers] * 0.5
        idx = np.searchsorted(DENOMINATIONS, need)
        idx = np.clip(idx + rng.integers(-1, 2, buyers.size), 0, len(DENOMINATIONS) - 1)
        idx = np.where(shop, np.maximum(idx, 3), np.minimum(idx, 7))
        amount = DENOMINATIONS[idx]
        minute = rng.integers(6 * 60, 22 * 60 + 50, buyers.size)
        shut = self.closed_next[buyers]
        minute = np.where(shut, rng.integers(17 * 60, 22 * 60, buyers.size), minute)
        usual = rng.random(buyers.size) < 0.75
        method = np.where(
            usual,
            plan.method[buyers],
            rng.choice(len(PAYMENT), buyers.size, p=[p[2] for p in PAYMENT]),
        )
        order = np.lexsort((buyers, minute))
        vouchers_ = [v for v in plan.vouchers if v.first_day <= day <= v.last_day]
        month = plan.day(day).strftime("%y%m")
        for j in order:
            c = int(buyers[j])
            amt = int(amount[j])
            code, discount = None, 0
            for v in vouchers_:
                if v.code == "QRIS5" and PAYMENT[int(method[j])][0] != "qr":
                    continue
                if v.min_purchase is not None and amt < v.min_purchase:
                    continue
                if v.total_limit is not None and self.used.get(v.code, 0) >= v.total_limit:
                    continue
                mine = self.used_by.get((v.code, c), 0)
                if v.per_customer_limit is not None and mine >= v.per_customer_limit:
                    continue
                if rng.random() >= v.uptake:
                    continue
                code, discount = v.code, v.discount(amt)
                self.used[v.code] = self.used.get(v.code, 0) + 1
                self.used_by[(v.code, c)] = mine + 1
                break
            # the token is keyed to the customer's (first) meter
            meter = int(np.searchsorted(plan.meter_customer, c))
            token = f"{rng.integers(10**9, 10**10):010d}{rng.integers(0, 10**10):010d}"
            how, providers, _ = PAYMENT[int(method[j])]
            provider = providers[int(rng.integers(len(providers)))]
            self.purchases.append(
                Purchase(
                    f"PAY{month}{len(self.purchases) + 1:07d}",
                    c,
                    meter,
                    day,
                    int(minute[j]),
                    amt,
                    code,
                    discount,
                    token,
                    how,
                    provider,
                )
            )
            credit[c] += amt
        return credit

    def run(self, on_month: Callable[[Month], None]) -> None:
        for month in self.months():
            on_month(month)


def _days_in_month(day: date) -> int:
    nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return (nxt - day.replace(day=1)).days


def _month_starts(start: date, days: int) -> list[tuple[int, int]]:
    out = []
    d = 0
    while d < days:
        day = start + timedelta(days=d)
        length = min(_days_in_month(day) - day.day + 1, days - d)
        out.append((d, length))
        d += length
    return out


# -- observing the simulation: per-day facts the truth and the writer need -----------------------
@dataclass
class Observed:
    """What the months showed, gathered while they are written (the months are not kept)."""

    n_meters: int
    n_customers: int
    days: int
    n_districts: int
    registered_day: np.ndarray = field(init=False)  # [meters, days] litres
    reported_hours: np.ndarray = field(init=False)  # [meters, days] new readings
    stale_day: np.ndarray = field(init=False)  # [meters, days] bool
    closed: np.ndarray = field(init=False)  # [customers, days] bool
    reverse_day: np.ndarray = field(init=False)  # [meters, days] litres
    input_day: np.ndarray = field(init=False)  # [districts, days] litres into the district
    hourly_max: np.ndarray = field(init=False)  # [meters, days] largest registered hour

    def __post_init__(self) -> None:
        m, d = self.n_meters, self.days
        self.registered_day = np.zeros((m, d), dtype=np.int64)
        self.reported_hours = np.zeros((m, d), dtype=np.int16)
        self.stale_day = np.zeros((m, d), dtype=bool)
        self.closed = np.zeros((self.n_customers, d), dtype=bool)
        self.reverse_day = np.zeros((m, d), dtype=np.int64)
        self.input_day = np.zeros((self.n_districts, d), dtype=np.int64)
        self.hourly_max = np.zeros((m, d), dtype=np.int32)

    def add(self, month: Month, bulk: np.ndarray) -> None:
        days = slice(month.first_day, month.first_day + month.days)
        shape = (-1, month.days, 24)
        self.registered_day[:, days] = month.registered.reshape(shape).sum(axis=2)
        self.hourly_max[:, days] = month.registered.reshape(shape).max(axis=2)
        self.reported_hours[:, days] = month.reported.reshape(shape).sum(axis=2)
        self.stale_day[:, days] = month.stale.reshape(shape).any(axis=2)
        self.reverse_day[:, days] = month.reverse.reshape(shape).sum(axis=2)
        self.closed[:, days] = month.closed
        self.input_day[:, days] = bulk.reshape(len(bulk), month.days, 24).sum(axis=2)


def bulk_input(plan: Plan, month: Month) -> np.ndarray:
    """Litres into each district per hour: its customers' water (registered or not) and the
    mains' background leakage (more at night, when the pressure is higher), plus a mains burst."""
    district = plan.district[plan.meter_customer]
    out = np.zeros((len(DISTRICTS), month.hours), dtype=np.int64)
    local = np.arange(month.first, month.first + month.hours) % 24
    night = np.where((local >= 0) & (local < 5), 1.3, 1.0)
    for k in range(len(DISTRICTS)):
        connections = int((plan.district == k).sum())
        out[k] = month.actual[district == k].sum(axis=0)
        out[k] += np.rint(DISTRICT_LOSS_L_PER_H[k] * connections * night).astype(np.int64)
    burst = plan.mains_burst
    if burst is not None:
        lo, hi = max(burst.start, month.first), min(burst.end, month.first + month.hours)
        if lo < hi:
            out[burst.meter, lo - month.first : hi - month.first] += int(burst.value)
    return out


# -- the files ----------------------------------------------------------------------------------
def _stamps(plan: Plan) -> np.ndarray:
    """Local 'YYYY-mm-dd HH:MM' of the end of every hour: index 0 = the period's first instant."""
    base = np.datetime64(plan.start.isoformat() + "T00:00")
    times = base + np.arange(plan.hours + 1).astype("timedelta64[h]")
    return np.char.replace(np.datetime_as_string(times, unit="m"), "T", " ")


def _iso(plan: Plan, day: int, minute: int = 0) -> str:
    """A local instant as ISO 8601 with Jakarta's offset."""
    moment = datetime.combine(plan.day(day), time(0)) + timedelta(minutes=minute)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f"+{UTC_OFFSET_H:02d}:00"


def _iso_hour(plan: Plan, hour: int) -> str:
    return _iso(plan, hour // 24, (hour % 24) * 60)


def _utc_hour(plan: Plan, hour: int) -> str:
    moment = datetime.combine(plan.start, time(0)) + timedelta(hours=hour - UTC_OFFSET_H)
    return moment.strftime(BULK_TIME_FORMAT)


def _text(values: np.ndarray) -> pa.Array:
    return pc.fill_null(pc.cast(pa.array(values, from_pandas=True), pa.string()), "")


def _csv_bytes(columns: dict[str, pa.Array]) -> bytes:
    out = io.BytesIO()
    options = pacsv.WriteOptions(include_header=True, quoting_style="none")
    pacsv.write_csv(pa.table(columns), out, options)
    return out.getvalue().replace(b'"', b"")


class Writer:
    """Writes each month's readings and bulk files as the simulation produces them."""

    def __init__(self, plan: Plan, landing: Path | None):
        self.plan = plan
        self.landing = landing
        self.stamps = pa.array(_stamps(plan))
        self.meter_ids = pa.array(plan.meter_ids)
        self.register = plan.register0.astype(np.int64).copy()
        self.reverse = np.zeros(plan.n_meters, dtype=np.int64)
        self.bulk = np.array([1_250_000_000, 2_400_000_000, 870_000_000], dtype=np.int64)
        self.observed = Observed(plan.n_meters, plan.n_customers, plan.days, len(DISTRICTS))
        self.files: list[Path] = []
        self.n_readings = 0
        self.noise = np.random.default_rng([plan.seed, 161, plan.n_meters])

    def month(self, month: Month) -> None:
        plan = self.plan
        bulk = bulk_input(plan, month)
        self.observed.add(month, bulk)
        m, h = plan.n_meters, month.hours
        register = self.register[:, None] + np.cumsum(month.registered, axis=1, dtype=np.int64)
        reverse = self.reverse[:, None] + np.cumsum(month.reverse, axis=1, dtype=np.int64)
        opening_register = self.register.copy()
        self.register, self.reverse = register[:, -1].copy(), reverse[:, -1].copy()
        bulk_register = self.bulk[:, None] + np.cumsum(bulk, axis=1)
        bulk_opening = self.bulk.copy()
        self.bulk = bulk_register[:, -1].copy()
        if self.landing is None:
            return
        # battery and signal in the 12:00 reading (hour index 11 of the day ends at 12:00)
        day_of = (month.first + np.arange(h)) // 24
        battery = plan.battery0[:, None] - plan.battery_slope[:, None] * day_of[None, :]
        battery = np.round(np.clip(battery + self.noise.normal(0, 0.3, (m, h)), 0.5, 100), 1)
        signal = np.rint(plan.signal[:, None] + self.noise.normal(0, 3, (m, h)))
        status = ((month.first + np.arange(h)) % 24 == STATUS_HOUR - 1)[None, :]
        # rows: opening readings of meters whose first day falls in the month, then hour by hour
        # (time, then meter); a stale hour repeats the meter's last reading
        created = plan.created_day[plan.meter_customer]
        opening = np.flatnonzero(
            (created >= month.first_day) & (created < month.first_day + month.days)
        )
        t_idx, m_idx = np.nonzero((month.reported | month.stale).T)
        hour_idx = t_idx.copy()
        stale = month.stale[m_idx, t_idx]
        if stale.any():
            # the last real reading: the hour before the stale span (same month)
            for k in np.flatnonzero(stale):
                j = t_idx[k]
                while month.stale[m_idx[k], j]:
                    j -= 1
                hour_idx[k] = j
        reg = register[m_idx, hour_idx]
        rev = reverse[m_idx, hour_idx]
        with_status = status[0, hour_idx]
        bat = np.where(with_status, battery[m_idx, hour_idx], np.nan)
        sig = np.where(with_status, signal[m_idx, hour_idx], np.nan)
        stamp_idx = month.first + hour_idx + 1
        if opening.size:
            first_hour = created[opening] * 24 - month.first  # the hour the meter starts
            before = np.where(
                first_hour > 0,
                register[opening, np.maximum(first_hour - 1, 0)],
                opening_register[opening],
            )
            m_idx = np.concatenate([opening, m_idx])
            stamp_idx = np.concatenate([created[opening] * 24, stamp_idx])
            reg = np.concatenate([before, reg])
            rev = np.concatenate([np.zeros(opening.size, dtype=np.int64), rev])
            bat = np.concatenate([np.full(opening.size, np.nan), bat])
            sig = np.concatenate([np.full(opening.size, np.nan), sig])
        h = READINGS_HEADERS
        content = _csv_bytes(
            {
                h["meter_id"]: self.meter_ids.take(pa.array(m_idx)),
                h["read_at"]: self.stamps.take(pa.array(stamp_idx)),
                h["register_m3"]: _text(reg / 1000.0),
                h["reverse_m3"]: _text(rev / 1000.0),
                h["battery_pct"]: _text(bat),
                h["signal_dbm"]: _text(sig),
            }
        )
        name = plan.day(month.first_day).strftime(f"{PREFIX}hes_readings_%Y-%m.csv")
        assert self.landing is not None
        (self.landing / name).write_bytes(content)
        self.files.append(self.landing / name)
        self.n_readings += len(m_idx)
        # the bulk meters: a csv_long logger export in UTC
        ids = [d[2] for d in DISTRICTS]
        lines = ["meter,time_utc,value,unit"]
        if month.first == 0:
            lines += [
                f"{ids[k]},{_utc_hour(plan, 0)},{bulk_opening[k] / 1000:.3f},m3"
                for k in range(len(ids))
            ]
        utc = [_utc_hour(plan, month.first + i + 1) for i in range(month.hours)]
        for i in range(month.hours):
            lines += [
                f"{ids[k]},{utc[i]},{bulk_register[k, i] / 1000:.3f},m3" for k in range(len(ids))
            ]
        bulk_name = plan.day(month.first_day).strftime(f"{PREFIX}bulk_%Y-%m.csv")
        (self.landing / bulk_name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.files.append(self.landing / bulk_name)
        self.n_readings += len(lines) - 1


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _num(value: float) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return f"{value:g}" if float(value) != int(value) else str(int(value))


def customer_rows(plan: Plan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The bulk CRM file at the start and the later one (new connections, updates, leavers)."""

    def row(i: int, action: str, day: int, later: bool = False) -> dict[str, Any]:
        size = plan.new_size[i] if later else plan.size[i]
        threshold = plan.new_threshold[i] if later else plan.threshold[i]
        return {
            "customer_id": plan.customer_ids[i],
            "action": action,
            "name": plan.names[i],
            "segment": SEGMENTS[plan.segment[i]],
            "household_size": int(size) if size > 0 else None,
            "district_id": DISTRICTS[plan.district[i]][0],
            "low_balance_threshold": _num(float(threshold)),
            "address": plan.addresses[i],
            "effective_at": _iso(plan, day),
        }

    first = [row(i, "create", 0) for i in range(plan.n_customers) if plan.created_day[i] == 0]
    later: list[tuple[int, int, dict[str, Any]]] = []
    for i in range(plan.n_customers):
        if plan.created_day[i] > 0:
            later.append((int(plan.created_day[i]), i, row(i, "create", plan.created_day[i])))
        if plan.updated[i]:
            later.append((plan.update_day, i, row(i, "update", plan.update_day, later=True)))
        if plan.deactivated_day[i] < plan.days:
            day = int(plan.deactivated_day[i])
            later.append((day, i, row(i, "deactivate", day)))
    return first, [r for _, _, r in sorted(later, key=lambda x: (x[0], x[1]))]


def meter_rows(plan: Plan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def row(j: int, action: str, day: int) -> dict[str, Any]:
        shop = plan.commercial[plan.meter_customer[j]]
        return {
            "meter_id": plan.meter_ids[j],
            "action": action,
            "customer_id": plan.customer_ids[plan.meter_customer[j]],
            "meter_type": "ultrasonic DN20" if shop else "ultrasonic DN15",
            "q3_m3_per_h": _num(float(plan.q3[j])),
            "install_date": (plan.day(day) if day > 0 else plan.install[j]).isoformat(),
            "location": LOCATIONS[j % len(LOCATIONS)],
            "latitude": f"{plan.lat[j]:.5f}",
            "longitude": f"{plan.lon[j]:.5f}",
            "communication": plan.comm[j],
            "reading_interval_minutes": 60,
            "effective_at": _iso(plan, day),
        }

    cust = plan.meter_customer
    first = [row(j, "create", 0) for j in range(plan.n_meters) if plan.created_day[cust[j]] == 0]
    later = []
    for j in range(plan.n_meters):
        created, gone = int(plan.created_day[cust[j]]), int(plan.deactivated_day[cust[j]])
        if created > 0:
            later.append((created, j, row(j, "create", created)))
        if gone < plan.days:
            # only the meter and the time: its customer leaves the same day (the CRM lists the
            # customer first) and nothing else of the meter changes
            leave = {"meter_id": plan.meter_ids[j], "action": "deactivate"}
            later.append((gone, j, {**leave, "effective_at": _iso(plan, gone)}))
    return first, [r for _, _, r in sorted(later, key=lambda x: (x[0], x[1]))]


def voucher_records(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "voucher_code": v.code,
            "discount_type": v.discount_type,
            "value": v.value,
            "max_discount": v.max_discount,
            "min_purchase": v.min_purchase,
            "total_limit": v.total_limit,
            "per_customer_limit": v.per_customer_limit,
            "valid_from": _iso(plan, v.first_day),
            "valid_until": _iso(plan, v.last_day, 24 * 60 - 1),
            "description": v.description,
        }
        for v in plan.vouchers
    ]


def purchase_rows(plan: Plan, purchases: list[Purchase]) -> list[dict[str, Any]]:
    return [
        {
            "purchase_id": p.purchase_id,
            "customer_id": plan.customer_ids[p.customer],
            "meter_id": plan.meter_ids[p.meter],
            "paid_at": _iso(plan, p.day, p.minute),
            "amount": p.amount,
            "voucher_code": p.voucher,
            "discount": p.discount,
            "final_amount": p.final_amount,
            "payment_method": p.method,
            "provider": p.provider,
            "token_id": p.token,
        }
        for p in purchases
    ]


def event_rows(plan: Plan) -> list[dict[str, Any]]:
    """The head-end's alarms: tamper, signal loss and reboot around offline periods, the dying
    battery's low-battery alarm and a few spontaneous reboots (no leak or burst alarms: those
    are the warehouse's to find)."""
    rows: list[tuple[int, dict[str, Any]]] = []
    details = {
        "magnetic": "magnetic field detected at the register",
        "cover_open": "register cover opened",
        "tilt": "meter tilted beyond 45 degrees",
    }
    for t in plan.tampers:
        rows.append(
            (
                t.start,
                {
                    "meter_id": plan.meter_ids[t.meter],
                    "event_type": t.kind,
                    "occurred_at": _iso_hour(plan, t.start),
                    "cleared_at": _iso_hour(plan, t.end),
                    "detail": details[t.kind],
                },
            )
        )
    for o in plan.offline:
        rows.append(
            (
                o.start,
                {
                    "meter_id": plan.meter_ids[o.meter],
                    "event_type": "signal_loss",
                    "occurred_at": _iso_hour(plan, o.start),
                    "cleared_at": _iso_hour(plan, o.end + 1),
                    "detail": "no network attach",
                },
            )
        )
        rows.append(
            (
                o.end + 1,
                {
                    "meter_id": plan.meter_ids[o.meter],
                    "event_type": "reboot",
                    "occurred_at": _iso_hour(plan, o.end + 1),
                    "cleared_at": None,
                    "detail": "modem watchdog reset",
                },
            )
        )
    low_day = low_battery_day(plan)
    if low_day is not None:
        hour = low_day * 24 + STATUS_HOUR
        rows.append(
            (
                hour,
                {
                    "meter_id": plan.meter_ids[plan.dying],
                    "event_type": "low_battery",
                    "occurred_at": _iso_hour(plan, hour),
                    "cleared_at": None,
                    "detail": "battery below 10 %",
                },
            )
        )
    rng = np.random.default_rng([plan.seed, 162, plan.n_meters])
    for j in rng.choice(plan.n_meters, size=max(2, plan.n_meters // 200), replace=False):
        cust = plan.meter_customer[j]
        lo, hi = int(plan.created_day[cust]), int(plan.deactivated_day[cust])
        hour = int(rng.integers(lo * 24, hi * 24 - 1))
        rows.append(
            (
                hour,
                {
                    "meter_id": plan.meter_ids[j],
                    "event_type": "reboot",
                    "occurred_at": _iso_hour(plan, hour),
                    "cleared_at": None,
                    "detail": "firmware update",
                },
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]["meter_id"], r[1]["event_type"]))
    return [{"event_id": f"EV{i + 1:06d}", **r} for i, (_, r) in enumerate(rows)]


def low_battery_day(plan: Plan, low_pct: float = 10.0) -> int | None:
    j = plan.dying
    days = np.arange(plan.days)
    below = np.flatnonzero(plan.battery0[j] - plan.battery_slope[j] * days < low_pct - 1.0)
    return int(below[0]) if below.size else None


def maintenance_rows(plan: Plan) -> list[dict[str, Any]]:
    """Tasks: the dying battery's replacement (overdue), repairs after tamper, inspections after
    offline periods, calibrations of business meters (some done, some overdue, some due soon),
    a meter replacement and one cancelled inspection."""
    last = plan.days - 1
    tasks: list[dict[str, Any]] = []

    def add(
        meter: int, kind: str, due: int, done: int | None, notes: str, status: str = ""
    ) -> None:
        tasks.append(
            {
                "meter_id": plan.meter_ids[meter],
                "task_type": kind,
                "due_date": plan.day(min(due, last + 30)),
                "technician": TECHNICIANS[(meter + due) % len(TECHNICIANS)],
                "status": status or ("done" if done is not None else "scheduled"),
                "done_at": None if done is None else datetime.combine(plan.day(done), time(10, 30)),
                "notes": notes,
            }
        )

    low = low_battery_day(plan)
    due = min(last - 10, (low if low is not None else last - 20) + 7)
    add(plan.dying, "battery_replacement", due, None, "battery below 10 %: replace")
    for t in plan.tampers:
        day = t.start // 24
        done = day + 3 if day + 3 < last else None
        add(t.meter, "repair", day + 7, done, f"check seal after {t.kind.replace('_', ' ')} alarm")
    for o in plan.offline:
        day = o.start // 24
        add(o.meter, "inspection", day + 3, day + 2, "meter offline: check antenna")
    shops = [j for j in range(plan.n_meters) if plan.commercial[plan.meter_customer[j]]]
    for k, j in enumerate(shops[: max(4, len(shops) // 8)]):
        due = int(plan.days * (k + 1) / (max(4, len(shops) // 8) + 1))
        done = due - 1 if due < last - 30 else None
        add(j, "calibration", due, done, "annual accuracy check")
    for s in plan.stale[:1]:
        add(s.meter, "meter_replacement", last - 5, None, "register stalls: replace the module")
    if plan.offline:
        add(plan.offline[0].meter, "inspection", last + 5, None, "follow-up visit", "cancelled")
    # an inspection due within the alert window after the last day
    add(shops[0] if shops else 0, "inspection", last + 6, None, "routine inspection")
    tasks.sort(key=lambda t: (t["due_date"], t["meter_id"], t["task_type"]))
    return [{"task_id": f"MT{i + 1:05d}", **t} for i, t in enumerate(tasks)]


def _maintenance_workbook(rows: list[dict[str, Any]], start: date) -> bytes:
    from demo.write import _reproducible_xlsx

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Tasks"
    sheet["A1"] = "PT Demo Waterco - meter maintenance schedule"
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = "Times are local (WIB, UTC+7)."
    sheet.append([header for _, header in MAINTENANCE_HEADERS])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row[c] for c, _ in MAINTENANCE_HEADERS])
        sheet.cell(sheet.max_row, 4).number_format = "yyyy-mm-dd"
        sheet.cell(sheet.max_row, 7).number_format = "yyyy-mm-dd hh:mm"
    workbook.properties.creator = "siteledger demo"
    stamp = datetime.combine(start, time(0))
    workbook.properties.created = stamp
    return _reproducible_xlsx(workbook, stamp)


def _by_month(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row[key][:7], []).append(row)
    return out


# -- ground truth -------------------------------------------------------------------------------
def _cents(value: Fraction | float) -> float:
    return round(float(value), 2)


def exact_balances(
    plan: Plan, registered_day: np.ndarray, purchases: list[Purchase]
) -> list[dict[str, Any]]:
    """Each customer's balance on its last day, with exact fractions: credit bought, less the
    block charges of each run of days of one month under one tariff version (month-to-date,
    all the customer's meters together), less fixed_charge / days-in-month for each active day.
    Independent of the simulation's running float ledger."""
    credit = [Fraction(0)] * plan.n_customers
    last_purchase: dict[int, str] = {}
    for p in purchases:
        credit[p.customer] += p.amount
        last_purchase[p.customer] = _iso(plan, p.day, p.minute)
    litres = np.zeros((plan.n_customers, plan.days), dtype=np.int64)
    np.add.at(litres, plan.meter_customer, registered_day)
    by_id = {t.id: t for t in plan.tariffs}
    out = []
    for c in range(plan.n_customers):
        tariff = by_id[SEGMENTS[plan.segment[c]]]
        first, stop = int(plan.created_day[c]), int(plan.deactivated_day[c])
        balance = credit[c]
        day = first
        while day < stop:
            date_ = plan.day(day)
            dim = _days_in_month(date_)
            version = tariff.version_on(date_)
            run_end = day
            while (
                run_end + 1 < stop
                and plan.day(run_end + 1).month == date_.month
                and tariff.version_on(plan.day(run_end + 1)) == version
            ):
                run_end += 1
            month_first = day - (date_.day - 1)
            before = int(litres[c, max(month_first, first) : day].sum())
            during = int(litres[c, day : run_end + 1].sum())
            balance -= exact_charge(before + during, version.blocks) - exact_charge(
                before, version.blocks
            )
            balance -= Fraction(version.fixed_charge_per_month * (run_end + 1 - day), dim)
            day = run_end + 1
        threshold = plan.new_threshold[c] if plan.updated[c] else plan.threshold[c]
        threshold = LOW_BALANCE_THRESHOLD if math.isnan(threshold) else float(threshold)
        value = float(balance)
        if value < -EMERGENCY_CREDIT:
            status = "exhausted"
        elif value < 0:
            status = "emergency"
        elif value <= threshold:
            status = "low"
        else:
            status = "ok"
        out.append(
            {
                "customer_id": plan.customer_ids[c],
                "as_of_day": plan.day(stop - 1).isoformat(),
                "balance": _cents(balance),
                "balance_exact": f"{balance.numerator}/{balance.denominator}",
                "balance_status": status,
                "low_balance_threshold": threshold,
                "last_purchase_at": last_purchase.get(c),
            }
        )
    return out


def _full_days(start: int, end: int) -> tuple[list[int], list[int]]:
    """Whole local days inside [start, end) hours, and the partial days at either end."""
    first_full = -(-start // 24)
    last_full = end // 24  # exclusive
    full = list(range(first_full, last_full))
    edges = sorted({start // 24, (end - 1) // 24} - set(full))
    return full, edges


def ground_truth(plan: Plan, utility: Utility, observed: Observed) -> dict[str, Any]:
    cust = plan.meter_customer
    fresh = (observed.reported_hours == 24) & ~observed.stale_day
    open_valve = ~observed.closed[cust]
    leak_days, edge_days = [], []
    for leak in plan.leaks:
        full, edges = _full_days(leak.start, leak.end)
        for d in full:
            if d < plan.days and fresh[leak.meter, d] and open_valve[leak.meter, d]:
                leak_days.append((leak.meter, d, leak.kind))
        for d in edges:
            if d < plan.days:
                edge_days.append((leak.meter, d))

    def ids(j: int) -> dict[str, str]:
        return {"meter_id": plan.meter_ids[j], "customer_id": plan.customer_ids[cust[j]]}

    threshold_l = BURST_Q3_FRACTION * plan.q3 * 1000
    bursts = []
    for b in plan.bursts:
        day = b.start // 24
        if observed.closed[cust[b.meter], day]:
            continue  # the valve was shut: no water, no burst
        bursts.append(
            {
                **ids(b.meter),
                "start": _iso_hour(plan, b.start),
                "end": _iso_hour(plan, b.end),
                "day": plan.day(day).isoformat(),
                "hours": b.end - b.start,
                "flow_l_per_h": round(b.value, 1),
                "threshold_l_per_h": float(threshold_l[b.meter]),
            }
        )
    events = event_rows(plan)
    tamper = [
        {
            **ids(plan.meter_ids.index(e["meter_id"])),
            "event_id": e["event_id"],
            "event_type": e["event_type"],
            "occurred_at": e["occurred_at"],
            "cleared_at": e["cleared_at"],
            "day": e["occurred_at"][:10],
        }
        for e in events
        if e["event_type"] in ("magnetic", "cover_open", "tilt")
    ]
    reverse = [
        {
            **ids(r.meter),
            "day": plan.day(r.start // 24).isoformat(),
            "reverse_l": int(observed.reverse_day[r.meter, r.start // 24]),
        }
        for r in plan.reverse
    ]
    offline = []
    for o in plan.offline:
        full, _ = _full_days(o.start, o.end)
        offline.append(
            {
                **ids(o.meter),
                "last_reading_at": _iso_hour(plan, o.start),
                "back_at": _iso_hour(plan, o.end + 1),
                "first_day": plan.day(o.start // 24).isoformat(),
                "days_without_readings": [plan.day(d).isoformat() for d in full],
                "catch_up_l": int(observed.registered_day[o.meter, o.end // 24]),
            }
        )
    stale = []
    for s in plan.stale:
        days_ = range(s.start // 24, s.end // 24)
        stale.append(
            {
                **ids(s.meter),
                "last_reading_at": _iso_hour(plan, s.start),
                "back_at": _iso_hour(plan, s.end + 1),
                "days": [plan.day(d).isoformat() for d in days_],
            }
        )
    low = low_battery_day(plan)
    j = plan.dying
    battery = {
        **ids(j),
        "battery_first_pct": round(float(plan.battery0[j]), 1),
        "battery_last_pct": round(
            float(plan.battery0[j] - plan.battery_slope[j] * (plan.days - 1)), 1
        ),
        "below_10_pct_from": None if low is None else plan.day(low).isoformat(),
    }
    # money
    monthly: dict[str, dict[str, Any]] = {}
    by_voucher: dict[str, dict[str, Any]] = {}
    by_method: dict[tuple[str, str, str, str], dict[str, int]] = {}
    for p in utility.purchases:
        month = plan.day(p.day).strftime("%Y-%m-01")
        row = monthly.setdefault(
            month,
            {"month": month, "purchases": 0, "credit_sold": 0, "collections": 0, "voucher_cost": 0},
        )
        row["purchases"] += 1
        row["credit_sold"] += p.amount
        row["collections"] += p.final_amount
        row["voucher_cost"] += p.discount
        key = (month, SEGMENTS[plan.segment[p.customer]], p.method, p.provider)
        cell = by_method.setdefault(key, {"purchases": 0, "collections": 0})
        cell["purchases"] += 1
        cell["collections"] += p.final_amount
        if p.voucher:
            v = by_voucher.setdefault(
                p.voucher,
                {
                    "voucher_code": p.voucher,
                    "redemptions": 0,
                    "customers": set(),
                    "total_discount": 0,
                },
            )
            v["redemptions"] += 1
            v["customers"].add(p.customer)
            v["total_discount"] += p.discount
    vouchers_ = [{**v, "customers": len(v["customers"])} for _, v in sorted(by_voucher.items())]
    district = plan.district[cust]
    nrw = []
    for k, (district_id, *_rest) in enumerate(DISTRICTS):
        for first_day, n_days in _month_starts(plan.start, plan.days):
            days_ = slice(first_day, first_day + n_days)
            system_input = int(observed.input_day[k, days_].sum())
            billed = int(observed.registered_day[district == k, days_].sum())
            nrw.append(
                {
                    "district_id": district_id,
                    "month": plan.day(first_day).strftime("%Y-%m-01"),
                    "system_input_m3": system_input / 1000,
                    "billed_m3": billed / 1000,
                    "nrw_m3": (system_input - billed) / 1000,
                    "nrw_pct": round(100 * (system_input - billed) / system_input, 3),
                }
            )
    balances = exact_balances(plan, observed.registered_day, utility.purchases)
    overdue = [
        t["task_id"]
        for t in maintenance_rows(plan)
        if t["status"] == "scheduled" and t["due_date"] < plan.day(plan.days - 1)
    ]
    return {
        "site_id": METERING_SITE_ID,
        "start": plan.start.isoformat(),
        "days": plan.days,
        "last_day": plan.day(plan.days - 1).isoformat(),
        "seed": plan.seed,
        "timezone": TIMEZONE,
        "currency": CURRENCY,
        "customers": plan.n_customers,
        "meters": plan.n_meters,
        "tariff_change_day": tariff_change_day(plan.start, plan.days).isoformat(),
        "leak_days": [
            {**ids(m), "day": plan.day(d).isoformat(), "kind": k} for m, d, k in leak_days
        ],
        "leak_edge_days": [{**ids(m), "day": plan.day(d).isoformat()} for m, d in edge_days],
        "leaks": [
            {
                **ids(lk.meter),
                "kind": lk.kind,
                "start": _iso_hour(plan, lk.start),
                "end": _iso_hour(plan, lk.end),
                "rate_l_per_h": round(lk.rate, 2),
            }
            for lk in plan.leaks
        ],
        "bursts": bursts,
        "tamper_events": tamper,
        "reverse_flow": reverse,
        "offline": offline,
        "stale": stale,
        "dying_battery": battery,
        "valve_closed_customer_days": int(observed.closed.sum()),
        "balances": balances,
        "collections_monthly": [monthly[k] for k in sorted(monthly)],
        "collections_by_segment_method_provider": [
            {"month": k[0], "segment": k[1], "payment_method": k[2], "provider": k[3], **v}
            for k, v in sorted(by_method.items())
        ],
        "vouchers": vouchers_,
        "voucher_cost": sum(v["total_discount"] for v in vouchers_),
        "nonrevenue_water_monthly": nrw,
        "maintenance_overdue": overdue,
        "readings_written": 0,
    }


# -- the site file ------------------------------------------------------------------------------
def metering_section(start: date = DEFAULT_START, days: int = 365) -> dict[str, Any]:
    """``demo_waterco``'s ``metering:`` section (docs/metering.md, Site file)."""
    layouts: list[dict[str, Any]] = [
        {
            "id": f"{PREFIX}customers",
            "kind": "customers",
            "pattern": f"{PREFIX}crm_*_customers.csv",
            "format": "csv",
        },
        {
            "id": f"{PREFIX}meters",
            "kind": "meters",
            "pattern": f"{PREFIX}crm_*_meters.csv",
            "format": "csv",
        },
        {
            "id": f"{PREFIX}vouchers",
            "kind": "vouchers",
            "pattern": f"{PREFIX}pay_campaign_vouchers*.json",
            "format": "json",
        },
        {
            "id": f"{PREFIX}purchases",
            "kind": "purchases",
            "pattern": f"{PREFIX}pay_purchases_*.csv",
            "format": "csv",
        },
        {
            "id": f"{PREFIX}readings",
            "kind": "readings",
            "pattern": f"{PREFIX}hes_readings_*.csv",
            "format": "csv",
            "timestamp_format": READ_TIME_FORMAT,
            "unit": "m3",
            "columns": dict(READINGS_HEADERS),
        },
        {
            "id": f"{PREFIX}meter_events",
            "kind": "meter_events",
            "pattern": f"{PREFIX}hes_events_*.csv",
            "format": "csv",
        },
        {
            "id": f"{PREFIX}maintenance",
            "kind": "maintenance",
            "pattern": f"{PREFIX}maintenance*.xlsx",
            "format": "excel",
            "sheet": "Tasks",
            "header_row": 3,
            "columns": dict(MAINTENANCE_HEADERS),
        },
    ]
    return {
        "currency": CURRENCY,
        "emergency_credit": EMERGENCY_CREDIT,
        "low_balance_threshold": LOW_BALANCE_THRESHOLD,
        "low_balance_days": [7, 3, 1],
        "credit_days_window": 7,
        "burst_q3_fraction": BURST_Q3_FRACTION,
        "default_q3_m3_per_h": 2.5,
        "per_capita_benchmark_l": 100.0,
        "tariffs": [
            {
                "id": t.id,
                "name": t.name,
                "versions": [
                    {
                        "effective_from": v.effective_from.isoformat(),
                        "fixed_charge_per_month": v.fixed_charge_per_month,
                        "blocks": [
                            {"up_to_m3": up, "rate": rate} if up is not None else {"rate": rate}
                            for up, rate in v.blocks
                        ],
                    }
                    for v in t.versions
                ],
            }
            for t in tariffs(start, days)
        ],
        "districts": [{"id": d[0], "name": d[1], "bulk_meters": [d[2]]} for d in DISTRICTS],
        "layouts": layouts,
    }


BULK_LAYOUT = {
    "id": f"{PREFIX}bulk",
    "format": "csv_long",
    "pattern": f"{PREFIX}bulk_*.csv",
    "timezone": "UTC",
    "timestamp_column": "time_utc",
    "timestamp_format": BULK_TIME_FORMAT,
    "meter_column": "meter",
    "value_column": "value",
    "unit_column": "unit",
}


def metering_site_data(start: date = DEFAULT_START, days: int = 365) -> dict[str, Any]:
    """The site file of ``demo_waterco`` as plain data (what :func:`write_site` dumps)."""
    return {
        "site": {
            "id": METERING_SITE_ID,
            "name": "Demo Waterco (prepaid water utility, Jakarta)",
            "organisation": "example_resources",
            "region": REGION,
            "timezone": TIMEZONE,
            "data_start": start.isoformat(),
        },
        "meters": [
            {
                "id": d[2],
                "name": f"{d[1].split(' (')[0]} bulk meter",
                "measurand": "totaliser",
                "unit": "m3",
                "interval": "1h",
                "valid_range": [0.0, 1.0e8],
                "description": f"district meter of {d[0]}: the zone's system input",
            }
            for d in DISTRICTS
        ],
        "file_layouts": [dict(BULK_LAYOUT)],
        "metering": metering_section(start, days),
    }


def site_text(start: date = DEFAULT_START, days: int = 365) -> str:
    """The site file's YAML, validated (and written in the model's key order) when the site
    model knows the ``metering:`` section."""
    from siteledger.site.loader import dump_site
    from siteledger.site.models import SiteConfig

    data = metering_site_data(start, days)
    if "metering" in SiteConfig.model_fields:
        return dump_site(SiteConfig.model_validate(data))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


# -- writing it all -----------------------------------------------------------------------------
@dataclass(frozen=True)
class MeteringOutput:
    """What :func:`write_site` wrote."""

    files: list[Path]
    n_readings: int
    n_records: int
    n_meters: int
    truth_file: Path | None
    truth: dict[str, Any]


def simulate_and_write(
    plan: Plan, landing: Path | None, on_month: Callable[[Month], None] | None = None
) -> tuple[Utility, Writer]:
    """Run the plan, writing each month's readings into ``landing`` (None: write nothing)."""
    utility = Utility(plan)
    writer = Writer(plan, landing)

    def step(month: Month) -> None:
        writer.month(month)
        if on_month is not None:
            on_month(month)

    utility.run(step)
    return utility, writer


def write_site(
    landing: Path,
    truth_dir: Path | None,
    customers: int = DEFAULT_CUSTOMERS,
    start: date = DEFAULT_START,
    days: int = 365,
    seed: int = 7,
) -> MeteringOutput:
    """The utility's record files into ``landing`` and ``metering.json`` into ``truth_dir``
    (the site file is the caller's: :func:`site_text`)."""
    plan = make_plan(customers, start, days, seed)
    utility, writer = simulate_and_write(plan, landing)
    files = list(writer.files)
    n_records = 0
    first, later = customer_rows(plan)
    stamp = plan.day(0).isoformat()
    update = plan.day(plan.update_day).isoformat()
    files.append(
        _write_csv(landing / f"{PREFIX}crm_{stamp}_customers.csv", CUSTOMER_COLUMNS, first)
    )
    if later:
        path = landing / f"{PREFIX}crm_{update}_customers.csv"
        files.append(_write_csv(path, CUSTOMER_COLUMNS, later))
    m_first, m_later = meter_rows(plan)
    files.append(_write_csv(landing / f"{PREFIX}crm_{stamp}_meters.csv", METER_COLUMNS, m_first))
    if m_later:
        files.append(
            _write_csv(landing / f"{PREFIX}crm_{update}_meters.csv", METER_COLUMNS, m_later)
        )
    n_records += len(first) + len(later) + len(m_first) + len(m_later)
    vouchers_ = voucher_records(plan)
    path = landing / f"{PREFIX}pay_campaign_vouchers_{plan.start.year}.json"
    path.write_text(json.dumps(vouchers_, indent=1) + "\n", encoding="utf-8")
    files.append(path)
    purchases = purchase_rows(plan, utility.purchases)
    for month, rows in sorted(_by_month(purchases, "paid_at").items()):
        files.append(
            _write_csv(landing / f"{PREFIX}pay_purchases_{month}.csv", PURCHASE_COLUMNS, rows)
        )
    events = event_rows(plan)
    for month, rows in sorted(_by_month(events, "occurred_at").items()):
        files.append(_write_csv(landing / f"{PREFIX}hes_events_{month}.csv", EVENT_COLUMNS, rows))
    tasks = maintenance_rows(plan)
    path = landing / f"{PREFIX}maintenance_{plan.start.year}.xlsx"
    path.write_bytes(_maintenance_workbook(tasks, plan.start))
    files.append(path)
    n_records += len(vouchers_) + len(purchases) + len(events) + len(tasks)
    truth = ground_truth(plan, utility, writer.observed)
    truth["readings_written"] = writer.n_readings
    truth_file = None
    if truth_dir is not None:
        truth_file = truth_dir / TRUTH_FILE
        truth_file.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return MeteringOutput(
        sorted(files), writer.n_readings, n_records, plan.n_meters, truth_file, truth
    )
