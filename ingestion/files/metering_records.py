"""Prepaid metering record files (``metering.layouts``): customers, meters, vouchers, purchases,
meter events and maintenance tasks through the typed record importer
(:mod:`ingestion.files.records`), and readings through the vectorised importer
(:mod:`ingestion.files.metering_readings`).

Each row is typed by its kind's columns (:data:`siteledger.site.metering.METERING_COLUMNS`) like
a materials record (formula cell, required value missing, not a number / date / timestamp /
choice, timestamp outside the site's plausible range), then checked here; the first failure
quarantines the row with one reason and the good rows of the file land.

Customers and meters are bulk-managed: a row's ``action`` is ``create``, ``update``,
``deactivate`` or ``upsert`` (the default: update when the id exists, else create), resolved
against the committed state and the earlier rows of the same file. A create of an existing id,
an update or deactivate of an unknown one, and a second ``upsert`` row of one id in a file are
refused. An empty cell of an update keeps the value before; each lake row holds the whole state
after its action. A row that changes nothing (the same file again, or an export re-imported) is
skipped, so an export imports as a no-op. An update of a deactivated customer or meter
reactivates it.

Purchases are checked against the vouchers and the committed purchases: the voucher must be
known and valid when paid, the purchase at least its minimum, the discount exactly what the
voucher gives (to the cent; a percentage capped by ``max_discount``), the uses within its total
and per-customer limits counting committed purchases and the earlier rows of the file;
``final_amount`` is ``amount - discount`` to the cent; money is in the site currency.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ingestion.files.numbers import shorten
from ingestion.files.records import (
    RecordContext,
    RecordDomain,
    _hint,
    _known,
    _positive,
    _Reject,
    _Skip,
    _Stamp,
)
from ingestion.metering_lake import CONTENT_COLUMNS, committed_records, write_records
from siteledger.site.metering import METERING_COLUMNS, METERING_KEYS

CENT = 0.005  # money agrees "to the cent"
MAX_MONEY = 1e12
MAX_HOUSEHOLD = 1000
MAX_Q3_M3_PER_H = 1000.0
MAX_INTERVAL_MINUTES = 1440
_TOKEN = re.compile(r"^\d{20}$")
_TOKEN_SEPARATORS = re.compile(r"[\s-]")

CUSTOMER_FIELDS = (
    "name",
    "segment",
    "household_size",
    "district_id",
    "low_balance_threshold",
    "address",
)
METER_FIELDS = (
    "customer_id",
    "meter_type",
    "q3_m3_per_h",
    "install_date",
    "location",
    "latitude",
    "longitude",
    "communication",
    "reading_interval_minutes",
)
ENTITY_FIELDS = {"customers": CUSTOMER_FIELDS, "meters": METER_FIELDS}
_NOUN = {
    "customers": "customer",
    "meters": "meter",
    "vouchers": "voucher",
    "purchases": "purchase",
    "readings": "reading",
    "meter_events": "meter event",
    "maintenance": "maintenance task",
}
_MAIN_TIME = {
    "customers": "effective_at",
    "meters": "effective_at",
    "vouchers": "valid_from",
    "purchases": "paid_at",
    "readings": "read_at",
    "meter_events": "occurred_at",
    "maintenance": "done_at",
}


@dataclass
class _Entity:
    """The state of a customer or meter: its fields, whether it is active, where it was set."""

    values: dict[str, Any]
    active: bool
    where: str
    line: int | None = None  # the line of this file that last set it
    since: dt.datetime | None = None  # when its latest action took effect (UTC)


@dataclass
class _FileState:
    """What the rows of one file are checked against: the committed state (read once, when
    first needed) and what the earlier rows of the file did."""

    ctx: RecordContext
    _tables: dict[str, pa.Table] = field(default_factory=dict)
    _entities: dict[str, dict[str, _Entity]] = field(default_factory=dict)
    _vouchers: dict[str, dict[str, Any]] | None = None
    _uses: Counter[str] | None = None
    _customer_uses: Counter[tuple[str, str]] | None = None
    _purchase_ids: set[str] | None = None
    # purchases of this file: id -> (voucher, customer) counted in the uses
    file_purchases: dict[str, tuple[str, str]] = field(default_factory=dict)

    def committed(self, kind: str) -> pa.Table:
        if kind not in self._tables:
            self._tables[kind] = self.ctx.committed(kind)
        return self._tables[kind]

    def entities(self, kind: str) -> dict[str, _Entity]:
        """Customers or meters by id, as the committed batches leave them."""
        if kind not in self._entities:
            key = METERING_KEYS[kind]
            table = self.committed(kind)
            if table.num_rows:
                table = table.sort_by(
                    [
                        ("effective_at", "ascending"),
                        ("loaded_at", "ascending"),
                        ("source_row", "ascending"),
                    ]
                )
            found: dict[str, _Entity] = {}
            for row in table.to_pylist():
                found[row[key]] = _Entity(
                    {name: row[name] for name in ENTITY_FIELDS[kind]},
                    row["action"] != "deactivate",
                    f"batch {row['import_batch_id']}",
                    since=row["effective_at"],
                )
            self._entities[kind] = found
        return self._entities[kind]

    def vouchers(self) -> dict[str, dict[str, Any]]:
        if self._vouchers is None:
            self._vouchers = {r["voucher_code"]: r for r in self.committed("vouchers").to_pylist()}
        return self._vouchers

    def _read_uses(self) -> None:
        table = self.committed("purchases")
        self._purchase_ids = set(table.column("purchase_id").to_pylist())
        self._uses, self._customer_uses = Counter(), Counter()
        for code, customer in zip(
            table.column("voucher_code").to_pylist(),
            table.column("customer_id").to_pylist(),
            strict=True,
        ):
            if code is not None:
                self._uses[code] += 1
                self._customer_uses[(code, customer)] += 1

    def uses(self) -> tuple[Counter[str], Counter[tuple[str, str]], set[str]]:
        """Committed (and this file's) uses of each voucher, in all and per customer, and the
        committed purchase ids."""
        if self._uses is None:
            self._read_uses()
        assert self._uses is not None and self._customer_uses is not None
        assert self._purchase_ids is not None
        return self._uses, self._customer_uses, self._purchase_ids


def _file_state(ctx: RecordContext) -> _FileState:
    return _FileState(ctx)


def _stamp_now(ctx: RecordContext) -> _Stamp:
    return _Stamp(ctx.now, ctx.now.date())


def _cents(value: float) -> str:
    return f"{value:,.2f}"


def _range(values: dict[str, Any], name: str, low: float, high: float) -> None:
    number = values.get(name)
    if number is not None and not low <= number <= high:
        raise _Reject(f"{name} {number:g} is not within {low:g} to {high:g}", name)


def _money(values: dict[str, Any], name: str, allow_zero: bool = True) -> None:
    _positive(values, name, allow_zero)
    number = values.get(name)
    if number is not None and number > MAX_MONEY:
        raise _Reject(f"{name} {number:g} is implausibly large (above {MAX_MONEY:g})", name)


# -- customers and meters ------------------------------------------------------------------------


def _entity(kind: str, values: dict[str, Any], ctx: RecordContext, state: _FileState) -> None:
    """Resolve a customer's or meter's action against the state, merge an update's empty cells
    with the state before, and record the result for the later rows of the file."""
    key_name = METERING_KEYS[kind]
    noun = _NOUN[kind]
    key = values[key_name]
    line = values["_line"]
    entities = state.entities(kind)
    current = entities.get(key)
    action = values.get("action") or "upsert"
    if action == "upsert":
        if current is not None and current.line is not None:
            raise _Reject(
                f"duplicate {key_name} {key!r}: already on line {current.line} of this file "
                "(give an explicit action to change it again)",
                key_name,
            )
        action = "update" if current is not None else "create"
    names = ENTITY_FIELDS[kind]
    if action == "create":
        if current is not None:
            where = f"line {current.line} of this file" if current.line else current.where
            raise _Reject(
                f"create of {noun} {key!r}, which already exists ({where}); update or "
                "deactivate it instead",
                "action",
            )
        merged = {name: values.get(name) for name in names}
    else:
        if current is None:
            raise _Reject(
                f"{action} of unknown {noun} {key!r}{_hint(key, list(entities))}: create it first",
                key_name,
            )
        merged = {
            name: values[name] if values.get(name) is not None else current.values[name]
            for name in names
        }
    active = action != "deactivate"
    if current is not None and merged == current.values and active == current.active:
        if current.line is None:
            raise _Skip  # committed as it is: a re-delivery or a re-imported export
        raise _Reject(
            f"{action} of {noun} {key!r} changes nothing since line {current.line}", key_name
        )
    if current is not None and not current.active and action == "deactivate":
        raise _Reject(f"{noun} {key!r} is already deactivated ({current.where})", "action")
    if kind == "customers":
        _customer(values, merged, ctx, creating=action == "create")
    else:
        _meter(values, merged, ctx, state, creating=action == "create")
    _effective(values, ctx)
    values.update(merged)
    values["action"] = action
    entities[key] = _Entity(
        merged, active, f"line {line} of this file", line, _effective(values, ctx).utc
    )


def _effective(values: dict[str, Any], ctx: RecordContext) -> _Stamp:
    """The row's ``effective_at``, the import time when the file gives none."""
    if values.get("effective_at") is None:
        values["effective_at"] = _stamp_now(ctx)
    stamp: _Stamp = values["effective_at"]
    return stamp


def _customer(
    values: dict[str, Any], merged: dict[str, Any], ctx: RecordContext, creating: bool
) -> None:
    metering = ctx.metering
    if creating and merged["segment"] is None:
        raise _Reject("segment is empty (a new customer needs its tariff group)", "segment")
    tariffs = [t.id for t in metering.tariffs]
    if values.get("segment") is not None:
        _known("tariff", "segment", values["segment"], tariffs)
    if values.get("district_id") is not None:
        _known("district", "district_id", values["district_id"], [d.id for d in metering.districts])
    _positive(values, "household_size")
    _range(values, "household_size", 1, MAX_HOUSEHOLD)
    _money(values, "low_balance_threshold")


def _meter(
    values: dict[str, Any],
    merged: dict[str, Any],
    ctx: RecordContext,
    state: _FileState,
    creating: bool,
) -> None:
    if creating:
        for name in ("customer_id", "communication"):
            if merged[name] is None:
                raise _Reject(f"{name} is empty (a new meter needs it)", name)
        if merged["reading_interval_minutes"] is None:
            merged["reading_interval_minutes"] = 60
    customer_id = values.get("customer_id")
    if customer_id is not None:
        customers = state.entities("customers")
        customer = customers.get(customer_id)
        if customer is None:
            raise _Reject(
                f"unknown customer {shorten(customer_id)!r}{_hint(customer_id, list(customers))}",
                "customer_id",
            )
        # a customer who left still had the meters they had before they left: a meter
        # (or a change of it) is refused only from the customer's deactivation on
        if not customer.active and (
            customer.since is None or _effective(values, ctx).utc >= customer.since
        ):
            raise _Reject(
                f"customer {customer_id!r} is deactivated ({customer.where})", "customer_id"
            )
    _positive(values, "q3_m3_per_h")
    _range(values, "q3_m3_per_h", 0, MAX_Q3_M3_PER_H)
    _range(values, "latitude", -90, 90)
    _range(values, "longitude", -180, 180)
    _range(values, "reading_interval_minutes", 1, MAX_INTERVAL_MINUTES)
    installed = values.get("install_date")
    if installed is not None and not dt.date(1950, 1, 1) <= installed <= ctx.now.date():
        raise _Reject(
            f"install_date {installed} is not between 1950-01-01 and today", "install_date"
        )


# -- vouchers and purchases ----------------------------------------------------------------------


def _voucher(values: dict[str, Any], ctx: RecordContext, state: _FileState) -> None:
    value = values["value"]
    if values["discount_type"] == "percentage":
        if not 0 < value <= 100:
            raise _Reject(f"a percentage voucher's value {value:g} is not above 0 and <= 100")
    else:
        _money(values, "value", allow_zero=False)
    _money(values, "max_discount")
    _money(values, "min_purchase")
    _positive(values, "total_limit")
    _positive(values, "per_customer_limit")
    total, each = values.get("total_limit"), values.get("per_customer_limit")
    if total is not None and each is not None and each > total:
        raise _Reject(
            f"per_customer_limit {each} is above total_limit {total}", "per_customer_limit"
        )
    start, end = values["valid_from"], values["valid_until"]
    if end.utc <= start.utc:
        raise _Reject(
            f"valid_until {values['_valid_until_text']} is not after valid_from "
            f"{values['_valid_from_text']}",
            "valid_until",
        )


def _voucher_discount(voucher: dict[str, Any], amount: float) -> float:
    """What a voucher takes off an amount (before rounding)."""
    if voucher["discount_type"] == "percentage":
        discount = amount * voucher["value"] / 100.0
    else:
        discount = min(voucher["value"], amount)
    if voucher["max_discount"] is not None:
        discount = min(discount, voucher["max_discount"])
    return discount


def _purchase(values: dict[str, Any], ctx: RecordContext, state: _FileState) -> None:
    metering = ctx.metering
    currency = values.get("currency")
    if currency is not None and currency != metering.currency:
        raise _Reject(
            f"currency {currency} is not the site currency {metering.currency} (money in "
            "metering files is in the site currency only)",
            "currency",
        )
    customer_id = values["customer_id"]
    customers = state.entities("customers")
    if customer_id not in customers:
        raise _Reject(
            f"unknown customer {shorten(customer_id)!r}{_hint(customer_id, list(customers))}",
            "customer_id",
        )
    meter_id = values.get("meter_id")
    if meter_id is not None:
        meters = state.entities("meters")
        meter = meters.get(meter_id)
        if meter is None:
            raise _Reject(
                f"unknown meter {shorten(meter_id)!r}{_hint(meter_id, list(meters))}", "meter_id"
            )
        if meter.values["customer_id"] != customer_id:
            raise _Reject(
                f"meter {meter_id!r} belongs to customer {meter.values['customer_id']!r}, not "
                f"{customer_id!r}",
                "meter_id",
            )
    _money(values, "amount", allow_zero=False)
    _money(values, "final_amount")
    amount, final = values["amount"], values["final_amount"]
    if values.get("discount") is None:
        values["discount"] = round(amount - final, 2) if values.get("voucher_code") else 0.0
    _money(values, "discount")
    discount = values["discount"]
    if abs(final - (amount - discount)) > CENT:
        raise _Reject(
            f"final_amount {_cents(final)} is not amount {_cents(amount)} - discount "
            f"{_cents(discount)} = {_cents(amount - discount)}",
            "final_amount",
        )
    token = values.get("token_id")
    if token is not None:
        digits = _TOKEN_SEPARATORS.sub("", token)
        if not _TOKEN.match(digits):
            raise _Reject(
                f"token_id {shorten(token)!r} is not 20 digits (a token read as a number loses "
                "its digits: keep the column as text)",
                "token_id",
            )
        values["token_id"] = digits
    code = values.get("voucher_code")
    if code is None:
        if discount > CENT:
            raise _Reject(f"discount {_cents(discount)} without a voucher_code", "discount")
        return
    _check_voucher(values, state, code)


def _check_voucher(values: dict[str, Any], state: _FileState, code: str) -> None:
    vouchers = state.vouchers()
    voucher = vouchers.get(code)
    if voucher is None:
        raise _Reject(
            f"unknown voucher {shorten(code)!r}{_hint(code, list(vouchers))}", "voucher_code"
        )
    paid: _Stamp = values["paid_at"]
    paid_text = values["_paid_at_text"]
    if paid.utc < voucher["valid_from"]:
        raise _Reject(
            f"voucher {code!r} is valid from {voucher['valid_from']:%Y-%m-%d %H:%M} UTC; paid "
            f"{paid_text}",
            "voucher_code",
        )
    if paid.utc > voucher["valid_until"]:
        raise _Reject(
            f"voucher {code!r} expired {voucher['valid_until']:%Y-%m-%d %H:%M} UTC; paid "
            f"{paid_text}",
            "voucher_code",
        )
    amount, discount = values["amount"], values["discount"]
    minimum = voucher["min_purchase"]
    if minimum is not None and amount < minimum:
        raise _Reject(
            f"amount {_cents(amount)} is below voucher {code!r}'s min_purchase {_cents(minimum)}",
            "amount",
        )
    most = voucher["max_discount"]
    if most is not None and discount > most + CENT:
        raise _Reject(
            f"discount {_cents(discount)} is above voucher {code!r}'s max_discount {_cents(most)}",
            "discount",
        )
    expected = _voucher_discount(voucher, amount)
    if abs(discount - expected) > CENT:
        raise _Reject(
            f"discount {_cents(discount)} is not what voucher {code!r} gives on "
            f"{_cents(amount)}: {_cents(expected)}",
            "discount",
        )
    uses, customer_uses, committed_ids = state.uses()
    purchase_id, customer = values["purchase_id"], values["customer_id"]
    if purchase_id in committed_ids:
        return  # delivered before: skipped when identical, quarantined when not
    earlier = state.file_purchases.pop(purchase_id, None)
    if earlier is not None:  # the earlier row of this id loses to this one
        uses[earlier[0]] -= 1
        customer_uses[earlier] -= 1
    total, each = voucher["total_limit"], voucher["per_customer_limit"]
    if total is not None and uses[code] >= total:
        raise _Reject(
            f"voucher {code!r} is used up: total_limit {total} reached (committed purchases "
            "and earlier rows of this file)",
            "voucher_code",
        )
    if each is not None and customer_uses[(code, customer)] >= each:
        raise _Reject(
            f"voucher {code!r} already used {customer_uses[(code, customer)]} time(s) by "
            f"customer {customer!r}: per_customer_limit {each}",
            "voucher_code",
        )
    uses[code] += 1
    customer_uses[(code, customer)] += 1
    state.file_purchases[purchase_id] = (code, customer)


# -- events and maintenance ----------------------------------------------------------------------


def _known_meter(values: dict[str, Any], state: _FileState) -> None:
    meters = state.entities("meters")
    meter_id = values["meter_id"]
    if meter_id not in meters:
        raise _Reject(
            f"unknown meter {shorten(meter_id)!r}{_hint(meter_id, list(meters))}", "meter_id"
        )


def _meter_event(values: dict[str, Any], ctx: RecordContext, state: _FileState) -> None:
    _known_meter(values, state)
    cleared = values.get("cleared_at")
    if cleared is not None and cleared.utc < values["occurred_at"].utc:
        raise _Reject(
            f"cleared_at {values['_cleared_at_text']} is before occurred_at "
            f"{values['_occurred_at_text']}",
            "cleared_at",
        )


def _maintenance(values: dict[str, Any], ctx: RecordContext, state: _FileState) -> None:
    _known_meter(values, state)
    if values.get("status") is None:
        values["status"] = "scheduled"
    due: dt.date = values["due_date"]
    today = ctx.now.date()
    if not dt.date(1990, 1, 1) <= due <= today.replace(year=today.year + 20):
        raise _Reject(f"due_date {due} is not between 1990 and 20 years from now", "due_date")
    if values["status"] == "done" and values.get("done_at") is None:
        raise _Reject("a done task needs done_at", "done_at")


def _validate(kind: str, values: dict[str, Any], ctx: RecordContext, state: Any) -> None:
    if kind in ENTITY_FIELDS:
        _entity(kind, values, ctx, state)
    elif kind == "vouchers":
        _voucher(values, ctx, state)
    elif kind == "purchases":
        _purchase(values, ctx, state)
    elif kind == "meter_events":
        _meter_event(values, ctx, state)
    elif kind == "maintenance":
        _maintenance(values, ctx, state)
    else:  # pragma: no cover - readings have a parser of their own
        raise AssertionError(kind)


def _parse_readings(data: bytes, ctx: RecordContext) -> Any:
    from ingestion.files.metering_readings import parse_metering_readings

    return parse_metering_readings(data, ctx)


METERING = RecordDomain(
    name="metering",
    columns=METERING_COLUMNS,
    keys=METERING_KEYS,
    main_time=_MAIN_TIME,
    nouns=_NOUN,
    content_columns=CONTENT_COLUMNS,
    validate=_validate,
    committed=committed_records,
    write=write_records,
    file_state=_file_state,
    modes={"customers": "entity", "meters": "entity", "maintenance": "upsert"},
    parsers={"readings": _parse_readings},
    # a voucher may run until years ahead
    future_tolerance={"vouchers": dt.timedelta(days=366 * 10)},
    row_level_encoding=True,
)
