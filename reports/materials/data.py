"""One site's rows of the materials marts, read from a published warehouse for its reports.

A site has a materials section when any of the materials marts holds a row of it; a site
without one gets no materials report. Its months are those every day of which the daily stock
mart (``fct_material_inventory_daily``, a row per material and day from the first movement to
the marts' as-of day) covers: a month is complete once the records run through its last day.
Its lots are the lots the genealogy knows (``dim_lots``), with their quality control
(``fct_qc_lots``): the certificates of analysis are for the lots whose testing is complete.

Figures stay as the marts hold them (money in the site's currency, quantities in each
material's base unit); DECIMAL sums become floats here, once, for arithmetic and JSON.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from reports.materials.catalogue import is_certificate
from reports.periods import Period, lot_period, month_end
from reports.tables import site_rows

# the marts the reports read, and the column each is ordered by
TABLES: dict[str, str] = {
    "fct_material_inventory_daily": "material_id, day",
    "fct_material_inventory_metrics": "material_id",
    "fct_material_lot_balances": "material_id, received_at, lot_id",
    "fct_material_prices": "received_at, receipt_id",
    "fct_material_price_monthly": "material_id, month",
    "fct_recipe_costs": "recipe_id, version, month",
    "fct_batch_costs": "batch_id, material_id",
    "fct_batches": "finished_at, batch_id",
    "fct_product_margins_monthly": "product_id, month",
    "fct_supplier_performance": "supplier_id, month",
    "fct_qc_results": "lot_id, test_id, tested_at, result_id",
    "fct_qc_lots": "lot_id",
    "fct_job_costs": "job_id",
    "fct_job_profitability_monthly": "month, job_type_id, customer_id",
    "fct_powder_waste_monthly": "month, powder_material_id",
    "dim_lots": "lot_id",
}
# a site has a materials section when one of these holds a row of it
PRESENCE = (
    "fct_material_inventory_daily",
    "fct_material_lot_balances",
    "fct_batches",
    "fct_job_costs",
    "fct_qc_lots",
    "dim_lots",
)


class LotError(LookupError):
    """A lot a per-lot document cannot be made for (unknown, or its testing not complete)."""


@dataclass
class MaterialsData:
    """One site's rows of the materials marts, by table (a table not published is empty)."""

    site_id: str
    timezone: str = "UTC"
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # the published warehouse the rows came from: the genealogy of a recall is a query on it
    db_path: Path | None = None
    # display names and the currency from the site file (prose: never part of a version)
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    currency: str | None = None

    def table(self, name: str) -> list[dict[str, Any]]:
        return self.rows.get(name, [])

    # -- months --------------------------------------------------------------------------------
    def days(self) -> set[dt.date]:
        return {r["day"] for r in self.table("fct_material_inventory_daily")}

    def months(self) -> list[Period]:
        """The complete months: every day of them has the daily stock mart's rows."""
        days = self.days()
        out = []
        for month in sorted({d.replace(day=1) for d in days}):
            end = month_end(month)
            if all(month + dt.timedelta(days=i) in days for i in range(end.day)):
                out.append(Period("monthly", month.strftime("%Y-%m"), month, end))
        return out

    def periods(self, kind: str, sections: list[str]) -> list[Period]:
        """The site's complete months, or the lots a per-lot document is made for without being
        asked: certificates for every lot whose testing is complete (a recall report is only
        ever made on demand)."""
        if kind == "monthly":
            return self.months()
        if kind != "lot":
            raise ValueError(f"a materials report is monthly or per lot, not {kind}")
        if not is_certificate(sections):
            return []
        return [
            self.lot_period(r["lot_id"], sections)
            for r in self.table("fct_qc_lots")
            if r.get("status") in ("pass", "fail")
        ]

    # -- lots ----------------------------------------------------------------------------------
    def lot(self, lot_id: str) -> dict[str, Any] | None:
        for table in ("dim_lots", "fct_qc_lots", "fct_material_lot_balances"):
            for row in self.table(table):
                if row["lot_id"] == lot_id:
                    return row
        return None

    def qc_lot(self, lot_id: str) -> dict[str, Any] | None:
        return next((r for r in self.table("fct_qc_lots") if r["lot_id"] == lot_id), None)

    def lot_period(self, lot_id: str, sections: list[str]) -> Period:
        """A lot as the period of a per-lot document: from the day it was made (or received) to
        the day its testing finished (a certificate) or the same day (a recall). Raises
        :class:`LotError` for a lot the site has no record of, or a certificate of a lot whose
        testing is not complete."""
        if is_certificate(sections):
            qc = self.qc_lot(lot_id)
            if qc is None:
                raise LotError(f"lot {lot_id} of site {self.site_id} has no QC results")
            if qc.get("status") not in ("pass", "fail"):
                raise LotError(
                    f"lot {lot_id} of site {self.site_id}: testing is not complete "
                    f"({qc.get('tests_done')} of {qc.get('tests_required')} tests done)"
                )
            tested = self.local_day(qc.get("tested_until"))
            if tested is None:
                raise LotError(f"lot {lot_id} of site {self.site_id}: no test date recorded")
            start = qc.get("manufactured_on") or self.lot_day(lot_id) or tested
            return lot_period(lot_id, start, tested)
        day = self.lot_day(lot_id)
        if day is None:
            raise LotError(f"no record of site {self.site_id} names lot {lot_id}")
        return lot_period(lot_id, day)

    def lot_day(self, lot_id: str) -> dt.date | None:
        """The site-local day a lot was made, split off or received."""
        row = self.lot(lot_id)
        if row is None:
            return None
        for key in ("manufactured_on", "created_on", "received_day"):
            if isinstance(row.get(key), dt.date):
                return row[key]
        for key in ("created_at", "received_at"):
            if row.get(key) is not None:
                return self.local_day(row[key])
        return None

    def local_day(self, value: Any) -> dt.date | None:
        """The site-local day of an instant (a date stays as it is)."""
        return local_day(value, self.timezone)

    def name(self, kind: str, key: str | None) -> str:
        """A product's, material's, customer's, supplier's or job type's name, or its id."""
        if key is None:
            return ""
        return self.names.get(kind, {}).get(key) or key


def local_day(value: Any, timezone: str) -> dt.date | None:
    """The day an instant falls on in ``timezone`` (a date stays as it is; naive is UTC)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(_zone(timezone)).date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"not a day or an instant: {value!r}")


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def load_materials(
    con: duckdb.DuckDBPyConnection,
    tables: set[str],
    site_id: str,
    timezone: str | None = None,
    db_path: Path | None = None,
) -> MaterialsData | None:
    """The site's materials rows, or None when the site has none (no materials section)."""
    rows = site_rows(con, tables, site_id, PRESENCE, TABLES)
    if rows is None:
        return None
    data = MaterialsData(site_id, timezone or "UTC", db_path=db_path)
    data.rows.update(rows)
    return data


def by(rows: Iterable[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return dict(sorted(out.items(), key=lambda item: (item[0] is None, str(item[0]))))
