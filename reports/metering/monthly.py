"""The monthly metering reports' payloads: revenue (collections by payment method, provider and
segment, credit sold, voucher cost, earned and deferred revenue, emergency debt, vouchers,
consumption by segment) and device health / maintenance (status counts, meters offline or with
a warning and their issues, low batteries, overdue and due-soon maintenance by technician).

Every figure is read from the metering marts; nothing here re-derives a balance or a charge.
The meters' state is the month's last day's; maintenance is judged as of the month's end from
the tasks' due dates and completion times, so a report of a past month does not change as later
tasks are done.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from reports.metering.data import LOW_BATTERY_PCT, MeteringData
from reports.periods import Period, add_months
from reports.tables import keyed_figures

if TYPE_CHECKING:
    from reports.definitions import ReportDefinition

SCHEMA_ID = "siteledger-metering-report-1.0"
TREND_MONTHS = 12
TOP_VOUCHERS = 10
STATUSES = ("online", "warning", "offline")


def _sum(rows: list[dict[str, Any]], key: str) -> float:
    return float(sum(r.get(key) or 0.0 for r in rows))


def _month(rows: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("month") == period.start]


# -- revenue -----------------------------------------------------------------------------------
def revenue_row(data: MeteringData, month: dt.date) -> dict[str, Any]:
    return next((r for r in data.table("fct_metering_revenue_monthly") if r["month"] == month), {})


def grouped_collections(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The month's collections rows added up by ``key`` (payment method, provider, segment),
    largest collections first; a share of the month's collections each."""
    groups: dict[str, dict[str, float]] = defaultdict(
        lambda: {"purchases": 0.0, "credit_sold": 0.0, "collections": 0.0, "voucher_cost": 0.0}
    )
    for r in rows:
        group = groups[r.get(key) or "(none)"]
        for figure in group:
            group[figure] += r.get(figure) or 0.0
    total = sum(g["collections"] for g in groups.values())
    out = [
        {
            key: name,
            **{k: (int(v) if k == "purchases" else v) for k, v in g.items()},
            "share_pct": 100.0 * g["collections"] / total if total else None,
        }
        for name, g in groups.items()
    ]
    return sorted(out, key=lambda r: (-r["collections"], str(r[key])))


def voucher_rows(data: MeteringData, period: Period) -> list[dict[str, Any]]:
    """The month's redemptions by voucher, the costliest first (at most TOP_VOUCHERS)."""
    summary = {r["voucher_code"]: r for r in data.table("fct_voucher_summary")}
    out: list[dict[str, Any]] = []
    for r in _month(data.table("voucher_months"), period):
        s = summary.get(r["voucher_code"], {})
        out.append(
            {
                "voucher_code": r["voucher_code"],
                "discount_type": s.get("discount_type"),
                "value": s.get("value"),
                "redemptions": int(r["redemptions"]),
                "customers": int(r["customers"]),
                "amount": float(r["amount"] or 0.0),
                "discount": float(r["discount"] or 0.0),
                "final_amount": float(r["final_amount"] or 0.0),
                "remaining_uses": s.get("remaining_uses"),
            }
        )
    out.sort(key=lambda r: (-float(r["discount"]), str(r["voucher_code"])))
    return out[:TOP_VOUCHERS]


def trend_rows(data: MeteringData, period: Period) -> list[dict[str, Any]]:
    first = add_months(period.start, -(TREND_MONTHS - 1))
    keys = (
        "collections",
        "credit_sold",
        "earned_revenue",
        "deferred_revenue_closing",
        "emergency_debt_closing",
    )
    return [
        {"month": r["month"].isoformat(), **{k: r.get(k) for k in keys}}
        for r in data.table("fct_metering_revenue_monthly")
        if first <= r["month"] <= period.start
    ]


def segment_rows(data: MeteringData, period: Period) -> list[dict[str, Any]]:
    keys = (
        "customers",
        "volume_m3",
        "volume_per_customer_m3",
        "prev_month_m3",
        "mom_change_pct",
        "same_month_last_year_m3",
        "yoy_change_pct",
    )
    rows = [r for r in data.table("fct_segment_consumption_monthly") if r["month"] == period.start]
    return [{"segment": r["segment"], **{k: r.get(k) for k in keys}} for r in rows]


# -- device health and maintenance -------------------------------------------------------------
def last_day_rows(data: MeteringData, period: Period) -> list[dict[str, Any]]:
    """The health on its last day of the month of each meter offline, warning or with a low
    battery then, with the month's offline and warning days and its battery on its first day."""
    return _month(data.table("health_months"), period)


def is_low_battery(row: dict[str, Any]) -> bool:
    battery = row.get("battery_pct")
    issues = (row.get("issues") or "").lower()
    return "low battery" in issues or (battery is not None and battery < LOW_BATTERY_PCT)


def problem_meters(data: MeteringData, period: Period) -> list[dict[str, Any]]:
    """Meters offline or with a warning on the month's last day, offline first."""
    customers = data.customer_of()
    names = data.customer_names()
    out = []
    for r in last_day_rows(data, period):
        if r.get("status") == "online":
            continue
        meter = r["meter_id"]
        customer = customers.get(meter)
        out.append(
            {
                "meter_id": meter,
                "customer_id": customer,
                "customer_name": names.get(customer or "", customer),
                "status": r.get("status"),
                "last_seen_at": _text(r.get("last_seen_at")),
                "battery_pct": r.get("battery_pct"),
                "signal_dbm": r.get("signal_dbm"),
                "health_score": r.get("health_score"),
                "issues": r.get("issues"),
                "offline_days": int(r.get("offline_days") or 0),
                "warning_days": int(r.get("warning_days") or 0),
            }
        )
    order = {s: i for i, s in enumerate(("offline", "warning"))}
    out.sort(key=lambda r: (order.get(r["status"], 9), -r["offline_days"], r["meter_id"]))
    return out


def battery_rows(data: MeteringData, period: Period) -> list[dict[str, Any]]:
    customers = data.customer_of()
    names = data.customer_names()
    out = []
    for r in last_day_rows(data, period):
        if not is_low_battery(r):
            continue
        customer = customers.get(r["meter_id"])
        out.append(
            {
                "meter_id": r["meter_id"],
                "customer_id": customer,
                "customer_name": names.get(customer or "", customer),
                "battery_pct": r.get("battery_pct"),
                "battery_pct_month_start": r.get("battery_pct_month_start"),
                "signal_dbm": r.get("signal_dbm"),
                "issues": r.get("issues"),
            }
        )
    out.sort(key=lambda r: (r["battery_pct"] is None, r["battery_pct"] or 0.0, r["meter_id"]))
    return out


def task_state(data: MeteringData, task: dict[str, Any], end: dt.date) -> str:
    """A task's state at the end of ``end``: done (by then), cancelled, overdue, due_soon
    (within the site's maintenance_due_days after), scheduled."""
    done = data.local_day(task.get("done_at"))
    if task.get("status") == "cancelled":
        return "cancelled"
    if done is not None and done <= end:
        return "done"
    due = task.get("due_date")
    if due is None:
        return "scheduled"
    if due < end:
        return "overdue"
    if due <= end + dt.timedelta(days=data.maintenance_due_days):
        return "due_soon"
    return "scheduled"


def maintenance_rows(data: MeteringData, period: Period) -> tuple[list[dict], list[dict]]:
    """(tasks overdue or due soon at the month's end, earliest due first; per technician:
    overdue, due soon and done in the month)."""
    tasks = []
    techs: dict[str, dict[str, int]] = defaultdict(lambda: {"overdue": 0, "due_soon": 0, "done": 0})
    for t in data.table("fct_maintenance_tasks"):
        state = task_state(data, t, period.end)
        tech = t.get("technician") or "(unassigned)"
        done = data.local_day(t.get("done_at"))
        if state == "done" and done is not None and done >= period.start:
            techs[tech]["done"] += 1
        if state not in ("overdue", "due_soon"):
            continue
        techs[tech][state] += 1
        due = t["due_date"]
        tasks.append(
            {
                "task_id": t["task_id"],
                "meter_id": t.get("meter_id"),
                "customer_id": t.get("customer_id"),
                "task_type": t.get("task_type"),
                "technician": tech,
                "due_date": due.isoformat(),
                "state": state,
                "days_overdue": (period.end - due).days if state == "overdue" else None,
            }
        )
    tasks.sort(key=lambda r: (r["due_date"], r["task_id"]))
    by_tech = [{"technician": k, **v} for k, v in sorted(techs.items())]
    return tasks, by_tech


def _text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# -- the payload -------------------------------------------------------------------------------
def period_metrics(data: MeteringData, period: Period) -> dict[str, Any]:
    """Every catalogue metric of the month (and n_days, the days of the month with data)."""
    revenue = revenue_row(data, period.start)
    collections = [
        r for r in data.table("fct_metering_collections_monthly") if r["month"] == period.start
    ]
    health = next(iter(_month(data.table("health_summary"), period)), {})
    tasks, by_tech = maintenance_rows(data, period)
    days = {d for d in data.days() if period.start <= d <= period.end}
    metrics: dict[str, Any] = {
        k: revenue.get(k)
        for k in (
            "collections",
            "credit_sold",
            "voucher_cost",
            "earned_consumption",
            "earned_fixed",
            "earned_revenue",
            "deferred_revenue_opening",
            "deferred_revenue_closing",
            "emergency_debt_closing",
            "consumption_m3",
            "active_customers",
        )
    }
    metrics.update(
        purchases=int(_sum(collections, "purchases")) if collections else None,
        voucher_redemptions=int(_sum(_month(data.table("voucher_months"), period), "redemptions")),
        meters=int(health.get("meters") or 0),
        meters_online=int(health.get("meters_online") or 0),
        meters_warning=int(health.get("meters_warning") or 0),
        meters_offline=int(health.get("meters_offline") or 0),
        mean_health_score=health.get("mean_health_score"),
        offline_meter_days=int(health.get("offline_meter_days") or 0),
        low_battery_meters=int(health.get("low_battery_meters") or 0),
        tasks_overdue=sum(1 for t in tasks if t["state"] == "overdue"),
        tasks_due_soon=sum(1 for t in tasks if t["state"] == "due_soon"),
        tasks_done=sum(t["done"] for t in by_tech),
        n_days=len(days),
    )
    return metrics


def build_monthly_payload(
    data: MeteringData,
    site: dict[str, Any],
    definition: ReportDefinition,
    period: Period,
    warehouse_version: str,
) -> dict[str, Any]:
    """The whole content of one monthly metering report (without its registry header)."""
    has = set(definition.sections)
    before_start = add_months(period.start, -1)
    before = next((p for p in data.months() if p.start == before_start), None)
    collections = [
        r for r in data.table("fct_metering_collections_monthly") if r["month"] == period.start
    ]
    tasks, by_tech = maintenance_rows(data, period) if "maintenance" in has else ([], [])
    metrics = period_metrics(data, period)
    payload: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "domain": "metering",
        "definition": definition_block(definition),
        "site": {
            "id": site["site_id"],
            "name": site.get("site_name"),
            "organisation": site.get("organisation_name") or site.get("organisation"),
            "timezone": site.get("timezone"),
            "currency": data.currency,
        },
        "period": period.as_dict(),
        "warehouse_version": warehouse_version,
        "metrics": metrics,
        "comparison": {
            "period": None if before is None else before.as_dict(),
            "metrics": None if before is None else period_metrics(data, before),
        },
        "by_method": grouped_collections(collections, "payment_method")
        if "collections" in has
        else [],
        "by_provider": grouped_collections(collections, "provider") if "collections" in has else [],
        "by_segment": grouped_collections(collections, "segment") if "collections" in has else [],
        "trend": trend_rows(data, period) if "revenue" in has else [],
        "vouchers": voucher_rows(data, period) if "vouchers" in has else [],
        "segments": segment_rows(data, period) if "consumption" in has else [],
        "status": [
            {"status": s, "meters": metrics[f"meters_{s}"]} for s in STATUSES if "status" in has
        ],
        "problem_meters": problem_meters(data, period) if "problem_meters" in has else [],
        "batteries": battery_rows(data, period) if "batteries" in has else [],
        "tasks": tasks,
        "technicians": by_tech,
        "maintenance_due_days": data.maintenance_due_days,
        # prose: the tariffs' names for the segments (not part of a version's identity)
        "names": {"segment": dict(sorted(data.segment_names.items()))},
        "data_quality": {"notes": []},
    }
    expected = (period.end - period.start).days + 1
    if metrics["n_days"] != expected:
        payload["data_quality"]["notes"].append(
            f"{metrics['n_days']} of {expected} days have metering data"
        )
    if has & {"summary", "collections", "revenue"} and not revenue_row(data, period.start):
        payload["data_quality"]["notes"].append("the revenue mart has no row for the month")
    return payload


def definition_block(definition: ReportDefinition) -> dict[str, Any]:
    return {
        "id": definition.id,
        "title": definition.title,
        "regulator": definition.regulator,
        "report_type": definition.report_type,
        "domain": "metering",
        "unit": definition.unit,
        "period": definition.period,
        "sections": definition.sections,
        "metrics": definition.metrics,
        "narrative": definition.narrative,
        "fingerprint": definition.fingerprint,
    }


# the parts a restatement diff compares, and the key of each part's rows
FIGURE_KEYS: dict[str, str] = {
    "by_method": "payment_method",
    "by_provider": "provider",
    "by_segment": "segment",
    "vouchers": "voucher_code",
    "segments": "segment",
    "problem_meters": "meter_id",
    "batteries": "meter_id",
    "tasks": "task_id",
    "technicians": "technician",
}


def figures(payload: dict[str, Any]) -> dict[str, Any]:
    """The figures a restatement diff compares."""
    return keyed_figures(payload, FIGURE_KEYS)
