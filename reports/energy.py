"""The energy reports' figures: a site's energy marts for one week or month, as one payload.

A definition with ``domain: energy`` reads the energy marts (docs/energy-marts.md) instead of the
water balance: ``fct_energy_site_daily`` says which days a site has (a week or a month is complete
when every one of its days has a row), and a site with no row there has no energy section and
gets no energy report. The payload holds the period's metrics (:data:`ENERGY_METRICS`), the same
metrics for the period before, and the sections a definition asks for (:data:`ENERGY_SECTIONS`):
per generator and PV array, cost and carbon by source, cost by cost centre, the grid's bill, the
days, and recommendations drawn from those figures. :func:`render_html` and :func:`render_xlsx`
turn it into the PDF and the workbook.

Period figures are sums of the daily rows, and ratios are ratios of those sums (never a mean of
daily ratios): fuel per kWh = fuel ÷ energy, efficiency = fuel ÷ fuel-curve fuel, performance
index = energy ÷ expected energy, performance ratio = energy ÷ (kWp × plane-of-array
irradiation) with each array's kWp recovered from its daily rows (E ÷ (PR × H)).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import duckdb
from markupsafe import Markup

from reports.periods import Period, complete_weeks, month_end, previous

if TYPE_CHECKING:
    from reports.definitions import ReportDefinition
    from reports.registry import Registry

SCHEMA_ID = "siteledger-energy-report-1.0"
ENERGY_SECTIONS = (
    "summary",
    "generators",
    "solar",
    "costs",
    "cost_centres",
    "grid",
    "carbon",
    "daily",
    "recommendations",
)
# key -> (label, unit); "currency" is the site's currency
ENERGY_METRICS: dict[str, tuple[str, str]] = {
    "supply_kwh": ("Energy supplied (generators, grid, solar)", "kWh"),
    "generator_kwh": ("Generator energy", "kWh"),
    "grid_kwh": ("Grid energy imported", "kWh"),
    "solar_kwh": ("Solar energy", "kWh"),
    "load_kwh": ("Energy used by the metered loads", "kWh"),
    "solar_share_pct": ("Solar share of supply", "%"),
    "fuel_l": ("Diesel burnt", "L"),
    "generator_sfc_l_per_kwh": ("Generator fuel per kWh", "L/kWh"),
    "generator_efficiency_ratio": ("Generator fuel ÷ fuel-curve fuel", "ratio"),
    "solar_performance_ratio": ("Solar performance ratio", "ratio"),
    "solar_performance_index": ("Solar performance index", "ratio"),
    "total_cost": ("Energy cost", "currency"),
    "cost_per_kwh": ("Cost per kWh supplied", "currency/kWh"),
    "co2e_kg": ("Emissions", "kg CO2-e"),
    "co2e_kg_per_kwh": ("Emissions per kWh supplied", "kg CO2-e/kWh"),
    "grid_billed_demand_kw": ("Grid billed demand", "kW"),
    "n_days": ("Days with data", "days"),
}
SOURCES = ("generator", "grid", "solar")
SOURCE_LABELS = {"generator": "Diesel generators", "grid": "Grid", "solar": "Solar PV"}
TABLES = (
    "fct_energy_site_daily",
    "fct_energy_site_monthly",
    "fct_generator_daily",
    "fct_solar_daily",
    "fct_energy_cost_daily",
    "fct_energy_cost_centre_monthly",
    "fct_grid_monthly",
)
# a period's generator fuel this far above its fuel curve is worth watching before the 30-day
# ratio reaches the alert (1.10 by default)
WATCH_EFFICIENCY_RATIO = 1.05


# -- the site's rows ---------------------------------------------------------------------------


@dataclass
class EnergyData:
    """One site's rows of the energy marts, by table (a table not published is empty)."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def table(self, name: str) -> list[dict[str, Any]]:
        return self.rows.get(name, [])

    def complete_days(self) -> set[dt.date]:
        return {r["day"] for r in self.table("fct_energy_site_daily")}

    def periods(self, kind: str) -> list[Period]:
        """The site's complete weeks or months: every day of them has a row."""
        days = self.complete_days()
        if kind == "weekly":
            return complete_weeks(days)
        if kind != "monthly":
            raise ValueError(f"an energy report is weekly or monthly, not {kind}")
        out = []
        for month in sorted({d.replace(day=1) for d in days}):
            end = month_end(month)
            if all(month + dt.timedelta(days=i) in days for i in range(end.day)):
                out.append(Period("monthly", month.strftime("%Y-%m"), month, end))
        return out


def load_energy(
    con: duckdb.DuckDBPyConnection, tables: set[str], site_id: str
) -> EnergyData | None:
    """The site's energy rows, or None when the site has none (no energy section)."""
    if "fct_energy_site_daily" not in tables:
        return None
    data = EnergyData()
    for table in TABLES:
        if table not in tables:
            continue
        time = "month" if table.endswith("_monthly") else "day"
        cursor = con.execute(
            f"select * from {table} where site_id = ? order by {time}",  # noqa: S608
            [site_id],
        )
        names = [d[0] for d in cursor.description]
        data.rows[table] = [
            {n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()
        ]
    if not data.table("fct_energy_site_daily"):
        return None
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# -- arithmetic over rows ----------------------------------------------------------------------


def _in(rows: Iterable[dict[str, Any]], period: Period, key: str = "day") -> list[dict[str, Any]]:
    return [r for r in rows if period.start <= r[key] <= period.end]


def _sum(rows: Iterable[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(sum(values)) if values else None


def _div(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


def _add(*values: float | None) -> float | None:
    given = [v for v in values if v is not None]
    return float(sum(given)) if given else None


def _last(rows: list[dict[str, Any]], key: str) -> Any:
    values = [r[key] for r in rows if r.get(key) is not None]
    return values[-1] if values else None


def _max(rows: Iterable[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(max(values)) if values else None


def _kwp(rows: list[dict[str, Any]]) -> float | None:
    """An array's DC rating from its daily rows: PR = E ÷ (kWp × H), so kWp = E ÷ (PR × H)."""
    estimates = [
        r["energy_kwh"] / (r["performance_ratio"] * r["poa_kwh_per_m2"])
        for r in rows
        if (r.get("energy_kwh") or 0) > 0
        and (r.get("performance_ratio") or 0) > 0
        and (r.get("poa_kwh_per_m2") or 0) > 0
    ]
    return statistics.median(estimates) if estimates else None


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return dict(sorted(out.items()))


def generator_rows(data: EnergyData, period: Period) -> list[dict[str, Any]]:
    out = []
    for generator_id, rows in _by(
        _in(data.table("fct_generator_daily"), period), "generator_id"
    ).items():
        energy = _sum(rows, "energy_kwh")
        fuel = _sum(rows, "fuel_l")
        expected = _sum(rows, "expected_fuel_l")
        hours = _sum(rows, "running_hours")
        loaded = [
            r for r in rows if r.get("mean_load_fraction") is not None and r.get("running_hours")
        ]
        fuel_cost = _sum(rows, "fuel_cost")
        out.append(
            {
                "generator_id": generator_id,
                "energy_kwh": energy,
                "running_hours": hours,
                "mean_load_fraction": _div(
                    sum(r["mean_load_fraction"] * r["running_hours"] for r in loaded),
                    sum(r["running_hours"] for r in loaded) if loaded else None,
                ),
                "low_load_hours": _sum(rows, "low_load_hours"),
                "max_low_load_run_hours": _max(rows, "max_low_load_run_hours"),
                "low_load_alert_hours": _last(rows, "low_load_alert_hours"),
                "fuel_l": fuel,
                "expected_fuel_l": expected,
                "sfc_l_per_kwh": _div(fuel, energy),
                "expected_sfc_l_per_kwh": _div(expected, energy),
                "efficiency_ratio": _div(fuel, expected),
                "efficiency_ratio_30d": _last(rows, "efficiency_ratio_30d"),
                "efficiency_alert_ratio": _last(rows, "efficiency_alert_ratio"),
                "fuel_cost": fuel_cost,
                "cost_per_kwh": _div(fuel_cost, energy),
                "co2e_kg": _sum(rows, "co2e_kg"),
            }
        )
    return out


def solar_rows(data: EnergyData, period: Period) -> list[dict[str, Any]]:
    out = []
    everything = _by(data.table("fct_solar_daily"), "array_id")
    for array_id, rows in _by(_in(data.table("fct_solar_daily"), period), "array_id").items():
        energy = _sum(rows, "energy_kwh")
        expected = _sum(rows, "expected_kwh")
        poa = _sum(rows, "poa_kwh_per_m2")
        kwp = _kwp(everything[array_id])
        threshold = _last(rows, "pi_alert_threshold")
        below = [
            r
            for r in rows
            if threshold is not None
            and r.get("performance_index") is not None
            and r["performance_index"] < threshold
        ]
        out.append(
            {
                "array_id": array_id,
                "energy_kwh": energy,
                "expected_kwh": expected,
                "poa_kwh_per_m2": poa,
                "kwp": kwp,
                "performance_ratio": _div(
                    energy, None if kwp is None or poa is None else kwp * poa
                ),
                "performance_index": _div(energy, expected),
                "pi_alert_threshold": threshold,
                "days_below_pi": len(below),
                "max_days_below_pi": _max(rows, "days_below_pi"),
                "zero_production_intervals": _sum(rows, "zero_production_intervals"),
                "co2e_kg": _sum(rows, "co2e_kg"),
            }
        )
    return out


def _demand_charges(data: EnergyData, period: Period) -> float | None:
    """The grid's demand charges billed for the period's months (a month's report only: a
    demand charge is the month's, never a week's)."""
    if period.kind != "monthly":
        return None
    return _sum(_in(data.table("fct_grid_monthly"), period, "month"), "demand_charge")


def cost_rows(data: EnergyData, period: Period) -> list[dict[str, Any]]:
    """Energy, cost and emissions by source; a month's grid cost includes its demand charge."""
    rows = _in(data.table("fct_energy_cost_daily"), period)
    demand = _demand_charges(data, period)
    out: list[dict[str, Any]] = []
    for source in SOURCES:
        of = [r for r in rows if r["source"] == source]
        if not of:
            continue
        kwh, cost, co2e = _sum(of, "kwh"), _sum(of, "cost"), _sum(of, "co2e_kg")
        if source == "grid" and demand is not None:
            cost = _add(cost, demand)
        out.append(
            {
                "source": source,
                "label": SOURCE_LABELS[source],
                "kwh": kwh,
                "cost": cost,
                "cost_per_kwh": _div(cost, kwh),
                "co2e_kg": co2e,
                "co2e_kg_per_kwh": _div(co2e, kwh),
            }
        )
    total = _sum(out, "cost")
    for row in out:
        share = _div(row["cost"], total)
        row["cost_share_pct"] = None if share is None else 100.0 * share
    return out


def cost_centre_rows(data: EnergyData, period: Period) -> list[dict[str, Any]]:
    rows = _in(data.table("fct_energy_cost_centre_monthly"), period, "month")
    total = _sum(rows, "cost")
    out = []
    for centre, of in _by(rows, "cost_centre_id").items():
        kwh, cost = _sum(of, "kwh"), _sum(of, "cost")
        out.append(
            {
                "cost_centre_id": centre,
                "kwh": kwh,
                "cost": cost,
                "cost_per_kwh": _div(cost, kwh),
                "cost_share_pct": None if not total or cost is None else 100.0 * cost / total,
            }
        )
    return out


def grid_rows(data: EnergyData, period: Period) -> list[dict[str, Any]]:
    keys = (
        "import_kwh",
        "energy_cost",
        "daily_charges",
        "billed_demand_kw",
        "demand_charge",
        "total_cost",
        "cost_per_kwh",
    )
    return [
        {"grid_id": r["grid_id"], "month": r["month"].isoformat(), **{k: r.get(k) for k in keys}}
        for r in data.table("fct_grid_monthly")
        if period.start <= r["month"] <= period.end
    ]


def daily_rows(data: EnergyData, period: Period) -> list[dict[str, Any]]:
    keys = ("generator_kwh", "grid_kwh", "solar_kwh", "load_kwh", "total_cost", "co2e_kg")
    return [
        {"day": r["day"].isoformat(), **{k: r.get(k) for k in keys}}
        for r in _in(data.table("fct_energy_site_daily"), period)
    ]


def period_metrics(data: EnergyData, period: Period) -> dict[str, Any]:
    """The period's metrics (:data:`ENERGY_METRICS`); None where the period has no figure."""
    days = _in(data.table("fct_energy_site_daily"), period)
    generators = generator_rows(data, period)
    arrays = solar_rows(data, period)
    totals = {k: _sum(days, k) for k in ("generator_kwh", "grid_kwh", "solar_kwh", "load_kwh")}
    # the days' costs, and for a month the grid's demand charge, which only a month has
    total_cost = _add(_sum(days, "total_cost"), _demand_charges(data, period))
    co2e = _sum(days, "co2e_kg")
    supply = _add(totals["generator_kwh"], totals["grid_kwh"], totals["solar_kwh"])
    fuel = _sum(generators, "fuel_l")
    gen_energy = _sum(generators, "energy_kwh")
    kwp_h = [a["kwp"] * a["poa_kwh_per_m2"] for a in arrays if a["kwp"] and a["poa_kwh_per_m2"]]
    grids = grid_rows(data, period) if period.kind == "monthly" else []
    return {
        **totals,
        "supply_kwh": supply,
        "solar_share_pct": None
        if _div(totals["solar_kwh"], supply) is None
        else 100.0 * totals["solar_kwh"] / supply,  # type: ignore[operator]
        "fuel_l": fuel,
        "generator_sfc_l_per_kwh": _div(fuel, gen_energy),
        "generator_efficiency_ratio": _div(fuel, _sum(generators, "expected_fuel_l")),
        "solar_performance_ratio": _div(
            _sum([a for a in arrays if a["kwp"] and a["poa_kwh_per_m2"]], "energy_kwh"),
            float(sum(kwp_h)) if kwp_h else None,
        ),
        "solar_performance_index": _div(_sum(arrays, "energy_kwh"), _sum(arrays, "expected_kwh")),
        "total_cost": total_cost,
        "cost_per_kwh": _div(total_cost, supply),
        "co2e_kg": co2e,
        "co2e_kg_per_kwh": _div(co2e, supply),
        "grid_billed_demand_kw": _sum(grids, "billed_demand_kw"),
        "n_days": len(days),
    }


# -- recommendations ---------------------------------------------------------------------------


def recommendations(
    metrics: dict[str, Any],
    generators: list[dict[str, Any]],
    arrays: list[dict[str, Any]],
    costs: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """What the period's figures suggest doing, most costly first within each topic; each with
    the figure it rests on."""
    out: list[dict[str, Any]] = []
    by_source = {c["source"]: c for c in costs}
    gen_cpk = by_source.get("generator", {}).get("cost_per_kwh")
    for g in generators:
        ratio30, limit = g["efficiency_ratio_30d"], g["efficiency_alert_ratio"]
        if ratio30 is not None and limit is not None and ratio30 > limit:
            out.append(
                {
                    "topic": "generator efficiency",
                    "subject": g["generator_id"],
                    "figure": ratio30,
                    "text": (
                        f"{g['generator_id']} burnt {100 * (ratio30 - 1):.0f} % more fuel than "
                        f"its fuel curve over the last 30 days (limit {100 * (limit - 1):.0f} %): "
                        "book a service (injectors, filters, air intake) and check the fuel "
                        "meter against a tank dip."
                    ),
                }
            )
        elif (g["efficiency_ratio"] or 0) > WATCH_EFFICIENCY_RATIO:
            out.append(
                {
                    "topic": "generator efficiency",
                    "subject": g["generator_id"],
                    "figure": g["efficiency_ratio"],
                    "text": (
                        f"{g['generator_id']} burnt {100 * (g['efficiency_ratio'] - 1):.0f} % "
                        "more fuel than its fuel curve in the period: watch its trend."
                    ),
                }
            )
        if (g["low_load_hours"] or 0) > 0:
            share = g["mean_load_fraction"]
            load = "" if share is None else f" (mean load {100 * share:.0f} % of rating)"
            out.append(
                {
                    "topic": "low load",
                    "subject": g["generator_id"],
                    "figure": g["low_load_hours"],
                    "text": (
                        f"{g['generator_id']} ran {g['low_load_hours']:.1f} h below its low-load "
                        f"share of rating, the longest run {g['max_low_load_run_hours'] or 0:.1f} h"
                        f"{load}: run fewer sets harder, or add load, to avoid wet stacking and "
                        "the extra fuel per kWh of light running."
                    ),
                }
            )
    for a in arrays:
        pi, threshold = a["performance_index"], a["pi_alert_threshold"]
        if pi is not None and threshold is not None and pi < threshold:
            lost = (a["expected_kwh"] or 0) - (a["energy_kwh"] or 0)
            worth = (
                "" if gen_cpk is None else f", worth {lost * gen_cpk:,.2f} at the generators' cost"
            )
            out.append(
                {
                    "topic": "solar performance",
                    "subject": a["array_id"],
                    "figure": pi,
                    "text": (
                        f"{a['array_id']} produced {100 * pi:.0f} % of the energy its model "
                        f"expected from the measured sun ({lost:,.0f} kWh short{worth}): clean the "
                        "modules, and check the strings and the inverter."
                    ),
                }
            )
        if (a["zero_production_intervals"] or 0) > 0:
            out.append(
                {
                    "topic": "solar performance",
                    "subject": a["array_id"],
                    "figure": a["zero_production_intervals"],
                    "text": (
                        f"{a['array_id']} produced nothing in {a['zero_production_intervals']:.0f} "
                        "daylight intervals: check the inverter's fault log and its isolators."
                    ),
                }
            )
    grid_cpk = by_source.get("grid", {}).get("cost_per_kwh")
    if gen_cpk is not None and grid_cpk is not None and gen_cpk > grid_cpk:
        out.append(
            {
                "topic": "cost",
                "subject": "generator",
                "figure": gen_cpk - grid_cpk,
                "text": (
                    f"Generator energy cost {gen_cpk:.3f} per kWh against the grid's "
                    f"{grid_cpk:.3f}: each kWh moved from the generators to the grid saves "
                    f"{gen_cpk - grid_cpk:.3f}."
                ),
            }
        )
    if not out:
        out.append(
            {
                "topic": "none",
                "subject": "",
                "figure": None,
                "text": (
                    "No action: generators within their fuel curves and above their low-load "
                    "share, solar at or above its performance limit."
                ),
            }
        )
    return out


# -- the payload ---------------------------------------------------------------------------------


def build_energy_payload(
    data: EnergyData,
    site: dict[str, Any],
    definition: ReportDefinition,
    period: Period,
    warehouse_version: str,
) -> dict[str, Any]:
    """The whole content of one energy report (without its registry header)."""
    metrics = period_metrics(data, period)
    before = previous(period)
    prior = period_metrics(data, before) if before in data.periods(period.kind) else None
    generators = generator_rows(data, period)
    arrays = solar_rows(data, period)
    costs = cost_rows(data, period)
    sections = definition.sections
    payload: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "domain": "energy",
        "definition": {
            "id": definition.id,
            "title": definition.title,
            "regulator": definition.regulator,
            "report_type": definition.report_type,
            "domain": "energy",
            "unit": definition.unit,
            "sections": sections,
            "metrics": definition.metrics,
            "narrative": definition.narrative,
            "fingerprint": definition.fingerprint,
        },
        "site": {
            "id": site["site_id"],
            "name": site.get("site_name"),
            "organisation": site.get("organisation_name") or site.get("organisation"),
            "region": site.get("region_name") or site.get("region"),
            "timezone": site.get("timezone"),
        },
        "period": period.as_dict(),
        "warehouse_version": warehouse_version,
        "metrics": metrics,
        "comparison": {
            "period": before.as_dict(),
            "metrics": prior,
            # a month against the same month a year earlier (fct_energy_site_monthly)
            "seasonal": seasonal(data, period),
        },
        "generators": generators if "generators" in sections else [],
        "solar": arrays if "solar" in sections else [],
        "costs": costs if {"costs", "carbon"} & set(sections) else [],
        "cost_centres": cost_centre_rows(data, period) if "cost_centres" in sections else [],
        "grid": grid_rows(data, period) if "grid" in sections else [],
        "daily": daily_rows(data, period) if "daily" in sections else [],
        "carbon": carbon(metrics, costs) if "carbon" in sections else {},
        "recommendations": (
            recommendations(metrics, generators, arrays, costs)
            if "recommendations" in sections
            else []
        ),
        "data_quality": {"notes": []},
    }
    days = metrics["n_days"]
    expected = (period.end - period.start).days + 1
    if days != expected:
        payload["data_quality"]["notes"].append(f"{days} of {expected} days have energy data")
    return payload


def seasonal(data: EnergyData, period: Period) -> dict[str, Any] | None:
    """The month's changes on the month before and the same month a year earlier, in % (the
    monthly mart's *_mom_pct and *_yoy_pct); None for a week."""
    if period.kind != "monthly":
        return None
    rows = [r for r in data.table("fct_energy_site_monthly") if r["month"] == period.start]
    if not rows:
        return None
    return {k: v for k, v in rows[0].items() if k.endswith(("_mom_pct", "_yoy_pct"))}


def carbon(metrics: dict[str, Any], costs: list[dict[str, Any]]) -> dict[str, Any]:
    """Emissions by source, and what the solar energy would have emitted from the generators."""
    by_source = {c["source"]: c for c in costs}
    gen, solar = by_source.get("generator", {}), by_source.get("solar", {})
    avoided = None
    if gen.get("co2e_kg_per_kwh") is not None and solar.get("kwh"):
        avoided = solar["kwh"] * (gen["co2e_kg_per_kwh"] - (solar.get("co2e_kg_per_kwh") or 0.0))
    return {
        "total_kg": metrics["co2e_kg"],
        "per_kwh_kg": metrics["co2e_kg_per_kwh"],
        "by_source": [
            {
                "source": c["source"],
                "label": c["label"],
                "co2e_kg": c["co2e_kg"],
                "kg_per_kwh": c["co2e_kg_per_kwh"],
            }
            for c in costs
        ],
        "solar_avoided_vs_generator_kg": avoided,
    }


def figures(payload: dict[str, Any]) -> dict[str, Any]:
    """The figures a restatement diff compares."""
    return {
        "metrics": payload["metrics"],
        "generators": {g["generator_id"]: g for g in payload["generators"]},
        "solar": {a["array_id"]: a for a in payload["solar"]},
        "costs": {
            c["source"]: {k: v for k, v in c.items() if k != "label"} for c in payload["costs"]
        },
        "cost_centres": {c["cost_centre_id"]: c for c in payload["cost_centres"]},
    }


# -- display -------------------------------------------------------------------------------------


def number(value: Any, digits: int = 0) -> str:
    """A figure as a reader sees it: thousands grouped, "n/a" for none, never "-0"."""
    if value is None:
        return "n/a"
    value = float(value)
    if abs(value) < 0.5 * 10**-digits:
        value = 0.0
    return f"{value:,.{digits}f}"


def metric_text(key: str, value: Any) -> str:
    unit = ENERGY_METRICS[key][1]
    digits = {
        "%": 1,
        "ratio": 2,
        "L/kWh": 3,
        "currency/kWh": 3,
        "kg CO2-e/kWh": 3,
        "currency": 2,
    }.get(unit, 0)
    return number(value, digits)


def metric_unit(key: str, currency: str | None = None) -> str:
    unit = ENERGY_METRICS[key][1]
    # the marts carry no currency: costs are in the site's own (energy.currency)
    cur = currency or ""
    per_kwh = f"{cur}/kWh" if cur else "per kWh"
    return {"currency": cur, "currency/kWh": per_kwh, "ratio": "", "days": ""}.get(
        unit, unit.replace("CO2", "CO₂")
    )


def _change(now: Any, before: Any) -> str:
    if now is None or before is None or before == 0:
        return "n/a"
    return f"{100.0 * (now - before) / abs(before):+.1f} %"


def daily_chart(days: list[dict[str, Any]]) -> Markup:
    """Stacked bars of each day's kWh by source (inline SVG)."""
    width, height, left, bottom, top = 640, 220, 56, 30, 14
    colours = {"generator_kwh": "#7f7f7f", "grid_kwh": "#1f4e79", "solar_kwh": "#e0a800"}
    totals = [sum((d.get(k) or 0.0) for k in colours) for d in days]
    peak = max(totals, default=0.0) or 1.0
    step = 10 ** math.floor(math.log10(peak))
    top_value = math.ceil(peak / step) * step
    n = max(len(days), 1)
    slot = (width - left - 10) / n
    scale = (height - bottom - top) / top_value
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="9">'
    ]
    for i in range(5):
        value = top_value * i / 4
        y = height - bottom - value * scale
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{value:,.0f}</text>')
    for i, d in enumerate(days):
        x = left + i * slot + slot * 0.15
        y = height - bottom
        for key, colour in colours.items():
            h = (d.get(key) or 0.0) * scale
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                f'fill="{colour}"/>'
            )
        label = escape(str(d["day"])[5:])
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 12}" '
            f'text-anchor="middle">{label}</text>'
        )
    legend_x = left
    for key, colour in colours.items():
        name = SOURCE_LABELS[key.removesuffix("_kwh")]
        parts.append(
            f'<rect x="{legend_x}" y="{height - 10}" width="9" height="9" fill="{colour}"/>'
        )
        parts.append(f'<text x="{legend_x + 12}" y="{height - 2}">{escape(name)} (kWh)</text>')
        legend_x += 140
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built here from numbers and escaped text


def render_html(
    payload: dict[str, Any],
    header: dict[str, Any],
    template_name: str,
    template_dirs: list[Path] | None = None,
) -> str:
    """The energy report as one self-contained HTML document (the shipped stylesheet inlined,
    the chart inline SVG, the template sandboxed like every report's)."""
    from reports.render.html import TEMPLATES, render_template

    currency = payload["site"].get("currency")
    context = {
        "payload": payload,
        "d": payload["definition"],
        "site": payload["site"],
        "period": payload["period"],
        "m": payload["metrics"],
        "prior": payload["comparison"]["metrics"] or {},
        "r": header,
        "has": payload["definition"]["sections"],
        "metric_label": lambda k: ENERGY_METRICS[k][0],
        "metric_text": metric_text,
        "metric_unit": lambda k: metric_unit(k, currency),
        "change": _change,
        "num": number,
        "pct": lambda v: "n/a" if v is None else f"{100.0 * v:.1f} %",
        "chart": daily_chart(payload["daily"]) if payload["daily"] else None,
        "accent": header.get("branding", {}).get("accent_colour", "#1f4e79"),
        "branding": header.get("branding", {}),
        "css": Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),  # noqa: S704
    }
    return render_template(template_name, context, template_dirs)


def render_xlsx(payload: dict[str, Any], header: dict[str, Any]) -> bytes:
    """The energy report as a workbook: the report's facts, its metrics, cost by source, by cost
    centre, the grid's bill, generators, solar and the days (a sheet for each part it has)."""
    from reports.render.tabular import PlainWorkbook

    d, m = payload["definition"], payload["metrics"]
    book = PlainWorkbook()
    book.report_sheet(payload, header, currency=False)
    book.summary_sheet(payload, lambda k: ENERGY_METRICS[k][:2], "previous period")
    if payload["costs"]:
        book.sheet(
            "By source",
            [
                "source",
                "kWh",
                "cost",
                "cost per kWh",
                "share of cost %",
                "CO2-e kg",
                "CO2-e kg/kWh",
            ],
            [
                [
                    c["label"],
                    c["kwh"],
                    c["cost"],
                    c["cost_per_kwh"],
                    c["cost_share_pct"],
                    c["co2e_kg"],
                    c["co2e_kg_per_kwh"],
                ]
                for c in payload["costs"]
            ]
            + [
                [
                    "Total",
                    m.get("supply_kwh"),
                    m.get("total_cost"),
                    m.get("cost_per_kwh"),
                    100.0 if m.get("total_cost") else None,
                    m.get("co2e_kg"),
                    m.get("co2e_kg_per_kwh"),
                ]
            ],
        )
    if "cost_centres" in d["sections"]:
        rows = [
            [c["cost_centre_id"], c["kwh"], c["cost"], c["cost_per_kwh"], c["cost_share_pct"]]
            for c in payload["cost_centres"]
        ]
        book.sheet(
            "By cost centre",
            ["cost centre", "kWh", "cost", "cost per kWh", "share of cost %"],
            rows,
        )
    if payload["grid"]:
        keys = [
            "import_kwh",
            "energy_cost",
            "daily_charges",
            "billed_demand_kw",
            "demand_charge",
            "total_cost",
            "cost_per_kwh",
        ]
        book.sheet(
            "Grid",
            ["grid", "month", *keys],
            [[g["grid_id"], g["month"], *(g[k] for k in keys)] for g in payload["grid"]],
        )
    if payload["generators"]:
        keys = [
            "energy_kwh",
            "running_hours",
            "fuel_l",
            "expected_fuel_l",
            "sfc_l_per_kwh",
            "efficiency_ratio",
            "efficiency_ratio_30d",
            "low_load_hours",
            "fuel_cost",
            "cost_per_kwh",
            "co2e_kg",
        ]
        book.sheet(
            "Generators",
            ["generator", *keys],
            [[g["generator_id"], *(g[k] for k in keys)] for g in payload["generators"]],
        )
    if payload["solar"]:
        keys = [
            "energy_kwh",
            "expected_kwh",
            "poa_kwh_per_m2",
            "performance_ratio",
            "performance_index",
            "days_below_pi",
            "zero_production_intervals",
            "co2e_kg",
        ]
        book.sheet(
            "Solar",
            ["array", *keys],
            [[a["array_id"], *(a[k] for k in keys)] for a in payload["solar"]],
        )
    if payload["daily"]:
        keys = ["generator_kwh", "grid_kwh", "solar_kwh", "load_kwh", "total_cost", "co2e_kg"]
        book.sheet(
            "Days", ["day", *keys], [[r["day"], *(r[k] for k in keys)] for r in payload["daily"]]
        )
    if payload["recommendations"]:
        book.sheet(
            "Recommendations",
            ["topic", "subject", "recommendation"],
            [[r["topic"], r["subject"], r["text"]] for r in payload["recommendations"]],
        )
    return book.to_bytes()


# -- delivery ------------------------------------------------------------------------------------


def undelivered_energy(registry: Registry, definitions: Iterable[ReportDefinition]) -> list[Any]:
    """The energy reports still owed an e-mail (:func:`reports.delivery.undelivered_by_email`)."""
    from reports.delivery import undelivered_by_email

    return undelivered_by_email(registry, definitions, "energy")
