"""An independent FIFO for stock ledgers in whole units, and random ledgers to check SQL with.

The reference walks the ledger unit by unit: every inflow puts its units in a queue in ledger
order, every outflow (in ledger order) takes units from the front of the queue, one at a time.
A unit taken from an inflow that comes after the outflow in the ledger is a back-dated draw; an
outflow that finds the queue empty is short by the units it could not take. Nothing here shares
code or method with the range-overlap SQL of dbt_project/models/marts/materials.

Ledger order (docs/materials.md, Costing): instant, then receipts, other inflows, outflows, then
the entry id. An inflow movement without a cost takes the material's last receipt cost at or
before it in that order, else the first receipt's after it, else none.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.materials_lake import MATERIALS_SCHEMAS

INFLOW_MOVEMENTS = ("return_from_customer", "adjustment_in")
OUTFLOWS = ("issue", "return_to_vendor", "adjustment_out", "waste")
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
LOADED_AT = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Entry:
    """One receipt (kind ``receipt``) or stock movement of one material, in whole units."""

    material_id: str
    entry_id: str
    kind: str
    at: dt.datetime
    qty: int
    unit_cost: Decimal | None  # a receipt's cost; an inflow movement's given cost or None

    @property
    def is_inflow(self) -> bool:
        return self.kind == "receipt" or self.kind in INFLOW_MOVEMENTS

    @property
    def source_order(self) -> int:
        if self.kind == "receipt":
            return 1
        return 2 if self.kind in INFLOW_MOVEMENTS else 3

    @property
    def layer_id(self) -> str:
        """The lot a receipt creates (``L`` + id), or the movement id of another inflow."""
        return f"L{self.entry_id}" if self.kind == "receipt" else self.entry_id


@dataclass
class Fifo:
    """What FIFO makes of a set of ledgers (every material at once)."""

    # (movement_id, layer_id) -> [qty, cost or None, back-dated]
    allocations: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    # movement_id -> (allocated, unallocated, backdated units, cost or None, status)
    outflows: dict[str, tuple[int, int, int, Decimal | None, str]] = field(default_factory=dict)
    # layer_id -> (remaining units, remaining value or None)
    remaining: dict[str, tuple[int, Decimal | None]] = field(default_factory=dict)


def ledger_order(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (e.at, e.source_order, e.entry_id))


def layer_costs(ordered: list[Entry]) -> dict[str, Decimal | None]:
    """Unit cost of every inflow of one material's ordered ledger."""
    costs: dict[str, Decimal | None] = {}
    receipts = [(i, e.unit_cost) for i, e in enumerate(ordered) if e.kind == "receipt"]
    for i, entry in enumerate(ordered):
        if not entry.is_inflow:
            continue
        if entry.kind == "receipt" or entry.unit_cost is not None:
            costs[entry.layer_id] = entry.unit_cost
            continue
        before = [cost for j, cost in receipts if j <= i]
        after = [cost for j, cost in receipts if j > i]
        costs[entry.layer_id] = before[-1] if before else (after[0] if after else None)
    return costs


def walk(entries: list[Entry]) -> Fifo:
    """FIFO of every material in ``entries``, unit by unit."""
    result = Fifo()
    by_material: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_material[entry.material_id].append(entry)
    for material_entries in by_material.values():
        ordered = ledger_order(material_entries)
        costs = layer_costs(ordered)
        position = {e.entry_id: i for i, e in enumerate(ordered)}
        units: list[Entry] = []  # one element per unit, in the order the units came in
        for entry in ordered:
            if entry.is_inflow:
                units += [entry] * entry.qty
        taken = 0
        for entry in ordered:
            if entry.is_inflow:
                continue
            allocated = backdated = 0
            cost: Decimal | None = Decimal(0)
            for _ in range(entry.qty):
                if taken == len(units):
                    break
                layer = units[taken]
                taken += 1
                allocated += 1
                late = position[layer.entry_id] > position[entry.entry_id]
                backdated += late
                unit_cost = costs[layer.layer_id]
                cell = result.allocations.setdefault(
                    (entry.entry_id, layer.layer_id), [0, Decimal(0), late]
                )
                cell[0] += 1
                cell[1] = None if cell[1] is None or unit_cost is None else cell[1] + unit_cost
                cost = None if cost is None or unit_cost is None else cost + unit_cost
            short = entry.qty - allocated
            status = "short" if short else ("backdated" if backdated else "ok")
            result.outflows[entry.entry_id] = (allocated, short, backdated, cost, status)
        left: dict[str, int] = defaultdict(int)
        for layer in units[taken:]:
            left[layer.layer_id] += 1
        for entry in ordered:
            if entry.is_inflow:
                qty = left[entry.layer_id]
                cost = costs[entry.layer_id]
                result.remaining[entry.layer_id] = (qty, None if cost is None else qty * cost)
    return result


def random_ledger(rng: random.Random, material_id: str, max_entries: int = 14) -> list[Entry]:
    """A ledger of whole units with partial lots, returns both ways, adjustments, waste and
    back-dated outflows: instants are drawn from a few days and two times a day, so ties are
    common and outflows often come before the receipts they need."""
    kinds = ["receipt"] * 5 + ["issue"] * 5 + list(INFLOW_MOVEMENTS) + list(OUTFLOWS[1:])
    entries = []
    for i in range(rng.randint(1, max_entries)):
        kind = rng.choice(kinds)
        at = START + dt.timedelta(days=rng.randint(0, 9), hours=rng.choice((8, 14)))
        cost = None
        if kind == "receipt" or (kind in INFLOW_MOVEMENTS and rng.random() < 0.5):
            cost = Decimal(rng.randint(5, 999)) / 100
        entries.append(
            Entry(material_id, f"{material_id}-{i:02d}", kind, at, rng.randint(1, 20), cost)
        )
    return entries


def lake_tables(entries: list[Entry]) -> tuple[pa.Table, pa.Table]:
    """Receipts and movements as the importer writes them (ingestion.materials_lake)."""
    receipts: list[dict[str, Any]] = []
    movements: list[dict[str, Any]] = []
    load = {"import_batch_id": "prop", "source_file": "prop.csv", "loaded_at": LOADED_AT}
    for row, e in enumerate(entries, start=2):
        common = {
            "material_id": e.material_id,
            "qty": float(e.qty),
            "unit": "kg",
            "qty_given": float(e.qty),
            "unit_given": "kg",
            "source_row": row,
            **load,
        }
        cost = None if e.unit_cost is None else float(e.unit_cost)
        if e.kind == "receipt":
            receipts.append(
                {
                    "receipt_id": e.entry_id,
                    "lot_id": e.layer_id,
                    "supplier_id": "sup",
                    "received_at": e.at,
                    "unit_cost": cost,
                    "currency_given": "EUR",
                    "unit_cost_given": cost,
                    **common,
                }
            )
        else:
            movements.append(
                {
                    "movement_id": e.entry_id,
                    "moved_at": e.at,
                    "kind": e.kind,
                    "unit_cost": cost,
                    **common,
                }
            )
    return (
        pa.Table.from_pylist(receipts, schema=MATERIALS_SCHEMAS["receipts"]),
        pa.Table.from_pylist(movements, schema=MATERIALS_SCHEMAS["movements"]),
    )


def write_lake(lake: Path, site_id: str, entries: list[Entry]) -> None:
    """The ledgers as one import batch of receipts and one of movements in ``lake``."""
    for kind, table in zip(("receipts", "movements"), lake_tables(entries), strict=True):
        folder = lake / "materials" / kind / f"site={site_id}" / "source=prop"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "prop.parquet")
