"""What a metering report definition may list: its sections and its metrics.

Two monthly reports are shipped: the revenue report (sections ``summary``, ``collections``,
``revenue``, ``vouchers``, ``consumption``) and the device-health / maintenance report
(``summary``, ``status``, ``problem_meters``, ``batteries``, ``maintenance``). A definition may
combine any of them; the sections it lists decide what its payload holds.
"""

from __future__ import annotations

REVENUE_SECTIONS = ("collections", "revenue", "vouchers", "consumption")
HEALTH_SECTIONS = ("status", "problem_meters", "batteries", "maintenance")
METERING_SECTIONS = ("summary", *REVENUE_SECTIONS, *HEALTH_SECTIONS)

# key -> (label, unit); "currency" is the site's metering currency
METERING_METRICS: dict[str, tuple[str, str]] = {
    # the month's money
    "collections": ("Collections (paid)", "currency"),
    "credit_sold": ("Credit sold", "currency"),
    "voucher_cost": ("Voucher cost (credit - paid)", "currency"),
    "purchases": ("Purchases", "count"),
    "voucher_redemptions": ("Voucher redemptions", "count"),
    "earned_consumption": ("Earned: consumption charges", "currency"),
    "earned_fixed": ("Earned: fixed charges", "currency"),
    "earned_revenue": ("Earned revenue", "currency"),
    "deferred_revenue_opening": ("Deferred revenue (unused credit), opening", "currency"),
    "deferred_revenue_closing": ("Deferred revenue (unused credit), closing", "currency"),
    "emergency_debt_closing": ("Emergency-credit debt, closing", "currency"),
    "consumption_m3": ("Consumption", "m3"),
    "active_customers": ("Active customers", "count"),
    # the meters at the month's end
    "meters": ("Meters reporting health", "count"),
    "meters_online": ("Meters online", "count"),
    "meters_warning": ("Meters with a warning", "count"),
    "meters_offline": ("Meters offline", "count"),
    "mean_health_score": ("Mean health score", "score"),
    "offline_meter_days": ("Meter-days offline in the month", "count"),
    "low_battery_meters": ("Meters with a low battery", "count"),
    "tasks_overdue": ("Maintenance tasks overdue", "count"),
    "tasks_due_soon": ("Maintenance tasks due soon", "count"),
    "tasks_done": ("Maintenance tasks done in the month", "count"),
}


def check_sections(period: str, sections: list[str], metrics: list[str]) -> None:
    """Raise ValueError when a metering report is not monthly."""
    del sections, metrics  # every section and metric fits a month
    if period != "monthly":
        raise ValueError("a metering report is monthly")
