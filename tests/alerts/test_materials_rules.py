"""The shipped materials rules (alerts/rules/materials.yaml) judged by the real engine on a
published warehouse built here with the materials marts' columns, one observation time
published and evaluated at a time as the nightly run does: each rule fires when its limit is
passed (not on it), reads each scope's own limit from the mart (the site's materials settings)
or the settings' default when the column is null, and resolves when the data clears."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from alerts.engine import Engine
from alerts.rules import load_rules
from alerts.state import AlertStore
from siteledger.settings import Settings
from siteledger.state import StateStore

DAY0 = dt.date(2026, 3, 1)
TEXT, DATE, NUM, INT, TS = "varchar", "date", "double", "bigint", "timestamp with time zone"
BOOL = "boolean"

# the columns of the materials marts the rules read, with the others a row may carry
# (docs/materials.md); the threshold columns carry the site's materials settings
MATERIALS_MARTS: dict[str, dict[str, str]] = {
    "fct_material_inventory_metrics": {
        "site_id": TEXT,
        "material_id": TEXT,
        "as_of_day": DATE,
        "on_hand_qty": NUM,
        "mean_daily_demand": NUM,
        "safety_stock": NUM,
        "reorder_point": NUM,
        "eoq": NUM,
        "below_reorder_point": BOOL,
    },
    "fct_material_lot_balances": {
        "site_id": TEXT,
        "lot_id": TEXT,
        "material_id": TEXT,
        "as_of_day": DATE,
        "expiry_date": DATE,
        "remaining_qty": NUM,
        "remaining_value": NUM,
        "days_to_expiry": INT,
        "expiry_alert_days": INT,
    },
    "fct_product_margins_monthly": {
        "site_id": TEXT,
        "product_id": TEXT,
        "month": DATE,
        "qty_sold": NUM,
        "revenue": NUM,
        "cogs": NUM,
        "margin": NUM,
        "margin_pct": NUM,
        "margin_pct_previous": NUM,
        "margin_change_pct_points": NUM,
        "margin_floor_pct": NUM,
        "margin_fall_pct_points": NUM,
    },
    "fct_job_margins_monthly": {
        "site_id": TEXT,
        "month": DATE,
        "job_type_id": TEXT,
        "customer_id": TEXT,
        "jobs": INT,
        "revenue": NUM,
        "total_cost": NUM,
        "margin": NUM,
        "margin_pct": NUM,
        "margin_pct_previous": NUM,
        "margin_change_pct_points": NUM,
        "margin_floor_pct": NUM,
        "margin_fall_pct_points": NUM,
    },
    "fct_batches": {
        "site_id": TEXT,
        "batch_id": TEXT,
        "product_id": TEXT,
        "finished_at": TS,
        "yield_pct": NUM,
        "yield_alert_pct": NUM,
        "planned_cost": NUM,
        "actual_cost": NUM,
        "cost_variance": NUM,
    },
    "fct_qc_lots": {
        "site_id": TEXT,
        "lot_id": TEXT,
        "product_id": TEXT,
        "tested_until": TS,
        "tests_required": INT,
        "tests_done": INT,
        "tests_failed": INT,
        "status": TEXT,
    },
    "fct_material_prices": {
        "site_id": TEXT,
        "material_id": TEXT,
        "receipt_id": TEXT,
        "supplier_id": TEXT,
        "received_at": TS,
        "unit_cost": NUM,
        "previous_unit_cost": NUM,
        "price_change_pct": NUM,
        "purchase_price_variance": NUM,
        "price_rise_alert_pct": NUM,
    },
}
TIME = {
    "fct_material_inventory_metrics": "as_of_day",
    "fct_material_lot_balances": "as_of_day",
    "fct_product_margins_monthly": "month",
    "fct_job_margins_monthly": "month",
    "fct_batches": "finished_at",
    "fct_qc_lots": "tested_until",
    "fct_material_prices": "received_at",
}


def write_mart(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    schema = MATERIALS_MARTS[table]
    unknown = {k for row in rows for k in row} - set(schema)
    assert not unknown, f"{table} has no {sorted(unknown)}"
    frame = pd.DataFrame([{c: row.get(c) for c in schema} for row in rows], columns=list(schema))
    con.register("incoming", frame)
    casts = ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in schema.items())
    con.execute(f"create or replace table {table} as select {casts} from incoming")
    con.unregister("incoming")


class World:
    """A deployment with the shipped packs, a published warehouse and a state store."""

    def __init__(self, home: Path) -> None:
        self.settings = Settings(home=home)
        self.settings.ensure_dirs()
        self.store = StateStore(self.settings.state_store_url)
        self.engine = Engine(
            self.settings, self.store, load_rules(None, []), env={}, sleep=lambda s: None
        )
        self.alerts = AlertStore(self.store)

    def publish(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        self.settings.published_db.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self.settings.published_db)) as con:
            con.execute(
                "create or replace table dim_sites as select * from (values ('s1'), ('s2')) "
                "as t(site_id)"
            )
            write_mart(con, table, rows)

    def run(self, table: str, rule_id: str, rows: Sequence[dict[str, Any]]) -> list[set[str]]:
        """Publish the rows one observation time more at a time and evaluate after each, as
        the nightly run does; the scopes of ``rule_id`` firing after each (labels joined
        with '/')."""
        time = TIME[table]
        firing: list[set[str]] = []
        for at in sorted({r[time] for r in rows}):
            self.publish(table, [r for r in rows if r[time] <= at])
            day = at.date() if isinstance(at, dt.datetime) else at
            now = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(6), tzinfo=dt.UTC)
            result = self.engine.evaluate(now, only_sources=[table], send=False)
            assert result.errors == {}, result.errors
            firing.append(
                {
                    "/".join(e.labels.values())
                    for e in self.alerts.events(state="firing", rule_id=rule_id)
                }
            )
        return firing

    def event(self, rule_id: str, **labels: str) -> Any:
        (event,) = [
            e
            for e in self.alerts.events(rule_id=rule_id)
            if all(e.labels.get(k) == v for k, v in labels.items())
        ]
        return event


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    w = World(tmp_path / "home")
    yield w
    w.store.dispose()


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


def month(n: int) -> dt.date:
    index = DAY0.year * 12 + DAY0.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def at(n: int, hour: int = 14) -> dt.datetime:
    return dt.datetime.combine(day(n), dt.time(hour), tzinfo=dt.UTC)


def test_the_materials_pack_is_loaded_under_its_own_category():
    rules = {r.id: r for r in load_rules(None, []).all_rules if r.category == "materials"}
    assert set(rules) == {
        "material_below_reorder_point",
        "material_lot_expiring",
        "product_margin_below_floor",
        "product_margin_falling",
        "job_margin_below_floor",
        "job_margin_falling",
        "batch_yield_below_plan",
        "qc_lot_failed",
        "supplier_price_rise",
    }
    for rule in rules.values():
        assert set(rule.columns) <= set(MATERIALS_MARTS[rule.source]), rule.id
        assert rule.time == TIME[rule.source], rule.id


def test_stock_below_each_materials_own_reorder_point(world: World) -> None:
    rows = [
        # reorder point 50 kg: 50 is at it (not below), 49.9 below; a delivery clears it
        *[
            {
                "site_id": "s1",
                "material_id": "olive_oil",
                "as_of_day": day(i),
                "on_hand_qty": q,
                "reorder_point": 50.0,
                "eoq": 180.0,
            }
            for i, q in enumerate((120.0, 50.0, 49.9, 31.5, 210.0))
        ],
        # a material with a reorder point of 8: 31.5 kg is plenty
        *[
            {
                "site_id": "s1",
                "material_id": "lye",
                "as_of_day": day(i),
                "on_hand_qty": q,
                "reorder_point": 8.0,
            }
            for i, q in enumerate((40.0, 31.5, 20.0, 9.0, 7.5))
        ],
        # no demand yet, no reorder point: not judged whatever the stock
        *[
            {"site_id": "s2", "material_id": "mica", "as_of_day": day(i), "on_hand_qty": 0.0}
            for i in range(5)
        ],
    ]
    firing = world.run("fct_material_inventory_metrics", "material_below_reorder_point", rows)
    assert firing == [
        set(),
        set(),
        {"s1/olive_oil"},
        {"s1/olive_oil"},
        {"s1/lye"},
    ]
    event = world.event("material_below_reorder_point", material_id="olive_oil")
    assert (event.first_observed_at, event.last_observed_at) == (str(day(2)), str(day(4)))
    assert event.state == "resolved" and event.threshold == "50 (reorder_point)"
    assert event.summary == (
        f"olive_oil at s1 is below its reorder point: 31.5 on hand on {day(3)} "
        "(reorder point 50 (reorder_point))"
    )
    assert event.details["eoq"] == 180.0
    labels = [e.labels for e in world.alerts.events(rule_id="material_below_reorder_point")]
    assert sorted(x["material_id"] for x in labels) == ["lye", "olive_oil"]


def test_a_lot_fires_within_the_sites_warning_days_and_clears_when_used_up(
    world: World,
) -> None:
    def lot(site: str, lot_id: str, warn: int, expiry: dt.date, left: Sequence[float]) -> list:
        return [
            {
                "site_id": site,
                "lot_id": lot_id,
                "material_id": "shea",
                "as_of_day": day(i),
                "expiry_date": expiry,
                "days_to_expiry": (expiry - day(i)).days,
                "expiry_alert_days": warn,
                "remaining_qty": q,
                "remaining_value": q * 4.0,
            }
            for i, q in enumerate(left)
        ]

    rows = [
        # expires on day 32: 31 days to go on day 1, 30 (the limit, within) on day 2; used up
        # on day 4
        *lot("s1", "L1", 30, day(32), (10.0, 10.0, 10.0, 2.5, 0.0)),
        # a site warning 7 days ahead: its lot expiring on day 9 fires on day 2; it expires on
        # day 9 and stays firing, expired, while stock is left
        *lot("s2", "L7", 7, day(9), (5.0, 5.0, 5.0, 5.0, 5.0)),
        # a lot used up long before it expires never fires
        *lot("s1", "L2", 30, day(10), (0.0, 0.0, 0.0, 0.0, 0.0)),
    ]
    firing = world.run("fct_material_lot_balances", "material_lot_expiring", rows)
    assert firing == [set(), set(), {"s1/L1", "s2/L7"}, {"s1/L1", "s2/L7"}, {"s2/L7"}]
    event = world.event("material_lot_expiring", lot_id="L1")
    assert event.state == "resolved"
    assert (event.first_observed_at, event.last_observed_at) == (str(day(2)), str(day(4)))
    assert event.summary == (
        f"Lot L1 at s1 expires in 29 days ({day(32)}) with 2.5 left on {day(3)}"
    )
    assert event.details["material_id"] == "shea"

    # past its expiry the summary says how long ago
    expired = lot("s2", "L7", 7, day(9), (5.0,) * 12)
    world.run("fct_material_lot_balances", "material_lot_expiring", expired)
    event = world.event("material_lot_expiring", lot_id="L7")
    assert event.state == "firing"
    assert event.summary == f"Lot L7 at s2 expired 2 days ago ({day(9)}) with 5.0 left on {day(11)}"


def test_product_margin_below_each_sites_floor(world: World) -> None:
    rows = [
        # floor 20 %: 20.0 is on it; 19.5 below; a month without sales is not judged
        *[
            {
                "site_id": "s1",
                "product_id": "lav_soap",
                "month": month(i),
                "margin_pct": m,
                "revenue": r,
                "cogs": None if m is None else r * (1 - m / 100),
                "margin_floor_pct": 20.0,
            }
            for i, (m, r) in enumerate(
                ((32.0, 900.0), (20.0, 800.0), (19.5, 1000.0), (None, 0.0), (26.0, 700.0))
            )
        ],
        # a site whose floor is 35 %
        *[
            {
                "site_id": "s2",
                "product_id": "lav_soap",
                "month": month(i),
                "margin_pct": m,
                "revenue": 500.0,
                "margin_floor_pct": 35.0,
            }
            for i, m in enumerate((40.0, 36.0, 34.9, 34.0, 50.0))
        ],
    ]
    firing = world.run("fct_product_margins_monthly", "product_margin_below_floor", rows)
    assert firing == [
        set(),
        set(),
        {"s1/lav_soap", "s2/lav_soap"},
        # s1 sold nothing in month 3: not an observation, its alert stays as it was
        {"s1/lav_soap", "s2/lav_soap"},
        set(),
    ]
    event = world.event("product_margin_below_floor", site_id="s1")
    assert event.threshold == "20 (margin_floor_pct)" and event.state == "resolved"
    assert (
        event.summary
        == "Margin on lav_soap at s1 was 19.5 % in 2026-05 (floor 20 (margin_floor_pct) %)"
    )
    # an event carries its last observation's details: month 4, 700 sold at 26 %
    assert event.details["cogs"] == pytest.approx(518.0)


def test_product_margin_falling_more_than_the_sites_points(world: World) -> None:
    changes = (None, -4.9, -5.0, -5.1, 2.0)
    rows = [
        {
            "site_id": "s1",
            "product_id": "base_soap",
            "month": month(i),
            "margin_pct": 30.0 + i,
            "margin_change_pct_points": c,
            "margin_fall_pct_points": 5.0,
            "revenue": 100.0,
        }
        for i, c in enumerate(changes)
    ] + [
        # no setting in the row: the default, 5 points
        {
            "site_id": "s2",
            "product_id": "base_soap",
            "month": month(i),
            "margin_change_pct_points": c,
            "margin_pct": 10.0,
        }
        for i, c in enumerate((None, 0.0, -6.0, -1.0, -1.0))
    ]
    firing = world.run("fct_product_margins_monthly", "product_margin_falling", rows)
    assert firing == [set(), set(), {"s2/base_soap"}, {"s1/base_soap"}, set()]
    event = world.event("product_margin_falling", site_id="s1")
    assert event.threshold == "-5 (-margin_fall_pct_points)"
    assert event.summary == (
        "Margin on base_soap at s1 fell 5.1 points to 33.0 % in 2026-06 "
        "(change limit -5 (-margin_fall_pct_points))"
    )
    assert world.event("product_margin_falling", site_id="s2").threshold == (
        "-5 (-margin_fall_pct_points)"
    )


def test_job_margins_by_job_type_and_customer(world: World) -> None:
    def rows_of(customer: str, margins: Sequence[float], changes: Sequence[float | None]) -> list:
        return [
            {
                "site_id": "s1",
                "month": month(i),
                "job_type_id": "wheels",
                "customer_id": customer,
                "jobs": 4,
                "revenue": 1000.0,
                "total_cost": 1000.0 * (1 - m / 100),
                "margin_pct": m,
                "margin_change_pct_points": c,
                "margin_floor_pct": 20.0,
                "margin_fall_pct_points": 5.0,
            }
            for i, (m, c) in enumerate(zip(margins, changes, strict=True))
        ]

    rows = [
        *rows_of("c_fleet", (30.0, 22.0, 18.0, 25.0), (None, -8.0, -4.0, 7.0)),
        *rows_of("c_shop", (40.0, 41.0, 38.0, 30.0), (None, 1.0, -3.0, -8.0)),
    ]
    floor = world.run("fct_job_margins_monthly", "job_margin_below_floor", rows)
    assert floor == [set(), set(), {"s1/wheels/c_fleet"}, set()]
    fall = world.run("fct_job_margins_monthly", "job_margin_falling", rows)
    # the second run re-reads the same months for a rule that has not judged them yet
    assert fall[-1] == {"s1/wheels/c_shop"}
    event = world.event("job_margin_falling", customer_id="c_fleet")
    assert (event.first_observed_at, event.last_observed_at, event.state) == (
        str(month(1)),
        str(month(2)),
        "resolved",
    )
    event = world.event("job_margin_below_floor")
    assert event.summary == (
        "Margin on wheels jobs for c_fleet at s1 was 18.0 % in 2026-05 "
        "(floor 20 (margin_floor_pct) %)"
    )
    # the details of its last observation, the month it cleared at a 25 % margin
    assert event.details["total_cost"] == pytest.approx(750.0)


def test_batch_yield_below_the_sites_share_of_plan(world: World) -> None:
    rows = [
        {
            "site_id": "s1",
            "batch_id": b,
            "product_id": "lav_soap",
            "finished_at": at(i),
            "yield_pct": y,
            "yield_alert_pct": 95.0,
            "planned_cost": 100.0,
            "actual_cost": 104.0,
        }
        for i, (b, y) in enumerate((("B101", 98.0), ("B102", 95.0), ("B103", 94.9), ("B104", 99.0)))
    ] + [
        # another product at another site, the default 95 %
        {
            "site_id": "s2",
            "batch_id": "C1",
            "product_id": "base_soap",
            "finished_at": at(1, 9),
            "yield_pct": 90.0,
        },
    ]
    firing = world.run("fct_batches", "batch_yield_below_plan", rows)
    assert firing == [
        set(),
        {"s2/base_soap"},
        {"s2/base_soap"},
        {"s2/base_soap", "s1/lav_soap"},
        {"s2/base_soap"},
    ]
    event = world.event("batch_yield_below_plan", product_id="lav_soap")
    assert event.state == "resolved" and event.threshold == "95 (yield_alert_pct)"
    assert event.first_observed_at == at(2).isoformat(timespec="seconds")
    # the summary names the batch that fell short
    assert event.summary == (
        f"Batch B103 of lav_soap at s1 yielded 94.9 % of plan on {at(2).isoformat()} "
        "(limit 95 (yield_alert_pct) %)"
    )
    assert world.event("batch_yield_below_plan", product_id="base_soap").threshold == (
        "95 (yield_alert_pct)"
    )


def test_a_failed_qc_lot_fires_until_a_retest_passes(world: World) -> None:
    rows = [
        {
            "site_id": "s1",
            "lot_id": "101",
            "product_id": "base_soap",
            "tested_until": at(0),
            "tests_required": 3,
            "tests_done": 3,
            "tests_failed": 0,
            "status": "pass",
        },
        {
            "site_id": "s1",
            "lot_id": "102",
            "product_id": "base_soap",
            "tested_until": at(1),
            "tests_required": 3,
            "tests_done": 2,
            "tests_failed": 1,
            "status": "fail",
        },
        # the retest of the failed test passes: the lot's row moves on, no test failed
        {
            "site_id": "s1",
            "lot_id": "102",
            "product_id": "base_soap",
            "tested_until": at(3),
            "tests_required": 3,
            "tests_done": 3,
            "tests_failed": 0,
            "status": "pass",
        },
    ]
    # each publish holds the lot's latest row, as the mart does (one row per lot)
    firing = []
    for n in (0, 1, 3):
        latest = {r["lot_id"]: r for r in rows if r["tested_until"] <= at(n)}
        firing.append(world.run("fct_qc_lots", "qc_lot_failed", list(latest.values()))[-1])
    assert firing == [set(), {"s1/102"}, set()]
    event = world.event("qc_lot_failed", lot_id="102")
    assert event.severity == "critical" and event.state == "resolved"
    assert event.summary == f"Lot 102 at s1 failed 1 QC test(s) (base_soap) on {at(1).isoformat()}"


def test_supplier_price_rise_above_the_sites_limit(world: World) -> None:
    # (unit cost, previous, change % as the mart computes it, purchase price variance of 200 kg)
    receipts = (
        (4.0, None, None, None),
        (4.4, 4.0, 10.0, 80.0),
        (4.851, 4.4, 10.25, 90.2),
        (4.851, 4.851, 0.0, 0.0),
    )
    rows = [
        {
            "site_id": "s1",
            "material_id": "olive_oil",
            "supplier_id": "oilco",
            "receipt_id": f"R{i}",
            "received_at": at(i),
            "unit_cost": c,
            "previous_unit_cost": p,
            "price_change_pct": pct,
            "purchase_price_variance": ppv,
            "price_rise_alert_pct": 10.0,
        }
        for i, (c, p, pct, ppv) in enumerate(receipts)
    ] + [
        # the same material from another supplier at the same time is its own scope
        {
            "site_id": "s1",
            "material_id": "olive_oil",
            "supplier_id": "greenoil",
            "receipt_id": "G1",
            "received_at": at(2),
            "unit_cost": 5.0,
            "previous_unit_cost": 4.4,
            "price_change_pct": 13.64,
            "price_rise_alert_pct": 15.0,
        },
    ]
    firing = world.run("fct_material_prices", "supplier_price_rise", rows)
    # +10.0 % is the limit, +10.25 % above it; greenoil's +13.64 % is within its 15 %
    assert firing == [set(), set(), {"s1/olive_oil/oilco"}, set()]
    event = world.event("supplier_price_rise", supplier_id="oilco")
    assert event.state == "resolved" and event.threshold == "10 (price_rise_alert_pct)"
    assert event.summary == (
        f"oilco charged 10.2 % more for olive_oil at s1 on {at(2).isoformat()} than the receipt "
        "before (limit 10 (price_rise_alert_pct) %)"
    )
    # the details are the last observation's: the receipt at the same price
    assert event.details["purchase_price_variance"] == 0.0
    assert event.value == 0.0
