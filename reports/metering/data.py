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

from reports.materials.data import local_day
from reports.periods import Period, month_end
from reports.tables import dicts, site_rows

# the small marts the reports read whole, and the columns each is ordered by
TABLES: dict[str, str] = {
    "dim_metering_customers": "customer_id",
    "dim_metering_meters": "meter_id",
    "fct_metering_revenue_monthly": "month",
    "fct_metering_collections_monthly": "month, segment, payment_method, provider",
    "fct_segment_consumption_monthly": "month, segment",
    "fct_voucher_summary": "voucher_code",
    "fct_maintenance_tasks": "due_date, task_id",
}
# the metering default low_battery_pct: the marts judge with the site's own setting and say so
# in a day's issues ("low battery"); this catches a reading below it the marts left unflagged
LOW_BATTERY_PCT = 10.0
# a site has a metering section when one of these holds a row of it
PRESENCE = (
    "dim_metering_customers",
    "dim_metering_meters",
    "fct_customer_ledger_daily",
    "fct_meter_health_daily",
)
# the days of a month that make it complete
DAY_TABLES = ("fct_customer_ledger_daily", "fct_meter_health_daily")
# The daily marts hold a row per customer or meter and day (20 000 meters: 7.3 M rows a year):
# they are cut down in DuckDB, never read row by row. Per month: the meters' status counts on
# their last day of it; per meter and month, only for a meter offline, warning or with a low
# battery on its last day: that day's health with the month's offline and warning days and its
# battery on its first day.
HEALTH_MONTHS = """
with months as (
    select meter_id, date_trunc('month', day)::date as month,
        arg_max(struct_pack(
            day := day, readings := readings, expected_readings := expected_readings,
            last_seen_at := last_seen_at, battery_pct := battery_pct, signal_dbm := signal_dbm,
            reboots := reboots, status := status, health_score := health_score, issues := issues
        ), day) as last,
        arg_min(struct_pack(battery_pct := battery_pct), day).battery_pct
            as battery_pct_month_start,
        count(*) filter (where status = 'offline') as offline_days,
        count(*) filter (where status = 'warning') as warning_days
    from fct_meter_health_daily where site_id = $site
    group by meter_id, month
),
meters as (
    select meter_id, month, unnest(last), battery_pct_month_start, offline_days, warning_days
    from months
)
"""
HEALTH_SUMMARY = (
    HEALTH_MONTHS
    + """
select month, count(*) as meters,
    count(*) filter (where status = 'online') as meters_online,
    count(*) filter (where status = 'warning') as meters_warning,
    count(*) filter (where status = 'offline') as meters_offline,
    avg(health_score) as mean_health_score,
    sum(offline_days) as offline_meter_days,
    count(*) filter (where battery_pct < $low_battery or issues like '%low battery%')
        as low_battery_meters
from meters group by month order by month
"""
)
HEALTH_PROBLEMS = (
    HEALTH_MONTHS
    + """
select * from meters
where status <> 'online' or battery_pct < $low_battery or issues like '%low battery%'
order by month, meter_id
"""
)
# the month's redemptions by voucher
VOUCHER_MONTHS = """
select date_trunc('month', day)::date as month, voucher_code, count(*) as redemptions,
    count(distinct customer_id) as customers, sum(amount) as amount, sum(discount) as discount,
    sum(final_amount) as final_amount
from fct_voucher_redemptions where site_id = $site
group by all order by month, voucher_code
"""


@dataclass
class MeteringData:
    """One site's rows of the metering marts, by table (a table not published is empty)."""

    site_id: str
    timezone: str = "UTC"
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # the site file's metering currency and its tariffs' names (prose: never part of a
    # version), and how many days ahead a maintenance task is due soon
    currency: str | None = None
    segment_names: dict[str, str] = field(default_factory=dict)
    maintenance_due_days: int = 14
    # the days with ledger or meter-health rows
    data_days: set[dt.date] = field(default_factory=set)

    def table(self, name: str) -> list[dict[str, Any]]:
        """Rows of a small mart, or of the cut-down daily marts: ``health_summary`` (a row per
        month), ``health_months`` (a row per meter and month for the meters offline, warning or
        with a low battery on their last day of it) and ``voucher_months``."""
        return self.rows.get(name, [])

    def days(self) -> set[dt.date]:
        return self.data_days

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


def apply_site_file(data: MeteringData, site_file: Any) -> None:
    """The site file's ``metering:`` settings the reports use: the currency, the tariffs' names
    (a customer's segment is its tariff) and ``maintenance_due_days``."""
    section = getattr(site_file, "metering", None)
    if section is None:
        return
    data.currency = getattr(section, "currency", None) or data.currency
    data.segment_names = {
        t.id: t.name for t in getattr(section, "tariffs", None) or [] if getattr(t, "name", "")
    }
    due_days = getattr(section, "maintenance_due_days", None)
    if isinstance(due_days, int):
        data.maintenance_due_days = due_days


def load_metering(
    con: duckdb.DuckDBPyConnection, tables: set[str], site_id: str, timezone: str | None = None
) -> MeteringData | None:
    """The site's metering rows, or None when the site has none (no metering section)."""
    rows = site_rows(con, tables, site_id, PRESENCE, TABLES)
    if rows is None:
        return None
    data = MeteringData(site_id, timezone or "UTC")
    data.rows.update(rows)
    days = [t for t in DAY_TABLES if t in tables]
    if days:
        union = " union ".join(f"select day from {t} where site_id = $site" for t in days)  # noqa: S608
        data.data_days = {r[0] for r in con.execute(union, {"site": site_id}).fetchall()}
    if "fct_meter_health_daily" in tables:
        params = {"site": site_id, "low_battery": LOW_BATTERY_PCT}
        data.rows["health_summary"] = dicts(con.execute(HEALTH_SUMMARY, params))
        data.rows["health_months"] = dicts(con.execute(HEALTH_PROBLEMS, params))
    if "fct_voucher_redemptions" in tables:
        data.rows["voucher_months"] = dicts(con.execute(VOUCHER_MONTHS, {"site": site_id}))
    return data
