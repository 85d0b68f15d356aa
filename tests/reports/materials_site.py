"""A published warehouse with one materials site, 'soap', built by hand with the materials
marts' columns (docs/materials.md), and figures worked out by hand for its reports.

February and March 2026 are complete (daily stock rows 1 February to 2 April):

- olive_oil (kg): lot L1 100 kg at 4.00 received 1 Feb; 60 kg issued 20 Feb (240.00); lot L2
  100 kg at 5.00 received 5 Mar; 50 kg issued 10 Mar (40 of L1 at 4 + 10 of L2 at 5 = 210.00);
  5 kg of L2 wasted 20 Mar (25.00). At 31 March 85 kg of L2 are left (425.00).
- lye (kg): lot L3 10 kg at 2.00 received 1 Feb, expiring 15 April; never issued; a fixed
  reorder point of 12 kg.
- lav_soap: batches B1 (12 Mar, yield 98 %) and B2 (25 Mar, yield 93 %, below the site's 95);
  sales of the month 1 300.00 against a FIFO cost of 800.00.
- jobs: wheels for c_fleet (3 jobs) and c_shop (1), gates for c_fleet (2); powder_red 50 kg
  issued against 40 kg theoretical.
- QC: lot B1-OUT passes (its pH retested: 10.4 failed, 9.2 passed), lot B2-OUT fails pH at
  10.6, lot B3-OUT has one of its two tests done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from siteledger.settings import Settings

TEXT, DATE, NUM, INT, TS, BOOL = (
    "varchar",
    "date",
    "double",
    "bigint",
    "timestamp with time zone",
    "boolean",
)
MONEY = "decimal(18, 4)"  # the cost marts keep money exact to the cent

MARTS: dict[str, dict[str, str]] = {
    "fct_material_inventory_daily": {
        "site_id": TEXT,
        "material_id": TEXT,
        "day": DATE,
        "on_hand_qty": NUM,
        "on_hand_value": MONEY,
        "inflow_qty": NUM,
        "received_qty": NUM,
        "inflow_value": MONEY,
        "outflow_qty": NUM,
        "outflow_cost": MONEY,
        "issued_qty": NUM,
        "cogs": MONEY,
        "waste_qty": NUM,
        "waste_value": MONEY,
        "unallocated_qty": NUM,
    },
    "fct_material_inventory_metrics": {
        "site_id": TEXT,
        "material_id": TEXT,
        "as_of_day": DATE,
        "on_hand_qty": NUM,
        "lead_time_days": NUM,
        "lead_time_sd_days": NUM,
        "service_level_z": NUM,
        "is_reorder_point_fixed": BOOL,
        "reorder_point": NUM,
    },
    "fct_material_lot_balances": {
        "site_id": TEXT,
        "lot_id": TEXT,
        "material_id": TEXT,
        "layer_kind": TEXT,
        "supplier_id": TEXT,
        "received_at": TS,
        "received_day": DATE,
        "expiry_date": DATE,
        "received_qty": NUM,
        "remaining_qty": NUM,
        "unit_cost": MONEY,
        "remaining_value": MONEY,
        "as_of_day": DATE,
        "days_to_expiry": INT,
        "expiry_alert_days": INT,
    },
    "fct_material_prices": {
        "site_id": TEXT,
        "material_id": TEXT,
        "receipt_id": TEXT,
        "lot_id": TEXT,
        "supplier_id": TEXT,
        "received_at": TS,
        "received_day": DATE,
        "month": DATE,
        "qty": NUM,
        "unit_cost": MONEY,
        "cost": MONEY,
        "previous_unit_cost": MONEY,
        "price_change_pct": NUM,
        "purchase_price_variance": MONEY,
        "price_rise_alert_pct": NUM,
        "is_price_rise_alert": BOOL,
    },
    "fct_material_price_monthly": {
        "site_id": TEXT,
        "material_id": TEXT,
        "month": DATE,
        "receipts": INT,
        "avg_unit_cost": NUM,
        "min_unit_cost": NUM,
        "max_unit_cost": NUM,
        "previous_avg_unit_cost": NUM,
        "avg_unit_cost_change_pct": NUM,
    },
    "fct_recipe_costs": {
        "site_id": TEXT,
        "recipe_id": TEXT,
        "version": INT,
        "month": DATE,
        "product_id": TEXT,
        "is_version_in_force": BOOL,
        "yield_qty": NUM,
        "yield_unit": TEXT,
        "cost_at_month_price": MONEY,
        "cost_current": MONEY,
        "cost_per_unit": NUM,
        "cost_per_unit_current": NUM,
    },
    "fct_batch_costs": {
        "site_id": TEXT,
        "batch_id": TEXT,
        "material_id": TEXT,
        "is_in_recipe": BOOL,
        "planned_qty": NUM,
        "actual_qty": NUM,
        "standard_price": MONEY,
        "planned_cost": MONEY,
        "actual_cost": MONEY,
        "price_variance": MONEY,
        "usage_variance": MONEY,
        "cost_variance": MONEY,
    },
    "fct_batches": {
        "site_id": TEXT,
        "batch_id": TEXT,
        "product_id": TEXT,
        "recipe_id": TEXT,
        "recipe_version": INT,
        "output_lot_id": TEXT,
        "output_unit": TEXT,
        "started_at": TS,
        "finished_at": TS,
        "month": DATE,
        "planned_qty": NUM,
        "actual_qty": NUM,
        "yield_pct": NUM,
        "yield_alert_pct": NUM,
        "planned_cost": MONEY,
        "actual_cost": MONEY,
        "cost_variance": MONEY,
        "price_variance": MONEY,
        "usage_variance": MONEY,
        "revenue": MONEY,
        "margin": MONEY,
        "margin_pct": NUM,
    },
    "fct_product_margins_monthly": {
        "site_id": TEXT,
        "product_id": TEXT,
        "month": DATE,
        "qty_sold": NUM,
        "revenue": MONEY,
        "cogs": MONEY,
        "margin": MONEY,
        "margin_pct": NUM,
        "margin_pct_previous": NUM,
        "margin_change_pct_points": NUM,
        "margin_floor_pct": NUM,
        "margin_fall_pct_points": NUM,
    },
    "fct_supplier_performance": {
        "site_id": TEXT,
        "supplier_id": TEXT,
        "month": DATE,
        "orders": INT,
        "orders_on_time": INT,
        "orders_in_full": INT,
        "orders_otif": INT,
        "otif_pct": NUM,
        "receipts": INT,
        "received_value": MONEY,
        "purchase_price_variance": MONEY,
    },
    "fct_job_profitability_monthly": {
        "site_id": TEXT,
        "month": DATE,
        "job_type_id": TEXT,
        "customer_id": TEXT,
        "jobs": INT,
        "area_m2": NUM,
        "revenue": MONEY,
        "total_cost": MONEY,
        "margin": MONEY,
        "margin_pct": NUM,
    },
    "fct_powder_waste_monthly": {
        "site_id": TEXT,
        "month": DATE,
        "powder_material_id": TEXT,
        "jobs": INT,
        "powder_issued_kg": NUM,
        "theoretical_powder_kg": NUM,
        "powder_waste_kg": NUM,
        "powder_waste_pct": NUM,
        "powder_waste_cost": MONEY,
    },
    "fct_qc_results": {
        "site_id": TEXT,
        "result_id": TEXT,
        "lot_id": TEXT,
        "spec_id": TEXT,
        "spec_version": INT,
        "test_id": TEXT,
        "name": TEXT,
        "method": TEXT,
        "unit": TEXT,
        "min_value": NUM,
        "max_value": NUM,
        "expected_text": TEXT,
        "value": NUM,
        "result_text": TEXT,
        "tested_at": TS,
        "analyst": TEXT,
        "passed": BOOL,
        "is_latest": BOOL,
    },
    "fct_qc_lots": {
        "site_id": TEXT,
        "lot_id": TEXT,
        "lot_kind": TEXT,
        "batch_id": TEXT,
        "product_id": TEXT,
        "material_id": TEXT,
        "spec_id": TEXT,
        "spec_version": INT,
        "tests_required": INT,
        "tests_done": INT,
        "tests_failed": INT,
        "status": TEXT,
        "tested_until": TS,
        "approver": TEXT,
        "manufactured_on": DATE,
        "expires_on": DATE,
    },
}

WATER_TABLES = {
    "dim_nodes": "site_id varchar, node_id varchar",
    "fct_site_balance_monthly": "site_id varchar, month_start date",
    "fct_site_balance_period": "site_id varchar, period_kind varchar, period_start date",
    "fct_node_balance_monthly": "site_id varchar, node_id varchar, month_start date",
    "fct_node_balance_period": (
        "site_id varchar, period_kind varchar, period_start date, node_id varchar"
    ),
    "fct_node_balance_daily": (
        "site_id varchar, node_id varchar, node_kind varchar, day date, closing_storage_m3 double"
    ),
    "fct_flow_sankey": "site_id varchar, period_grain varchar, period_start date, flow_id varchar",
    "fct_site_water_by_category": (
        "site_id varchar, period_grain varchar, period_start date, direction varchar, "
        "category_position int, waf_category varchar"
    ),
    "fct_report_water_by_quality_monthly": (
        "site_id varchar, month_start date, direction varchar, waf_category varchar, "
        "quality_category varchar"
    ),
}

FIRST, LAST = dt.date(2026, 2, 1), dt.date(2026, 4, 2)
FEB, MARCH = dt.date(2026, 2, 1), dt.date(2026, 3, 1)


def write_table(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Create a mart with every contract column; columns a row does not give are null."""
    schema = MARTS[table]
    unknown = {k for row in rows for k in row} - set(schema)
    assert not unknown, f"{table} has no {sorted(unknown)}"
    frame = pd.DataFrame([{c: row.get(c) for c in schema} for row in rows], columns=list(schema))
    for column, kind in schema.items():
        if kind in (TEXT,):
            frame[column] = frame[column].astype("object")
    con.register("incoming", frame)
    casts = ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in schema.items())
    con.execute(f"create or replace table {table} as select {casts} from incoming")
    con.unregister("incoming")


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _days() -> list[dt.date]:
    return [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def olive_day(day: dt.date) -> dict[str, Any]:
    """olive_oil's daily stock row (by hand, see the module's docstring)."""
    row: dict[str, Any] = {
        "site_id": "soap",
        "material_id": "olive_oil",
        "day": day,
        "inflow_qty": 0.0,
        "received_qty": 0.0,
        "inflow_value": 0.0,
        "outflow_qty": 0.0,
        "outflow_cost": 0.0,
        "issued_qty": 0.0,
        "cogs": 0.0,
        "waste_qty": 0.0,
        "waste_value": 0.0,
        "unallocated_qty": 0.0,
    }
    events = {
        dt.date(2026, 2, 1): {"inflow_qty": 100.0, "received_qty": 100.0, "inflow_value": 400.0},
        dt.date(2026, 2, 20): {
            "outflow_qty": 60.0,
            "outflow_cost": 240.0,
            "issued_qty": 60.0,
            "cogs": 240.0,
        },
        dt.date(2026, 3, 5): {"inflow_qty": 100.0, "received_qty": 100.0, "inflow_value": 500.0},
        dt.date(2026, 3, 10): {
            "outflow_qty": 50.0,
            "outflow_cost": 210.0,
            "issued_qty": 50.0,
            "cogs": 210.0,
        },
        dt.date(2026, 3, 20): {
            "outflow_qty": 5.0,
            "outflow_cost": 25.0,
            "waste_qty": 5.0,
            "waste_value": 25.0,
        },
    }
    row.update(events.get(day, {}))
    qty = value = 0.0
    for d, e in events.items():
        if d <= day:
            qty += e.get("inflow_qty", 0.0) - e.get("outflow_qty", 0.0)
            value += e.get("inflow_value", 0.0) - e.get("outflow_cost", 0.0)
    row["on_hand_qty"], row["on_hand_value"] = qty, value
    return row


def lye_day(day: dt.date) -> dict[str, Any]:
    first = day == FIRST
    return {
        "site_id": "soap",
        "material_id": "lye",
        "day": day,
        "on_hand_qty": 10.0,
        "on_hand_value": 20.0,
        "inflow_qty": 10.0 if first else 0.0,
        "received_qty": 10.0 if first else 0.0,
        "inflow_value": 20.0 if first else 0.0,
        "issued_qty": 0.0,
        "cogs": 0.0,
        "waste_qty": 0.0,
        "waste_value": 0.0,
    }


def qc_result(lot: str, rid: str, test: str, tested: dt.datetime, **values: Any) -> dict:
    specs = {
        "ph": {
            "name": "pH",
            "method": "ISO 4316",
            "unit": "pH",
            "min_value": 8.0,
            "max_value": 10.0,
        },
        "appearance": {"name": "Appearance", "method": "visual", "expected_text": "conforms"},
    }
    return {
        "site_id": "soap",
        "result_id": rid,
        "lot_id": lot,
        "spec_id": "soap_spec",
        "spec_version": 1,
        "test_id": test,
        "tested_at": tested,
        "analyst": "A. Analyst",
        "is_latest": True,
        **specs[test],
        **values,
    }


def tables() -> dict[str, list[dict[str, Any]]]:
    t: dict[str, list[dict[str, Any]]] = {}
    t["fct_material_inventory_daily"] = [f(d) for d in _days() for f in (olive_day, lye_day)]
    t["fct_material_inventory_metrics"] = [
        {
            "site_id": "soap",
            "material_id": "olive_oil",
            "as_of_day": LAST,
            "on_hand_qty": 85.0,
            "lead_time_days": 7.0,
            "lead_time_sd_days": 0.0,
            "service_level_z": 1.65,
            # not fixed: a month has its own, from the formula on the days to its end
            "is_reorder_point_fixed": False,
            "reorder_point": 57.06,
        },
        {
            "site_id": "soap",
            "material_id": "lye",
            "as_of_day": LAST,
            "on_hand_qty": 10.0,
            "lead_time_days": 7.0,
            "lead_time_sd_days": 0.0,
            "service_level_z": 1.65,
            "is_reorder_point_fixed": True,
            "reorder_point": 12.0,
        },
    ]
    lot = {"site_id": "soap", "layer_kind": "receipt", "as_of_day": LAST, "expiry_alert_days": 30}
    t["fct_material_lot_balances"] = [
        {
            **lot,
            "lot_id": "L1",
            "material_id": "olive_oil",
            "supplier_id": "oilco",
            "received_at": at(dt.date(2026, 2, 1), 9),
            "received_day": dt.date(2026, 2, 1),
            "expiry_date": dt.date(2027, 2, 1),
            "received_qty": 100.0,
            "remaining_qty": 0.0,
            "unit_cost": 4.0,
            "remaining_value": 0.0,
        },
        {
            **lot,
            "lot_id": "L2",
            "material_id": "olive_oil",
            "supplier_id": "oilco",
            "received_at": at(dt.date(2026, 3, 5), 9),
            "received_day": dt.date(2026, 3, 5),
            "expiry_date": dt.date(2027, 3, 5),
            "received_qty": 100.0,
            "remaining_qty": 85.0,
            "unit_cost": 5.0,
            "remaining_value": 425.0,
        },
        {
            **lot,
            "lot_id": "L3",
            "material_id": "lye",
            "supplier_id": "chemco",
            "received_at": at(dt.date(2026, 2, 1), 10),
            "received_day": dt.date(2026, 2, 1),
            "expiry_date": dt.date(2026, 4, 15),
            "received_qty": 10.0,
            "remaining_qty": 10.0,
            "unit_cost": 2.0,
            "remaining_value": 20.0,
        },
    ]
    t["fct_material_prices"] = [
        {
            "site_id": "soap",
            "material_id": "olive_oil",
            "receipt_id": "R1",
            "lot_id": "L1",
            "supplier_id": "oilco",
            "received_at": at(dt.date(2026, 2, 1), 9),
            "received_day": dt.date(2026, 2, 1),
            "month": FEB,
            "qty": 100.0,
            "unit_cost": 4.0,
            "cost": 400.0,
        },
        {
            "site_id": "soap",
            "material_id": "lye",
            "receipt_id": "R3",
            "lot_id": "L3",
            "supplier_id": "chemco",
            "received_at": at(dt.date(2026, 2, 1), 10),
            "received_day": dt.date(2026, 2, 1),
            "month": FEB,
            "qty": 10.0,
            "unit_cost": 2.0,
            "cost": 20.0,
        },
        {
            "site_id": "soap",
            "material_id": "olive_oil",
            "receipt_id": "R2",
            "lot_id": "L2",
            "supplier_id": "oilco",
            "received_at": at(dt.date(2026, 3, 5), 9),
            "received_day": dt.date(2026, 3, 5),
            "month": MARCH,
            "qty": 100.0,
            "unit_cost": 5.0,
            "cost": 500.0,
            "previous_unit_cost": 4.0,
            "price_change_pct": 25.0,
            "purchase_price_variance": 100.0,
        },
    ]
    t["fct_material_price_monthly"] = [
        {
            "site_id": "soap",
            "material_id": "olive_oil",
            "month": MARCH,
            "receipts": 1,
            "avg_unit_cost": 5.0,
            "min_unit_cost": 5.0,
            "max_unit_cost": 5.0,
            "previous_avg_unit_cost": 4.0,
            "avg_unit_cost_change_pct": 25.0,
        },
    ]
    t["fct_recipe_costs"] = [
        {
            "site_id": "soap",
            "recipe_id": "lav",
            "version": 2,
            "month": MARCH,
            "product_id": "lav_soap",
            "is_version_in_force": True,
            "yield_qty": 100.0,
            "yield_unit": "each",
            "cost_at_month_price": 230.0,
            "cost_current": 253.0,
            "cost_per_unit": 2.3,
            "cost_per_unit_current": 2.53,
        },
        {
            "site_id": "soap",
            "recipe_id": "lav",
            "version": 1,
            "month": MARCH,
            "product_id": "lav_soap",
            "is_version_in_force": False,
            "yield_qty": 100.0,
            "yield_unit": "each",
            "cost_at_month_price": 260.0,
            "cost_current": 280.0,
        },
    ]
    t["fct_batch_costs"] = [
        {
            "site_id": "soap",
            "batch_id": "B1",
            "material_id": "olive_oil",
            "is_in_recipe": True,
            "planned_qty": 52.0,
            "actual_qty": 50.0,
            "standard_price": 4.0,
            "planned_cost": 208.0,
            "actual_cost": 210.0,
            "price_variance": -10.0,
            "usage_variance": 8.0,
            "cost_variance": 2.0,
        },
        {
            "site_id": "soap",
            "batch_id": "B2",
            "material_id": "lye",
            "is_in_recipe": False,
            "planned_qty": 0.0,
            "actual_qty": 1.0,
            "standard_price": 2.0,
            "planned_cost": 0.0,
            "actual_cost": 2.0,
            "price_variance": 0.0,
            "usage_variance": -2.0,
            "cost_variance": 2.0,
        },
        # a batch of February is not the month's
        {
            "site_id": "soap",
            "batch_id": "B0",
            "material_id": "olive_oil",
            "is_in_recipe": True,
            "planned_qty": 60.0,
            "actual_qty": 60.0,
            "standard_price": 4.0,
            "planned_cost": 240.0,
            "actual_cost": 240.0,
            "price_variance": 0.0,
            "usage_variance": 0.0,
            "cost_variance": 0.0,
        },
    ]
    batch = {
        "site_id": "soap",
        "product_id": "lav_soap",
        "recipe_id": "lav",
        "recipe_version": 2,
        "output_unit": "each",
        "yield_alert_pct": 95.0,
    }
    t["fct_batches"] = [
        {
            **batch,
            "batch_id": "B0",
            "output_lot_id": "B0-OUT",
            "started_at": at(FEB, 8),
            "finished_at": at(dt.date(2026, 2, 20), 16),
            "month": FEB,
            "planned_qty": 100.0,
            "actual_qty": 100.0,
            "yield_pct": 100.0,
            "planned_cost": 240.0,
            "actual_cost": 240.0,
            "cost_variance": 0.0,
            "price_variance": 0.0,
            "usage_variance": 0.0,
        },
        {
            **batch,
            "batch_id": "B1",
            "output_lot_id": "B1-OUT",
            "started_at": at(dt.date(2026, 3, 10), 8),
            "finished_at": at(dt.date(2026, 3, 12), 16),
            "month": MARCH,
            "planned_qty": 100.0,
            "actual_qty": 98.0,
            "yield_pct": 98.0,
            "planned_cost": 208.0,
            "actual_cost": 210.0,
            "cost_variance": 2.0,
            "price_variance": -10.0,
            "usage_variance": 8.0,
            "revenue": 650.0,
            "margin": 440.0,
            "margin_pct": 100 * 440 / 650,
        },
        {
            **batch,
            "batch_id": "B2",
            "output_lot_id": "B2-OUT",
            "started_at": at(dt.date(2026, 3, 24), 8),
            "finished_at": at(dt.date(2026, 3, 25), 16),
            "month": MARCH,
            "planned_qty": 100.0,
            "actual_qty": 93.0,
            "yield_pct": 93.0,
            "planned_cost": 0.0,
            "actual_cost": 2.0,
            "cost_variance": 2.0,
            "price_variance": 0.0,
            "usage_variance": -2.0,
        },
    ]
    margin = {
        "site_id": "soap",
        "product_id": "lav_soap",
        "margin_floor_pct": 20.0,
        "margin_fall_pct_points": 5.0,
    }
    t["fct_product_margins_monthly"] = [
        {
            **margin,
            "month": FEB,
            "qty_sold": 100.0,
            "revenue": 650.0,
            "cogs": 390.0,
            "margin": 260.0,
            "margin_pct": 40.0,
        },
        {
            **margin,
            "month": MARCH,
            "qty_sold": 200.0,
            "revenue": 1300.0,
            "cogs": 800.0,
            "margin": 500.0,
            "margin_pct": 100 * 500 / 1300,
            "margin_pct_previous": 40.0,
            "margin_change_pct_points": 100 * 500 / 1300 - 40.0,
        },
    ]
    t["fct_supplier_performance"] = [
        {
            "site_id": "soap",
            "supplier_id": "oilco",
            "month": MARCH,
            "orders": 2,
            "orders_on_time": 2,
            "orders_in_full": 1,
            "orders_otif": 1,
            "otif_pct": 50.0,
            "receipts": 1,
            "received_value": 500.0,
            "purchase_price_variance": 100.0,
        },
        {
            "site_id": "soap",
            "supplier_id": "chemco",
            "month": MARCH,
            "orders": 1,
            "orders_on_time": 1,
            "orders_in_full": 1,
            "orders_otif": 1,
            "otif_pct": 100.0,
            "receipts": 0,
            "received_value": 0.0,
            "purchase_price_variance": 0.0,
        },
    ]
    job = {"site_id": "soap", "month": MARCH}
    t["fct_job_profitability_monthly"] = [
        {
            **job,
            "job_type_id": "wheels",
            "customer_id": "c_fleet",
            "jobs": 3,
            "area_m2": 30.0,
            "revenue": 900.0,
            "total_cost": 600.0,
            "margin": 300.0,
            "margin_pct": 100 / 3,
        },
        {
            **job,
            "job_type_id": "wheels",
            "customer_id": "c_shop",
            "jobs": 1,
            "area_m2": 10.0,
            "revenue": 200.0,
            "total_cost": 190.0,
            "margin": 10.0,
            "margin_pct": 5.0,
        },
        {
            **job,
            "job_type_id": "gates",
            "customer_id": "c_fleet",
            "jobs": 2,
            "area_m2": 80.0,
            "revenue": 1000.0,
            "total_cost": 700.0,
            "margin": 300.0,
            "margin_pct": 30.0,
        },
    ]
    t["fct_powder_waste_monthly"] = [
        {
            **job,
            "powder_material_id": "powder_red",
            "jobs": 6,
            "powder_issued_kg": 50.0,
            "theoretical_powder_kg": 40.0,
            "powder_waste_kg": 10.0,
            "powder_waste_pct": 20.0,
            "powder_waste_cost": 120.0,
        },
    ]
    t1, t2 = at(dt.date(2026, 3, 13), 9), at(dt.date(2026, 3, 14), 10)
    t["fct_qc_results"] = [
        qc_result("B1-OUT", "Q1", "ph", t1, value=10.4, passed=False, is_latest=False),
        qc_result("B1-OUT", "Q2", "ph", t2, value=9.2, passed=True),
        qc_result("B1-OUT", "Q3", "appearance", t1, result_text="Conforms", passed=True),
        qc_result("B2-OUT", "Q4", "ph", at(dt.date(2026, 3, 26)), value=10.6, passed=False),
        qc_result(
            "B2-OUT",
            "Q5",
            "appearance",
            at(dt.date(2026, 3, 26)),
            result_text="conforms",
            passed=True,
        ),
        qc_result("B3-OUT", "Q6", "ph", at(dt.date(2026, 3, 30)), value=9.0, passed=True),
    ]
    qc = {
        "site_id": "soap",
        "lot_kind": "product_lot",
        "product_id": "lav_soap",
        "spec_id": "soap_spec",
        "spec_version": 1,
        "tests_required": 2,
    }
    t["fct_qc_lots"] = [
        {
            **qc,
            "lot_id": "B1-OUT",
            "batch_id": "B1",
            "tests_done": 2,
            "tests_failed": 0,
            "status": "pass",
            "tested_until": t2,
            "approver": "J. Smith",
            "manufactured_on": dt.date(2026, 3, 12),
            "expires_on": dt.date(2028, 3, 11),
        },
        {
            **qc,
            "lot_id": "B2-OUT",
            "batch_id": "B2",
            "tests_done": 2,
            "tests_failed": 1,
            "status": "fail",
            "tested_until": at(dt.date(2026, 3, 26)),
            "approver": "J. Smith",
            "manufactured_on": dt.date(2026, 3, 25),
            "expires_on": dt.date(2028, 3, 24),
        },
        {
            **qc,
            "lot_id": "B3-OUT",
            "batch_id": "B3",
            "tests_done": 1,
            "tests_failed": 0,
            "status": "incomplete",
            "tested_until": at(dt.date(2026, 3, 30)),
            "manufactured_on": dt.date(2026, 3, 29),
        },
    ]
    return t


def publish(settings: Settings, extra: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """'soap' with the materials marts above, 'mine' with none; the water marts empty."""
    settings.published_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_db)) as con:
        con.execute(
            "create table dim_sites as select * from (values "
            "('soap', 'Soap works', 'UTC', 7, ''), ('mine', 'Mine', 'UTC', 7, '')) "
            "as t(site_id, site_name, timezone, financial_year_start_month, regulators)"
        )
        con.execute("create table _siteledger_publish as select 'v-test' as version_id")
        for table, columns in WATER_TABLES.items():
            con.execute(f"create table {table} ({columns})")
        for table, rows in {**tables(), **(extra or {})}.items():
            write_table(con, table, rows)
