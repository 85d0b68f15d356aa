"""One site's rows of the metering marts, read from a published warehouse for its reports.

A site has a metering section when one of the metering marts holds a row of it; a site without
one gets no metering report. Its months are those every day of which the customer ledger
(``fct_customer_ledger_daily``) or the meters' daily health (``fct_meter_health_daily``) covers:
a month is complete once the data run through its last day. Figures stay as the marts hold
them (money in the site's metering currency).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb

from reports.materials.data import local_day, plain
from reports.periods import Period, month_end

# the marts the reports read, and the columns each is ordered by
TABLES: dict[str, str] = {
    "dim_metering_customers": "customer_id",
    "dim_metering_meters": "meter_id",
    "fct_customer_ledger_daily": "day, customer_id",
    "fct_metering_revenue_monthly": "month",
    "fct_metering_collections_monthly": "month, segment, payment_method, provider",
    "fct_segment_consumption_monthly": "month, segment",
    "fct_voucher_redemptions": "paid_at, purchase_id",
    "fct_voucher_summary": "voucher_code",
    "fct_meter_health_daily": "day, meter_id",
    "fct_maintenance_tasks": "due_date, task_id",
}
# a site has a metering section when one of these holds a row of it
PRESENCE = (
    "dim_metering_customers",
    "dim_metering_meters",
    "fct_customer_ledger_daily",
    "fct_meter_health_daily",
)
# the days of a month that make it complete
DAY_TABLES = ("fct_customer_ledger_daily", "fct_meter_health_daily")


@dataclass
class MeteringData:
    """One site's rows of the metering marts, by table (a table not published is empty)."""

    site_id: str
    timezone: str = "UTC"
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # the site file's metering currency (prose: never part of a version)
    currency: str | None = None

    def table(self, name: str) -> list[dict[str, Any]]:
        return self.rows.get(name, [])

    def days(self) -> set[dt.date]:
        return {r["day"] for t in DAY_TABLES for r in self.table(t)}

    def months(self) -> list[Period]:
        """The complete months: every day of them has ledger or meter-health rows."""
        days = self.days()
        out = []
        for month in sorted({d.replace(day=1) for d in days}):
            end = month_end(month)
            if all(month + dt.timedelta(days=i) in days for i in range(end.day)):
                out.append(Period("monthly", month.strftime("%Y-%m"), month, end))
        return out

    def periods(self, kind: str) -> list[Period]:
        if kind != "monthly":
            raise ValueError(f"a metering report is monthly, not {kind}")
        return self.months()

    def local_day(self, value: Any) -> dt.date | None:
        return local_day(value, self.timezone)

    def customer_of(self) -> dict[str, str | None]:
        """Each meter's customer."""
        return {r["meter_id"]: r.get("customer_id") for r in self.table("dim_metering_meters")}

    def customer_names(self) -> dict[str, str]:
        return {
            r["customer_id"]: r.get("name") or r["customer_id"]
            for r in self.table("dim_metering_customers")
        }


def load_metering(
    con: duckdb.DuckDBPyConnection, tables: set[str], site_id: str, timezone: str | None = None
) -> MeteringData | None:
    """The site's metering rows, or None when the site has none (no metering section)."""
    present = [t for t in PRESENCE if t in tables]
    if not present:
        return None
    # table names from PRESENCE, never from input
    union = " union all ".join(
        f"select 1 from {t} where site_id = $site"  # noqa: S608
        for t in present
    )
    if con.execute(f"select exists ({union})", {"site": site_id}).fetchone() != (True,):
        return None
    data = MeteringData(site_id, timezone or "UTC")
    for table, order in TABLES.items():
        if table not in tables:
            continue
        columns = {r[0] for r in con.execute(f"describe {table}").fetchall()}
        keys = [c.strip() for c in order.split(",") if c.strip() in columns] or ["site_id"]
        cursor = con.execute(
            f"select * from {table} where site_id = ? order by {', '.join(keys)}",  # noqa: S608
            [site_id],
        )
        names = [d[0] for d in cursor.description]
        data.rows[table] = [
            {n: plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()
        ]
    return data
